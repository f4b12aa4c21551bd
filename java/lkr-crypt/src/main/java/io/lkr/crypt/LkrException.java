package io.lkr.crypt;

/** Implemented by every checked exception of this library: the engine's error kind. */
public interface LkrException {
    /**
     * The engine's error kind.
     *
     * @return the kind, one of the C ABI's error codes
     */
    ErrorKind kind();
}
