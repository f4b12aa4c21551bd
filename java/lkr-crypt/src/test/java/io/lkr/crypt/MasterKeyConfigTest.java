package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/keys.md's messages for bad CMK set-ups, each in a forked JVM with its own environment (no
 * LKR_ variable but the test's): these test the variables' rules. What is not a variable's rule (a
 * keystore of another CMK) uses keys as data in this JVM.
 */
class MasterKeyConfigTest {
    @TempDir Path dir;

    TestSupport.Run open(Map<String, String> env) throws Exception {
        return TestSupport.probe(env, "path", dir.resolve("keystore.json").toString());
    }

    static void assertRefused(TestSupport.Run r, Class<?> type, String text) {
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.startsWith("EXC " + type.getName() + " "), r.toString());
        assertTrue(r.out.contains(text), "expected «" + text + "» in: " + r);
    }

    Path keyFile(String content, String mode) throws Exception {
        Path f = dir.resolve("cmk-" + mode + "-" + System.nanoTime());
        Files.writeString(f, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    static String b64(int n) {
        return Base64.getEncoder().encodeToString(TestSupport.random(n));
    }

    @Test
    void goodEnvKeyOpensAndCreatesTheKeystore() throws Exception {
        TestSupport.Run r = open(Map.of("LKR_MASTER_KEY_ENV", "  " + b64(32) + "\n"));
        assertTrue(r.out.startsWith("OK kek=1 legacy=false"), r.toString());
        assertTrue(Files.exists(dir.resolve("keystore.json")));
    }

    @Test
    void goodKeyFileOpens() throws Exception {
        Path f = keyFile(b64(32) + "\n", "r--------");
        TestSupport.Run r =
                open(Map.of("LKR_MASTER_KEY_FILE", f.toString(), "LKR_MASTER_KEY_ENV", ""));
        assertTrue(r.out.startsWith("OK kek=1"), r.toString());
    }

    @Test
    void missingKeyFile() throws Exception {
        assertRefused(
                open(Map.of("LKR_MASTER_KEY_FILE", dir.resolve("nope").toString())),
                MasterKeyException.class,
                "Missing backing keystore");
    }

    @Test
    void wrongSize() throws Exception {
        assertRefused(
                open(Map.of("LKR_MASTER_KEY_ENV", b64(16))),
                MasterKeyException.class,
                "Size of the Master Key is invalid it must be 32 bytes however is 16");
        Path f = keyFile(b64(31), "r--------");
        assertRefused(
                open(Map.of("LKR_MASTER_KEY_FILE", f.toString())),
                MasterKeyException.class,
                "Size of the Master Key is invalid it must be 32 bytes however is 31");
    }

    @Test
    void wrongMode() throws Exception {
        Path f = keyFile(b64(32), "rw-r--r--");
        assertRefused(
                open(Map.of("LKR_MASTER_KEY_FILE", f.toString())),
                MasterKeyException.class,
                "Permission for backing key file must be 0400, but is 0644");
    }

    @Test
    void notBase64() throws Exception {
        assertRefused(
                open(Map.of("LKR_MASTER_KEY_ENV", "this is not base64!")),
                MasterKeyException.class,
                "Master Key is not valid base64");
    }

    /**
     * A keystore checks its CMK whatever gave the key: no variable's rule is involved, so the two
     * CMKs are data in this JVM (docs/native-interfaces.md, "Keys as data").
     */
    @Test
    void keystoreOfAnotherCmk() throws Exception {
        Path ks = dir.resolve("keystore.json");
        try (MasterKey first = MasterKey.local(TestSupport.random(32));
                LkrCrypt c = LkrCrypt.open(first, ks)) {
            assertEquals(1, c.activeKekId());
        }
        try (MasterKey other = MasterKey.local(TestSupport.random(32))) {
            MasterKeyException e =
                    assertThrows(MasterKeyException.class, () -> LkrCrypt.open(other, ks));
            assertTrue(
                    e.getMessage().contains("Master Key does not match the keystore"),
                    e.getMessage());
        }
    }

    @Test
    void noSourceOrSeveral() throws Exception {
        TestSupport.Run none = open(Map.of());
        assertRefused(none, MasterKeyException.class, "LKR_MASTER_KEY_ENV");
        assertTrue(
                none.out.contains("LKR_MASTER_KEY_FILE") && none.out.contains("LKR_AWS_CMK"),
                none.toString());
        Map<String, String> env = new HashMap<>();
        env.put("LKR_MASTER_KEY_ENV", b64(32));
        env.put("LKR_MASTER_KEY_FILE", keyFile(b64(32), "r--------").toString());
        assertRefused(open(env), MasterKeyException.class, "LKR_MASTER_KEY_FILE");
        assertRefused(
                open(Map.of("LKR_MASTER_KEY_ENV", "")),
                MasterKeyException.class,
                "No Customer Master Key is configured");
    }

    @Test
    void bothLegacyVariables() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("LKR_MASTER_KEY_ENV", b64(32));
        env.put("LKR_LEGACY_KEY_ENV", b64(16));
        env.put("LKR_LEGACY_KEY_FILE", keyFile(b64(16), "r--------").toString());
        assertRefused(open(env), LegacyException.class, "LKR_LEGACY_KEY_FILE");
    }
}
