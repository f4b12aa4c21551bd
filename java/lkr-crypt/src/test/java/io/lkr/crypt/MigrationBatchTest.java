package io.lkr.crypt;

import static io.lkr.crypt.LegacyMigrationTest.legacy;
import static io.lkr.crypt.TestSupport.random;
import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.LegacyMigrator.MigrateOption;
import io.lkr.crypt.MigrationResult.Outcome;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The packed batch migration ({@link MigrationBatch}, {@code Native.migratePacked}): the same
 * results as the per-item calls, contexts built from a prefix and a key, reuse, and bad arguments
 * refused with exceptions (never a crash).
 */
class MigrationBatchTest {
    static final byte[] KEY = random(16);
    static LkrCrypt crypt;
    static LkrCrypt rotated;

    @BeforeAll
    static void open() throws Exception {
        crypt = TestSupport.openNew();
        rotated = crypt.keystoreAdmin().rotateKek();
    }

    @AfterAll
    static void close() {
        rotated.close();
        crypt.close();
    }

    /** A mix of every kind of value, with its context. */
    static final class Mix {
        final List<byte[]> values = new ArrayList<>();
        final List<byte[]> contexts = new ArrayList<>();

        void add(byte[] value, byte[] context) {
            values.add(value);
            contexts.add(context);
        }
    }

    static Mix mix(int n) throws Exception {
        byte[] wrongKey = random(16);
        Mix m = new Mix();
        for (int i = 0; i < n; i++) {
            byte[] ctx = utf8("CONNECTION.PASSWORD:" + i);
            byte[] pt = utf8("secret " + i + " é".repeat(i % 7));
            switch (i % 8) {
                case 0:
                    m.add(legacy(KEY, pt), ctx);
                    break;
                case 1:
                    m.add(
                            crypt.encrypt(pt, ctx),
                            ctx); // v1 under the old KEK: ROTATED with REENCRYPT
                    break;
                case 2:
                    m.add(rotated.encrypt(pt, ctx), ctx); // v1 under the active KEK
                    break;
                case 3:
                    m.add(legacy(wrongKey, pt), ctx);
                    break;
                case 4:
                    m.add(random(i % 50), ctx);
                    break;
                case 5:
                    m.add(
                            rotated.encrypt(pt, utf8("OTHER.CONTEXT:" + i)),
                            ctx); // not authentic here
                    break;
                case 6:
                    m.add(
                            legacy(KEY, new byte[] {(byte) 0xff, (byte) 0xfe, (byte) i}),
                            ctx); // not UTF-8
                    break;
                default:
                    m.add(legacy(KEY, random(i % 40)), new byte[0]);
            }
        }
        return m;
    }

    /**
     * What the per-item API does with one value: the outcome and the result (null if
     * undecryptable).
     */
    static Object[] perItem(
            byte[] value, byte[] ctx, boolean utf8, boolean reencrypt, boolean strictV1)
            throws Exception {
        if (strictV1
                && heldEnvelopeShape(value)
                && rotated.keystoreAdmin().kekIdOf(value, ctx).isEmpty()) {
            return new Object[] {Outcome.UNUSABLE_V1, null}; // never tried as legacy
        }
        if (reencrypt) {
            try {
                byte[] r = rotated.keystoreAdmin().moveToActiveKek(value, ctx);
                return new Object[] {
                    Arrays.equals(r, value) ? Outcome.ALREADY_V1 : Outcome.ROTATED, r
                };
            } catch (NotAuthenticException e) {
                // Not an authentic v1 value: the legacy path below.
            }
        }
        try {
            byte[] r;
            if (utf8) {
                String text =
                        rotated.legacyMigrator()
                                .migrateString(
                                        Base64.getEncoder().encodeToString(value),
                                        new String(ctx, StandardCharsets.UTF_8),
                                        KEY);
                r = Base64.getDecoder().decode(text);
            } else {
                r = rotated.legacyMigrator().migrate(value, ctx, KEY);
            }
            return new Object[] {
                Arrays.equals(r, value) ? Outcome.ALREADY_V1 : Outcome.FROM_LEGACY, r
            };
        } catch (LegacyException e) {
            return new Object[] {Outcome.UNDECRYPTABLE, null};
        }
    }

