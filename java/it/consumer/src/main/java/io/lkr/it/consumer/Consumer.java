package io.lkr.it.consumer;

import io.lkr.crypt.LegacyMigrator;
import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.MasterKey;
import io.lkr.crypt.NotAuthenticException;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What an application does with io.lkr:lkr-crypt alone: a CMK handed over as data ({@link
 * MasterKey#local(byte[])}), a keystore file in a temporary directory, a value encrypted and
 * decrypted, the keystore reopened from its file, a tampered value refused, and the two views of a
 * handle: a KEK rotation moving the value to the new KEK ({@code KeystoreAdmin}), and an envelope
 * v1 passed through the caller-owned migration unchanged ({@link LegacyMigrator}). Exits 1 on any
 * failure.
 */
public final class Consumer {
    private Consumer() {}

    public static void main(String[] args) throws Exception {
        List<String> classPath =
                Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        System.out.println("class path: " + classPath);
        check(
                classPath.size() == 2
                        && classPath.stream().anyMatch(e -> e.endsWith("lkr-crypt-0.1.0.jar")),
                "the class path is this project and the lkr-crypt jar alone");

        Path dir = Files.createTempDirectory("lkr-consumer");
        try {
            run(dir.resolve("keystore.json"));
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        System.out.println("consumer: OK");
    }

    private static void run(Path keystore) throws Exception {
        byte[] cmk = new byte[32];
        new SecureRandom().nextBytes(cmk);
        byte[] secret = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);
        byte[] context = "CONNECTION.PASSWORD:42".getBytes(StandardCharsets.UTF_8);
        byte[] envelope;
        try (MasterKey key = MasterKey.local(cmk)) {
            Arrays.fill(cmk, (byte) 0); // the caller's copy is the caller's to clear
            try (LkrCrypt crypt = LkrCrypt.open(key, keystore)) {
                envelope = crypt.encrypt(secret, context);
                check(Arrays.equals(secret, crypt.decrypt(envelope, context)), "round trip");
            }
            check(Files.isRegularFile(keystore), "the keystore file was created: " + keystore);
            System.out.println("keystore: " + keystore + " (" + Files.size(keystore) + " bytes)");

            // The same CMK and the keystore file: the value still decrypts.
            try (LkrCrypt crypt = LkrCrypt.open(key, keystore)) {
                check(Arrays.equals(secret, crypt.decrypt(envelope, context)), "reopened");

                byte[] tampered = envelope.clone();
                tampered[tampered.length - 1] ^= 1;
                refused(crypt, tampered, context, "a tampered value");
                refused(
                        crypt,
                        envelope,
                        "CONNECTION.PASSWORD:43".getBytes(StandardCharsets.UTF_8),
                        "a value under another context");

                // Keystore administration and legacy migration: views of the same handle.
                try (LkrCrypt rotated = crypt.keystoreAdmin().rotateKek()) {
                    byte[] moved = rotated.keystoreAdmin().moveToActiveKek(envelope, context);
                    check(
                            rotated.keystoreAdmin().kekIdOf(moved, context).getAsInt() == 2,
                            "the value moved to the new KEK 2");
                    byte[] out = new byte[LegacyMigrator.migratedLength(moved.length)];
                    int n =
                            rotated.legacyMigrator()
                                    .migrate(moved, 0, moved.length, context, out, 0);
                    check(
                            Arrays.equals(moved, Arrays.copyOf(out, n)),
                            "an envelope v1 passes through the migration unchanged");
                }
            }
        }
        System.out.println(
                "encrypt, decrypt, reopen, rotate, move, migrate: OK; tampered value and wrong"
                        + " context refused");
    }

    private static void refused(LkrCrypt crypt, byte[] envelope, byte[] context, String what)
            throws Exception {
        try {
            crypt.decrypt(envelope, context);
        } catch (NotAuthenticException e) {
            System.out.println(what + " refused: " + e.getMessage());
            return;
        }
        throw new AssertionError(what + " was decrypted");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError("consumer check failed: " + what);
        }
    }
}
