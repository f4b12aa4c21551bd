package io.lkr.crypt;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.concurrent.locks.StampedLock;
import java.util.function.IntUnaryOperator;

/**
 * The native handle of an {@link LkrCrypt} and the lock that keeps it alive: every call holds the
 * read lock ({@link #call}), closing takes the write lock ({@link #run()}). Kept apart from {@link
 * LkrCrypt} so that its Cleaner can reach it; {@link LkrCrypt}, {@link KeystoreAdmin} and {@link
 * LegacyMigrator} make every native call through it.
 */
final class CryptHandle implements Runnable {
    /**
     * One native call on the live handle pointer; the engine's errors arrive already mapped ({@link
     * LkrErrors}).
     */
    @FunctionalInterface
    interface Call<T, E extends Exception> {
        T apply(long ptr) throws E;
    }

    /** {@link Call} returning an int (no boxing on the hot paths). */
    @FunctionalInterface
    interface IntCall<E extends Exception> {
        int apply(long ptr) throws E;
    }

    /** {@link Call} returning nothing. */
    @FunctionalInterface
    interface VoidCall<E extends Exception> {
        void apply(long ptr) throws E;
    }

    /**
     * A native call on regions of caller-owned arrays ({@code Native.encryptArray}'s shape): the
     * handle, the input region (the caller's array or a copy), the context, the output region.
     */
    @FunctionalInterface
    interface ArrayCall {
        int apply(long p, byte[] in, int inOff, int inLen, byte[] cx, byte[] o, int oOff, int oLen);
    }

    /**
     * An operation on regions of caller-owned arrays: whether its input is a stored value (for
     * {@link #checkLength}), the output room it needs for an input length, where the native side
     * works in place (the output that many bytes after the input's start; {@link #NO_IN_PLACE}:
     * nowhere), and its native call.
     */
    record ArrayOp(boolean stored, IntUnaryOperator room, long inPlaceShift, ArrayCall call) {}

    /** The in-place shift of an {@link ArrayOp} that has no in-place form. */
    static final long NO_IN_PLACE = Long.MIN_VALUE;

    /** A native call on regions of direct buffers ({@code Native.encryptDirect}'s shape). */
    @FunctionalInterface
    interface BufferCall {
        int apply(
                long p, ByteBuffer i, int iPos, int iLen, byte[] c, ByteBuffer o, int oPos, int n);
    }

    private static final Cleaner CLEANER = Cleaner.create();

    private final StampedLock lock = new StampedLock();

    /**
     * Set first by close: new calls stop taking the read lock, so the writer waits only for the
     * calls in progress (StampedLock lets readers barge past a waiting writer).
     */
    private volatile boolean closing;

    private long ptr;

    /**
     * The maximum record size (plaintext bytes), read once: values over it are refused before
     * allocating.
     */
    final long maxRecord;

    /** Closes the handle when its owner becomes unreachable; {@link #close()} runs it earlier. */
    private Cleaner.Cleanable cleanable;

    private CryptHandle(long ptr) {
        this.maxRecord = Native.maxRecordSize(ptr);
        this.ptr = ptr;
    }

    /**
     * The handle of {@code ptr}, closed when {@code owner} becomes unreachable (or by {@link
     * #close()}). Takes ownership of {@code ptr}: when this fails, {@code ptr} is closed (once).
     */
    static CryptHandle adopt(Object owner, long ptr) {
        CryptHandle h = null;
        try {
            h = new CryptHandle(ptr);
            h.cleanable = CLEANER.register(owner, h);
            return h;
        } catch (RuntimeException | Error e) {
            if (h != null) {
                h.run(); // idempotent: the Cleaner, if registered, finds the handle closed
            } else {
                Native.close(ptr);
            }
            throw e;
        }
    }

    /** Closes the handle now (once; later calls throw {@link IllegalStateException}). */
    void close() {
        cleanable.clean();
    }

    /**
     * Refuses (with the engine's message) a value over the maximum, before anything is allocated.
     */
    void checkLength(int length, boolean stored) {
        if (length > maxRecord + (stored ? LkrCrypt.OVERHEAD : 0)) {
            run(p -> Native.checkRecordLength(p, length, stored));
        }
    }

