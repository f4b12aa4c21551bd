package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.TestSupport.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #19.2: whatever task opens a keystore with a CMK that does not match it, the engine's
 * message comes first, unchanged, then one line with the CMK the keystore expects and the
 * configured one — the fingerprints {@code status} shows for each CMK. Child JVMs on a real
 * embedded HyperSQL database migrated under the test CMK, then run with another one.
 */
class CmkMismatchTest {
    static final String ENGINE = "Master Key does not match the keystore";

    @TempDir Path dir;

    private Run cli(Map<String, String> env, String... args) throws Exception {
        Map<String, String> e = new HashMap<>(env);
        e.putIfAbsent("LKR_LEGACY_KEY_ENV", StatusJsonTest.LEGACY_KEY);
        return CliChild.run(dir, "", e, List.of(args));
    }

    private static String randomCmk() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    /**
     * The fingerprint {@code status} shows as the configured CMK's with {@code cmk} (before the
     * migration it reports, then exits 1: no keystore yet).
     */
    private String statusFingerprint(Map<String, String> cmk) throws Exception {
        Run r = cli(cmk, "status");
        Matcher m =
                Pattern.compile("(?m)^CMK configured: local, fingerprint (\\S+)$").matcher(r.out);
        assertTrue(m.find(), r.toString());
        return m.group(1);
    }

    /**
     * {@code r} failed with the engine's mismatch message, followed (not preceded) by exactly one
     * line naming {@code expected} as the keystore's CMK and {@code configured} as the configured
     * one ({@code which}: "" or " (_SOURCE)").
     */
    private static void explained(Run r, String expected, String which, String configured) {
        assertEquals(1, r.exit, r.toString());
        List<String> lines = r.err.lines().collect(Collectors.toList());
        String line =
                "The keystore expects the CMK local, fingerprint "
                        + expected
                        + "; the configured CMK"
                        + which
                        + " is local, fingerprint "
                        + configured
                        + ".";
        int engine = -1;
        for (int i = 0; i < lines.size() && engine < 0; i++) {
            engine = lines.get(i).contains(ENGINE) ? i : -1;
        }
        assertTrue(engine >= 0, r.toString());
        assertEquals(engine + 1, lines.indexOf(line), "the line right after the engine's: " + r);
        assertEquals(lines.size() - 1, lines.lastIndexOf(line), "once, last: " + r);
    }

    @Test
    void everyTaskThatOpensAKeystoreShowsBothFingerprints() throws Exception {
        Map<String, String> testCmk = Map.of();
        Map<String, String> other = Map.of("LKR_MASTER_KEY_ENV", randomCmk());
        assertEquals(0, cli(testCmk, "create_sample_db", "--rows", "10").exit);
        String expected = statusFingerprint(testCmk);
        String configured = statusFingerprint(other);
        assertFalse(expected.equals(configured), expected);
        Run migrated = cli(testCmk, "migrate_encryption");
        assertEquals(0, migrated.exit, migrated.toString());
        Run exported = cli(testCmk, "export_keystore", "ks.json");
        assertEquals(0, exported.exit, exported.toString());
        Files.writeString(dir.resolve("data.txt"), "data");
        String keystoreDoc = Files.readString(dir.resolve("ks.json"));

        // The database's keystore.
        explained(cli(other, "status"), expected, "", configured);
        explained(cli(other, "migrate_encryption"), expected, "", configured);
        explained(cli(other, "rotate_kek"), expected, "", configured);
        explained(cli(other, "add_recovery_key"), expected, "", configured);
        explained(cli(other, "read_value", "CONNECTION.PASSWORD", "7"), expected, "", configured);
        explained(cli(other, "export_keystore", "other.json"), expected, "", configured);
        explained(cli(other, "encrypt_file", "data.txt", "db.lks"), expected, "", configured);
        explained(cli(other, "decrypt_file", "db.lks", "data.out"), expected, "", configured);
        // A keystore file.
        explained(cli(other, "rotate_kek", "--keystore", "ks.json"), expected, "", configured);
        explained(
                cli(other, "encrypt_file", "data.txt", "file.lks", "--keystore", "ks.json"),
                expected,
                "",
                configured);
        // rekey opens the keystore with its source CMK.
        Map<String, String> rekey =
                Map.of(
                        "LKR_MASTER_KEY_ENV_SOURCE",
                        other.get("LKR_MASTER_KEY_ENV"),
                        "LKR_MASTER_KEY_ENV_DESTINATION",
                        randomCmk());
        explained(cli(rekey, "rekey"), expected, " (_SOURCE)", configured);
        explained(cli(rekey, "rekey", "--keystore", "ks.json"), expected, " (_SOURCE)", configured);

        // The logged tasks keep the line in their log too; nothing was changed.
        String log = Files.readString(dir.resolve("log").resolve(TaskLog.FILE));
        assertTrue(
                log.contains(":: The keystore expects the CMK local, fingerprint " + expected),
                log);
        assertEquals(keystoreDoc, Files.readString(dir.resolve("ks.json")));
        assertFalse(Files.exists(dir.resolve("other.json")));
        assertFalse(Files.exists(dir.resolve("file.lks")));

        // Any other failure adds no such line.
        Run noKek = cli(testCmk, "retire_kek", "--kek-id", "9");
        assertEquals(1, noKek.exit, noKek.toString());
        assertTrue(noKek.err.contains("The keystore holds no KEK 9"), noKek.toString());
        assertFalse(noKek.err.contains("The keystore expects the CMK"), noKek.toString());
    }
}
