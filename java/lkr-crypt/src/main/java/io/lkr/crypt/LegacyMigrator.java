package io.lkr.crypt;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import javax.crypto.ShortBufferException;

/**
 * Legacy migration (docs/legacy.md): values of the legacy format (IV ‖ AES-128-CBC ciphertext)
 * become envelopes v1 under the active KEK without their plaintext ever entering Java. A view of an
 * open {@link LkrCrypt} ({@link LkrCrypt#legacyMigrator()}) on the same native handle: it keeps
 * that handle reachable, and once the handle is closed its calls throw {@link
 * IllegalStateException}. Thread-safe, like the handle.
 *
 * <p>The legacy key is the environment's ({@code LKR_LEGACY_KEY_ENV} / {@code LKR_LEGACY_KEY_FILE},
 * see {@link LkrCrypt#hasLegacyKey()}) or, where a method takes one, the caller's 16 bytes (null:
 * the environment's). A value that already is an authentic envelope v1 under its context is never
 * migrated again: it comes back unchanged.
 *
 * <p>Failures: {@link LegacyException} when a legacy value does not decrypt or no legacy key is
 * configured; {@link NullPointerException} / {@link IllegalArgumentException} for bad arguments.
 */
public final class LegacyMigrator {
    /** Options of {@link #migrateBatch(byte[][], byte[][], byte[], Set)}. */
    public enum MigrateOption {
        /** The legacy plaintexts must be valid UTF-8 (text columns, docs/legacy.md). */
        REQUIRE_UTF8(1),
        /**
         * Also move authentic envelopes v1 whose KEK is not the active one (after {@link
         * KeystoreAdmin#rotateKek()}) to the active KEK: outcome {@link
         * MigrationResult.Outcome#ROTATED}, as {@link KeystoreAdmin#moveToActiveKek} does one by
         * one.
         */
        MOVE_TO_ACTIVE_KEK(2),
        /**
         * A value shaped like an envelope v1 of a KEK this keystore holds that is not authentic
         * under its context is UNUSABLE_V1 instead of being tried as a legacy value
         * (docs/legacy.md's default). Use it when migrating a database: with a wrong context,
         * AES-CBC would "decrypt" about one such envelope in 4096 into garbage. {@code
         * migrate_encryption} always sets it.
         */
        STRICT_V1(4);

        /** The native flag ({@code LKR_MIGRATE_*}). */
        final int flag;

        MigrateOption(int flag) {
            this.flag = flag;
        }
    }

    private final LkrCrypt crypt;

    LegacyMigrator(LkrCrypt crypt) {
        this.crypt = crypt;
    }

    /**
     * The most bytes {@link #migrate(byte[], int, int, byte[], byte[], int)} writes for a value of
     * {@code legacyLength} bytes, the room it needs in its output: a migrated value's length is
     * known only once it is decrypted, so this is an upper bound, like {@code Cipher.getOutputSize}
     * for CBC with padding (a legacy value of n bytes becomes an envelope of at most n + 52, an
     * envelope v1 stays n).
     *
     * @param legacyLength the stored value's length
     * @return the output room needed, {@code legacyLength + 53}
     * @throws IllegalArgumentException when {@code legacyLength} is negative or the bound exceeds
     *     an array's size
     */
    public static int migratedLength(int legacyLength) {
        if (legacyLength < 0 || legacyLength > Integer.MAX_VALUE - MigrationBatch.EXPANSION) {
            throw new IllegalArgumentException(
                    "No migration bound for a value of " + legacyLength + " bytes");
        }
        return legacyLength + MigrationBatch.EXPANSION;
    }

    /**
     * Migrates a legacy value to an envelope v1 bound to {@code context}, with the legacy key from
     * the environment; the plaintext never leaves native code. A value that already is an authentic
     * envelope v1 under {@code context} is returned unchanged.
     *
     * @param legacy the legacy value (or an envelope v1)
     * @param context the context to bind the envelope to
     * @return the envelope v1
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     */
    public byte[] migrate(byte[] legacy, byte[] context) throws GeneralSecurityException {
        return migrate(legacy, context, null);
    }

    /**
     * As {@link #migrate(byte[], byte[])} with the caller's legacy key.
     *
     * @param legacy the legacy value (or an envelope v1)
     * @param context the context to bind the envelope to
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @return the envelope v1
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     */
    public byte[] migrate(byte[] legacy, byte[] context, byte[] legacyKey)
            throws GeneralSecurityException {
        Objects.requireNonNull(legacy, "legacy");
        Objects.requireNonNull(context, "context");
        return crypt.handle.call(p -> Native.migrate(p, legacy, context, legacyKey, false));
    }