    /**
     * Starts like an envelope v1 (docs/envelope.md: "LKR", version 1, algorithm 1) of a KEK {@code
     * rotated} holds.
     */
    static boolean heldEnvelopeShape(byte[] v) {
        if (v.length < LkrCrypt.OVERHEAD
                || v[0] != 'L'
                || v[1] != 'K'
                || v[2] != 'R'
                || v[3] != 1
                || v[4] != 1) {
            return false;
        }
        int id =
                ((v[5] & 0xff) << 24)
                        | ((v[6] & 0xff) << 16)
                        | ((v[7] & 0xff) << 8)
                        | (v[8] & 0xff);
        return Arrays.stream(rotated.keystoreAdmin().kekIds()).anyMatch(k -> k == id);
    }

    @Test
    void sameResultsAsThePerItemCalls() throws Exception {
        Mix m = mix(400);
        int n = m.values.size();
        for (Set<MigrateOption> options :
                List.of(
                        EnumSet.noneOf(MigrateOption.class),
                        EnumSet.of(MigrateOption.REQUIRE_UTF8),
                        EnumSet.of(MigrateOption.MOVE_TO_ACTIVE_KEK),
                        EnumSet.of(MigrateOption.STRICT_V1),
                        EnumSet.allOf(MigrateOption.class))) {
            boolean utf8 = options.contains(MigrateOption.REQUIRE_UTF8);
            boolean re = options.contains(MigrateOption.MOVE_TO_ACTIVE_KEK);
            boolean strict = options.contains(MigrateOption.STRICT_V1);
            MigrationBatch batch = new MigrationBatch();
            for (int i = 0; i < n; i++) {
                assertEquals(i, batch.add(m.values.get(i), m.contexts.get(i)));
            }
            rotated.legacyMigrator().migrateBatch(batch, KEY, options);
            MigrationResult[] viaArrays =
                    rotated.legacyMigrator()
                            .migrateBatch(
                                    m.values.toArray(new byte[0][]),
                                    m.contexts.toArray(new byte[0][]),
                                    KEY,
                                    options);
            assertEquals(n, batch.size());
            int[] seen = new int[Outcome.values().length];
            for (int i = 0; i < n; i++) {
                String what = options + " item " + i;
                byte[] v = m.values.get(i);
                byte[] ctx = m.contexts.get(i);
                Object[] expected = perItem(v, ctx, utf8, re, strict);
                Outcome outcome = batch.outcome(i);
                seen[outcome.ordinal()]++;
                assertEquals(expected[0], outcome, what);
                assertEquals(outcome, viaArrays[i].outcome(), what);
                if (!outcome.hasValue()) {
                    assertNull(batch.result(i), what);
                    assertNull(batch.resultBase64(i), what);
                    assertEquals(0, batch.resultLength(i), what);
                    if (outcome == Outcome.UNUSABLE_V1) {
                        assertTrue(strict && heldEnvelopeShape(v), what);
                        assertTrue(
                                batch.message(i).startsWith("The value is an envelope v1 of KEK "),
                                what);
                    } else {
                        assertEquals("Legacy value could not be decrypted", batch.message(i), what);
                    }
                    assertEquals(batch.message(i), viaArrays[i].message(), what);
                    assertNull(viaArrays[i].value(), what);
                    continue;
                }
                assertNull(batch.message(i), what);
                byte[] got = batch.result(i);
                assertEquals(got.length, batch.resultLength(i), what);
                assertArrayEquals(
                        got,
                        Arrays.copyOfRange(
                                batch.resultBuffer(),
                                batch.resultOffset(i),
                                batch.resultOffset(i) + batch.resultLength(i)),
                        what);
                assertEquals(Base64.getEncoder().encodeToString(got), batch.resultBase64(i), what);
                byte[] want = (byte[]) expected[1];
                assertEquals(want.length, got.length, what);
                if (outcome == Outcome.ALREADY_V1) {
                    assertArrayEquals(v, got, what);
                    assertArrayEquals(v, viaArrays[i].value(), what);
                } else {
                    // Fresh envelopes differ (random salt and nonce): compare what they hold.
                    assertArrayEquals(rotated.decrypt(want, ctx), rotated.decrypt(got, ctx), what);
                    assertArrayEquals(
                            rotated.decrypt(want, ctx),
                            rotated.decrypt(viaArrays[i].value(), ctx),
                            what);
                    assertEquals(
                            rotated.activeKekId(),
                            rotated.keystoreAdmin().kekIdOf(got, ctx).getAsInt(),
                            what);
                }
            }
            assertTrue(
                    seen[Outcome.FROM_LEGACY.ordinal()] > 0
                            && seen[Outcome.ALREADY_V1.ordinal()] > 0
                            && seen[Outcome.UNDECRYPTABLE.ordinal()] > 0,
                    options + ": " + Arrays.toString(seen));
            assertEquals(
                    re,
                    seen[Outcome.ROTATED.ordinal()] > 0,
                    options + ": " + Arrays.toString(seen));
        }
    }

