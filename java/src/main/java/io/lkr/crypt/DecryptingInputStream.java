package io.lkr.crypt;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;
import java.util.Objects;

/**
 * Decrypts an lkr-crypt stream v1 (SPEC §5) read from the underlying stream. Returns only
 * plaintext whose segment authenticated; a damaged, truncated, extended or foreign stream
 * fails with an {@link IOException} whose cause is the {@link java.security.GeneralSecurityException}
 * ({@link javax.crypto.AEADBadTagException} when not authentic). Memory is O(segment size).
 * Not for concurrent use by several threads. Made by {@link LkrCrypt#decryptingStream}.
 */
public final class DecryptingInputStream extends FilterInputStream {
    private final EncryptingOutputStream.StreamState state;
    private final Cleaner.Cleanable cleanable;
    private final byte[] sealed;
    private final byte[] plain;
    private int start;
    private int end;
    private boolean eof;
    private boolean closed;

    DecryptingInputStream(InputStream in, long stream, int segmentSize) {
        super(Objects.requireNonNull(in, "in"));
        this.state = new EncryptingOutputStream.StreamState(stream, false);
        this.cleanable = EncryptingOutputStream.StreamState.CLEANER.register(this, state);
        this.sealed = new byte[segmentSize + 16];
        this.plain = new byte[2 * segmentSize];
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
        if (closed) {
            throw new IOException("The decrypting stream is closed");
        }
        if (len == 0) {
            return 0;
        }
        while (start == end) {
            if (eof) {
                return -1;
            }
            java.util.Arrays.fill(plain, 0, end, (byte) 0);
            start = 0;
            end = 0;
            int got = in.read(sealed, 0, sealed.length);
            try {
                if (got < 0) {
                    eof = true;
                    end = Native.streamDecryptFinish(state.ptr, plain);
                } else {
                    end = Native.streamDecryptUpdate(state.ptr, sealed, 0, got, plain);
                }
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                eof = true;
                throw new IOException(e.getMessage(), e);
            }
        }
        int n = Math.min(len, end - start);
        System.arraycopy(plain, start, b, off, n);
        start += n;
        return n;
    }

    @Override
    public synchronized int available() {
        return end - start;
    }

    @Override
    public long skip(long n) throws IOException {
        return super.skip(n); // reads (and authenticates) through the skipped bytes
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        java.util.Arrays.fill(plain, (byte) 0);
        cleanable.clean();
        in.close();
    }
}
