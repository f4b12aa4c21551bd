package io.lkr.crypt;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.AEADBadTagException;

/**
 * Concurrency stress (issue #8): {@code threads} JVM threads × {@code ops} mixed operations on one
 * shared handle — byte[] and direct-buffer encrypt/decrypt, batches, legacy migration, tampered and
 * wrong-context values (which must fail), re-encryption after a rotation, small streams — each
 * result checked; then the same mix again while the handle is closed under the threads, which must
 * end every thread with {@link IllegalStateException} and nothing else. Prints the counts and exits
 * 1 on any error. {@code tests/stress.sh} runs it at full size; {@code StressTest} runs a short
 * version in the suite.
 *
 * <pre>java -cp lkr-crypt.jar:test-classes io.lkr.crypt.Stress [threads] [opsPerThread]</pre>
 */
public final class Stress {
    /** What a run did. */
    public static final class Result {
        public long operations;
        public long expectedFailures;
        public long closedSeen;
        public final List<Throwable> errors = new ArrayList<>();
        public double seconds;
    }

    private Stress() {}

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        Result r = run(threads, ops);
        System.out.printf(
                Locale.ROOT,
                "stress: %d threads x %,d ops = %,d operations in %.1f s (%,.0f ops/s); "
                        + "%,d expected failures (tampered/wrong context) seen; close while busy: %d of %d threads saw "
                        + "IllegalStateException; errors: %d%n",
                threads,
                ops,
                r.operations,
                r.seconds,
                r.operations / r.seconds,
                r.expectedFailures,
                r.closedSeen,
                threads,
                r.errors.size());
        for (Throwable t : r.errors.subList(0, Math.min(5, r.errors.size()))) {
            t.printStackTrace();
        }
        System.exit(r.errors.isEmpty() && r.closedSeen == threads ? 0 : 1);
    }

    /**
     * Runs both phases; never throws for a failed check (they are collected in {@link
     * Result#errors}).
     */
    public static Result run(int threads, int ops) throws Exception {
        Result result = new Result();
        byte[] legacyKey = new byte[16];
        ThreadLocalRandom.current().nextBytes(legacyKey);
        AtomicLong done = new AtomicLong();
        AtomicLong expected = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        long t0 = System.nanoTime();
        try (LkrCrypt first = LkrCrypt.openFromEnvironment((byte[]) null);
                LkrCrypt crypt = first.keystoreAdmin().rotateKek()) {
            byte[] oldEnvelope =
                    first.encrypt("before rotation".getBytes(StandardCharsets.UTF_8), new byte[0]);
            List<Thread> workers = new ArrayList<>();
            CountDownLatch start = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th =
                        new Thread(
                                () -> {
                                    try {
                                        start.await();
                                        Worker w = new Worker(crypt, legacyKey, oldEnvelope, id);
                                        for (int i = 0; i < ops; i++) {
                                            if (w.step(i)) {
                                                expected.incrementAndGet();
                                            }
                                            done.incrementAndGet();
                                        }
                                    } catch (Throwable e) {
                                        errors.add(e);
                                    }
                                },
                                "stress-" + t);
                workers.add(th);
                th.start();
            }
            start.countDown();
            for (Thread th : workers) {
                th.join();
            }
        }
        result.seconds = (System.nanoTime() - t0) / 1e9;
        result.operations = done.get();
        result.expectedFailures = expected.get();
        result.closedSeen = closeWhileBusy(threads, legacyKey, errors);
        result.errors.addAll(errors);
        return result;
    }

    /**
     * The same mix on a handle closed under the threads: each must stop with IllegalStateException.
     */
    private static long closeWhileBusy(
            int threads, byte[] legacyKey, ConcurrentLinkedQueue<Throwable> errors)
            throws Exception {
        LkrCrypt crypt = LkrCrypt.openFromEnvironment((byte[]) null);
        byte[] env = crypt.encrypt(new byte[10], new byte[0]);
        AtomicLong closedSeen = new AtomicLong();
        CountDownLatch running = new CountDownLatch(threads);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th =
                    new Thread(
                            () -> {
                                Worker w = new Worker(crypt, legacyKey, env, id);
                                running.countDown();
                                for (int i = 0; ; i++) {
                                    try {
                                        w.step(i);
                                    } catch (IllegalStateException closed) {
                                        closedSeen.incrementAndGet();
                                        return;
                                    } catch (Throwable e) {
                                        errors.add(e);
                                        return;
                                    }
                                }
                            });
            workers.add(th);
            th.start();
        }
        running.await();
        Thread.sleep(200);
        crypt.close();
        for (Thread th : workers) {
            th.join(60_000);
            if (th.isAlive()) {
                errors.add(new AssertionError(th.getName() + " did not stop after close"));
            }
        }
        return closedSeen.get();
    }

    /** One thread's operations; every result is checked. */
    private static final class Worker {
        private final LkrCrypt crypt;
        private final byte[] legacyKey;
        private final byte[] oldEnvelope;
        private final int id;
        private final ThreadLocalRandom rnd = ThreadLocalRandom.current();
        private final ByteBuffer in = ByteBuffer.allocateDirect(4096);
        private final ByteBuffer env = ByteBuffer.allocateDirect(4096 + LkrCrypt.OVERHEAD);
        private final ByteBuffer out = ByteBuffer.allocateDirect(4096);
        private final javax.crypto.Cipher cbc;

        Worker(LkrCrypt crypt, byte[] legacyKey, byte[] oldEnvelope, int id) {
            this.crypt = crypt;
            this.legacyKey = legacyKey;
            this.oldEnvelope = oldEnvelope;
            this.id = id;
            try {
                cbc = javax.crypto.Cipher.getInstance("AES/CBC/PKCS5Padding");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private static void check(boolean ok, String what) {
            if (!ok) {
                throw new AssertionError(what);
            }
        }

        /** One operation; true when it was one that must fail, and did. */
        boolean step(int i) throws Exception {
            byte[] pt = new byte[rnd.nextInt(i % 1000 == 0 ? 4096 : 256)];
            rnd.nextBytes(pt);
            byte[] ctx = ("T" + id + ".C:" + i).getBytes(StandardCharsets.UTF_8);
            switch (i % 8) {
                case 0:
                case 1:
                    {
                        byte[] e = crypt.encrypt(pt, ctx);
                        check(Arrays.equals(pt, crypt.decrypt(e, ctx)), "byte[] round trip");
                        return false;
                    }
                case 2:
                    {
                        in.clear();
                        in.put(pt).flip();
                        env.clear();
                        crypt.encrypt(in, ctx, env);
                        env.flip();
                        out.clear();
                        crypt.decrypt(env, ctx, out);
                        out.flip();
                        byte[] back = new byte[out.remaining()];
                        out.get(back);
                        check(Arrays.equals(pt, back), "direct round trip");
                        return false;
                    }
                case 3:
                    {
                        byte[][] envs =
                                crypt.encryptBatch(new byte[][] {pt, ctx}, new byte[][] {ctx, pt});
                        byte[][] back = crypt.decryptBatch(envs, new byte[][] {ctx, pt});
                        check(
                                Arrays.equals(pt, back[0]) && Arrays.equals(ctx, back[1]),
                                "batch round trip");
                        return false;
                    }
                case 4:
                    {
                        byte[] iv = new byte[16];
                        rnd.nextBytes(iv);
                        cbc.init(
                                javax.crypto.Cipher.ENCRYPT_MODE,
                                new javax.crypto.spec.SecretKeySpec(legacyKey, "AES"),
                                new javax.crypto.spec.IvParameterSpec(iv));
                        byte[] c = cbc.doFinal(pt);
                        byte[] legacy = new byte[16 + c.length];
                        System.arraycopy(iv, 0, legacy, 0, 16);
                        System.arraycopy(c, 0, legacy, 16, c.length);
                        byte[] migrated = crypt.legacyMigrator().migrate(legacy, ctx, legacyKey);
                        check(Arrays.equals(pt, crypt.decrypt(migrated, ctx)), "migrate");
                        return false;
                    }
                case 5:
                    {
                        byte[] e = crypt.encrypt(pt, ctx);
                        e[rnd.nextInt(e.length)] ^= (byte) (1 << rnd.nextInt(8));
                        try {
                            crypt.decrypt(e, ctx);
                            throw new AssertionError("a tampered value decrypted");
                        } catch (AEADBadTagException expected) {
                            return true;
                        }
                    }
                case 6:
                    {
                        byte[] moved =
                                crypt.keystoreAdmin().moveToActiveKek(oldEnvelope, new byte[0]);
                        check(
                                crypt.keystoreAdmin().kekIdOf(moved, new byte[0]).orElse(-1)
                                        == crypt.activeKekId(),
                                "reencrypt");
                        try {
                            crypt.decrypt(
                                    crypt.encrypt(pt, ctx),
                                    "other".getBytes(StandardCharsets.UTF_8));
                            throw new AssertionError("a value decrypted under another context");
                        } catch (AEADBadTagException expected) {
                            return true;
                        }
                    }
                default:
                    {
                        ByteArrayOutputStream sink = new ByteArrayOutputStream();
                        try (OutputStream o = crypt.encryptingStream(sink, ctx, 4096)) {
                            o.write(pt);
                        }
                        try (InputStream s =
                                crypt.decryptingStream(
                                        new ByteArrayInputStream(sink.toByteArray()), ctx)) {
                            check(Arrays.equals(pt, s.readAllBytes()), "stream round trip");
                        }
                        return false;
                    }
            }
        }
    }
}