    /**
     * Migrates the value {@code in[inOff, inOff + inLen)} into {@code out} at {@code outOff}, like
     * {@link LkrCrypt#encrypt(byte[], int, int, byte[], byte[], int)}: nothing is allocated, both
     * arrays are pinned for the call (the same GC trade-off). {@code out} needs {@link
     * #migratedLength(int) migratedLength(inLen)} bytes of room from {@code outOff}; the result may
     * be shorter. An authentic envelope v1 under {@code context} is copied through unchanged. The
     * legacy key is the environment's.
     *
     * <p>{@code in} and {@code out} may be the same array; overlapping regions cost a copy of the
     * value (wiped after). When the value does not migrate, the output region ({@code
     * migratedLength(inLen)} bytes from {@code outOff}) is left zeroed: no partial result stays in
     * it.
     *
     * @param in the array holding the stored value
     * @param inOff where the value starts in {@code in}
     * @param inLen the value's length
     * @param context the context to bind the envelope to
     * @param out the array the envelope v1 is written into
     * @param outOff where the envelope starts in {@code out}
     * @return the envelope's length
     * @throws ShortBufferException when {@code out} has fewer than {@code migratedLength(inLen)}
     *     bytes from {@code outOff} on (the message says how many are needed); nothing is written
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     * @throws IndexOutOfBoundsException when the input region is not within {@code in} or {@code
     *     outOff} is not within {@code out}
     */
    public int migrate(byte[] in, int inOff, int inLen, byte[] context, byte[] out, int outOff)
            throws GeneralSecurityException {
        return migrate(in, inOff, inLen, context, out, outOff, null);
    }

    /**
     * As {@link #migrate(byte[], int, int, byte[], byte[], int)} with the caller's legacy key.
     *
     * @param in the array holding the stored value
     * @param inOff where the value starts in {@code in}
     * @param inLen the value's length
     * @param context the context to bind the envelope to
     * @param out the array the envelope v1 is written into
     * @param outOff where the envelope starts in {@code out}
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @return the envelope's length
     * @throws ShortBufferException when {@code out} has fewer than {@code migratedLength(inLen)}
     *     bytes from {@code outOff} on (the message says how many are needed); nothing is written
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     * @throws IndexOutOfBoundsException when the input region is not within {@code in} or {@code
     *     outOff} is not within {@code out}
     */
    public int migrate(
            byte[] in,
            int inOff,
            int inLen,
            byte[] context,
            byte[] out,
            int outOff,
            byte[] legacyKey)
            throws GeneralSecurityException {
        CryptHandle.ArrayOp op =
                new CryptHandle.ArrayOp(
                        true,
                        LegacyMigrator::migratedLength,
                        CryptHandle.NO_IN_PLACE,
                        (p, i, iOff, iLen, cx, o, oOff, oLen) ->
                                Native.migrateArray(
                                        p, i, iOff, iLen, cx, o, oOff, oLen, legacyKey));
        return crypt.handle.callOnArrays(op, in, inOff, inLen, context, out, outOff);
    }

    /**
     * Migrates the stored text form of a legacy text value (base64) to the stored text form of an
     * envelope v1; the legacy plaintext must be valid UTF-8 (text columns, docs/legacy.md). An
     * envelope already authentic under {@code context} comes back unchanged.
     *
     * @param legacyBase64 base64 of the legacy value (or of an envelope v1)
     * @param context the context to bind the envelope to
     * @return base64 of the envelope v1
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     */
    public String migrateString(String legacyBase64, String context)
            throws GeneralSecurityException {
        return migrateString(legacyBase64, context, null);
    }

    /**
     * As {@link #migrateString(String, String)} with the caller's legacy key.
     *
     * @param legacyBase64 base64 of the legacy value (or of an envelope v1)
     * @param context the context to bind the envelope to
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @return base64 of the envelope v1
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     */
    public String migrateString(String legacyBase64, String context, byte[] legacyKey)
            throws GeneralSecurityException {
        Objects.requireNonNull(legacyBase64, "legacyBase64");
        Objects.requireNonNull(context, "context");
        byte[] value = StoredText.decodeValue(legacyBase64);
        byte[] ctx = context.getBytes(StandardCharsets.UTF_8);
        byte[] out = crypt.handle.call(p -> Native.migrate(p, value, ctx, legacyKey, true));
        return StoredText.encode(out);
    }

