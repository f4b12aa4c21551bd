package io.lkr.crypt;

import java.security.KeyException;

/**
 * The Customer Master Key cannot be used: its configuration breaks docs/keys.md (the message
 * carries the documented text, e.g. {@code Size of the Master Key is invalid it must be 32 bytes
 * however is X}), or AWS KMS failed ({@link ErrorKind#KMS}).
 */
public final class MasterKeyException extends KeyException implements LkrException {
    private static final long serialVersionUID = 1L;

    /** The engine's error kind. */
    private final ErrorKind kind;

    /**
     * An error of the engine, as the JNI binding reports it.
     *
     * @param kind the engine's error kind
     * @param message the engine's message
     */
    public MasterKeyException(ErrorKind kind, String message) {
        super(message);
        this.kind = kind;
    }

    @Override
    public ErrorKind kind() {
        return kind;
    }
}
