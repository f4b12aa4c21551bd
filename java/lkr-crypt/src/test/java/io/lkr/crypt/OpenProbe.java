package io.lkr.crypt;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Run in a forked JVM with a controlled environment by the tests: opens a keystore from the
 * environment and reports on stdout, one line: {@code OK kek=<id> legacy=<bool> loaded=<from>} or
 * {@code EXC <exception class> <message>}, or (exit status 2) {@code LINK <error class> <message>}
 * when the native library is refused or cannot be loaded. With a third argument, migrates that
 * base64 legacy value (context "T.C:1") and prints {@code MIGRATED <plaintext>} after decrypting
 * it.
 *
 * <p>Usage: {@code OpenProbe path <keystore file> [legacyBase64]}, {@code OpenProbe bytes - }, or
 * {@code OpenProbe kms <keyId> <keystore file> (<region> <context or ->)...} (keys as data: opens
 * the keystore once per pair with {@link MasterKey#awsKms(String, String, String)}, in this one
 * JVM, and prints one line per open).
 */
public final class OpenProbe {
    private OpenProbe() {}

    public static void main(String[] args) {
        if (args[0].equals("kms")) {
            // One line per (region, context) pair, in order: each pair is a key given as data.
            Path keystore = Path.of(args[2]);
            for (int i = 3; i + 1 < args.length; i += 2) {
                String context = args[i + 1].equals("-") ? null : args[i + 1];
                try (MasterKey k = MasterKey.awsKms(args[1], args[i], context);
                        LkrCrypt c = LkrCrypt.open(k, keystore)) {
                    System.out.println("OK kek=" + c.activeKekId() + " key=" + k);
                } catch (Exception e) {
                    System.out.println("EXC " + e.getClass().getName() + " " + e.getMessage());
                }
            }
            return;
        }
        try (LkrCrypt c =
                args[0].equals("path")
                        ? LkrCrypt.openFromEnvironment(Path.of(args[1]))
                        : LkrCrypt.openFromEnvironment((byte[]) null)) {
            System.out.println(
                    "OK kek="
                            + c.activeKekId()
                            + " legacy="
                            + c.hasLegacyKey()
                            + " loaded="
                            + NativeLoader.loadedFrom());
            if (args.length > 2) {
                byte[] ctx = "T.C:1".getBytes(StandardCharsets.UTF_8);
                byte[] env = c.legacyMigrator().migrate(Base64.getDecoder().decode(args[2]), ctx);
                System.out.println(
                        "MIGRATED " + new String(c.decrypt(env, ctx), StandardCharsets.UTF_8));
            }
        } catch (Exception e) {
            System.out.println("EXC " + e.getClass().getName() + " " + e.getMessage());
        } catch (LinkageError e) {
            // The native library was refused or could not be loaded.
            System.out.println("LINK " + e.getClass().getName() + " " + e.getMessage());
            System.exit(2);
        }
    }
}
