package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.openNew;
import static io.lkr.crypt.TestSupport.random;
import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;

/** docs/stream.md streams through the Java API: round trips, damage rejected, bounded buffers. */
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

    /**
     * A header's segment size is not authenticated until its first segment is: a header that claims
     * 16 MiB segments, followed by a few bytes, must not make the reader allocate for them (before,
     * 48 MiB of Java arrays on the header's word alone).
     */
    @Test
    void aClaimedLargeSegmentSizeAllocatesOnlyWhatArrives() throws Exception {
        try (LkrCrypt c = openNew()) {
            byte[] sealed = encrypt(c, random(100), 1000);
            java.nio.ByteBuffer.wrap(sealed, 9, 4).putInt(16 << 20);
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean)
                            java.lang.management.ManagementFactory.getThreadMXBean();
            decrypt(c, encrypt(c, random(10), 10), CTX); // warm up
            long before = threads.getCurrentThreadAllocatedBytes();
            IOException e = assertThrows(IOException.class, () -> decrypt(c, sealed, CTX));
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertInstanceOf(AEADBadTagException.class, e.getCause(), e.toString());
            assertTrue(
                    allocated < (1 << 20),
                    "allocated " + allocated + " bytes for a " + sealed.length + "-byte stream");
            // And large segments still decrypt, growing to what they need.
            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            byte[] big = random(3 << 20);
            try (OutputStream out = c.encryptingStream(sink, CTX, 1 << 20)) {
                out.write(big);
            }
            assertArrayEquals(big, decrypt(c, sink.toByteArray(), CTX));
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
            try (InputStream in =
                    c.decryptingStream(new ByteArrayInputStream(sink.toByteArray()), CTX)) {
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
            // Truncation at a segment boundary and inside a segment; a flipped byte; appended
            // bytes.
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
            IOException e =
                    assertThrows(IOException.class, () -> decrypt(c, sealed, utf8("other")));
            assertInstanceOf(AEADBadTagException.class, e.getCause());
            // A header bit flip: refused when the stream is opened or at the first read.
            Exception h = assertThrows(Exception.class, () -> decrypt(c, flip(sealed, 20), CTX));
            assertTrue(
                    h instanceof AEADBadTagException || h.getCause() instanceof AEADBadTagException,
                    h.toString());
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
                IOException e =
                        assertThrows(
                                IOException.class,
                                () -> {
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
            assertThrows(
                    NullPointerException.class,
                    () -> c.decryptingStream(new ByteArrayInputStream(new byte[0]), null));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> c.encryptingStream(new ByteArrayOutputStream(), CTX, 100));
            OutputStream out = c.encryptingStream(new ByteArrayOutputStream(), CTX, S);
            out.close();
            out.close();
            assertThrows(IOException.class, () -> out.write(1));
        }
    }

    /**
     * An underlying stream that fails some writes with an IOException and keeps what the others
     * write.
     */
    private static final class FailingOutput extends OutputStream {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final int failFrom;
        private final int failUntil;
        private int calls;

        /**
         * Fails the calls {@code failFrom} to {@code failUntil - 1} (counted from 0: the header).
         */
        FailingOutput(int failFrom, int failUntil) {
            this.failFrom = failFrom;
            this.failUntil = failUntil;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int call = calls++;
            if (call >= failFrom && call < failUntil) {
                throw new IOException("Connection reset by peer (test)");
            }
            kept.write(b, off, len);
        }

        byte[] toByteArray() {
            return kept.toByteArray();
        }
    }

    /**
     * An OutputStream whose writes throw IOException, as a client disconnect or a full disk does.
     */
    private static final class BrokenPipe extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            throw new IOException("Broken pipe (test)");
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            throw new IOException("Broken pipe (test)");
        }
    }

    /**
     * Run in a forked JVM by {@link #aStreamWhoseHeaderWriteFailsIsFreedOnce()}: streams whose
     * header cannot be written, then garbage collections (which run the Cleaners) and allocation. A
     * native state freed twice aborts this JVM ("double free or corruption", exit 134).
     */
    public static void main(String[] args) throws Exception {
        try (LkrCrypt c = openNew()) {
            int refused = 0;
            for (int i = 0; i < 500; i++) {
                try {
                    c.encryptingStream(new BrokenPipe(), CTX, S);
                    System.out.println("opened a stream on a broken pipe");
                    System.exit(3);
                } catch (IOException e) {
                    refused++;
                }
            }
            List<byte[]> keep = new ArrayList<>();
            for (int round = 0; round < 10; round++) {
                System.gc();
                for (int i = 0; i < 2000; i++) {
                    keep.add(new byte[1024]);
                    if (keep.size() > 500) {
                        keep.clear();
                    }
                }
                // Native allocations of the same sizes as the freed states, and real work.
                try (OutputStream out = c.encryptingStream(new ByteArrayOutputStream(), CTX, S)) {
                    out.write(random(S + 1));
                }
                byte[] sealed = encrypt(c, random(2 * S), S);
                if (decrypt(c, sealed, CTX).length != 2 * S) {
                    System.exit(4);
                }
                Thread.sleep(20);
            }
            System.out.println("refused " + refused + ", survived");
        }
    }

    @Test
    void aStreamWhoseHeaderWriteFailsIsFreedOnce() throws Exception {
        TestSupport.Run r =
                TestSupport.fork(
                        Map.of("LKR_MASTER_KEY_ENV", TestSupport.TEST_CMK),
                        List.of(
                                "-Xmx64m",
                                "-cp",
                                System.getProperty("java.class.path"),
                                StreamTest.class.getName()));
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.contains("refused 500, survived"), r.toString());
    }

    @Test
    void readsAfterAFailureFailAgain() throws Exception {
        try (LkrCrypt c = openNew()) {
            byte[] sealed = encrypt(c, random(3 * S + 100), S);
            int seg = S + 16;
            byte[][] damaged = {
                flip(sealed, 52 + seg + 7), // tampered: the second segment
                Arrays.copyOf(sealed, 52 + 2 * seg), // truncated at a segment boundary
                Arrays.copyOf(sealed, sealed.length - 5), // truncated inside the last segment
            };
            for (byte[] d : damaged) {
                try (InputStream in = c.decryptingStream(new ByteArrayInputStream(d), CTX)) {
                    byte[] buf = new byte[1000];
                    IOException first = null;
                    for (int i = 0; i < 100 && first == null; i++) {
                        try {
                            if (in.read(buf) < 0) {
                                fail("a damaged stream ended cleanly");
                            }
                        } catch (IOException e) {
                            first = e;
                        }
                    }
                    assertInstanceOf(
                            AEADBadTagException.class, first.getCause(), String.valueOf(first));
                    // A retrying caller never sees a clean end of the stream.
                    for (int i = 0; i < 3; i++) {
                        IOException again = assertThrows(IOException.class, () -> in.read(buf));
                        assertEquals(first.getMessage(), again.getMessage());
                        assertInstanceOf(AEADBadTagException.class, again.getCause());
                    }
                    assertThrows(IOException.class, in::read);
                    assertThrows(IOException.class, () -> in.skip(10));
                    assertThrows(IOException.class, in::readAllBytes);
                }
            }
        }
    }

    @Test
    void writesAfterAFailureFailAndTheStreamStaysIncomplete() throws Exception {
        try (LkrCrypt c = openNew()) {
            byte[] pt = random(4 * S);
            // The sink fails once, on the second segment (call 0 is the header), then works again.
            FailingOutput sink = new FailingOutput(2, 3);
            OutputStream out = c.encryptingStream(sink, CTX, S);
            out.write(pt, 0, S);
            IOException first = assertThrows(IOException.class, () -> out.write(pt, S, S));
            for (int i = 0; i < 2; i++) {
                IOException again = assertThrows(IOException.class, () -> out.write(pt, 2 * S, S));
                assertEquals(first.getMessage(), again.getMessage());
            }
            assertThrows(IOException.class, out::flush);
            IOException atClose = assertThrows(IOException.class, out::close);
            assertEquals(first.getMessage(), atClose.getMessage());
            out.close(); // closing twice does nothing
            // What reached the sink is not a complete stream: it never decrypts.
            IOException e =
                    assertThrows(IOException.class, () -> decrypt(c, sink.toByteArray(), CTX));
            assertInstanceOf(AEADBadTagException.class, e.getCause());
        }
    }

    @Test
    void skipSkipsPlaintextAndMarkResetIsRefused() throws Exception {
        try (LkrCrypt c = openNew()) {
            byte[] pt = random(3 * S + 100);
            byte[] sealed = encrypt(c, pt, S);
            for (int n :
                    new int[] {0, 1, 100, S - 1, S, S + 17, 2 * S + 5, pt.length - 1, pt.length}) {
                try (InputStream in = c.decryptingStream(new ByteArrayInputStream(sealed), CTX)) {
                    assertEquals(n, in.skip(n), "skip " + n);
                    assertArrayEquals(
                            Arrays.copyOfRange(pt, n, pt.length), in.readAllBytes(), "skip " + n);
                }
            }
            try (InputStream in = c.decryptingStream(new ByteArrayInputStream(sealed), CTX)) {
                assertEquals(0, in.available(), "nothing decrypted yet: no ciphertext is counted");
                assertEquals(10, in.read(new byte[10]));
                int available = in.available();
                assertTrue(
                        available > 0 && available <= pt.length - 10,
                        "buffered plaintext only: " + available);
                in.skipNBytes(S); // crosses a segment boundary
                assertEquals(pt[10 + S] & 0xff, in.read());
                assertEquals(pt.length - S - 11, in.skip(Long.MAX_VALUE), "skip stops at the end");
                assertEquals(-1, in.read());
                assertEquals(0, in.skip(5));
            }
            // mark/reset would move the underlying (ciphertext) stream: refused.
            try (InputStream in = c.decryptingStream(new ByteArrayInputStream(sealed), CTX)) {
                assertTrue(!in.markSupported());
                in.mark(1 << 20);
                byte[] head = in.readNBytes(100);
                assertThrows(IOException.class, in::reset);
                assertArrayEquals(Arrays.copyOf(pt, 100), head);
                assertArrayEquals(Arrays.copyOfRange(pt, 100, 200), in.readNBytes(100));
            }
        }
    }

    private static byte[] flip(byte[] b, int i) {
        byte[] c = b.clone();
        c[i] ^= 1;
        return c;
    }
}
