package io.lkr.crypt;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * One native pointer and the function that releases it, released at most once: {@link #free()} is
 * atomic and idempotent, so its owner's {@code close()}, the clean-up of a constructor that failed,
 * and the {@link Cleaner} of an owner that was lost (this object is the Cleaner's action) may all
 * call it, in any order, without a double free.
 *
 * <p>An owner registers this object with {@link #CLEANER} and calls {@link
 * java.lang.ref.Reference#reachabilityFence(Object)} on itself after every native call that uses
 * {@link #get()}, so that the Cleaner cannot free the pointer during that call.
 */
final class NativePointer implements Runnable {
    static final Cleaner CLEANER = Cleaner.create();

    private final AtomicLong ptr;
    private final LongConsumer release;
    private final String what;

    /**
     * @param ptr the native pointer (not 0)
     * @param release frees it; must not reference the owner (or the owner is never cleaned)
     * @param what names the owner in the message of {@link #get()} after release
     */
    NativePointer(long ptr, LongConsumer release, String what) {
        if (ptr == 0) {
            throw new IllegalArgumentException("null native pointer for " + what);
        }
        this.ptr = new AtomicLong(ptr);
        this.release = release;
        this.what = what;
    }

    /** The live pointer; {@link IllegalStateException} once it has been released. */
    long get() {
        long p = ptr.get();
        if (p == 0) {
            throw new IllegalStateException("The " + what + " is closed");
        }
        return p;
    }

    /** Releases the pointer the first time it is called; later calls do nothing. */
    void free() {
        long p = ptr.getAndSet(0);
        if (p != 0) {
            release.accept(p);
        }
    }

    /** The Cleaner's action: {@link #free()}. */
    @Override
    public void run() {
        free();
    }
}
