package io.lkr.crypt;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
import java.util.Objects;

/**
 * Encrypts everything written to it as an lkr-crypt stream v1 (SPEC §5) into the underlying
 * stream. {@link #close()} seals the last segment and closes the underlying stream: a stream
 * that is not closed is incomplete and will not decrypt. Memory is O(segment size). Not for
 * concurrent use by several threads. Made by {@link LkrCrypt#encryptingStream}.
 */
public final class EncryptingOutputStream extends FilterOutputStream {
    private final StreamState state;
    private final Cleaner.Cleanable cleanable;
    private final int segmentSize;
    private final byte[] sealed;
    private boolean closed;

    EncryptingOutputStream(OutputStream out, long stream, int segmentSize, byte[] header) throws IOException {
        super(Objects.requireNonNull(out, "out"));
        this.state = new StreamState(stream, true);
        this.cleanable = StreamState.CLEANER.register(this, state);
        this.segmentSize = segmentSize;
        this.sealed = new byte[2 * (segmentSize + 16)];
        out.write(header);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        ensureOpen();
        while (len > 0) {
            int n = Math.min(len, segmentSize);
            int produced = Native.streamEncryptUpdate(state.ptr, b, off, n, sealed);
            out.write(sealed, 0, produced);
            off += n;
            len -= n;
        }
    }

    /** Flushes the underlying stream; less than one segment of plaintext stays buffered. */
    @Override
    public synchronized void flush() throws IOException {
        ensureOpen();
        out.flush();
    }

    /** Seals the last segment, writes it, and closes the underlying stream. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            int produced = Native.streamEncryptFinish(state.ptr, sealed);
            out.write(sealed, 0, produced);
            out.flush();
        } finally {
            cleanable.clean();
            out.close();
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("The encrypting stream is closed");
        }
    }

    /** The native stream state, freed exactly once (close, or the cleaner for a lost stream). */
    static final class StreamState implements Runnable {
        static final Cleaner CLEANER = Cleaner.create();
        final long ptr;
        private final boolean encrypt;

        StreamState(long ptr, boolean encrypt) {
            this.ptr = ptr;
            this.encrypt = encrypt;
        }

        @Override
        public void run() {
            if (encrypt) {
                Native.streamEncryptFree(ptr);
            } else {
                Native.streamDecryptFree(ptr);
            }
        }
    }
}
