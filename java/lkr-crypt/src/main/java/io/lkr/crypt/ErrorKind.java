package io.lkr.crypt;

/**
 * The stable error codes of the native engine ({@code lkr_crypt::ErrorKind}, {@code LKR_ERR_*}).
 */
public enum ErrorKind {
    /** A bad argument (mapped to {@link IllegalArgumentException}). */
    INVALID_ARGUMENT(1),
    /** An output buffer is too small (mapped to {@link javax.crypto.ShortBufferException}). */
    BUFFER_TOO_SMALL(2),
    /** The value could not be authenticated. */
    NOT_AUTHENTIC(3),
    /** The envelope names a KEK id the keystore does not hold. */
    UNKNOWN_KEK(4),
    /** Unknown envelope version or algorithm. */
    UNSUPPORTED_FORMAT(5),
    /** The Customer Master Key configuration is wrong (docs/keys.md). */
    MASTER_KEY(6),
    /** The keystore is missing, malformed or does not match the CMK. */
    KEYSTORE(7),
    /** A legacy value does not decrypt, or no legacy key is configured. */
    LEGACY(8),
    /** A file operation failed (the keystore file). */
    IO(9),
    /** AWS KMS could not be used. */
    KMS(10),
    /** An internal failure (a caught panic): a bug. */
    INTERNAL(11);

    private final int code;

    ErrorKind(int code) {
        this.code = code;
    }

    /**
     * The numeric code shared with the C ABI.
     *
     * @return the {@code LKR_ERR_*} value
     */
    public int code() {
        return code;
    }

    /**
     * The kind with this code; {@link #INTERNAL} for an unknown code.
     *
     * @param code a C ABI error code
     * @return its kind
     */
    public static ErrorKind fromCode(int code) {
        for (ErrorKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        return INTERNAL;
    }
}
