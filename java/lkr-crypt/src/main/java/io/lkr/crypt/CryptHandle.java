package io.lkr.crypt;

import java.util.Arrays;
import java.util.concurrent.locks.StampedLock;

/**
 * The native handle of an {@link LkrCrypt} and the lock that keeps it alive: every call holds the
 * read lock ({@link #call}), closing takes the write lock ({@link #run()}). Kept apart from {@link
 * LkrCrypt} so that its Cleaner can reach it.
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

    private final StampedLock lock = new StampedLock();

    /**
     * Set first by close: new calls stop taking the read lock, so the writer waits only for the
     * calls in progress (StampedLock lets readers barge past a waiting writer).
     */
    private volatile boolean closing;

    private long ptr;

    CryptHandle(long ptr) {
        this.ptr = ptr;
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

    /** Closes the native handle once (the Cleaner's action, and {@link LkrCrypt#close()}'s). */
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
