package io.lkr.crypt;

/**
 * The benchmark's native hook: the time of operations inside Rust, without JNI. Its export ({@code
 * src/jni/bench.rs}) exists only in a library built with the cargo feature {@code bench-hooks},
 * which the pom's {@code jmh} profile enables; the shipped jar and library have neither this class
 * nor the export. It works on a native handle of its own ({@code Native.openBytes}), not on an
 * {@link LkrCrypt}.
 */
final class BenchHooks {
    private BenchHooks() {}

    /** Nanoseconds for {@code iterations} operations on {@code size} bytes, timed inside Rust. */
    static native long rustOnlyNanos(long handle, int size, int iterations, boolean decrypt);

    /** A fresh native handle (a new keystore under the environment's CMK); {@link #close} it. */
    static long open() throws Exception {
        Native.ensureLoaded();
        long h = Native.openBytes(null);
        try {
            // The hook checks its arguments like every export (was a LkrCryptTest assertion).
            rustOnlyNanos(h, -1, 1, false);
        } catch (IllegalArgumentException expected) {
            return h;
        } catch (RuntimeException | Error e) {
            Native.close(h);
            throw e;
        }
        Native.close(h);
        throw new AssertionError("rustOnlyNanos accepted a negative size");
    }

    static void close(long handle) {
        Native.close(handle);
    }
}