    @Test
    void contextsFromAPrefixAndAKey() throws Exception {
        byte[] prefix = utf8("CONNECTION.PASSWORD:");
        String[] keys = {"1", "", "ключ-😀", "é", "a\u0000b", "12345678901234567890"};
        byte[][] values = new byte[keys.length][];
        MigrationBatch batch = new MigrationBatch(1, 1);
        for (int i = 0; i < keys.length; i++) {
            values[i] = legacy(KEY, utf8("pw " + i));
            byte[] padded = new byte[values[i].length + 10];
            System.arraycopy(values[i], 0, padded, 5, values[i].length);
            batch.add(padded, 5, values[i].length, prefix, keys[i]);
        }
        batch.add(values[0], 0, values[0].length, new byte[0], null); // the empty context
        crypt.legacyMigrator().migrateBatch(batch, KEY, true);
        for (int i = 0; i < keys.length; i++) {
            assertEquals(Outcome.FROM_LEGACY, batch.outcome(i));
            byte[] ctx = utf8("CONNECTION.PASSWORD:" + keys[i]);
            assertArrayEquals(utf8("pw " + i), crypt.decrypt(batch.result(i), ctx), keys[i]);
        }
        assertArrayEquals(utf8("pw 0"), crypt.decrypt(batch.result(keys.length), new byte[0]));
    }

    @Test
    void aBatchIsReusedAndGrows() throws Exception {
        MigrationBatch batch = new MigrationBatch(2, 16);
        for (int round = 0; round < 4; round++) {
            batch.clear();
            int n = 1 + round * 500;
            byte[][] pts = new byte[n][];
            for (int i = 0; i < n; i++) {
                pts[i] = utf8("round " + round + " value " + i + "x".repeat((i * 7 + round) % 300));
                batch.add(
                        legacy(KEY, pts[i]),
                        0,
                        legacy(KEY, pts[i]).length,
                        utf8("T.C:"),
                        Integer.toString(i));
            }
            crypt.legacyMigrator().migrateBatch(batch, KEY, true);
            assertEquals(n, batch.size());
            for (int i = 0; i < n; i++) {
                assertArrayEquals(
                        pts[i],
                        crypt.decrypt(
                                Base64.getDecoder().decode(batch.resultBase64(i)),
                                utf8("T.C:" + i)));
            }
        }
        batch.clear();
        crypt.legacyMigrator().migrateBatch(batch, KEY, false); // an empty batch
        assertEquals(0, batch.size());
        assertThrows(IndexOutOfBoundsException.class, () -> batch.outcome(0));
    }

    @Test
    void resultsOnlyAfterAMigration() throws Exception {
        MigrationBatch batch = new MigrationBatch();
        batch.add(legacy(KEY, utf8("a")), utf8("T.C:1"));
        assertThrows(IllegalStateException.class, () -> batch.outcome(0));
        crypt.legacyMigrator().migrateBatch(batch, KEY, true);
        assertEquals(Outcome.FROM_LEGACY, batch.outcome(0));
        assertThrows(IndexOutOfBoundsException.class, () -> batch.outcome(1));
        assertThrows(IndexOutOfBoundsException.class, () -> batch.resultOffset(-1));
        batch.add(legacy(KEY, utf8("b")), utf8("T.C:2"));
        assertThrows(
                IllegalStateException.class, () -> batch.result(0), "adding discards the results");
        batch.clear();
        assertThrows(IllegalStateException.class, () -> batch.message(0));
    }

