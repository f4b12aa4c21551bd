package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys as data (docs/native-interfaces.md): every {@link MasterKey} factory, docs/keys.md's
 * messages, close, and {@link LkrCrypt#open(MasterKey, Path)} / {@link LkrCrypt#open(MasterKey,
 * byte[])} against keystores opened from the environment. The surefire JVM's {@code
 * LKR_MASTER_KEY_ENV} (set by the pom) is the CMK the environment holds.
 */
class MasterKeyTest {
    @TempDir Path dir;

    static final byte[] CTX = "CONNECTION.PASSWORD:42".getBytes(StandardCharsets.UTF_8);

    static String envText() {
        String t = System.getenv("LKR_MASTER_KEY_ENV");
        assertTrue(t != null && !t.isBlank(), "the pom sets LKR_MASTER_KEY_ENV for surefire");
        return t;
    }

    static byte[] envKey() {
        return Base64.getDecoder().decode(envText().trim());
    }

    Path keyFile(String content, String mode) throws Exception {
        Path f = dir.resolve("cmk-" + mode + "-" + System.nanoTime());
        Files.writeString(f, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    static <T extends Throwable> void assertMessage(T e, String text) {
        assertTrue(e.getMessage().contains(text), "expected «" + text + "» in: " + e.getMessage());
    }

    @Test
    void localKeyCreatesAKeystoreThatTheEnvironmentOpens() throws Exception {
        Path ks = dir.resolve("keystore.json");
        byte[] pt = "secret".getBytes(StandardCharsets.UTF_8);
        byte[] env;
        try (MasterKey k = MasterKey.local(envKey());
                LkrCrypt c = LkrCrypt.open(k, ks)) {
            assertTrue(Files.exists(ks));
            assertEquals(1, c.activeKekId());
            env = c.encrypt(pt, CTX);
        }
        try (LkrCrypt e = LkrCrypt.openFromEnvironment(ks)) {
            assertArrayEquals(pt, e.decrypt(env, CTX));
        }
        // And the other way round: every factory of the same CMK opens it.
        Path file = keyFile(envText() + "\n", "r--------");
        for (MasterKey k :
                List.of(
                        MasterKey.localBase64("  " + envText() + "\n"),
                        MasterKey.localFile(file),
                        MasterKey.fromEnvironment())) {
            try (k;
                    LkrCrypt c = LkrCrypt.open(k, ks)) {
                assertArrayEquals(pt, c.decrypt(env, CTX), k.toString());
            }
        }
    }

    @Test
    void aHandleKeepsWorkingAfterItsKeyIsClosed() throws Exception {
        MasterKey k = MasterKey.local(envKey());
        try (LkrCrypt c = LkrCrypt.open(k, (byte[]) null)) {
            k.close();
            byte[] env = c.encrypt(new byte[] {1, 2, 3}, CTX);
            assertArrayEquals(new byte[] {1, 2, 3}, c.decrypt(env, CTX));
        }
    }

    @Test
    void nullCreatesAKeystoreInMemory() throws Exception {
        byte[] doc;
        byte[] env;
        byte[] pt = {9, 8, 7};
        try (MasterKey k = MasterKey.local(envKey());
                LkrCrypt c = LkrCrypt.open(k, (byte[]) null)) {
            assertEquals(1, c.activeKekId());
            doc = c.exportKeystore();
            env = c.encrypt(pt, CTX);
            try (LkrCrypt again = LkrCrypt.open(k, doc)) {
                assertArrayEquals(pt, again.decrypt(env, CTX));
            }
        }
        try (LkrCrypt e = LkrCrypt.openFromEnvironment(doc)) {
            assertArrayEquals(pt, e.decrypt(env, CTX));
        }
        byte[] other = envKey();
        other[0] ^= 1;
        try (MasterKey k = MasterKey.local(other)) {
            MasterKeyException e =
                    assertThrows(MasterKeyException.class, () -> LkrCrypt.open(k, doc));
            assertEquals(ErrorKind.MASTER_KEY, e.kind());
            assertMessage(e, "Master Key does not match the keystore");
        }
    }

    @Test
    void aMismatchedKeyIsRefusedForAFile() throws Exception {
        Path ks = dir.resolve("keystore.json");
        try (LkrCrypt c = LkrCrypt.openFromEnvironment(ks)) {
            assertEquals(1, c.activeKekId());
        }
        try (MasterKey k = MasterKey.local(new byte[32])) {
            MasterKeyException e =
                    assertThrows(MasterKeyException.class, () -> LkrCrypt.open(k, ks));
            assertMessage(e, "Master Key does not match the keystore");
        }
    }

    @Test
    void theLocalFactoriesCheckAtOnceWithTheDocumentedMessages() throws Exception {
        MasterKeyException e =
                assertThrows(MasterKeyException.class, () -> MasterKey.local(new byte[31]));
        assertEquals(ErrorKind.MASTER_KEY, e.kind());
        assertMessage(e, "Size of the Master Key is invalid it must be 32 bytes however is 31");
        String b64of16 = Base64.getEncoder().encodeToString(new byte[16]);
        e = assertThrows(MasterKeyException.class, () -> MasterKey.localBase64(b64of16));
        assertMessage(e, "Size of the Master Key is invalid it must be 32 bytes however is 16");
        e = assertThrows(MasterKeyException.class, () -> MasterKey.localBase64("not base64!"));
        assertMessage(e, "Master Key is not valid base64");
        Path open = keyFile(envText(), "rw-r--r--");
        e = assertThrows(MasterKeyException.class, () -> MasterKey.localFile(open));
        assertMessage(e, "Permission for backing key file must be 0400, but is 0644");
        e =
                assertThrows(
                        MasterKeyException.class,
                        () -> MasterKey.localFile(dir.resolve("missing")));
        assertMessage(e, "Missing backing keystore");
        Path short31 = keyFile(Base64.getEncoder().encodeToString(new byte[31]), "r--------");
        e = assertThrows(MasterKeyException.class, () -> MasterKey.localFile(short31));
        assertMessage(e, "Size of the Master Key is invalid it must be 32 bytes however is 31");
    }

    @Test
    void badArguments() {
        assertThrows(NullPointerException.class, () -> MasterKey.local(null));
        assertThrows(NullPointerException.class, () -> MasterKey.localBase64(null));
        assertThrows(NullPointerException.class, () -> MasterKey.localFile(null));
        assertThrows(NullPointerException.class, () -> MasterKey.awsKms(null, "us-east-1"));
        assertThrows(IllegalArgumentException.class, () -> MasterKey.awsKms(" ", "us-east-1"));
        assertThrows(NullPointerException.class, () -> LkrCrypt.open(null, dir.resolve("k.json")));
        assertThrows(NullPointerException.class, () -> LkrCrypt.open(null, (byte[]) null));
    }

    @Test
    void aClosedKeyCannotBeUsed() throws Exception {
        MasterKey k = MasterKey.local(envKey());
        k.close();
        k.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> LkrCrypt.open(k, dir.resolve("k.json")));
        assertThrows(IllegalStateException.class, () -> LkrCrypt.open(k, (byte[]) null));
        assertFalse(Files.exists(dir.resolve("k.json")));
        MasterKey kms = MasterKey.awsKms("alias/app", null);
        kms.close();
        assertThrows(IllegalStateException.class, () -> LkrCrypt.open(kms, (byte[]) null));
    }

    @Test
    void toStringNeverShowsTheKey() throws Exception {
        try (MasterKey k = MasterKey.local(envKey());
                MasterKey kms = MasterKey.awsKms("alias/app", "eu-west-1", "ctx")) {
            assertEquals("MasterKey[local]", k.toString());
            assertFalse(k.toString().contains(envText()));
            assertEquals("MasterKey[aws-kms alias/app]", kms.toString());
        }
    }

    // ---- AWS KMS (the moto server of tests/kms_server.sh) ----

    /**
     * {@link MasterKey#awsKms} in a forked JVM whose SDK chain says {@code AWS_REGION=us-east-1}:
     * the key lives in eu-west-1, so only the explicit region finds it.
     */
    @Test
    void awsKmsWithAnExplicitRegion() throws Exception {
        String endpoint = TestSupport.kmsEndpointOrSkip("MasterKey.awsKms test");
        String keyId = TestSupport.createKmsKey(endpoint, "eu-west-1");
        Map<String, String> aws =
                Map.of(
                        "AWS_ENDPOINT_URL", endpoint,
                        "AWS_REGION", "us-east-1",
                        "AWS_ACCESS_KEY_ID", "testing",
                        "AWS_SECRET_ACCESS_KEY", "testing",
                        "AWS_EC2_METADATA_DISABLED", "true",
                        "AWS_CONFIG_FILE", "/nonexistent/lkr-test/aws-config",
                        "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/lkr-test/aws-credentials");
        String ks = dir.resolve("kms-keystore.json").toString();
        // One JVM for the AWS environment; the four keys are data, opened in turn.
        TestSupport.Run r =
                TestSupport.probe(
                        aws,
                        "kms",
                        keyId,
                        ks,
                        "eu-west-1",
                        "-",
                        "eu-west-1",
                        "Looker_Encryption_Context",
                        "eu-west-1",
                        "other-context",
                        // Without the region: the SDK chain's us-east-1, where the key does not
                        // exist.
                        "",
                        "-");
        // One entry per open (a message may span lines).
        String[] lines = r.out.split("\n(?=OK |EXC )");
        assertEquals(4, lines.length, r.toString());
        assertTrue(
                lines[0].startsWith("OK kek=1 key=MasterKey[aws-kms " + keyId + "]"), r.toString());
        String doc = Files.readString(Path.of(ks));
        assertTrue(doc.contains(keyId) && doc.contains("Looker_Encryption_Context"), doc);
        assertFalse(doc.contains("eu-west-1"), doc);
        assertTrue(lines[1].startsWith("OK kek=1"), r.toString());
        assertTrue(lines[2].startsWith("EXC " + MasterKeyException.class.getName()), r.toString());
        assertTrue(lines[2].contains("Master Key does not match the keystore"), r.toString());
        assertTrue(lines[3].startsWith("EXC " + MasterKeyException.class.getName()), r.toString());
        assertTrue(lines[3].contains("us-east-1"), r.toString());
    }
}
