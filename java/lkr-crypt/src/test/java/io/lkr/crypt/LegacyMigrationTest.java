package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.random;
import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.MigrationResult.Outcome;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Migration of legacy values made by javax.crypto AES/CBC/PKCS5Padding (docs/legacy.md). */
class LegacyMigrationTest {
    static final byte[] KEY = random(16);
    static LkrCrypt crypt;

    @BeforeAll
    static void open() throws Exception {
        crypt = TestSupport.openNew();
    }

    @AfterAll
    static void close() {
        crypt.close();
    }

    /** A legacy value: IV(16) ‖ AES-128-CBC(key, IV, PKCS#7(plaintext)). */
    static byte[] legacy(byte[] key, byte[] plaintext) throws Exception {
        byte[] iv = random(16);
        Cipher cbc = Cipher.getInstance("AES/CBC/PKCS5Padding");
        cbc.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
        byte[] ct = cbc.doFinal(plaintext);
        byte[] v = Arrays.copyOf(iv, 16 + ct.length);
        System.arraycopy(ct, 0, v, 16, ct.length);
        return v;
    }

    @Test
    void legacyValuesMigrate() throws Exception {
        for (int size : new int[] {0, 1, 15, 16, 17, 1000}) {
            byte[] pt = random(size);
            byte[] ctx = utf8("T.C:" + size);
            byte[] env = crypt.legacyMigrator().migrate(legacy(KEY, pt), ctx, KEY);
            assertEquals(size + LkrCrypt.OVERHEAD, env.length);
            assertArrayEquals(pt, crypt.decrypt(env, ctx));
            assertThrows(AEADBadTagException.class, () -> crypt.decrypt(env, utf8("T.C:other")));
            assertArrayEquals(
                    env,
                    crypt.legacyMigrator().migrate(env, ctx, KEY),
                    "an authentic v1 value comes back unchanged");
        }
    }

    @Test
    void undecryptableLegacyValues() throws Exception {
        byte[] ctx = utf8("T.C:1");
        for (byte[] bad : new byte[][] {new byte[0], new byte[16], new byte[33], random(47)}) {
            LegacyException e =
                    assertThrows(
                            LegacyException.class,
                            () -> crypt.legacyMigrator().migrate(bad, ctx, KEY));
            assertEquals("Legacy value could not be decrypted", e.getMessage());
        }
        LegacyException e =
                assertThrows(
                        LegacyException.class,
                        () -> crypt.legacyMigrator().migrate(legacy(KEY, utf8("x")), ctx));
        assertTrue(
                e.getMessage().contains("LKR_LEGACY_KEY_ENV"),
                "no legacy key configured: " + e.getMessage());
    }

    @Test
    void textMigration() throws Exception {
        byte[] value = legacy(KEY, utf8("mot de passe é"));
        String stored =
                crypt.legacyMigrator()
                        .migrateString(Base64.getEncoder().encodeToString(value), "T.C:9", KEY);
        assertEquals("mot de passe é", crypt.decryptString(stored, "T.C:9"));
        assertEquals(
                stored,
                crypt.legacyMigrator().migrateString(stored, "T.C:9"),
                "v1 needs no legacy key");
        byte[] notText = legacy(KEY, new byte[] {(byte) 0xff, (byte) 0xfe, 0});
        LegacyException e =
                assertThrows(
                        LegacyException.class,
                        () ->
                                crypt.legacyMigrator()
                                        .migrateString(
                                                Base64.getEncoder().encodeToString(notText),
                                                "T.C:9",
                                                KEY));
        assertEquals("Legacy value could not be decrypted", e.getMessage());
    }

