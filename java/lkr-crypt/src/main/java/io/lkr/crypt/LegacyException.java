package io.lkr.crypt;

import java.security.GeneralSecurityException;

/**
 * A legacy AES-128-CBC value does not decrypt ({@code Legacy value could not be decrypted}), or the
 * legacy key is missing or malformed.
 */
public final class LegacyException extends GeneralSecurityException implements LkrException {
    private static final long serialVersionUID = 1L;

    /**
     * An error of the engine, as the JNI binding reports it.
     *
     * @param message the engine's message
     */
    public LegacyException(String message) {
        super(message);
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.LEGACY;
    }
}