    /**
     * Migrates many values in one native call, with a result per value: migrated from legacy,
     * already v1 or undecryptable — one bad value does not fail the batch. Only what concerns the
     * whole call throws (no legacy key configured, a legacy key not of 16 bytes, bad arguments).
     *
     * @param values the stored values
     * @param contexts their contexts, as many
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @param requireUtf8 the legacy plaintexts must be valid UTF-8 (text columns, docs/legacy.md)
     * @return one result per value, in order
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     */
    public MigrationResult[] migrateBatch(
            byte[][] values, byte[][] contexts, byte[] legacyKey, boolean requireUtf8)
            throws GeneralSecurityException {
        return migrateBatch(values, contexts, legacyKey, utf8(requireUtf8));
    }

    /**
     * {@link #migrateBatch(byte[][], byte[][], byte[], boolean)} with {@code options}: with {@link
     * MigrateOption#MOVE_TO_ACTIVE_KEK} it also moves values to the active KEK after a rotation
     * (docs/native-interfaces.md), legacy and older-KEK values alike, in one pass.
     *
     * @param values the stored values
     * @param contexts their contexts, as many
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @param options how to migrate (none: an empty set)
     * @return one result per value, in order
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     */
    public MigrationResult[] migrateBatch(
            byte[][] values, byte[][] contexts, byte[] legacyKey, Set<MigrateOption> options)
            throws GeneralSecurityException {
        int flags = flags(options);
        Checks.batch(values, contexts, "values");
        MigrationBatch batch = MigrationBatch.of(values, contexts);
        crypt.handle.run(p -> batch.migrate(p, legacyKey, flags));
        return batch.results();
    }

    /**
     * {@link #migrateBatch(byte[][], byte[][], byte[], boolean)} with the environment's legacy key.
     *
     * @param values the stored values
     * @param contexts their contexts, as many
     * @param requireUtf8 the legacy plaintexts must be valid UTF-8
     * @return one result per value, in order
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     */
    public MigrationResult[] migrateBatch(byte[][] values, byte[][] contexts, boolean requireUtf8)
            throws GeneralSecurityException {
        return migrateBatch(values, contexts, null, requireUtf8);
    }

    /**
     * Migrates the values of {@code batch} in one native call, as {@link #migrateBatch(byte[][],
     * byte[][], byte[], Set)} but without an object per value: the results are read from the batch
     * ({@link MigrationBatch#outcome(int)}, {@link MigrationBatch#resultBase64(int)}, ...). For
     * bulk migrations, with a batch that is reused.
     *
     * @param batch the values and contexts; receives the results
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @param options how to migrate (none: an empty set)
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     */
    public void migrateBatch(MigrationBatch batch, byte[] legacyKey, Set<MigrateOption> options)
            throws GeneralSecurityException {
        int flags = flags(options);
        Objects.requireNonNull(batch, "batch");
        crypt.handle.run(p -> batch.migrate(p, legacyKey, flags));
    }

    /**
     * {@link #migrateBatch(MigrationBatch, byte[], Set)} with {@link MigrateOption#REQUIRE_UTF8} or
     * none.
     *
     * @param batch the values and contexts; receives the results
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @param requireUtf8 the legacy plaintexts must be valid UTF-8
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     */
    public void migrateBatch(MigrationBatch batch, byte[] legacyKey, boolean requireUtf8)
            throws GeneralSecurityException {
        migrateBatch(batch, legacyKey, utf8(requireUtf8));
    }

    /** {@link MigrateOption#REQUIRE_UTF8} or no option. */
    private static Set<MigrateOption> utf8(boolean requireUtf8) {
        return requireUtf8
                ? EnumSet.of(MigrateOption.REQUIRE_UTF8)
                : EnumSet.noneOf(MigrateOption.class);
    }

    /** The native flags of {@code options} ({@link MigrateOption#flag}). */
    private static int flags(Set<MigrateOption> options) {
        Objects.requireNonNull(options, "options");
        int flags = 0;
        for (MigrateOption o : MigrateOption.values()) {
            flags |= options.contains(o) ? o.flag : 0;
        }
        return flags;
    }
}