    /**
     * Runs {@code f} on the live pointer holding the read lock (taken here, released when it
     * returns or throws); {@link IllegalStateException} when the handle is closed or closing.
     */
    <T, E extends Exception> T call(Call<T, E> f) throws E {
        long stamp = readLock();
        try {
            return f.apply(live());
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** {@link #call} for an int result. */
    <E extends Exception> int callInt(IntCall<E> f) throws E {
        long stamp = readLock();
        try {
            return f.apply(live());
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** {@link #call} without a result. */
    <E extends Exception> void run(VoidCall<E> f) throws E {
        long stamp = readLock();
        try {
            f.apply(live());
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /**
     * {@link #run}, wiping {@code buf} (a copy of plaintext) before the exception leaves when
     * anything fails, a closed handle included.
     */
    <E extends Exception> void runOrWipe(byte[] buf, VoidCall<E> f) throws E {
        boolean done = false;
        try {
            run(f);
            done = true;
        } finally {
            if (!done) {
                Arrays.fill(buf, (byte) 0);
            }
        }
    }

    /**
     * {@link #callInt} of {@code op} on regions of caller-owned arrays, like {@code
     * Cipher.doFinal(in, inOff, inLen, out, outOff)}: checks the regions ({@link Checks#arrays})
     * and the input's length ({@link #checkLength}); throws {@link
     * javax.crypto.ShortBufferException} when {@code out} has less than the op's room from {@code
     * outOff}. When {@code in} is {@code out} and the regions overlap other than where the op works
     * in place, the native call gets a copy of the input, wiped after.
     */
    int callOnArrays(ArrayOp op, byte[] in, int inOff, int inLen, byte[] cx, byte[] out, int oOff)
            throws GeneralSecurityException {
        Checks.arrays(in, inOff, inLen, cx, out, oOff);
        checkLength(inLen, op.stored());
        int n = op.room().applyAsInt(inLen);
        Checks.room(n, out.length - oOff);
        boolean copy = Checks.mustCopy(in, inOff, inLen, out, oOff, n, op.inPlaceShift());
        byte[] src = copy ? Arrays.copyOfRange(in, inOff, inOff + inLen) : in;
        int off = copy ? 0 : inOff;
        try {
            return callInt(p -> op.call().apply(p, src, off, inLen, cx, out, oOff, n));
        } finally {
            if (copy) {
                Arrays.fill(src, (byte) 0);
            }
        }
    }

    /**
     * {@link #callInt} on the remaining bytes of the direct buffers {@code in} and {@code out}
     * (checked by the caller); on success {@code in}'s position moves to its limit and {@code
     * out}'s past what was written.
     */
    int callOnBuffers(ByteBuffer in, byte[] context, ByteBuffer out, BufferCall f)
            throws GeneralSecurityException {
        int inPos = in.position();
        int inLen = in.remaining();
        int outPos = out.position();
        int outLen = out.remaining();
        int n = callInt(p -> f.apply(p, in, inPos, inLen, context, out, outPos, outLen));
        in.position(in.limit());
        out.position(outPos + n);
        return n;
    }

    /** True once closing has begun. */
    boolean isClosing() {
        return closing;
    }

    /** Takes the read lock for one call, or throws when the handle is closed or closing. */
    private long readLock() {
        if (closing) {
            throw closed();
        }
        long stamp = lock.readLock();
        if (closing) {
            lock.unlockRead(stamp);
            throw closed();
        }
        return stamp;
    }

    /** The live pointer; the caller holds the read lock. */
    private long live() {
        long p = ptr;
        if (p == 0) {
            throw closed();
        }
        return p;
    }

    private static IllegalStateException closed() {
        return new IllegalStateException("This LkrCrypt is closed");
    }

    /** Closes the native handle once (the Cleaner's action, and {@link #close()}'s). */
    @Override
    public void run() {
        closing = true;
        long stamp = lock.writeLock();
        try {
            if (ptr != 0) {
                long p = ptr;
                ptr = 0;
                Native.close(p);
            }
        } finally {
            lock.unlockWrite(stamp);
        }
    }
}
