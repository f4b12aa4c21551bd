package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.NotAuthenticException;
import io.lkr.crypt.TestSupport;
import io.lkr.crypt.cli.SampleDb;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code rotate_kek}, {@code migrate_encryption --reencrypt}, {@code retire_kek} and {@code rekey}
 * (docs/native-interfaces.md) on the internal database's keystore and on keystore files, against
 * each kind of internal database by subclass. Rekey needs its own environment ({@code _SOURCE} /
 * {@code _DESTINATION}), so it runs in child JVMs — the real jar's main class — and is checked with
 * child JVMs holding the destination CMK. The test JVM's CMK is the surefire one.
 */
abstract class KeystoreTasksTestBase extends DbTaskTestBase {
    int migrateReencrypt(String... extra) {
        List<String> a = new ArrayList<>(List.of("--reencrypt"));
        a.addAll(List.of(extra));
        return migrate(LEGACY_KEY, a.toArray(new String[0]));
    }

    /** KEK id → stored values under it (through the database's keystore and the test CMK). */
    Map<Integer, Long> perKek() throws Exception {
        try (Connection c = t.db.connect();
                LkrCrypt crypt = KeystoreStore.openExisting(c, t.db.dialect(), t.db.toString())) {
            KekUsage u = KekUsage.scan(c, t.db.dialect(), SampleDb.columns(), crypt);
            assertEquals(0, u.other(), "every value is an authentic envelope v1");
            return u.totalByKek();
        }
    }

    // ---- rotation, re-encryption, retiring
    // --------------------------------------------------------

