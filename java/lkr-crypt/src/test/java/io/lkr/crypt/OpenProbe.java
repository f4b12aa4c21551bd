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
 * {@code OpenProbe kms <keyId> <region> <context or -> <keystore file>} (keys as data: opens with
 * {@link MasterKey#awsKms(String, String, String)}).
 */
public final class OpenProbe {
    private OpenProbe() {}

    public static void main(String[] args) {
        if (args[0].equals("kms")) {
            String context = args[3].equals("-") ? null : args[3];
            try (MasterKey k = MasterKey.awsKms(args[1], args[2], context);
                    LkrCrypt c = LkrCrypt.open(k, Path.of(args[4]))) {
                System.out.println("OK kek=" + c.activeKekId() + " key=" + k);
            } catch (Exception e) {
                System.out.println("EXC " + e.getClass().getName() + " " + e.getMessage());
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
                byte[] env = c.migrate(Base64.getDecoder().decode(args[2]), ctx);
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
