package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One handle shared by many threads; close while they are busy. */
class ConcurrencyTest {

    @Test
    @Timeout(120)
    void manyThreadsManyOperationsOneHandle() throws Exception {
        int threads = 16;
        int ops = 3000;
        ConcurrentLinkedQueue<byte[][]> shared = new ConcurrentLinkedQueue<>();
        AtomicLong done = new AtomicLong();
        try (LkrCrypt crypt = TestSupport.openNew()) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(
                        pool.submit(
                                () -> {
                                    start.await();
                                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                                    ByteBuffer in = ByteBuffer.allocateDirect(4096);
                                    ByteBuffer env =
                                            ByteBuffer.allocateDirect(4096 + LkrCrypt.OVERHEAD);
                                    ByteBuffer out = ByteBuffer.allocateDirect(4096);
                                    for (int i = 0; i < ops; i++) {
                                        byte[] pt =
                                                new byte[rnd.nextInt(i % 100 == 0 ? 4096 : 200)];
                                        rnd.nextBytes(pt);
                                        byte[] ctx = utf8("T" + id + ".C:" + i);
                                        switch (i % 4) {
                                            case 0:
                                                {
                                                    byte[] e = crypt.encrypt(pt, ctx);
                                                    assertArrayEquals(pt, crypt.decrypt(e, ctx));
                                                    shared.add(new byte[][] {e, ctx, pt});
                                                    break;
                                                }
                                            case 1:
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
                                                    assertArrayEquals(pt, back);
                                                    break;
                                                }
                                            case 2:
                                                {
                                                    byte[][] envs =
                                                            crypt.encryptBatch(
                                                                    new byte[][] {pt, pt},
                                                                    new byte[][] {ctx, ctx});
                                                    assertArrayEquals(
                                                            pt,
                                                            crypt.decryptBatch(
                                                                            envs,
                                                                            new byte[][] {
                                                                                ctx, ctx
                                                                            })[1]);
                                                    break;
                                                }
                                            default:
                                                {
                                                    // Decrypt what another thread encrypted.
                                                    byte[][] other = shared.poll();
                                                    if (other != null) {
                                                        assertArrayEquals(
                                                                other[2],
                                                                crypt.decrypt(other[0], other[1]));
                                                        assertThrows(
                                                                javax.crypto.AEADBadTagException
                                                                        .class,
                                                                () -> crypt.decrypt(other[0], ctx));
                                                    }
                                                }
                                        }
                                        done.incrementAndGet();
                                    }
                                    return null;
                                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(110, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
        assertEquals((long) threads * ops, done.get());
    }

    @Test
    @Timeout(120)
    void closeWhileBusy() throws Exception {
        for (int round = 0; round < 5; round++) {
            LkrCrypt crypt = TestSupport.openNew();
            int threads = 8;
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger closedSeen = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            CountDownLatch running = new CountDownLatch(threads);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th =
                        new Thread(
                                () -> {
                                    byte[] big = new byte[id % 2 == 0 ? 1 << 20 : 64];
                                    byte[] ctx = utf8("C:" + id);
                                    ByteBuffer in = ByteBuffer.allocateDirect(1024);
                                    ByteBuffer env =
                                            ByteBuffer.allocateDirect(1024 + LkrCrypt.OVERHEAD);
                                    running.countDown();
                                    while (true) {
                                        try {
                                            byte[] e = crypt.encrypt(big, ctx);
                                            byte[] back = crypt.decrypt(e, ctx);
                                            if (back.length != big.length) {
                                                unexpected.add(
                                                        new AssertionError(
                                                                "length " + back.length));
                                            }
                                            in.clear();
                                            env.clear();
                                            crypt.encrypt(in, ctx, env);
                                            crypt.encryptBatch(
                                                    new byte[][] {ctx}, new byte[][] {ctx});
                                            ok.incrementAndGet();
                                        } catch (IllegalStateException closed) {
                                            closedSeen.incrementAndGet();
                                            return;
                                        } catch (Throwable other) {
                                            unexpected.add(other);
                                            return;
                                        }
                                    }
                                });
                workers.add(th);
                th.start();
            }
            running.await();
            // Busy for sure before the close: the workers have done some work (a fixed sleep
            // alone may end before any of them, on a loaded machine or across a GC pause).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ok.get() < threads && unexpected.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            Thread.sleep(30 + 20 * round);
            crypt.close();
            for (Thread th : workers) {
                th.join(60_000);
                assertTrue(!th.isAlive(), "worker stopped");
            }
            assertTrue(unexpected.isEmpty(), () -> "unexpected: " + unexpected);
            assertEquals(
                    threads,
                    closedSeen.get(),
                    "every worker saw IllegalStateException after close");
            assertTrue(
                    ok.get() >= threads,
                    () -> "the workers did too little before the close: " + ok.get());
            assertThrows(
                    IllegalStateException.class, () -> crypt.encrypt(new byte[1], new byte[0]));
        }
    }

    @Test
    void unreachableHandlesAreReleased() throws Exception {
        // Handles never closed are released by the cleaner; the JVM keeps running.
        for (int i = 0; i < 200; i++) {
            LkrCrypt c = TestSupport.openNew();
            c.encrypt(new byte[10], new byte[0]);
        }
        System.gc();
        Thread.sleep(100);
        try (LkrCrypt c = TestSupport.openNew()) {
            assertEquals(1, c.activeKekId());
        }
    }
}