    @Test
    void rotateThenReencryptThenRetire() throws Exception {
        migratedSample(300);
        int total = 300 + 30 + 1;
        byte[] pt = new byte[10_000];
        new SecureRandom().nextBytes(pt);
        Path old = dir.resolve("before-rotation.lks");
        backup(old, pt);
        assertEquals(Map.of(1, (long) total), perKek());

        assertEquals(0, task("rotate_kek", db()), err);
        assertTrue(out.contains("KEK 2 is now active (KEKs 1, 2)"), out);
        assertTrue(out.contains("migrate_encryption --reencrypt"), out);
        try (Connection c = t.db.connect();
                LkrCrypt crypt = KeystoreStore.openExisting(c, t.db.dialect(), t.db.toString())) {
            assertEquals(2, crypt.activeKekId());
            assertArrayEquals(new int[] {1, 2}, crypt.keystoreAdmin().kekIds());
            assertArrayEquals(
                    pt, readBackup(crypt, old), "a backup written before the rotation decrypts");
        }
        assertAllMigratedToOriginals(300);
        assertEquals(Map.of(1, (long) total), perKek(), "rotation changes no value");

        // status shows the counts per KEK.
        ByteArrayOutputStream so = new ByteArrayOutputStream();
        assertEquals(
                0,
                io.lkr.crypt.cli.Main.run(
                        taskArgs("status", args()),
                        new PrintStream(so, true, StandardCharsets.UTF_8),
                        new PrintStream(OutputStream.nullOutputStream())));
        String status = so.toString(StandardCharsets.UTF_8);
        assertTrue(status.contains("GCM values per KEK: KEK 1: " + total), status);
        assertTrue(status.contains("Active KEK: 2 (2 KEKs in the keystore: 1, 2)"), status);

        // Retiring KEK 1 is refused while values use it; nothing changes.
        String ks = storedKeystore();
        assertEquals(1, task("retire_kek", db("--columns", manifest.toString(), "--kek-id", "1")));
        assertTrue(err.contains(total + " value(s) are still encrypted under KEK 1"), err);
        assertTrue(err.contains("migrate_encryption --reencrypt"), err);
        assertEquals(ks, storedKeystore());
        // The active KEK, or one that does not exist, cannot be retired.
        assertEquals(1, task("retire_kek", db("--columns", manifest.toString(), "--kek-id", "2")));
        assertTrue(err.contains("KEK 2 is the active KEK"), err);
        assertEquals(1, task("retire_kek", db("--columns", manifest.toString(), "--kek-id", "7")));
        assertTrue(err.contains("The keystore holds no KEK 7"), err);
        assertEquals(ks, storedKeystore());

        // Dry run of the re-encryption: counts, writes nothing.
        Map<String, String> before = snapshot();
        assertEquals(0, migrateReencrypt("--dry-run"), err);
        assertEquals(before, snapshot());
        assertTrue(out.contains("older KEK"), out);

        // Re-encryption: every value moves to KEK 2 and still decrypts to its original. Its log
        // line says so; with no legacy value left, there is no migration line (#19.8).
        assertEquals(0, migrateReencrypt(), err);
        assertTrue(
                out.contains(
                        "Starting re-encryption of the values under an older KEK under the active KEK 2"),
                out);
        assertFalse(LOG_LINE.matcher(out).find(), out);
        assertEquals(Map.of(2, (long) total), perKek());
        assertAllMigratedToOriginals(300);
        Map<String, String> after = snapshot();
        for (String k : before.keySet()) {
            assertNotEquals(before.get(k), after.get(k), k + " was re-encrypted");
        }
        // A rerun changes nothing.
        assertEquals(0, migrateReencrypt(), err);
        assertEquals(after, snapshot());

        // Now KEK 1 can be retired; the old keystore is kept for the old backup.
        assertEquals(
                0, task("retire_kek", db("--columns", manifest.toString(), "--kek-id", "1")), err);
        assertTrue(out.contains("Retired KEK 1"), out);
        Matcher m =
                Pattern.compile(
                                "\\): (\\S+keystore-before-retiring-kek-1-\\S+\\.json) \\(mode 0600\\)")
                        .matcher(out);
        assertTrue(m.find(), out);
        Path copy = Path.of(m.group(1));
        assertEquals(
                "rw-------",
                java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(copy)));
        try (Connection c = t.db.connect();
                LkrCrypt crypt = KeystoreStore.openExisting(c, t.db.dialect(), t.db.toString())) {
            assertArrayEquals(new int[] {2}, crypt.keystoreAdmin().kekIds());
            NotAuthenticException e =
                    assertThrows(NotAuthenticException.class, () -> readBackup(crypt, old));
            assertTrue(e.getMessage().contains("KEK 1"), e.getMessage());
        }
        try (LkrCrypt kept = LkrCrypt.openFromEnvironment(Files.readAllBytes(copy))) {
            assertArrayEquals(pt, readBackup(kept, old), "the kept copy decrypts the old backup");
        }
        assertAllMigratedToOriginals(300);
    }

    @Test
    void keystoreTasksRefuseWhileANodeIsLive() throws Exception {
        migratedSample(20);
        String ks = storedKeystore();
        try (Connection c = t.db.connect()) {
            Heartbeat.upsert(
                    c, t.db.dialect(), "node-7", "host-7", t.db.dialect().nowMinusSeconds(5));
        }
        assertEquals(1, task("rotate_kek", db()));
        assertEquals(LiveNodes.MESSAGE + System.lineSeparator(), err);
        assertTrue(
                locations.startsWith("Internal database: " + t.db.location() + "\nLog: "),
                locations);
        assertEquals(1, task("retire_kek", db("--kek-id", "1")));
        assertTrue(err.contains(LiveNodes.MESSAGE), err);
        Object[] r = run(jar(rekeyEnv(TEST_CMK, randomCmk()), "rekey", db()));
        assertEquals(1, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains(LiveNodes.MESSAGE), (String) r[1]);
        assertEquals(ks, storedKeystore());
        // 61 s old by the database clock: gone.
        try (Connection c = t.db.connect()) {
            Heartbeat.upsert(
                    c, t.db.dialect(), "node-7", "host-7", t.db.dialect().nowMinusSeconds(61));
        }
        assertEquals(0, task("rotate_kek", db()), err);
    }

    @Test
    void rotateAKeystoreFile() throws Exception {
        Path file = dir.resolve("keystore.json");
        byte[] pt = "cached".getBytes(StandardCharsets.UTF_8);
        byte[] env1;
        try (LkrCrypt c = LkrCrypt.openFromEnvironment(file)) {
            env1 = c.encrypt(pt, new byte[0]);
        }
        assertEquals(
                0,
                task(
                        "rotate_kek",
                        "--keystore",
                        file.toString(),
                        "--log-dir",
                        dir.resolve("log").toString()),
                err);
        try (LkrCrypt c = LkrCrypt.openFromEnvironment(file)) {
            assertEquals(2, c.activeKekId());
            assertArrayEquals(pt, c.decrypt(env1, new byte[0]));
            byte[] moved = c.keystoreAdmin().moveToActiveKek(env1, new byte[0]);
            assertEquals(OptionalInt.of(2), c.keystoreAdmin().kekIdOf(moved, new byte[0]));
            assertTrue(
                    c.keystoreAdmin().moveToActiveKek(moved, new byte[0]) == moved,
                    "already under the active KEK: the same array");
        }
        assertEquals(
                "rw-------",
                java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(file)));
        assertEquals(
                1,
                task(
                        "retire_kek",
                        "--keystore",
                        file.toString(),
                        "--kek-id",
                        "1",
                        "--log-dir",
                        dir.resolve("log").toString()));
        assertTrue(err.contains("does not take --keystore"), err);
    }

    // ---- the maintenance lock (issue #14.1)
    // -------------------------------------------------------

    /**
     * An output stream that keeps what is written and opens {@code latch} once {@code text}
     * appears.
     */
    static final class Watch extends ByteArrayOutputStream {
        private final String text;
        final java.util.concurrent.CountDownLatch latch =
                new java.util.concurrent.CountDownLatch(1);

        Watch(String text) {
            this.text = text;
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            super.write(b, off, len);
            if (latch.getCount() > 0 && toString(StandardCharsets.UTF_8).contains(text)) {
                latch.countDown();
            }
        }

        @Override
        public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }
    }

    /**
     * Issue #14.1's hostile test: while migrate_encryption --reencrypt checks and writes values
     * under KEK 2, rotate_kek (which would make KEK 2 retirable), retire_kek and a second
     * migrate_encryption are refused at once, naming the running task; it then finishes with every
     * value readable under the keystore it wrote them for.
     */
    @Test
    void writingTasksAreRefusedWhileAReencryptionRuns() throws Exception {
        int rows = killRows();
        migratedSample(rows);
        int total = rows + rows / 10 + 1;
        assertEquals(0, task("rotate_kek", db()), err);
        Watch progress = new Watch("Checking: ");
        java.util.concurrent.atomic.AtomicInteger rc =
                new java.util.concurrent.atomic.AtomicInteger(-1);
        Thread reencrypt =
                new Thread(
                        () ->
                                rc.set(
                                        io.lkr.crypt.cli.Main.run(
                                                taskArgs(
                                                        "migrate_encryption",
                                                        args(
                                                                "--reencrypt",
                                                                "--batch-size",
                                                                "10",
                                                                "--progress-interval-ms",
                                                                "10")),
                                                new PrintStream(OutputStream.nullOutputStream()),
                                                new PrintStream(
                                                        progress, true, StandardCharsets.UTF_8),
                                                LEGACY_KEY)),
                        "reencrypt");
        reencrypt.start();
        assertTrue(
                progress.latch.await(120, TimeUnit.SECONDS), "the re-encryption started checking");
        long pid = ProcessHandle.current().pid();
        String ks = storedKeystore();

        assertEquals(1, task("rotate_kek", db()), out + err);
        assertRefusedNaming("migrate_encryption --reencrypt", pid);
        assertEquals(
                1,
                task("retire_kek", db("--columns", manifest.toString(), "--kek-id", "1")),
                out + err);
        assertRefusedNaming("migrate_encryption --reencrypt", pid);
        assertEquals(1, migrate(LEGACY_KEY, "--reencrypt"), out + err);
        assertRefusedNaming("migrate_encryption --reencrypt", pid);
        assertEquals(ks, storedKeystore(), "the keystore is unchanged");

        reencrypt.join(TimeUnit.MINUTES.toMillis(5));
        assertFalse(reencrypt.isAlive(), "the re-encryption ended");
        assertEquals(0, rc.get(), progress.toString(StandardCharsets.UTF_8));
        assertEquals(Map.of(2, (long) total), perKek());
        assertAllMigratedToOriginals(rows);
        // The lock went with the task: KEK 1 can be retired now.
        assertEquals(
                0, task("retire_kek", db("--columns", manifest.toString(), "--kek-id", "1")), err);
        assertAllMigratedToOriginals(rows);
    }

    /**
     * A task killed with SIGKILL while it holds the lock leaves none behind: on MySQL the server
     * releases GET_LOCK with the connection; on embedded HyperSQL (one process at a time) the row
     * another JVM left is provably stale. While it runs, a task of another process is refused,
     * naming it (not on embedded HyperSQL, which another process cannot open meanwhile).
     */
    @Test
    void aKilledHolderLeavesNoLockBehind() throws Exception {
        migratedSample(20);
        String before = storedKeystore();
        Process rekey = pausedRekey(List.of());
        if (!t.db.isEmbedded()) {
            assertEquals(1, task("rotate_kek", db()), out + err);
            assertRefusedNaming("rekey", rekey.pid());
            assertEquals(1, migrate(LEGACY_KEY), out + err);
            assertRefusedNaming("rekey", rekey.pid());
        }
        kill(rekey);
        assertEquals(before, storedKeystore(), "the killed rekey changed nothing");
        assertEquals(0, task("rotate_kek", db()), err);
        assertTrue(out.contains("KEK 2 is now active"), out);
        assertAllMigratedToOriginals(20);
    }

    // ---- rekey
    // ------------------------------------------------------------------------------------

    @Test
    void rekeyTheDatabaseKeystoreLocalToLocal() throws Exception {
        migratedSample(100);
        Path bk = dir.resolve("backup.lks");
        byte[] pt = backup(bk, "backup of the internal database".getBytes(StandardCharsets.UTF_8));
        Map<String, String> values = snapshot();
        byte[] backupBytes = Files.readAllBytes(bk);
        String before = storedKeystore();
        String dest = randomCmk();

        // Misconfigurations are refused before the database is touched.
        Object[] r = run(jar(env("LKR_MASTER_KEY_ENV_SOURCE", TEST_CMK), "rekey", db()));
        assertEquals(1, r[0]);
        assertTrue(
                ((String) r[1])
                        .contains(
                                "No Customer Master Key is configured: set exactly one of "
                                        + "LKR_MASTER_KEY_ENV_DESTINATION, LKR_MASTER_KEY_FILE_DESTINATION or LKR_AWS_CMK_DESTINATION"),
                (String) r[1]);
        r =
                run(
                        jar(
                                rekeyEnv(
                                        TEST_CMK, Base64.getEncoder().encodeToString(new byte[31])),
                                "rekey",
                                db()));
        assertEquals(1, r[0]);
        assertTrue(
                ((String) r[1])
                        .contains(
                                "Size of the Master Key is invalid it must be 32 bytes however is 31"),
                (String) r[1]);
        // The wrong source: refused, nothing changed.
        r = run(jar(rekeyEnv(randomCmk(), dest), "rekey", db()));
        assertEquals(1, r[0], (String) r[1]);
        assertTrue(
                ((String) r[1]).contains("Master Key does not match the keystore"), (String) r[1]);
        assertEquals(before, storedKeystore());

        r = run(jar(rekeyEnv(TEST_CMK, dest), "rekey", db()));
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(
                ((String) r[1]).contains("Rekeyed the keystore of the internal database"),
                (String) r[1]);
        assertNotEquals(before, storedKeystore());
        assertEquals(values, snapshot(), "no value changed");
        assertArrayEquals(backupBytes, Files.readAllBytes(bk), "no backup changed");
        assertOpensWith(dest, values.size(), bk, pt);
        // The source CMK no longer opens it.
        r = run(jar(env("LKR_MASTER_KEY_ENV", TEST_CMK), "status", args()));
        assertEquals(1, r[0], (String) r[1]);
        assertTrue(
                ((String) r[1]).contains("Master Key does not match the keystore"), (String) r[1]);
        // And back again, so the other tests' CMK opens it.
        r = run(jar(rekeyEnv(dest, TEST_CMK), "rekey", db()));
        assertEquals(0, r[0], (String) r[1]);
        assertAllMigratedToOriginals(100);
    }

    @Test
    void rekeyAKeystoreFile() throws Exception {
        Path file = dir.resolve("keystore.json");
        byte[] pt = "cached file".getBytes(StandardCharsets.UTF_8);
        Path cached = dir.resolve("cached.lks");
        try (LkrCrypt c = LkrCrypt.openFromEnvironment(file);
                OutputStream o = c.encryptingStream(Files.newOutputStream(cached), new byte[0])) {
            o.write(pt);
        }
        byte[] cachedBytes = Files.readAllBytes(cached);
        String dest = randomCmk();
        Object[] r = run(jar(rekeyEnv(TEST_CMK, dest), "rekey", "--keystore", file.toString()));
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(
                "rw-------",
                java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(file)));
        Path restored = dir.resolve("restored");
        r =
                run(
                        jar(
                                env("LKR_MASTER_KEY_ENV", dest),
                                "decrypt_file",
                                "--keystore",
                                file.toString(),
                                cached.toString(),
                                restored.toString()));
        assertEquals(0, r[0], (String) r[1]);
        assertArrayEquals(pt, Files.readAllBytes(restored));
        assertArrayEquals(cachedBytes, Files.readAllBytes(cached));
        r =
                run(
                        jar(
                                env("LKR_MASTER_KEY_ENV", TEST_CMK),
                                "decrypt_file",
                                "--keystore",
                                file.toString(),
                                cached.toString(),
                                dir.resolve("nope").toString()));
        assertEquals(1, r[0], (String) r[1]);
        assertTrue(
                ((String) r[1]).contains("Master Key does not match the keystore"), (String) r[1]);
        // A missing file: a clear error.
        r =
                run(
                        jar(
                                rekeyEnv(dest, TEST_CMK),
                                "rekey",
                                "--keystore",
                                dir.resolve("missing.json").toString()));
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("Missing keystore: no file"), (String) r[1]);
    }

    // ---- kill -9
    // ----------------------------------------------------------------------------------

    @Test
    void killMinus9DuringARekeyLeavesTheOldOrTheNewKeystore() throws Exception {
        migratedSample(50);
        Map<String, String> values = snapshot();
        String before = storedKeystore();
        String dest = randomCmk();
        // Crash point 1: the new keystore is built and checked, the old one not yet replaced.
        killBeforeReplace(rekeyEnv(TEST_CMK, dest), "rekey", db());
        assertEquals(before, storedKeystore(), "the old keystore is intact");
        assertAllMigratedToOriginals(50);
        // Crash points 2..n: kills at random moments of whole runs (JVM start, open, re-wrap, the
        // UPDATE and its commit); after each, the stored keystore opens with the source or the
        // destination, to the same KEKs: every value decrypts.
        java.util.Random rnd =
                TestSupport.timingRandom("killMinus9DuringARekeyLeavesTheOldOrTheNewKeystore");
        String source = TEST_CMK;
        String target = dest;
        for (int i = 0; i < 4; i++) {
            Path log = dir.resolve("rekey-" + i + ".out");
            int status = killSoon(jar(rekeyEnv(source, target), "rekey", db()), rnd, log);
            String output = Files.readString(log);
            boolean rekeyed = status == 0 || !storedKeystore().equals(before);
            String opens = rekeyed ? target : source;
            assertOpensWith(opens, values.size(), null, null);
            assertEquals(values, snapshot(), output);
            if (rekeyed) {
                before = storedKeystore();
                source = opens;
                target = opens.equals(TEST_CMK) ? dest : TEST_CMK;
            }
        }
        // Finish with the test CMK, then everything decrypts in this JVM.
        if (!source.equals(TEST_CMK)) {
            Object[] r = run(jar(rekeyEnv(source, TEST_CMK), "rekey", db()));
            assertEquals(0, r[0], (String) r[1]);
        }
        assertAllMigratedToOriginals(50);
    }

    @Test
    void killMinus9DuringAFileRekeyLeavesTheOldFile() throws Exception {
        Path file = dir.resolve("keystore.json");
        byte[] env1;
        try (LkrCrypt c = LkrCrypt.openFromEnvironment(file)) {
            env1 = c.encrypt("v".getBytes(StandardCharsets.UTF_8), new byte[0]);
        }
        byte[] before = Files.readAllBytes(file);
        killBeforeReplace(rekeyEnv(TEST_CMK, randomCmk()), "rekey", "--keystore", file.toString());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertNoTemporaryFile();
        try (LkrCrypt c = LkrCrypt.openFromEnvironment(file)) {
            assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), c.decrypt(env1, new byte[0]));
        }
    }

    @Test
    void killMinus9DuringReencryptionThenRerunFinishes() throws Exception {
        int rows = killRows();
        migratedSample(rows);
        int total = rows + rows / 10 + 1;
        assertEquals(0, task("rotate_kek", db()), err);
        Pattern progress = Pattern.compile("^Re-encrypting: (\\d+)/");
        String seen =
                killWhen(
                        child(
                                Map.of(),
                                "--reencrypt",
                                "--batch-size",
                                "50",
                                "--progress-interval-ms",
                                "10"),
                        Pattern.compile("^Re-encrypting: ([5-9]\\d\\d|\\d{4,})/"));
        assertTrue(
                progress.matcher(
                                seen.lines()
                                        .filter(l -> l.startsWith("Re-encrypting"))
                                        .findFirst()
                                        .orElse(""))
                        .find(),
                seen);
        Map<Integer, Long> mid = perKek();
        assertTrue(
                mid.getOrDefault(1, 0L) > 0 && mid.getOrDefault(2, 0L) > 0,
                "killed mid-way: " + mid + "\n" + seen);
        assertAllMigratedToOriginals(rows);
        assertEquals(0, migrateReencrypt(), err);
        assertEquals(Map.of(2, (long) total), perKek());
        assertAllMigratedToOriginals(rows);
    }

    // ---- AWS KMS (the moto server of tests/kms_server.sh)
    // ------------------------------------------

    /** Creates a symmetric key on the KMS-API server (us-east-1); its id. */
    static String createKmsKey(String endpoint) throws Exception {
        return io.lkr.crypt.TestSupport.createKmsKey(endpoint, "us-east-1");
    }

    @Test
    void rekeyThroughAwsKmsInEveryDirection() throws Exception {
        String endpoint = io.lkr.crypt.TestSupport.kmsEndpointOrSkip("KMS rekey tests");
        String keyA = createKmsKey(endpoint);
        String keyB = createKmsKey(endpoint);
        Map<String, String> aws = awsEnv(endpoint);
        migratedSample(40);
        Path bk = dir.resolve("backup.lks");
        byte[] pt = backup(bk, "backup".getBytes(StandardCharsets.UTF_8));
        Map<String, String> values = snapshot();
        int n = values.size();
        // The same keystore as a file, rekeyed alongside.
        Path file = dir.resolve("keystore-file.json");
        exportKeystore(file);
        String[][] steps = {
            // source variable, source, destination variable, destination
            {"LKR_MASTER_KEY_ENV", TEST_CMK, "LKR_AWS_CMK", keyA}, // local -> KMS
            {"LKR_AWS_CMK", keyA, "LKR_AWS_CMK", keyB}, // KMS -> KMS
            {"LKR_AWS_CMK", keyB, "LKR_MASTER_KEY_ENV", TEST_CMK}, // KMS -> local
        };
        for (String[] s : steps) {
            Map<String, String> e = new HashMap<>(aws);
            e.put(s[0] + "_SOURCE", s[1]);
            e.put(s[2] + "_DESTINATION", s[3]);
            Object[] r = run(jar(e, "rekey", db()));
            assertEquals(0, r[0], String.join(" -> ", s[0], s[2]) + ": " + r[1]);
            Map<String, String> open = new HashMap<>(aws);
            open.put(s[2], s[3]);
            assertOpensWith(open, n, bk, pt);
            assertEquals(values, snapshot());
            r = run(jar(e, "rekey", "--keystore", file.toString()));
            assertEquals(0, r[0], "file " + String.join(" -> ", s[0], s[2]) + ": " + r[1]);
            assertArrayEquals(pt, restore(open, bk, "--keystore", file.toString()));
        }
        assertTrue(storedKeystore().contains("\"local\""), storedKeystore());
        assertAllMigratedToOriginals(40);
    }
}
