package io.lkr.crypt;

import javax.crypto.AEADBadTagException;

/**
 * The value is not an authentic envelope under this context and keystore: changed, truncated,
 * extended, another context or keystore ({@link ErrorKind#NOT_AUTHENTIC}), a KEK the keystore does
 * not hold ({@link ErrorKind#UNKNOWN_KEK}), or not an envelope this version reads ({@link
 * ErrorKind#UNSUPPORTED_FORMAT}).
 */
public final class NotAuthenticException extends AEADBadTagException implements LkrException {
    private static final long serialVersionUID = 1L;

    /** The engine's error kind. */
    private final ErrorKind kind;

    /**
     * An error of the engine, as the JNI binding reports it.
     *
     * @param kind the engine's error kind
     * @param message the engine's message
     */
    public NotAuthenticException(ErrorKind kind, String message) {
        super(message);
        this.kind = kind;
    }

    @Override
    public ErrorKind kind() {
        return kind;
    }
}
