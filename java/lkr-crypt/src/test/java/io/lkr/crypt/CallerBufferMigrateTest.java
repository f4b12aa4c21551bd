package io.lkr.crypt;

import static io.lkr.crypt.CallerBufferTest.assertUntouched;
import static io.lkr.crypt.CallerBufferTest.filled;
import static io.lkr.crypt.TestSupport.random;
import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The caller-owned migration, {@link LegacyMigrator#migrate(byte[], int, int, byte[], byte[], int,
 * byte[])}, on the real native library with legacy values made by javax.crypto: the same results as
 * the allocating {@code migrate}, the bound of {@link LegacyMigrator#migratedLength(int)} as the
 * room needed, bounds, overlaps within one array, envelopes v1 copied through, and values that do
 * not migrate leaving the output region zeroed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallerBufferMigrateTest {
    static final byte[] KEY = random(16);
    static final byte[] CTX = utf8("CONNECTION.PASSWORD:42");
    final LkrCrypt crypt;
    final LegacyMigrator migrator;

    /** One handle for the class's tests (one instance of the class: PER_CLASS). */
    CallerBufferMigrateTest() throws Exception {
        crypt = TestSupport.openNew();
        migrator = crypt.legacyMigrator();
    }

    @AfterAll
    void closeHandle() {
        crypt.close();
    }

    /**
     * A legacy value of {@code plaintext} under KEY, with the byte at {@code flip} (if not
     * negative) changed, whose CBC padding does not check under {@code key} (javax.crypto says so):
     * a value that fails there every time, not 255 times in 256.
     */
    static byte[] failingUnder(byte[] key, byte[] plaintext, int flip) throws Exception {
        while (true) {
            byte[] v = LegacyMigrationTest.legacy(KEY, plaintext);
            if (flip >= 0) {
                v[flip] ^= 1;
            }
            Cipher cbc = Cipher.getInstance("AES/CBC/PKCS5Padding");
            cbc.init(
                    Cipher.DECRYPT_MODE,
                    new SecretKeySpec(key, "AES"),
                    new IvParameterSpec(v, 0, 16));
            try {
                cbc.doFinal(v, 16, v.length - 16);
            } catch (BadPaddingException expected) {
                return v;
            }
        }
    }

    static void assertZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            assertEquals(0, b[i], "byte " + i + " after a failed migration");
        }
    }

    @Test
    void migratesAtOffsetsAsTheAllocatingMigrateDoes() throws Exception {
        for (int n : new int[] {0, 1, 15, 16, 17, 1000, 100_000}) {
            byte[] pt = random(n);
            byte[] legacy = LegacyMigrationTest.legacy(KEY, pt);
            byte[] in = new byte[legacy.length + 10];
            System.arraycopy(legacy, 0, in, 3, legacy.length);
            int bound = LegacyMigrator.migratedLength(legacy.length);
            byte[] out = filled(7 + bound + 5);
            int written = migrator.migrate(in, 3, legacy.length, CTX, out, 7, KEY);
            assertEquals(n + LkrCrypt.OVERHEAD, written, "size " + n);
            assertUntouched(out, 0, 7);
            assertUntouched(out, 7 + written, out.length);
            byte[] env = Arrays.copyOfRange(out, 7, 7 + written);
            assertArrayEquals(pt, crypt.decrypt(env, CTX), "size " + n);
            // The allocating migrate's result: the same length and plaintext (fresh salt, nonce).
            byte[] allocated = migrator.migrate(legacy, CTX, KEY);
            assertEquals(allocated.length, written);
            assertArrayEquals(crypt.decrypt(allocated, CTX), crypt.decrypt(env, CTX));
        }
    }

    @Test
    void theBoundIsTheRoomNeeded() throws Exception {
        assertEquals(53, LegacyMigrator.migratedLength(0));
        assertEquals(32 + 53, LegacyMigrator.migratedLength(32));
        assertEquals(Integer.MAX_VALUE, LegacyMigrator.migratedLength(Integer.MAX_VALUE - 53));
        assertThrows(IllegalArgumentException.class, () -> LegacyMigrator.migratedLength(-1));
        assertThrows(
                IllegalArgumentException.class,
                () -> LegacyMigrator.migratedLength(Integer.MAX_VALUE - 52));

        byte[] legacy = LegacyMigrationTest.legacy(KEY, utf8("fifteen bytes!!")); // 32 bytes
        assertEquals(32, legacy.length);
        // 15 + 69 = 84 bytes would do, but the size is only known after decrypting: the bound
        // (85) is what is needed, as Cipher.getOutputSize is for CBC.
        byte[] small = filled(2 + 84);
        ShortBufferException e =
                assertThrows(
                        ShortBufferException.class,
                        () -> migrator.migrate(legacy, 0, 32, CTX, small, 2, KEY));
        assertTrue(e.getMessage().contains("85 bytes needed, 84 given"), e.getMessage());
        assertUntouched(small, 0, small.length);
        byte[] exact = filled(2 + 85);
        assertEquals(84, migrator.migrate(legacy, 0, 32, CTX, exact, 2, KEY));
        assertUntouched(exact, 86, exact.length);
    }

    @Test
    void regionsOutsideTheArraysAreIndexOutOfBounds() {
        CallerBufferTest.assertBadArgumentsRefused(migrator::migrate);
        CallerBufferTest.assertBadArgumentsRefused(
                (in, inOff, inLen, cx, out, outOff) ->
                        migrator.migrate(in, inOff, inLen, cx, out, outOff, KEY));
    }

    /** One array holding both regions, at every kind of overlap: the value is copied first. */
    @Test
    void overlappingRegionsInOneArray() throws Exception {
        for (int n : new int[] {1, 100, 20_000}) {
            byte[] pt = random(n);
            byte[] legacy = LegacyMigrationTest.legacy(KEY, pt);
            int len = legacy.length;
            int bound = LegacyMigrator.migratedLength(len);
            for (int shift : new int[] {0, -1, 1, 16, -16, 53, -53, -len / 2, len / 2}) {
                // The legacy value at base + shift, the output at base.
                int base = len + 100;
                byte[] buf = filled(base + Math.max(bound, shift + len) + 100);
                System.arraycopy(legacy, 0, buf, base + shift, len);
                int written = migrator.migrate(buf, base + shift, len, CTX, buf, base, KEY);
                byte[] env = Arrays.copyOfRange(buf, base, base + written);
                assertArrayEquals(pt, crypt.decrypt(env, CTX), "shift " + shift);
                assertUntouched(buf, 0, Math.min(base, base + shift));
            }
        }
    }

    @Test
    void anEnvelopeV1IsCopiedThroughUnchanged() throws Exception {
        byte[] pt = random(300);
        byte[] env = crypt.encrypt(pt, CTX);
        byte[] out = filled(4 + LegacyMigrator.migratedLength(env.length));
        // No legacy key is needed (none is configured): the value is already v1.
        assertEquals(env.length, migrator.migrate(env, 0, env.length, CTX, out, 4));
        assertArrayEquals(env, Arrays.copyOfRange(out, 4, 4 + env.length));
        assertUntouched(out, 4 + env.length, out.length);
        // In place, at its own offset.
        byte[] same = Arrays.copyOf(env, LegacyMigrator.migratedLength(env.length));
        assertEquals(env.length, migrator.migrate(same, 0, env.length, CTX, same, 0));
        assertArrayEquals(env, Arrays.copyOf(same, env.length));
    }

    /**
     * A value that does not migrate — a wrong key, a tampered value, no legacy key — throws and
     * leaves the output region zeroed, nothing outside it written.
     */
    @Test
    void aValueThatDoesNotMigrateLeavesTheRegionZeroed() throws Exception {
        byte[] wrongKey = random(16);
        byte[] underWrongKey = failingUnder(wrongKey, utf8("a password of some length"), -1);
        // 16 bytes: 48 with the IV and a block of padding, whose last byte the flip changes.
        byte[] tampered = failingUnder(KEY, utf8("sixteen bytes!!!"), 48 - 17);
        byte[] cut = Arrays.copyOf(underWrongKey, underWrongKey.length - 1);
        byte[][] values = {underWrongKey, tampered, cut, underWrongKey};
        byte[][] keys = {wrongKey, KEY, KEY, null};
        for (int i = 0; i < values.length; i++) {
            byte[] v = values[i];
            byte[] k = keys[i];
            int bound = LegacyMigrator.migratedLength(v.length);
            byte[] out = filled(8 + bound + 8);
            assertThrows(
                    LegacyException.class,
                    () -> migrator.migrate(v, 0, v.length, CTX, out, 8, k),
                    "value " + i);
            assertZero(out, 8, 8 + bound);
            assertUntouched(out, 0, 8);
            assertUntouched(out, 8 + bound, out.length);
        }
    }

    /** The native export checks regions, overlaps and the bound itself (never trusting Java). */
    @Test
    void theNativeSideRefusesBadRegions() throws Exception {
        byte[] a = new byte[200];
        byte[] b = new byte[200];
        long h = Native.openBytes(null);
        try {
            // {inOff, inLen, outOff, outLen, output in `a` too}: outside an array, or overlapping
            // at all (LegacyMigrator copies first; there is no in-place form).
            int[][] refused = {{150, 100, 0, 153, 0}, {0, 32, -1, 85, 0}, {0, 32, 16, 85, 1}};
            for (int[] r : refused) {
                byte[] out = r[4] == 1 ? a : b;
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Native.migrateArray(h, a, r[0], r[1], CTX, out, r[2], r[3], KEY),
                        Arrays.toString(r));
            }
            // Less room than the bound; the context as the input; no handle.
            long[][] calls = {{h, 84, 0}, {h, 85, 1}, {0, 85, 0}};
            for (long[] c : calls) {
                Class<? extends Exception> e =
                        c[1] == 84 ? ShortBufferException.class : IllegalArgumentException.class;
                byte[] cx = c[2] == 1 ? a : CTX;
                assertThrows(
                        e, () -> Native.migrateArray(c[0], a, 0, 32, cx, b, 0, (int) c[1], KEY));
            }
        } finally {
            Native.close(h);
        }
    }
}
