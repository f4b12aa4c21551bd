package io.lkr.crypt;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.security.GeneralSecurityException;
import java.util.Objects;

/**
 * Encrypts everything written to it as an lkr-crypt stream v1 (docs/stream.md) into the underlying
 * stream. {@link #close()} seals the last segment and closes the underlying stream: a stream that
 * is not closed is incomplete and will not decrypt. Memory is O(segment size). Not for concurrent
 * use by several threads. Made by {@link LkrCrypt#encryptingStream}.
 *
 * <p>Failures stick: once a write to the underlying stream or an encryption step has failed, every
 * later {@code write} and {@code flush} throws an {@link IOException} with the same message and
 * cause, and {@code close()} does not seal the last segment (the output stays an incomplete stream
 * that will not decrypt), closes the underlying stream and throws that exception too. Write the
 * whole stream again.
 */
public final class EncryptingOutputStream extends FilterOutputStream {
    private final NativePointer state;
    private final Cleaner.Cleanable cleanable;
    private final int segmentSize;
    private final byte[] sealed;
    private boolean closed;

    /** The first failure of the underlying stream or of the encryption, or null. */
    private IOException failure;

    /**
     * A stream v1 bound to {@code context} on the keystore of {@code handle}, with {@code
     * segmentSize} plaintext bytes per segment: {@link LkrCrypt#encryptingStream(OutputStream,
     * byte[], int)}.
     */
    static EncryptingOutputStream open(
            CryptHandle handle, OutputStream out, byte[] context, int segmentSize)
            throws IOException, GeneralSecurityException {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(context, "context");
        byte[] header = new byte[LkrCrypt.STREAM_HEADER_LENGTH];
        long stream = handle.call(p -> Native.streamEncryptInit(p, context, segmentSize, header));
        NativePointer state =
                new NativePointer(stream, Native::streamEncryptFree, "encrypting stream");
        try {
            return new EncryptingOutputStream(out, state, segmentSize, header);
        } catch (IOException | RuntimeException | Error e) {
            state.free(); // once: the stream's Cleaner, if it was registered, finds it freed
            throw e;
        }
    }

    /**
     * Takes ownership of {@code state}; writes the header. When that fails, the state is freed
     * before the exception leaves (freeing it again is harmless).
     */
    EncryptingOutputStream(OutputStream out, NativePointer state, int segmentSize, byte[] header)
            throws IOException {
        super(Objects.requireNonNull(out, "out"));
        this.state = state;
        this.cleanable = NativePointer.CLEANER.register(this, state);
        this.segmentSize = segmentSize;
        try {
            this.sealed = new byte[2 * (segmentSize + LkrCrypt.TAG_LENGTH)];
            out.write(header);
        } catch (IOException | RuntimeException | Error e) {
            cleanable.clean();
            throw e;
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        ensureUsable();
        try {
            while (len > 0) {
                int n = Math.min(len, segmentSize);
                int produced = Native.streamEncryptUpdate(state.get(), b, off, n, sealed);
                out.write(sealed, 0, produced);
                off += n;
                len -= n;
            }
        } catch (Exception e) {
            throw fail(e);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Flushes the underlying stream; less than one segment of plaintext stays buffered. */
    @Override
    public synchronized void flush() throws IOException {
        ensureUsable();
        try {
            out.flush();
        } catch (IOException | RuntimeException e) {
            throw fail(e);
        }
    }

    /**
     * Seals the last segment, writes it, and closes the underlying stream. After an earlier failure
     * it seals nothing, closes the underlying stream and throws that failure again.
     */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (failure != null) {
                throw again();
            }
            int produced = Native.streamEncryptFinish(state.get(), sealed);
            out.write(sealed, 0, produced);
            out.flush();
        } catch (Exception e) {
            throw fail(e);
        } finally {
            cleanable.clean();
            out.close();
        }
    }

    private void ensureUsable() throws IOException {
        if (failure != null) {
            throw again();
        }
        if (closed) {
            throw new IOException("The encrypting stream is closed");
        }
    }

    /**
     * Records the first failure; returns the exception to throw for {@code e}: itself when it is an
     * {@link IOException}, else an {@link IOException} with its message and {@code e} as cause.
     */
    private IOException fail(Exception e) {
        IOException io =
                e instanceof IOException ? (IOException) e : new IOException(e.getMessage(), e);
        if (failure == null) {
            failure = io;
        }
        return io;
    }

    /** A new exception with the first failure's message and cause (a stack trace of this call). */
    private IOException again() {
        return new IOException(
                failure.getMessage(), failure.getCause() != null ? failure.getCause() : failure);
    }
}
