package io.lkr.crypt;

import java.util.Objects;

/** What {@link LegacyMigrator#migrateBatch} did with one value. */
public final class MigrationResult {
    /** The outcomes of migrating one value, with the codes shared with the native side. */
    public enum Outcome {
        /**
         * A legacy value, decrypted and sealed as an envelope v1 under the active KEK (migrated
         * from legacy): store {@link #value()}.
         */
        FROM_LEGACY(1),
        /** Already an authentic envelope v1 under the context: nothing to write. */
        ALREADY_V1(2),
        /** A legacy value that does not decrypt with the legacy key (see {@link #message()}). */
        UNDECRYPTABLE(3),
        /**
         * An envelope v1 under an older KEK, moved to the active one (only with {@link
         * LegacyMigrator.MigrateOption#MOVE_TO_ACTIVE_KEK}): store {@link #value()}.
         */
        ROTATED(4),
        /**
         * An envelope v1 that is not usable as such — its KEK is not in this keystore, or (with
         * {@link LegacyMigrator.MigrateOption#STRICT_V1}) it is not authentic under its context —
         * and was never tried as a legacy value; or a value over the maximum record size or with a
         * context over 64 KiB (see {@link #message()}, which names the reason). Treated like {@link
         * #UNDECRYPTABLE} (reported, skipped on request), but it says nothing about the legacy key.
         */
        UNUSABLE_V1(5);

        /** The native code. */
        public final int code;

        Outcome(int code) {
            this.code = code;
        }

        /**
         * The outcome of native code {@code code}.
         *
         * @param code the native outcome code
         * @return its outcome
         */
        public static Outcome fromCode(int code) {
            for (Outcome o : values()) {
                if (o.code == code) {
                    return o;
                }
            }
            throw new IllegalStateException("Unknown migration outcome " + code);
        }

        /**
         * True when there is an envelope v1 to read ({@link #value()}); false for a value not
         * migrated.
         *
         * @return whether {@link #value()} is an envelope v1
         */
        public boolean hasValue() {
            return this != UNDECRYPTABLE && this != UNUSABLE_V1;
        }
    }

    private final Outcome outcome;
    private final byte[] value;
    private final String message;

    MigrationResult(Outcome outcome, byte[] value, String message) {
        this.outcome = Objects.requireNonNull(outcome);
        this.value = value;
        this.message = message;
    }

    static MigrationResult fromNative(int code, byte[] value, String message) {
        Outcome o = Outcome.fromCode(code);
        return o.hasValue()
                ? new MigrationResult(o, value, null)
                : new MigrationResult(o, null, message);
    }

    /**
     * What the migration did with the value.
     *
     * @return the outcome
     */
    public Outcome outcome() {
        return outcome;
    }

    /**
     * The envelope v1 (FROM_LEGACY, ROTATED: the new value; ALREADY_V1: the value itself); null if
     * UNDECRYPTABLE or UNUSABLE_V1.
     *
     * @return the envelope v1, or null
     */
    public byte[] value() {
        return value;
    }

    /**
     * Why the value is UNDECRYPTABLE or UNUSABLE_V1 (the engine's message); null otherwise.
     *
     * @return the engine's message, or null
     */
    public String message() {
        return message;
    }

    @Override
    public String toString() {
        return "MigrationResult[" + outcome + (message != null ? ": " + message : "") + "]";
    }
}
