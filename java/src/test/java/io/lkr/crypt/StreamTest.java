package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.openNew;
import static io.lkr.crypt.TestSupport.random;
import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;

/** SPEC §5 streams through the Java API: round trips, damage rejected, bounded buffers. */
class StreamTest {
    private static final int S = 4096;
    private static final byte[] CTX = utf8("backup:test");

    private static byte[] encrypt(LkrCrypt c, byte[] pt, int chunk) throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (OutputStream out = c.encryptingStream(sink, CTX, S)) {
            for (int off = 0; off < pt.length; off += chunk) {
                out.write(pt, off, Math.min(chunk, pt.length - off));
            }
        }
        return sink.toByteArray();
    }

    private static byte[] decrypt(LkrCrypt c, byte[] sealed, byte[] ctx) throws Exception {
        try (InputStream in = c.decryptingStream(new ByteArrayInputStream(sealed), ctx)) {
            return in.readAllBytes();
        }
    }

    @Test
    void roundTripsAroundSegmentBoundaries() throws Exception {
        try (LkrCrypt c = openNew()) {
            for (int n : new int[] {0, 1, S - 1, S, S + 1, 3 * S, 3 * S + 5}) {
                byte[] pt = random(n);
                for (int chunk : new int[] {1, 1000, S, 5 * S}) {
                    if (chunk == 1 && n > S + 1) {
                        continue;
                    }
                    byte[] sealed = encrypt(c, pt, chunk);
                    int segments = n / S + (n % S == 0 && n > 0 ? 0 : 1);
                    assertEquals(52 + n + 16 * segments, sealed.length, "size " + n);
                    assertArrayEquals(pt, decrypt(c, sealed, CTX), "size " + n + " chunk " + chunk);
                }
            }
            // The default segment size, and single-byte reads.
            byte[] pt = random(200_000);
            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            try (OutputStream out = c.encryptingStream(sink, CTX)) {
                out.write(pt);
            }
            try (InputStream in = c.decryptingStream(new ByteArrayInputStream(sink.toByteArray()), CTX)) {
                for (int i = 0; i < 1000; i++) {
                    assertEquals(pt[i] & 0xff, in.read());
                }
                byte[] rest = in.readAllBytes();
                assertArrayEquals(Arrays.copyOfRange(pt, 1000, pt.length), rest);
                assertEquals(-1, in.read());
            }
        }
    }

    @Test
    void damageIsRejectedAsNotAuthentic() throws Exception {
        try (LkrCrypt c = openNew()) {
            byte[] pt = random(3 * S + 100);
            byte[] sealed = encrypt(c, pt, S);
            int seg = S + 16;
            // Truncation at a segment boundary and inside a segment; a flipped byte; appended bytes.
            byte[][] damaged = {
                Arrays.copyOf(sealed, 52 + seg),
                Arrays.copyOf(sealed, 52 + seg + 10),
                Arrays.copyOf(sealed, sealed.length - 1),
                flip(sealed, 52 + 5),
                flip(sealed, sealed.length - 1),
                Arrays.copyOf(sealed, sealed.length + 1),
            };
            for (byte[] d : damaged) {
                IOException e = assertThrows(IOException.class, () -> decrypt(c, d, CTX));
                assertInstanceOf(AEADBadTagException.class, e.getCause(), e.toString());
            }
            IOException e = assertThrows(IOException.class, () -> decrypt(c, sealed, utf8("other")));
            assertInstanceOf(AEADBadTagException.class, e.getCause());
            // A header bit flip: refused when the stream is opened or at the first read.
            Exception h = assertThrows(Exception.class, () -> decrypt(c, flip(sealed, 20), CTX));
            assertTrue(h instanceof AEADBadTagException || h.getCause() instanceof AEADBadTagException, h.toString());
            // Nothing but a stream.
            assertThrows(AEADBadTagException.class, () -> decrypt(c, utf8("not a stream"), CTX));
            // Another keystore.
            try (LkrCrypt other = openNew()) {
                IOException o = assertThrows(IOException.class, () -> decrypt(other, sealed, CTX));
                assertInstanceOf(AEADBadTagException.class, o.getCause());
            }
        }
    }

    @Test
    void onlyAuthenticatedSegmentsAreReleased() throws Exception {
        try (LkrCrypt c = openNew()) {
            byte[] pt = random(2 * S + 10);
            byte[] sealed = flip(encrypt(c, pt, S), 52 + 2 * (S + 16) + 3);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try (InputStream in = c.decryptingStream(new ByteArrayInputStream(sealed), CTX)) {
                byte[] buf = new byte[1000];
                IOException e = assertThrows(IOException.class, () -> {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        got.write(buf, 0, n);
                    }
                });
                assertInstanceOf(AEADBadTagException.class, e.getCause());
            }
            assertArrayEquals(Arrays.copyOf(pt, 2 * S), got.toByteArray());
        }
    }

    @Test
    void badArgumentsAndClosedStreams() throws Exception {
        try (LkrCrypt c = openNew()) {
            assertThrows(NullPointerException.class, () -> c.encryptingStream(null, CTX));
            assertThrows(NullPointerException.class, () -> c.decryptingStream(new ByteArrayInputStream(new byte[0]), null));
            assertThrows(IllegalArgumentException.class, () -> c.encryptingStream(new ByteArrayOutputStream(), CTX, 100));
            OutputStream out = c.encryptingStream(new ByteArrayOutputStream(), CTX, S);
            out.close();
            out.close();
            assertThrows(IOException.class, () -> out.write(1));
        }
    }

    private static byte[] flip(byte[] b, int i) {
        byte[] c = b.clone();
        c[i] ^= 1;
        return c;
    }
}