    @Test
    void badArgumentsToTheBatch() throws Exception {
        MigrationBatch batch = new MigrationBatch();
        byte[] v = new byte[10];
        assertThrows(NullPointerException.class, () -> batch.add(null, v));
        assertThrows(NullPointerException.class, () -> batch.add(v, null));
        assertThrows(NullPointerException.class, () -> batch.add(v, 0, 1, null, "k"));
        assertThrows(IllegalArgumentException.class, () -> batch.add(v, -1, 2, v, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> batch.add(v, 5, 6, v, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> batch.add(v, 0, -1, v, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> batch.add(v, 0, 1, v, 10, 1));
        assertThrows(
                IllegalArgumentException.class, () -> batch.add(v, Integer.MAX_VALUE, 2, v, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new MigrationBatch(-1, 0));
        assertEquals(0, batch.size(), "nothing was added by the refused calls");
        assertThrows(
                NullPointerException.class,
                () -> crypt.legacyMigrator().migrateBatch((MigrationBatch) null, KEY, true));
        assertThrows(
                NullPointerException.class,
                () -> crypt.legacyMigrator().migrateBatch(batch, KEY, (Set<MigrateOption>) null));
        batch.add(legacy(KEY, utf8("a")), utf8("T.C:1"));
        assertThrows(
                LegacyException.class,
                () -> crypt.legacyMigrator().migrateBatch(batch, new byte[15], true),
                "legacy key size");
        assertThrows(
                LegacyException.class,
                () -> crypt.legacyMigrator().migrateBatch(batch, null, true),
                "no legacy key configured");
        // The batch still works after the failures.
        crypt.legacyMigrator().migrateBatch(batch, KEY, true);
        assertEquals(Outcome.FROM_LEGACY, batch.outcome(0));
        LkrCrypt closed = TestSupport.openNew();
        closed.close();
        assertThrows(
                IllegalStateException.class,
                () -> closed.legacyMigrator().migrateBatch(batch, KEY, true));
    }

    private static long handleOf(LkrCrypt c) throws Exception {
        Field h = LkrCrypt.class.getDeclaredField("handle");
        h.setAccessible(true);
        Object handle = h.get(c);
        Field ptr = handle.getClass().getDeclaredField("ptr");
        ptr.setAccessible(true);
        return ptr.getLong(handle);
    }

    /** Arguments of one call of {@code Native.migratePacked}, valid until changed. */
    static final class Call {
        long handle;
        int count = 2;
        byte[] values;
        int[] valueEnds;
        byte[] contexts = utf8("T.C:1T.C:2");
        int[] contextEnds = {5, 10};
        byte[] key = KEY;
        int flags = 1;
        byte[] out;
        int[] outEnds = new int[2];
        int[] outcomes = new int[2];
        String[] messages = new String[2];

        Call(long handle) throws Exception {
            this.handle = handle;
            byte[] a = legacy(KEY, utf8("one"));
            byte[] b = legacy(KEY, utf8("two"));
            values = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, values, a.length, b.length);
            valueEnds = new int[] {a.length, values.length};
            out = new byte[values.length + 2 * MigrationBatch.EXPANSION];
        }

        void run() {
            Native.migratePacked(
                    handle,
                    count,
                    values,
                    valueEnds,
                    contexts,
                    contextEnds,
                    key,
                    flags,
                    out,
                    outEnds,
                    outcomes,
                    messages);
        }
    }

    /** Runs a call changed by {@code change}; it must throw {@code type}. */
    private static void refused(Class<? extends Throwable> type, String what, Change change)
            throws Exception {
        Call c = new Call(handleOf(crypt));
        change.apply(c);
        Executable run = c::run;
        Throwable t = assertThrows(type, run, what);
        assertTrue(t.getMessage() != null && !t.getMessage().isEmpty(), what);
    }

    interface Change {
        void apply(Call c) throws Exception;
    }

    @Test
    void theNativeCallRefusesBadArguments() throws Exception {
        Call ok = new Call(handleOf(crypt));
        ok.run();
        assertArrayEquals(new int[] {1, 1}, ok.outcomes);
        assertArrayEquals(
                utf8("one"),
                crypt.decrypt(Arrays.copyOfRange(ok.out, 0, ok.outEnds[0]), utf8("T.C:1")));
        assertArrayEquals(
                utf8("two"),
                crypt.decrypt(
                        Arrays.copyOfRange(ok.out, ok.outEnds[0], ok.outEnds[1]), utf8("T.C:2")));

        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        refused(iae, "handle 0", c -> c.handle = 0);
        refused(iae, "negative count", c -> c.count = -1);
        refused(iae, "count beyond valueEnds", c -> c.count = 3);
        refused(iae, "null values", c -> c.values = null);
        refused(iae, "null valueEnds", c -> c.valueEnds = null);
        refused(iae, "null contexts", c -> c.contexts = null);
        refused(iae, "null contextEnds", c -> c.contextEnds = null);
        refused(iae, "null out", c -> c.out = null);
        refused(iae, "null outEnds", c -> c.outEnds = null);
        refused(iae, "null outcomes", c -> c.outcomes = null);
        refused(iae, "null messages", c -> c.messages = null);
        refused(iae, "negative end", c -> c.valueEnds[0] = -1);
        refused(iae, "decreasing ends", c -> c.valueEnds[1] = c.valueEnds[0] - 1);
        refused(iae, "end beyond the values", c -> c.valueEnds[1] = c.values.length + 1);
        refused(iae, "end at Integer.MAX_VALUE", c -> c.valueEnds[1] = Integer.MAX_VALUE);
        refused(iae, "context end beyond the contexts", c -> c.contextEnds[1] = 11);
        refused(iae, "decreasing context ends", c -> c.contextEnds[1] = 4);
        refused(iae, "out too small", c -> c.out = new byte[c.out.length - 1]);
        refused(iae, "outEnds too short", c -> c.outEnds = new int[1]);
        refused(iae, "outcomes too short", c -> c.outcomes = new int[1]);
        refused(iae, "messages too short", c -> c.messages = new String[1]);
        refused(iae, "unknown flags", c -> c.flags = 8);
        refused(iae, "negative flags", c -> c.flags = -1);
        refused(
                iae,
                "out is the values' array",
                c -> {
                    c.values = Arrays.copyOf(c.values, c.out.length);
                    c.out = c.values;
                });
        refused(
                iae,
                "out is the contexts' array",
                c -> {
                    c.contexts = Arrays.copyOf(c.contexts, c.out.length);
                    c.out = c.contexts;
                });
        refused(LegacyException.class, "legacy key of 17 bytes", c -> c.key = new byte[17]);
        refused(LegacyException.class, "no legacy key", c -> c.key = null);

        // Allowed: count 0 with empty arrays, and one array holding both the values and the
        // contexts.
        Call empty = new Call(handleOf(crypt));
        empty.count = 0;
        empty.values = new byte[0];
        empty.valueEnds = new int[0];
        empty.contexts = new byte[0];
        empty.contextEnds = new int[0];
        empty.out = new byte[0];
        empty.outEnds = new int[0];
        empty.outcomes = new int[0];
        empty.messages = new String[0];
        empty.run();
        Call shared = new Call(handleOf(crypt));
        shared.count = 1;
        shared.valueEnds = new int[] {shared.valueEnds[0]};
        shared.contexts = shared.values; // context = the first value's bytes
        shared.contextEnds = new int[] {0};
        shared.flags = 0;
        shared.run();
        assertEquals(1, shared.outcomes[0]);
        assertArrayEquals(
                utf8("one"),
                crypt.decrypt(Arrays.copyOfRange(shared.out, 0, shared.outEnds[0]), new byte[0]));
    }
}