    @Test
    void batchGivesOneResultPerValue() throws Exception {
        byte[] wrongKey = random(16);
        int n = 300;
        byte[][] values = new byte[n][];
        byte[][] ctxs = new byte[n][];
        byte[][] plain = new byte[n][];
        for (int i = 0; i < n; i++) {
            ctxs[i] = utf8("CONNECTION.PASSWORD:" + i);
            plain[i] = utf8("password number " + i);
            switch (i % 3) {
                case 0:
                    values[i] = legacy(KEY, plain[i]);
                    break;
                case 1:
                    values[i] = crypt.encrypt(plain[i], ctxs[i]);
                    break;
                default:
                    // Random bytes of a length no legacy value has (a random 32-byte value would
                    // pass the padding and UTF-8 checks about once in 1.5 million).
                    values[i] = i % 2 == 0 ? random(i % 31) : legacy(wrongKey, plain[i]);
            }
        }
        MigrationResult[] r = crypt.legacyMigrator().migrateBatch(values, ctxs, KEY, true);
        assertEquals(n, r.length);
        for (int i = 0; i < n; i++) {
            switch (i % 3) {
                case 0:
                    assertEquals(Outcome.FROM_LEGACY, r[i].outcome(), "item " + i);
                    assertArrayEquals(plain[i], crypt.decrypt(r[i].value(), ctxs[i]));
                    break;
                case 1:
                    assertEquals(Outcome.ALREADY_V1, r[i].outcome(), "item " + i);
                    assertArrayEquals(values[i], r[i].value());
                    break;
                default:
                    assertEquals(Outcome.UNDECRYPTABLE, r[i].outcome(), "item " + i);
                    assertNull(r[i].value());
                    assertEquals("Legacy value could not be decrypted", r[i].message());
            }
        }
    }

    @Test
    void aWrongKeyIsCaughtByTheUtf8Check() throws Exception {
        // With a wrong key about 1 value in 256 still "decrypts" (valid padding); requiring UTF-8
        // text rejects that garbage. 2000 values: several pass the padding check.
        byte[] wrongKey = random(16);
        int n = 2000;
        byte[][] values = new byte[n][];
        byte[][] ctxs = new byte[n][];
        for (int i = 0; i < n; i++) {
            values[i] = legacy(KEY, utf8("value " + i + " with some text"));
            ctxs[i] = utf8("T.C:" + i);
        }
        MigrationResult[] binary =
                crypt.legacyMigrator().migrateBatch(values, ctxs, wrongKey, false);
        MigrationResult[] text = crypt.legacyMigrator().migrateBatch(values, ctxs, wrongKey, true);
        long paddingOk =
                Arrays.stream(binary).filter(m -> m.outcome() == Outcome.FROM_LEGACY).count();
        long textOk = Arrays.stream(text).filter(m -> m.outcome() == Outcome.FROM_LEGACY).count();
        assertTrue(paddingOk < 40, "padding alone lets ~1/256 through: " + paddingOk);
        assertEquals(0, textOk, "UTF-8 check");
    }

    @Test
    void batchWithoutAnyLegacyKeyFailsAsAWhole() throws Exception {
        byte[][] values = {legacy(KEY, utf8("a"))};
        byte[][] ctxs = {utf8("T.C:1")};
        assertThrows(
                LegacyException.class,
                () -> crypt.legacyMigrator().migrateBatch(values, ctxs, false));
        // But values already in v1 need no legacy key.
        byte[][] v1 = {crypt.encrypt(utf8("a"), ctxs[0])};
        assertSame(
                Outcome.ALREADY_V1,
                crypt.legacyMigrator().migrateBatch(v1, ctxs, false)[0].outcome());
    }

    @Test
    void legacyKeyFromTheEnvironmentInAForkedJvm() throws Exception {
        byte[] value = legacy(KEY, utf8("from the environment"));
        TestSupport.Run r =
                TestSupport.probe(
                        Map.of(
                                "LKR_MASTER_KEY_ENV",
                                TestSupport.TEST_CMK,
                                "LKR_LEGACY_KEY_ENV",
                                Base64.getEncoder().encodeToString(KEY)),
                        "bytes",
                        "-",
                        Base64.getEncoder().encodeToString(value));
        assertTrue(r.out.contains("legacy=true"), r.toString());
        assertTrue(r.out.contains("MIGRATED from the environment"), r.toString());
    }
}
