package io.lkr.crypt;

import javax.crypto.ShortBufferException;

/**
 * The one place where the engine's error codes become Java exceptions. The native code calls {@link
 * #fromNative(int, String)} and throws what it returns; the message is the engine's, unchanged.
 */
final class LkrErrors {
    private LkrErrors() {}

    static Throwable fromNative(int code, String message) {
        ErrorKind kind = ErrorKind.fromCode(code);
        switch (kind) {
            case INVALID_ARGUMENT:
                return new IllegalArgumentException(message);
            case BUFFER_TOO_SMALL:
                return new ShortBufferException(message);
            case NOT_AUTHENTIC:
            case UNKNOWN_KEK:
            case UNSUPPORTED_FORMAT:
                return new NotAuthenticException(kind, message);
            case MASTER_KEY:
            case KMS:
                return new MasterKeyException(kind, message);
            case KEYSTORE:
            case IO:
                return new KeystoreException(kind, message);
            case LEGACY:
                return new LegacyException(message);
            case INTERNAL:
            default:
                return new IllegalStateException(message);
        }
    }
}
