package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.TestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.sql.Connection;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The recovery key's tasks (docs/keystore.md, "Recovery key") — {@code add_recovery_key}, {@code
 * rotate_kek} under it, {@code status}, {@code recover --private-key}, {@code remove_recovery_key}
 * — on the internal database's keystore and on keystore files, against each kind of internal
 * database by subclass. The RSA keys are made by {@code openssl genpkey}; every task runs in a
 * child JVM (the jar's main class) with exactly the variables given.
 */
abstract class RecoveryTasksTestBase extends DbTaskTestBase {
    static final String VAR = "LKR_RECOVERY_PUBLIC_KEY_FILE";

    /** An RSA key pair made by openssl: its files and the public key's key_sha256. */
    record Pair(Path publicPem, Path privatePem, String sha256) {}

    Pair rsa(String name, int bits) throws Exception {
        Path priv = dir.resolve(name + ".pem");
        Path pub = dir.resolve(name + ".pub.pem");
        openssl(
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:" + bits,
                "-out",
                priv.toString());
        openssl("pkey", "-in", priv.toString(), "-pubout", "-out", pub.toString());
        Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("r--------"));
        // key_sha256 computed here: SHA-256 of the DER SubjectPublicKeyInfo inside the PEM.
        String body =
                Files.readString(pub).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(body);
        String sha =
                Base64.getEncoder()
                        .encodeToString(MessageDigest.getInstance("SHA-256").digest(der));
        return new Pair(pub, priv, sha);
    }

    static void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = drain(p);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "openssl " + cmd + ": " + out);
    }

    /** The test CMK, and the recovery public key when {@code pub} is not null. */
    static Map<String, String> cmk(String cmk, Pair pub) {
        Map<String, String> e = env("LKR_MASTER_KEY_ENV", cmk);
        if (pub != null) {
            e.put(VAR, pub.publicPem().toString());
        }
        return e;
    }

    /** Runs {@code task} in a child JVM; asserts its exit status; returns its output. */
    String expect(int status, Map<String, String> env, String task, String... args)
            throws Exception {
        Object[] r = run(jar(env, task, args));
        assertEquals(status, r[0], task + ": " + r[1]);
        return (String) r[1];
    }

    static void contains(String text, String... parts) {
        for (String p : parts) {
            assertTrue(text.contains(p), "no \"" + p + "\" in:\n" + text);
        }
    }

    /**
     * {@code encrypt_file --keystore file} of the text "cached", with the recovery key {@code pub}
     * configured: creates the keystore file. Returns the stream written.
     */
    Path cachedFile(Path file, Pair pub) throws Exception {
        Path plain = dir.resolve("plain.txt");
        Files.writeString(plain, "cached");
        Path cached = dir.resolve("cached.lks");
        expect(
                0,
                cmk(TEST_CMK, pub),
                "encrypt_file",
                "--keystore",
                file.toString(),
                plain.toString(),
                cached.toString());
        return cached;
    }

    @Test
    void addRotateRefuseRecoverAndRemoveOnTheDatabase() throws Exception {
        Pair a = rsa("recovery-a", 3072);
        Pair b = rsa("recovery-b", 3072);
        migratedSample(100);
        Path bk1 = dir.resolve("backup-1.lks");
        byte[] pt1 = backup(bk1, "backup under KEK 1".getBytes(StandardCharsets.UTF_8));

        // add_recovery_key needs the variable; nothing changes without it.
        String before = storedKeystore();
        contains(expect(1, cmk(TEST_CMK, null), "add_recovery_key", db()), VAR + " is not set");
        assertEquals(before, storedKeystore());
        contains(
                expect(0, cmk(TEST_CMK, a), "add_recovery_key", db()),
                "Added the recovery key (key_sha256 " + a.sha256() + ")",
                "it covers KEK(s) 1.");
        contains(
                expect(0, cmk(TEST_CMK, null), "status", args()),
                "Recovery key: key_sha256 " + a.sha256() + ", covers KEK(s) 1");

        // rotate_kek without the variable is refused (the new KEK would not be recoverable).
        before = storedKeystore();
        contains(
                expect(1, cmk(TEST_CMK, null), "rotate_kek", db()),
                VAR + " is not set",
                "remove_recovery_key",
                a.sha256());
        assertEquals(before, storedKeystore());
        // A key substituted in the keystore (B) while A is configured: refused, both hashes.
        assertEquals(0, run(jar(cmk(TEST_CMK, b), "add_recovery_key", db()))[0]);
        before = storedKeystore();
        contains(
                expect(1, cmk(TEST_CMK, a), "rotate_kek", db()),
                "key_sha256 " + b.sha256(),
                "key_sha256 " + a.sha256());
        assertEquals(before, storedKeystore());
        expect(0, cmk(TEST_CMK, a), "add_recovery_key", db());
        contains(expect(0, cmk(TEST_CMK, a), "rotate_kek", db()), "KEK 2 is now active");
        contains(
                expect(0, cmk(TEST_CMK, null), "status", args()),
                "Recovery key: key_sha256 " + a.sha256() + ", covers KEK(s) 1, 2");
        Path bk2 = dir.resolve("backup-2.lks");
        byte[] pt2 = backup(bk2, "backup under KEK 2".getBytes(StandardCharsets.UTF_8));
        Path exported = dir.resolve("exported-keystore.json");
        exportKeystore(exported);
        Map<String, String> values = snapshot();
        int n = values.size();

        // The CMK is lost. recover: wrong private key, a key file not 0400, live nodes: refused.
        String dest = randomCmk();
        Map<String, String> recoverEnv = env("LKR_MASTER_KEY_ENV_DESTINATION", dest);
        before = storedKeystore();
        contains(
                expect(1, recoverEnv, "recover", db("--private-key", b.privatePem().toString())),
                "key_sha256 is " + a.sha256(),
                "this private key's is " + b.sha256());
        Path loose = dir.resolve("loose.pem");
        Files.copy(a.privatePem(), loose);
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-------"));
        contains(
                expect(1, recoverEnv, "recover", db("--private-key", loose.toString())),
                "Permission for backing key file must be 0400, but is 0600");
        contains(
                expect(1, env(), "recover", db("--private-key", a.privatePem().toString())),
                "LKR_MASTER_KEY_ENV_DESTINATION");
        try (Connection c = t.db.connect()) {
            Heartbeat.upsert(
                    c, t.db.dialect(), "node-9", "host-9", t.db.dialect().nowMinusSeconds(5));
        }
        contains(
                expect(1, recoverEnv, "recover", db("--private-key", a.privatePem().toString())),
                LiveNodes.MESSAGE);
        try (Connection c = t.db.connect()) {
            Heartbeat.upsert(
                    c, t.db.dialect(), "node-9", "host-9", t.db.dialect().nowMinusSeconds(61));
        }
        assertEquals(before, storedKeystore(), "nothing was written");

        contains(
                expect(0, recoverEnv, "recover", db("--private-key", a.privatePem().toString())),
                "Recovered the keystore of the internal database",
                "2 KEK(s) (1, 2, active 2)",
                "key_sha256 " + a.sha256());
        assertNotEquals(before, storedKeystore());
        assertEquals(values, snapshot(), "no value changed");
        assertOpensWith(dest, n, bk1, pt1);
        assertOpensWith(dest, n, bk2, pt2);
        contains(
                expect(1, cmk(TEST_CMK, null), "status", args()),
                "Master Key does not match the keystore");
        contains(
                expect(0, cmk(dest, null), "status", args()),
                "Recovery key: key_sha256 " + a.sha256() + ", covers KEK(s) 1, 2");

        // The exported keystore (beside the backups) recovers the same way, as a file.
        contains(
                expect(
                        0,
                        recoverEnv,
                        "recover",
                        "--keystore",
                        exported.toString(),
                        "--private-key",
                        a.privatePem().toString()),
                "Recovered the keystore of the file " + exported);
        assertArrayEquals(pt1, restore(cmk(dest, null), bk1, "--keystore", exported.toString()));

        // The section survives a recover and a rekey: recover again, back to the test CMK.
        expect(
                0,
                env("LKR_MASTER_KEY_ENV_DESTINATION", TEST_CMK),
                "recover",
                db("--private-key", a.privatePem().toString()));
        assertAllMigratedToOriginals(100);
        try (Connection c = t.db.connect();
                LkrCrypt crypt = KeystoreStore.openExisting(c, t.db.dialect(), t.db.toString())) {
            assertArrayEquals(pt2, readBackup(crypt, bk2));
            assertEquals(a.sha256(), crypt.keystoreAdmin().recoveryKeySha256());
            assertArrayEquals(new int[] {1, 2}, crypt.keystoreAdmin().recoveryKekIds(true));
            assertArrayEquals(new int[0], crypt.keystoreAdmin().recoveryKekIds(false));
        }

        // remove_recovery_key: status says none, recover is refused, rotation needs no key.
        contains(
                expect(0, cmk(TEST_CMK, null), "remove_recovery_key", db()),
                "Removed the recovery key");
        contains(expect(0, cmk(TEST_CMK, null), "status", args()), "Recovery key: none");
        before = storedKeystore();
        contains(
                expect(1, recoverEnv, "recover", db("--private-key", a.privatePem().toString())),
                "no recovery section");
        assertEquals(before, storedKeystore());
        expect(0, cmk(TEST_CMK, null), "rotate_kek", db());
        contains(expect(1, cmk(TEST_CMK, null), "remove_recovery_key", db()), "nothing to remove");
    }

    @Test
    void keysOtherThanRsa3072Or4096AreRefused() throws Exception {
        Pair small = rsa("recovery-small", 2048);
        migratedSample(5);
        String before = storedKeystore();
        contains(
                expect(1, cmk(TEST_CMK, small), "add_recovery_key", db()),
                "is RSA-2048",
                "3072 or 4096");
        assertEquals(before, storedKeystore());
        Pair big = rsa("recovery-big", 4096);
        contains(
                expect(0, cmk(TEST_CMK, big), "add_recovery_key", db()),
                "key_sha256 " + big.sha256());
    }

    /** status warns about a KEK the recovery key does not cover; recover refuses it. */
    @Test
    void anUncoveredKekIsAWarningAndRefusesRecovery() throws Exception {
        Pair a = rsa("recovery-a", 3072);
        Path file = dir.resolve("keystore.json");
        // encrypt_file creates the keystore file (an open for writing): KEK 1 wrapped under the
        // configured recovery key too; then a rotation under it.
        cachedFile(file, a);
        contains(
                expect(0, cmk(TEST_CMK, null), "status", "--keystore", file.toString()),
                "Recovery key: key_sha256 " + a.sha256() + ", covers KEK(s) 1");
        String log = dir.resolve("log").toString();
        expect(0, cmk(TEST_CMK, a), "rotate_kek", "--keystore", file.toString(), "--log-dir", log);
        contains(
                expect(0, cmk(TEST_CMK, null), "status", "--keystore", file.toString()),
                "covers KEK(s) 1, 2");
        // KEK 2's recovery wrapping removed by hand (as a version without recovery would leave it).
        String doc = Files.readString(file);
        String edited =
                doc.replaceFirst(",\\s*\\{\\s*\"id\": 2,\\s*\"wrapped\": \"[^\"]*\"\\s*\\}", "");
        assertNotEquals(doc, edited);
        Files.writeString(file, edited);
        String status = expect(0, cmk(TEST_CMK, null), "status", "--keystore", file.toString());
        contains(
                status,
                "covers KEK(s) 1",
                "KEK(s) 2 are not covered by the recovery key: a lost CMK would lose them");
        contains(
                expect(
                        1,
                        env("LKR_MASTER_KEY_ENV_DESTINATION", randomCmk()),
                        "recover",
                        "--keystore",
                        file.toString(),
                        "--private-key",
                        a.privatePem().toString()),
                "KEK(s) 2 of the keystore are not covered");
        assertEquals(edited, Files.readString(file), "nothing was written");
    }

    /**
     * A kill during recover leaves the old or the new keystore, never neither: first at the point
     * where the new keystore is checked and the old not yet replaced, then at random moments. Both
     * open (with the lost CMK or the destination) to the same KEKs.
     */
    @Test
    void killMinus9DuringRecoverLeavesTheOldOrTheNewKeystore() throws Exception {
        Pair a = rsa("recovery-a", 3072);
        migratedSample(50);
        expect(0, cmk(TEST_CMK, a), "add_recovery_key", db());
        Map<String, String> values = snapshot();
        String before = storedKeystore();
        String dest = randomCmk();
        String key = a.privatePem().toString();
        killBeforeReplace(
                env("LKR_MASTER_KEY_ENV_DESTINATION", dest), "recover", db("--private-key", key));
        assertEquals(before, storedKeystore(), "the old keystore is intact");
        assertAllMigratedToOriginals(50);
        java.util.Random rnd =
                TestSupport.timingRandom("killMinus9DuringRecoverLeavesTheOldOrTheNewKeystore");
        String current = TEST_CMK;
        for (int i = 0; i < 4; i++) {
            String target = current.equals(TEST_CMK) ? dest : TEST_CMK;
            Path log = dir.resolve("recover-" + i + ".out");
            int status =
                    killSoon(
                            jar(
                                    env("LKR_MASTER_KEY_ENV_DESTINATION", target),
                                    "recover",
                                    db("--private-key", key)),
                            rnd,
                            log);
            boolean recovered = status == 0 || !storedKeystore().equals(before);
            String opens = recovered ? target : current;
            assertOpensWith(opens, values.size(), null, null);
            assertEquals(values, snapshot(), Files.readString(log));
            if (recovered) {
                before = storedKeystore();
                current = opens;
            }
        }
        if (!current.equals(TEST_CMK)) {
            expect(
                    0,
                    env("LKR_MASTER_KEY_ENV_DESTINATION", TEST_CMK),
                    "recover",
                    db("--private-key", key));
        }
        assertAllMigratedToOriginals(50);
    }

    /** Killed after the check, before the replacement: the keystore file is the old one. */
    @Test
    void killMinus9DuringAFileRecoverLeavesTheOldFile() throws Exception {
        Pair a = rsa("recovery-a", 3072);
        Path file = dir.resolve("keystore.json");
        Path cached = cachedFile(file, a);
        byte[] before = Files.readAllBytes(file);
        killBeforeReplace(
                env("LKR_MASTER_KEY_ENV_DESTINATION", randomCmk()),
                "recover",
                "--keystore",
                file.toString(),
                "--private-key",
                a.privatePem().toString());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertNoTemporaryFile();
        Path back = dir.resolve("back.txt");
        expect(
                0,
                cmk(TEST_CMK, null),
                "decrypt_file",
                "--keystore",
                file.toString(),
                cached.toString(),
                back.toString());
        assertEquals("cached", Files.readString(back));
    }

    /** A keystore under an AWS KMS CMK recovered to a local CMK (moto, tests/kms_server.sh). */
    @Test
    void recoverFromAnAwsKmsCmkToALocalOne() throws Exception {
        String endpoint = TestSupport.kmsEndpointOrSkip("KMS recovery test");
        String kmsKey = TestSupport.createKmsKey(endpoint, "us-east-1");
        Map<String, String> aws = awsEnv(endpoint);
        Pair a = rsa("recovery-a", 3072);
        migratedSample(30);
        Path bk = dir.resolve("backup.lks");
        byte[] pt = backup(bk, "backup".getBytes(StandardCharsets.UTF_8));
        Map<String, String> toKms = new HashMap<>(aws);
        toKms.put("LKR_MASTER_KEY_ENV_SOURCE", TEST_CMK);
        toKms.put("LKR_AWS_CMK_DESTINATION", kmsKey);
        expect(0, toKms, "rekey", db());
        Map<String, String> underKms = new HashMap<>(aws);
        underKms.put("LKR_AWS_CMK", kmsKey);
        underKms.put(VAR, a.publicPem().toString());
        expect(0, underKms, "add_recovery_key", db());
        expect(0, underKms, "rotate_kek", db());
        Map<String, String> values = snapshot();
        // The KMS key is lost: recover to the test CMK with the private key, no AWS at all.
        contains(
                expect(
                        0,
                        env("LKR_MASTER_KEY_ENV_DESTINATION", TEST_CMK),
                        "recover",
                        db("--private-key", a.privatePem().toString())),
                "2 KEK(s) (1, 2, active 2)",
                "destination CMK (local)");
        assertEquals(values, snapshot());
        assertOpensWith(TEST_CMK, values.size(), bk, pt);
        assertAllMigratedToOriginals(30);
    }
}
