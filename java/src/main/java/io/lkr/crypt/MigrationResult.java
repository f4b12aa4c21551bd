package io.lkr.crypt;

import java.util.Objects;

/** What {@link LkrCrypt#migrateBatch} did with one value. */
public final class MigrationResult {
    /** The outcomes of migrating one value (codes shared with the native side). */
    public enum Outcome {
        /** A legacy value, decrypted and re-encrypted as an envelope v1: store {@link #value()}. */
        REENCRYPTED,
        /** Already an authentic envelope v1 under the context: nothing to write. */
        ALREADY_V1,
        /** Neither: the legacy value does not decrypt with the legacy key (see {@link #message()}). */
        UNDECRYPTABLE,
        /**
         * An envelope v1 under an older KEK, re-encrypted under the active one (only with
         * {@link LkrCrypt.MigrateOption#REENCRYPT}): store {@link #value()}.
         */
        ROTATED
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
        switch (code) {
            case 1:
                return new MigrationResult(Outcome.REENCRYPTED, value, null);
            case 2:
                return new MigrationResult(Outcome.ALREADY_V1, value, null);
            case 3:
                return new MigrationResult(Outcome.UNDECRYPTABLE, null, message);
            case 4:
                return new MigrationResult(Outcome.ROTATED, value, null);
            default:
                throw new IllegalStateException("Unknown migration outcome " + code);
        }
    }

    public Outcome outcome() {
        return outcome;
    }

    /**
     * The envelope v1 (REENCRYPTED, ROTATED: the new value; ALREADY_V1: the value itself); null if
     * UNDECRYPTABLE.
     */
    public byte[] value() {
        return value;
    }

    /** Why the value is UNDECRYPTABLE (the engine's message); null otherwise. */
    public String message() {
        return message;
    }

    @Override
    public String toString() {
        return "MigrationResult[" + outcome + (message != null ? ": " + message : "") + "]";
    }
}
