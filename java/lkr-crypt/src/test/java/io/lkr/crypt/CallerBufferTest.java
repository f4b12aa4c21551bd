package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.ShortBufferException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The caller-owned array API, {@link LkrCrypt#encrypt(byte[], int, int, byte[], byte[], int)} and
 * {@link LkrCrypt#decrypt(byte[], int, int, byte[], byte[], int)} (the migration's is in {@link
 * CallerBufferMigrateTest}), on the real native library: round trips at offsets, bounds, short
 * buffers, every kind of overlap within one array, and failed decryptions that leave no plaintext
 * behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallerBufferTest {
    static final byte[] CTX = utf8("CONNECTION.PASSWORD:42");
    static final byte SENTINEL = (byte) 0xA5;
    static final int H = LkrCrypt.HEADER_LENGTH;
    final LkrCrypt crypt;

    /** One handle for the class's tests (one instance of the class: PER_CLASS). */
    CallerBufferTest() throws Exception {
        crypt = TestSupport.openNew();
    }

    @AfterAll
    void closeHandle() {
        crypt.close();
    }

    static byte[] filled(int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, SENTINEL);
        return b;
    }

    static void assertUntouched(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            assertEquals(SENTINEL, b[i], "byte " + i + " was written");
        }
    }

    @Test
    void roundTripsAtOffsetsAndWritesNothingElse() throws Exception {
        for (int n : new int[] {0, 1, 15, 64, 1024, 16384, 1 << 20}) {
            byte[] pt = TestSupport.random(n);
            byte[] in = new byte[n + 10];
            System.arraycopy(pt, 0, in, 3, n);
            byte[] env = filled(n + LkrCrypt.OVERHEAD + 20);
            assertEquals(n + 69, crypt.encrypt(in, 3, n, CTX, env, 7));
            assertUntouched(env, 0, 7);
            assertUntouched(env, 7 + n + 69, env.length);
            byte[] exact = Arrays.copyOfRange(env, 7, 7 + n + 69);
            assertArrayEquals(pt, crypt.decrypt(exact, CTX), "size " + n);

            byte[] out = filled(n + 9);
            assertEquals(n, crypt.decrypt(env, 7, n + 69, CTX, out, 5));
            assertArrayEquals(pt, Arrays.copyOfRange(out, 5, 5 + n));
            assertUntouched(out, 0, 5);
            assertUntouched(out, 5 + n, out.length);
            // The byte[] API's envelopes open here too.
            byte[] other = crypt.encrypt(pt, CTX);
            byte[] out2 = new byte[n];
            assertEquals(n, crypt.decrypt(other, 0, other.length, CTX, out2, 0));
            assertArrayEquals(pt, out2);
        }
    }

    @Test
    void exactSizeWorksOneLessThrowsWithTheSizeNeeded() throws Exception {
        byte[] pt = TestSupport.random(100);
        byte[] out = filled(4 + 169);
        assertEquals(169, crypt.encrypt(pt, 0, 100, CTX, out, 4));
        byte[] env = Arrays.copyOfRange(out, 4, 4 + 169);

        byte[] small = filled(4 + 168);
        ShortBufferException e =
                assertThrows(
                        ShortBufferException.class, () -> crypt.encrypt(pt, 0, 100, CTX, small, 4));
        assertTrue(e.getMessage().contains("169 bytes needed, 168 given"), e.getMessage());
        assertUntouched(small, 0, small.length);

        byte[] plain = filled(2 + 100);
        assertEquals(100, crypt.decrypt(env, 0, 169, CTX, plain, 2));
        assertArrayEquals(pt, Arrays.copyOfRange(plain, 2, 102));
        byte[] tooSmall = filled(2 + 99);
        e =
                assertThrows(
                        ShortBufferException.class,
                        () -> crypt.decrypt(env, 0, 169, CTX, tooSmall, 2));
        assertTrue(e.getMessage().contains("100 bytes needed, 99 given"), e.getMessage());
        assertUntouched(tooSmall, 0, tooSmall.length);
        // An output offset at the array's end is in bounds: an empty plaintext fits there.
        byte[] empty = crypt.encrypt(new byte[0], CTX);
        assertEquals(0, crypt.decrypt(empty, 0, empty.length, CTX, plain, plain.length));
    }

    /** {inOff, inLen, outOff} outside an input of 100 bytes or an output of 300. */
    static final int[][] BAD_REGIONS = {
        {-1, 10, 0}, // negative input offset
        {0, -1, 0}, // negative length
        {95, 10, 0}, // past the end
        {101, 0, 0}, // offset past the end
        {Integer.MAX_VALUE, 2, 0}, // off + len overflows int
        {2, Integer.MAX_VALUE, 0}, // len + off overflows int
        {0, 10, -1}, // negative output offset
        {0, 10, 301}, // output offset past the end
    };

    /**
     * A caller-owned array call, shaped as {@code encrypt(byte[], int, int, byte[], byte[], int)}.
     */
    @FunctionalInterface
    interface ArrayCall {
        int apply(byte[] in, int inOff, int inLen, byte[] context, byte[] out, int outOff)
                throws Exception;
    }

    /**
     * {@code call} refuses regions outside its arrays ({@link IndexOutOfBoundsException}), null
     * arrays, and a context that is the input array.
     */
    static void assertBadArgumentsRefused(ArrayCall call) {
        byte[] in = new byte[100];
        byte[] out = new byte[300];
        for (int[] b : BAD_REGIONS) {
            assertThrows(
                    IndexOutOfBoundsException.class,
                    () -> call.apply(in, b[0], b[1], CTX, out, b[2]),
                    Arrays.toString(b));
        }
        assertThrows(NullPointerException.class, () -> call.apply(null, 0, 0, CTX, out, 0));
        assertThrows(NullPointerException.class, () -> call.apply(in, 0, 0, null, out, 0));
        assertThrows(NullPointerException.class, () -> call.apply(in, 0, 0, CTX, null, 0));
        assertThrows(IllegalArgumentException.class, () -> call.apply(in, 0, 10, in, out, 0));
    }

    @Test
    void regionsOutsideTheArraysAreIndexOutOfBounds() {
        assertBadArgumentsRefused(crypt::encrypt);
        assertBadArgumentsRefused(crypt::decrypt);
    }

    /**
     * One array holding both regions: in place where the envelope keeps its ciphertext (53 bytes
     * on), and at every other overlap as well (the input is copied first), never corrupted.
     */
    @Test
    void overlappingRegionsInOneArray() throws Exception {
        for (int n : new int[] {1, 100, 20_000}) {
            byte[] pt = TestSupport.random(n);
            int envLen = n + 69;
            for (int shift : new int[] {-H, 0, -1, 1, -H - 1, -H + 1, 16, -n, n / 2, H}) {
                // Encrypt: the plaintext at base + shift, the envelope at base.
                int base = n + 300;
                byte[] buf = filled(base + Math.max(envLen, shift + n) + 200);
                System.arraycopy(pt, 0, buf, base + shift, n);
                assertEquals(envLen, crypt.encrypt(buf, base + shift, n, CTX, buf, base));
                byte[] env = Arrays.copyOfRange(buf, base, base + envLen);
                assertArrayEquals(pt, crypt.decrypt(env, CTX), "encrypt shift " + shift);
                assertUntouched(buf, 0, Math.min(base, base + shift));

                // Decrypt: the envelope at base, the plaintext to base + shift.
                byte[] dbuf = filled(base + envLen + Math.max(0, -shift) + 200);
                System.arraycopy(env, 0, dbuf, base, envLen);
                assertEquals(n, crypt.decrypt(dbuf, base, envLen, CTX, dbuf, base - shift));
                assertArrayEquals(
                        pt,
                        Arrays.copyOfRange(dbuf, base - shift, base - shift + n),
                        "decrypt shift " + shift);
            }
            // Opened in place: the plaintext replaces the ciphertext, the header stays.
            byte[] env = crypt.encrypt(pt, CTX);
            byte[] same = env.clone();
            assertEquals(n, crypt.decrypt(same, 0, envLen, CTX, same, H));
            assertArrayEquals(pt, Arrays.copyOfRange(same, H, H + n));
            assertArrayEquals(Arrays.copyOfRange(env, 0, H), Arrays.copyOfRange(same, 0, H));
        }
    }

    /** A decryption that fails leaves no plaintext in the caller's buffer (apart or in place). */
    @Test
    void aFailedDecryptLeavesNoPlaintext() throws Exception {
        int n = 4096;
        byte[] pt = TestSupport.random(n);
        byte[] env = crypt.encrypt(pt, CTX);
        for (int flip : new int[] {H, H + n / 2, env.length - 1, -1}) {
            byte[] bad = env.clone();
            byte[] ctx = flip < 0 ? utf8("OTHER:1") : CTX;
            if (flip >= 0) {
                bad[flip] ^= 1;
            }
            byte[] out = filled(8 + n + 8);
            assertThrows(
                    AEADBadTagException.class,
                    () -> crypt.decrypt(bad, 0, bad.length, ctx, out, 8));
            for (int i = 8; i < 8 + n; i++) {
                assertEquals(0, out[i], "byte " + i + " after a failed decrypt");
            }
            assertUntouched(out, 0, 8);
            assertUntouched(out, 8 + n, out.length);

            byte[] inPlace = bad.clone();
            assertThrows(
                    AEADBadTagException.class,
                    () -> crypt.decrypt(inPlace, 0, inPlace.length, ctx, inPlace, H));
            for (int i = H; i < H + n; i++) {
                assertEquals(0, inPlace[i], "byte " + i + " after a failed in-place decrypt");
            }
        }
        // Too short to be an envelope: refused, nothing written.
        byte[] out = filled(10);
        assertThrows(AEADBadTagException.class, () -> crypt.decrypt(env, 0, 68, CTX, out, 0));
        assertUntouched(out, 0, out.length);
    }

    @Test
    void aClosedHandleWritesNothing() throws Exception {
        LkrCrypt c = TestSupport.openNew();
        LegacyMigrator m = c.legacyMigrator(); // a view taken while the handle was open
        c.close();
        byte[] out = filled(200);
        assertThrows(
                IllegalStateException.class, () -> c.encrypt(new byte[10], 0, 10, CTX, out, 0));
        assertThrows(
                IllegalStateException.class, () -> m.migrate(new byte[32], 0, 32, CTX, out, 0));
        assertUntouched(out, 0, out.length);
    }

    /** The native exports check regions and overlaps themselves too (never trusting the caller). */
    @Test
    void theNativeSideRefusesBadRegions() throws Exception {
        long h = Native.openBytes(null);
        try {
            byte[] a = new byte[200];
            byte[] out = new byte[200];
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptArray(h, a, 150, 100, CTX, out, 0, 169));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptArray(h, a, 0, 10, CTX, out, -1, 79));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.decryptArray(h, a, 0, 100, CTX, out, 190, 31));
            // Overlap other than in place: refused (LkrCrypt copies first).
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptArray(h, a, 10, 10, CTX, a, 0, 79));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.decryptArray(h, a, 0, 100, CTX, a, 10, 31));
            // In place with too little room after the output's start.
            assertThrows(
                    ShortBufferException.class,
                    () -> Native.encryptArray(h, a, H, 10, CTX, a, 0, 78));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptArray(h, a, 0, 10, a, out, 0, 79));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptArray(0, a, 0, 10, CTX, out, 0, 79));
        } finally {
            Native.close(h);
        }
    }
}
