package io.lkr.crypt;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;

/**
 * Decrypts an lkr-crypt stream v1 (docs/stream.md) read from the underlying stream. Returns only
 * plaintext whose segment authenticated; a damaged, truncated, extended or foreign stream fails
 * with an {@link IOException} whose cause is the {@link java.security.GeneralSecurityException}
 * ({@link javax.crypto.AEADBadTagException} when not authentic). Memory is O(segment size). Not for
 * concurrent use by several threads. Made by {@link LkrCrypt#decryptingStream}.
 *
 * <p>A failure of the decryption sticks: every later {@code read} or {@code skip} throws an {@link
 * IOException} with the same message and cause (never a clean end of stream), so a caller that
 * retries cannot mistake a damaged or truncated stream for a complete one. An {@link IOException}
 * of the underlying stream itself does not stick (nothing was consumed).
 *
 * <p>Everything is plaintext: {@link #skip(long)} reads, authenticates and discards plaintext,
 * {@link #available()} counts only decrypted plaintext buffered here, and mark/reset is not
 * supported ({@link #reset()} throws).
 */
public final class DecryptingInputStream extends FilterInputStream {
    private final NativePointer state;
    private final Cleaner.Cleanable cleanable;

    /** What is read from the underlying stream at once. */
    private static final int READ_CHUNK = 64 << 10;

    private final byte[] sealed = new byte[READ_CHUNK];

    /** Grows to what the segments that arrived need (never on the header's word alone). */
    private byte[] plain = new byte[0];

    /** Plaintext buffered in {@link #plain}: from {@code start} to {@code end}. */
    private int start;

    private int end;
    private Phase phase = Phase.READING;

    /** The first failure of the decryption (phase {@link Phase#FAILED}), or null. */
    private IOException failure;

    /**
     * Where the stream is; every phase but {@link #READING} is final, except that close ends them
     * all.
     */
    private enum Phase {
        /** Segments are read and decrypted as plaintext is asked for. */
        READING,
        /**
         * The underlying stream ended and the final segment authenticated: what is buffered is all
         * there is.
         */
        ENDED,
        /** The decryption failed: every later read or skip throws {@link #failure} again. */
        FAILED,
        /** Closed. */
        CLOSED
    }

    /**
     * Reads the stream v1 header from {@code in} and starts decrypting it, bound to {@code
     * context}, on the keystore of {@code handle}: {@link LkrCrypt#decryptingStream}.
     */
    static DecryptingInputStream open(CryptHandle handle, InputStream in, byte[] context)
            throws IOException, GeneralSecurityException {
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(context, "context");
        byte[] header = in.readNBytes(LkrCrypt.STREAM_HEADER_LENGTH);
        long stream = handle.call(p -> Native.streamDecryptInit(p, header, context));
        NativePointer state =
                new NativePointer(stream, Native::streamDecryptFree, "decrypting stream");
        try {
            return new DecryptingInputStream(in, state);
        } catch (RuntimeException | Error e) {
            state.free();
            throw e;
        }
    }

    /** Takes ownership of {@code state}. */
    DecryptingInputStream(InputStream in, NativePointer state) {
        super(Objects.requireNonNull(in, "in"));
        this.state = state;
        this.cleanable = NativePointer.CLEANER.register(this, state);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        ensureUsable();
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, end - start);
        System.arraycopy(plain, start, b, off, n);
        start += n;
        return n;
    }

    /** Skips {@code n} bytes of plaintext: reads, authenticates and discards them. */
    @Override
    public synchronized long skip(long n) throws IOException {
        ensureUsable();
        long left = n;
        while (left > 0 && fill()) {
            int k = (int) Math.min(left, end - start);
            start += k;
            left -= k;
        }
        return n <= 0 ? 0 : n - left;
    }

    /**
     * Makes sure plaintext is buffered: decrypts from the underlying stream until a segment
     * authenticates. False at the authentic end of the stream.
     */
    private boolean fill() throws IOException {
        while (start == end) {
            if (phase == Phase.ENDED) {
                return false;
            }
            Arrays.fill(plain, 0, end, (byte) 0);
            start = 0;
            end = 0;
            int got = in.read(sealed, 0, sealed.length);
            try {
                // The header's segment size is not authenticated yet: the plaintext buffer
                // grows only as a segment's bytes arrive (the old one holds zeros by now).
                int need = Native.streamDecryptMaxLength(state.get(), Math.max(got, 0), got < 0);
                if (plain.length < need) {
                    plain = new byte[need];
                }
                if (got < 0) {
                    end = Native.streamDecryptFinish(state.get(), plain);
                    phase = Phase.ENDED;
                } else {
                    end = Native.streamDecryptUpdate(state.get(), sealed, 0, got, plain);
                }
            } catch (Exception e) {
                failure = new IOException(e.getMessage(), e);
                phase = Phase.FAILED;
                throw failure;
            } finally {
                Reference.reachabilityFence(this);
            }
        }
        return true;
    }

    /** Decrypted plaintext buffered here (never ciphertext of the underlying stream). */
    @Override
    public synchronized int available() throws IOException {
        ensureUsable();
        return end - start;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Does nothing: mark/reset is not supported. */
    @Override
    public void mark(int readlimit) {
        // not the underlying stream's mark: its position is ciphertext
    }

    /** Always throws: mark/reset is not supported. */
    @Override
    public void reset() throws IOException {
        throw new IOException("mark/reset is not supported by a decrypting stream");
    }

    @Override
    public synchronized void close() throws IOException {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        Arrays.fill(plain, (byte) 0);
        cleanable.clean();
        in.close();
    }

    private void ensureUsable() throws IOException {
        switch (phase) {
            case CLOSED:
                throw new IOException("The decrypting stream is closed");
            case FAILED:
                throw new IOException(failure.getMessage(), failure.getCause());
            default:
                break;
        }
    }
}
