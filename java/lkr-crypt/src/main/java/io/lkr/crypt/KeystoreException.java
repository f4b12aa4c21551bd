package io.lkr.crypt;

import java.security.KeyStoreException;

/**
 * The keystore is missing, malformed or belongs to another CMK (e.g. {@code Master Key does not
 * match the keystore}), or its file could not be read or written ({@link ErrorKind#IO}).
 */
public final class KeystoreException extends KeyStoreException implements LkrException {
    private static final long serialVersionUID = 1L;

    /** The engine's error kind. */
    private final ErrorKind kind;

    /**
     * An error of the engine, as the JNI binding reports it.
     *
     * @param kind the engine's error kind
     * @param message the engine's message
     */
    public KeystoreException(ErrorKind kind, String message) {
        super(message);
        this.kind = kind;
    }

    @Override
    public ErrorKind kind() {
        return kind;
    }
}
