package io.lkr.crypt;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A reusable batch for bulk migrations ({@link LegacyMigrator#migrateBatch(MigrationBatch, byte[],
 * java.util.Set)}), packed so that no object is made per value: the values and their contexts are
 * appended to two byte arrays, one native call migrates them all and writes every result into one
 * output array, and the results are read back by index — an outcome, and a slice of {@link
 * #resultBuffer()} (or its text form, {@link #resultBase64(int)}).
 *
 * <pre>{@code
 * MigrationBatch batch = new MigrationBatch();   // kept and reused
 * batch.clear();
 * for (...) batch.add(value, 0, value.length, prefix, keyText);   // context = prefix ‖ UTF-8(keyText)
 * crypt.legacyMigrator().migrateBatch(batch, legacyKey, true);
 * for (int i = 0; i < batch.size(); i++) {
 *     if (batch.outcome(i) == MigrationResult.Outcome.FROM_LEGACY) store(batch.resultBase64(i));
 * }
 * }</pre>
 *
 * The semantics are those of {@link LegacyMigrator#migrateBatch(byte[][], byte[][], byte[],
 * java.util.Set)}, which is built on this class. Values and contexts are copied in; results stay
 * valid until the next {@link #add}, {@link #clear()} or migration. Keep batches to thousands of
 * values (the native call holds the arrays pinned while it runs). Not thread-safe: one batch per
 * thread.
 *
 * <p>Bad arguments throw {@link NullPointerException} or {@link IllegalArgumentException}; an index
 * outside the batch, {@link IndexOutOfBoundsException}.
 */
public final class MigrationBatch {
    /**
     * The most bytes a migrated value has beyond the value itself (the envelope header; a legacy
     * value's IV and padding are longer than the tag). Must match the engine's {@code
     * Crypt::migrated_max_len}, which the native call checks.
     */
    static final int EXPANSION = LkrCrypt.HEADER_LENGTH;

    private static final int[] NO_INTS = new int[0];
    private static final byte[] NO_BYTES = new byte[0];

    private byte[] values;
    private int valuesLength;
    private int[] valueEnds;
    private byte[] contexts;
    private int contextsLength;
    private int[] contextEnds;
    private int size;

    private byte[] out = NO_BYTES;
    private int[] outEnds = NO_INTS;
    private int[] outcomes = NO_INTS;
    private String[] messages = new String[0];

    /** Items with results (the size at the last migration), or -1. */
    private int results = -1;

    /** An empty batch that grows as needed. */
    public MigrationBatch() {
        this(64, 16 * 1024);
    }

    /**
     * An empty batch sized for {@code items} values of {@code valueBytes} bytes in all (it grows
     * beyond).
     *
     * @param items the number of values expected
     * @param valueBytes their total size in bytes
     */
    public MigrationBatch(int items, int valueBytes) {
        if (items < 0 || valueBytes < 0) {
            throw new IllegalArgumentException("items and valueBytes must not be negative");
        }
        values = new byte[valueBytes];
        valueEnds = new int[items];
        contexts = new byte[Math.min(valueBytes, 32 * items)];
        contextEnds = new int[items];
    }

    /**
     * A batch of {@code values[i]} with {@code contexts[i]} (checked by the caller), sized for
     * them.
     */
    static MigrationBatch of(byte[][] values, byte[][] contexts) {
        long bytes = 0;
        for (byte[] v : values) {
            bytes += v.length;
        }
        MigrationBatch batch =
                new MigrationBatch(values.length, (int) Math.min(bytes, Integer.MAX_VALUE - 8));
        for (int i = 0; i < values.length; i++) {
            batch.add(values[i], contexts[i]);
        }
        return batch;
    }

    /** One {@link MigrationResult} per value, after a migration. */
    MigrationResult[] results() {
        MigrationResult[] out = new MigrationResult[size];
        for (int i = 0; i < size; i++) {
            out[i] = MigrationResult.fromNative(outcomeCode(i), result(i), message(i));
        }
        return out;
    }

    /** Empties the batch (keeping its arrays). */
    public void clear() {
        size = 0;
        valuesLength = 0;
        contextsLength = 0;
        results = -1;
    }

    /**
     * The number of values added.
     *
     * @return the number of values
     */
    public int size() {
        return size;
    }

    /**
     * Appends {@code value} with its {@code context}; returns its index.
     *
     * @param value the stored value (legacy or envelope v1)
     * @param context its context
     * @return its index in the batch
     */
    public int add(byte[] value, byte[] context) {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(context, "context");
        return add(value, 0, value.length, context, 0, context.length);
    }

    /**
     * Appends {@code value[off .. off+len]} with the context {@code context[contextOff ..
     * contextOff+contextLen]}.
     *
     * @param value the array holding the stored value
     * @param off where the value starts
     * @param len its length
     * @param context the array holding the context
     * @param contextOff where the context starts
     * @param contextLen its length
     * @return its index in the batch
     */
    public int add(byte[] value, int off, int len, byte[] context, int contextOff, int contextLen) {
        checkRange(value, off, len, "value");
        checkRange(context, contextOff, contextLen, "context");
        int i = beginItem(len);
        ensureContexts(contextLen);
        System.arraycopy(context, contextOff, contexts, contextsLength, contextLen);
        contextsLength += contextLen;
        return endItem(i, value, off, len);
    }

    /**
     * Appends {@code value[off .. off+len]} with the context {@code contextPrefix ‖
     * UTF-8(contextSuffix)} — e.g. {@code "TABLE.COLUMN:"} and the row's key — built without
     * allocating for ASCII suffixes. A null suffix is the empty one.
     *
     * @param value the array holding the stored value
     * @param off where the value starts
     * @param len its length
     * @param contextPrefix the context's first bytes
     * @param contextSuffix the rest of the context, as text (or null)
     * @return its index in the batch
     */
    public int add(byte[] value, int off, int len, byte[] contextPrefix, String contextSuffix) {
        checkRange(value, off, len, "value");
        Objects.requireNonNull(contextPrefix, "contextPrefix");
        int i = beginItem(len);
        int suffixLength = contextSuffix == null ? 0 : contextSuffix.length();
        // A char is at most 3 UTF-8 bytes (a surrogate pair, 2 chars, is 4).
        ensureContexts(contextPrefix.length + 3L * suffixLength);
        System.arraycopy(contextPrefix, 0, contexts, contextsLength, contextPrefix.length);
        int p = contextsLength + contextPrefix.length;
        int k = 0;
        for (; k < suffixLength; k++) {
            char ch = contextSuffix.charAt(k);
            if (ch >= 0x80) {
                break;
            }
            contexts[p++] = (byte) ch;
        }
        if (k < suffixLength) {
            byte[] rest = contextSuffix.substring(k).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(rest, 0, contexts, p, rest.length);
            p += rest.length;
        }
        contextsLength = p;
        return endItem(i, value, off, len);
    }

    private static void checkRange(byte[] array, int off, int len, String what) {
        Objects.requireNonNull(array, what);
        if (off < 0 || len < 0 || off > array.length - len) {
            throw new IllegalArgumentException(
                    what
                            + ": offset "
                            + off
                            + " and length "
                            + len
                            + " do not fit an array of "
                            + array.length);
        }
    }

    /** Makes room for one more item of {@code valueLength} bytes; returns its index. */
    private int beginItem(int valueLength) {
        results = -1;
        int i = size;
        if (i == valueEnds.length) {
            int n = Math.max(16, grow(i, i + 1L));
            valueEnds = Arrays.copyOf(valueEnds, n);
            contextEnds = Arrays.copyOf(contextEnds, n);
        }
        long need = valuesLength + (long) valueLength;
        if (need > values.length) {
            values = Arrays.copyOf(values, grow(values.length, need));
        }
        return i;
    }

    private int endItem(int i, byte[] value, int off, int len) {
        System.arraycopy(value, off, values, valuesLength, len);
        valuesLength += len;
        valueEnds[i] = valuesLength;
        contextEnds[i] = contextsLength;
        size = i + 1;
        return i;
    }

    private void ensureContexts(long extra) {
        long need = contextsLength + extra;
        if (need > contexts.length) {
            contexts = Arrays.copyOf(contexts, grow(contexts.length, need));
        }
    }

    /** A new capacity of at least {@code need}, at least doubling {@code current}. */
    private static int grow(int current, long need) {
        long n = Math.max(need, 2L * current);
        if (need > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "The batch is too large for one Java array: migrate it in parts");
        }
        return (int) Math.min(n, Integer.MAX_VALUE - 8);
    }

    /**
     * Runs the native migration (the caller holds the handle's read lock) with {@code legacyKey}
     * (16 bytes; null: the environment's).
     */
    void migrate(long handle, byte[] legacyKey, int flags) throws GeneralSecurityException {
        results = -1;
        int n = size;
        long outNeed = valuesLength + (long) EXPANSION * n;
        if (outNeed > out.length) {
            out = new byte[grow(out.length, outNeed)];
        }
        if (outEnds.length < n) {
            int cap = grow(outEnds.length, n);
            outEnds = new int[cap];
            outcomes = new int[cap];
            messages = new String[cap];
        } else {
            Arrays.fill(messages, 0, n, null);
        }
        Native.migratePacked(
                handle,
                n,
                values,
                valueEnds,
                contexts,
                contextEnds,
                legacyKey,
                flags,
                out,
                outEnds,
                outcomes,
                messages);
        results = n;
    }

    private int checkResult(int i) {
        if (results < 0) {
            throw new IllegalStateException(
                    "The batch has no results: migrate it first "
                            + "(LegacyMigrator.migrateBatch(MigrationBatch, ...)); adding or clearing discards them");
        }
        return Objects.checkIndex(i, results);
    }

    /** The outcome code of value {@code i} (as shared with the native side). */
    int outcomeCode(int i) {
        return outcomes[checkResult(i)];
    }

    /**
     * What the migration did with value {@code i}.
     *
     * @param i the value's index
     * @return its outcome
     */
    public MigrationResult.Outcome outcome(int i) {
        return MigrationResult.Outcome.fromCode(outcomes[checkResult(i)]);
    }

    /**
     * The array holding every result (the batch's own, reused by the next migration): value {@code
     * i}'s envelope v1 is at {@link #resultOffset(int)}, {@link #resultLength(int)} bytes.
     *
     * @return the result array
     */
    public byte[] resultBuffer() {
        return out;
    }

    /**
     * Where value {@code i}'s result starts in {@link #resultBuffer()}.
     *
     * @param i the value's index
     * @return the offset of its result
     */
    public int resultOffset(int i) {
        return checkResult(i) == 0 ? 0 : outEnds[i - 1];
    }

    /**
     * The length of value {@code i}'s result: the envelope v1 (FROM_LEGACY, ROTATED: the new value;
     * ALREADY_V1: the value itself), 0 if UNDECRYPTABLE.
     *
     * @param i the value's index
     * @return the length of its result
     */
    public int resultLength(int i) {
        return outEnds[checkResult(i)] - resultOffset(i);
    }

    /**
     * A copy of value {@code i}'s result, or null if it has none (UNDECRYPTABLE, UNUSABLE_V1).
     *
     * @param i the value's index
     * @return its result, or null
     */
    public byte[] result(int i) {
        if (!outcome(i).hasValue()) {
            return null;
        }
        int from = resultOffset(i);
        return Arrays.copyOfRange(out, from, outEnds[i]);
    }

    /**
     * Value {@code i}'s result in the stored text form (standard base64), or null if it has none.
     *
     * @param i the value's index
     * @return its result as base64, or null
     */
    public String resultBase64(int i) {
        if (!outcome(i).hasValue()) {
            return null;
        }
        int from = resultOffset(i);
        ByteBuffer text = Base64.getEncoder().encode(ByteBuffer.wrap(out, from, outEnds[i] - from));
        return new String(
                text.array(), text.arrayOffset(), text.remaining(), StandardCharsets.ISO_8859_1);
    }

    /**
     * Why value {@code i} is UNDECRYPTABLE or UNUSABLE_V1 (the engine's message); null otherwise.
     *
     * @param i the value's index
     * @return the engine's message, or null
     */
    public String message(int i) {
        return messages[checkResult(i)];
    }

    @Override
    public String toString() {
        return "MigrationBatch[" + size + " values" + (results >= 0 ? ", migrated" : "") + "]";
    }
}
