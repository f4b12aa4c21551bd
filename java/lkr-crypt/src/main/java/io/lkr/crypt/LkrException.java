package io.lkr.crypt;

/** Implemented by every checked exception of this library: the engine's error kind. */
public interface LkrException {
    /** The engine's error kind. */
    ErrorKind kind();
}
