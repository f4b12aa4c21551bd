package io.lkr.crypt;

import java.nio.ByteBuffer;

/**
 * The JNI entry points (src/jni/ in the crate). Package-private: {@link LkrCrypt}, {@link
 * LegacyMigrator} and {@link KeystoreAdmin} check arguments and call them holding the handle's lock
 * ({@link CryptHandle}). Failures are thrown through {@link LkrErrors#fromNative(int, String)}.
 */
final class Native {
    private Native() {}

    static {
        NativeLoader.load();
    }

    /**
     * The JNI ABI this jar expects; the library reports its own in {@link #abiVersion()}. Bump it
     * together with {@code JNI_ABI} in src/jni/mod.rs whenever a native method is added, removed,
     * or changes its signature or meaning.
     */
    static final int ABI = 7;

    /** Forces the library to load (and fail early if it cannot). */
    static void ensureLoaded() {}

    /**
     * {@code "<crate version>/<JNI ABI>"}, e.g. {@code "0.1.0/1"}: called by {@link NativeLoader}
     * first, before any other native method, to refuse a library that is not this jar's.
     */
    static native String abiVersion();

    static native long openPath(String keystorePath);

    static native long openBytes(byte[] keystoreOrNull);

    static native void close(long handle);

    // ---- keys as data (MasterKey): a key is a native pointer, freed once by masterKeyFree ----

    static native long masterKeyLocal(byte[] key);

    static native long masterKeyBase64(String base64);

    static native long masterKeyFile(String path);

    static native long masterKeyAwsKms(String keyId, String regionOrNull, String contextOrNull);

    static native long masterKeyFromEnv(String suffix);

    static native void masterKeyFree(long key);

    static native long openPathWithKey(long key, String keystorePath);

    static native long openBytesWithKey(long key, byte[] keystoreOrNull);

    static native byte[] exportKeystore(long handle);

    static native int activeKekId(long handle);

    /** The largest plaintext one record may hold (LKR_MAX_RECORD_SIZE, default 64 MiB). */
    static native long maxRecordSize(long handle);

    /**
     * Throws the engine's error when a plaintext (or a stored value) of this length is over the
     * maximum.
     */
    static native void checkRecordLength(long handle, long length, boolean stored);

    static native boolean hasLegacyKey(long handle);

    /**
     * {@code buf}: the plaintext's length + 69 bytes, the plaintext at offset 53; becomes the
     * envelope.
     */
    static native void encryptInPlace(long handle, byte[] context, byte[] buf);

    /**
     * {@code buf}: a copy of {@code envelope[53..length-16]}; receives the plaintext, zeroed on
     * failure.
     */
    static native void decryptInPlace(long handle, byte[] envelope, byte[] context, byte[] buf);

    static native byte[] migrate(
            long handle, byte[] value, byte[] context, byte[] legacyKeyOrNull, boolean requireUtf8);

    static native int encryptDirect(
            long handle,
            ByteBuffer src,
            int srcPos,
            int srcLen,
            byte[] context,
            ByteBuffer dst,
            int dstPos,
            int dstLen);

    static native int decryptDirect(
            long handle,
            ByteBuffer src,
            int srcPos,
            int srcLen,
            byte[] context,
            ByteBuffer dst,
            int dstPos,
            int dstLen);

    /**
     * Encrypts {@code in[inOff, inOff + inLen)} into {@code out[outOff, outOff + outLen)}, both
     * arrays pinned for the call; returns the envelope's length. The regions are apart, or in one
     * array with the plaintext 53 bytes after the output's start (sealed in place).
     */
    static native int encryptArray(
            long h, byte[] in, int inOff, int inLen, byte[] c, byte[] out, int outOff, int outLen);

    /**
     * Decrypts {@code in[inOff, inOff + inLen)} into {@code out[outOff, outOff + outLen)}, both
     * arrays pinned; returns the plaintext's length. The regions are apart, or in one array with
     * the output at the envelope's ciphertext ({@code outOff == inOff + 53}, opened in place). On
     * failure the output holds no plaintext.
     */
    static native int decryptArray(
            long h, byte[] in, int inOff, int inLen, byte[] c, byte[] out, int outOff, int outLen);

    /**
     * Migrates {@code in[inOff, inOff + inLen)} into {@code out[outOff, outOff + outLen)}, both
     * arrays pinned; returns the envelope's length. {@code outLen} must be at least {@link
     * LegacyMigrator#migratedLength(int)} of {@code inLen}; the regions must not overlap. When the
     * value does not migrate the output region is left zeroed.
     */
    static native int migrateArray(
            long handle,
            byte[] in,
            int inOff,
            int inLen,
            byte[] context,
            byte[] out,
            int outOff,
            int outLen,
            byte[] legacyKeyOrNull);

    static native byte[][] encryptBatch(long handle, byte[][] plaintexts, byte[][] contexts);

    static native byte[][] decryptBatch(long handle, byte[][] envelopes, byte[][] contexts);

    /**
     * The packed batch migration of {@link MigrationBatch}: item {@code i} is {@code
     * values[valueEnds[i-1] .. valueEnds[i]]} (from 0 for item 0) with its context packed likewise;
     * its result goes to {@code out[outEnds[i-1] .. outEnds[i]]} ({@code out} holds every value's
     * length + {@link MigrationBatch#EXPANSION}). {@code flags}: the bits of {@link
     * LegacyMigrator.MigrateOption} (1 require UTF-8, 2 also move v1 values under an older KEK to
     * the active one, 4 strict v1). {@code outcomes[i]}: the codes of {@link
     * MigrationResult.Outcome} (1 from legacy, 2 already v1, 3 undecryptable, 4 rotated, 5 refused;
     * {@code messages[i]} is set for 3 and 5).
     */
    static native void migratePacked(
            long handle,
            int count,
            byte[] values,
            int[] valueEnds,
            byte[] contexts,
            int[] contextEnds,
            byte[] legacyKeyOrNull,
            int flags,
            byte[] out,
            int[] outEnds,
            int[] outcomes,
            String[] messages);

    /** Every thread reseeds its generator of salts and nonces before its next draw. */
    static native void reseedRandom();

    /** The FIPS build's module runs in FIPS mode (docs/fips.md). */
    static native boolean fipsMode();

    /**
     * docs/keys.md's checks of the CMK variables with {@code suffix} ("", "_SOURCE",
     * "_DESTINATION").
     */
    static native void checkMasterKeyConfig(String suffix);

    // KEK rotation and rekey (docs/native-interfaces.md): each returns a new handle.
    static native int[] kekIds(long handle);

    static native long rotateKek(long handle);

    static native long retireKek(long handle, int kekId);

    static native long rekeyFromEnv(long handle);

    static native long rekeyDocumentFromEnv(byte[] keystore);

    static native long rekeyFileFromEnv(String keystorePath);

    static native long rotateKekFileFromEnv(String keystorePath);

    // The recovery key (docs/keystore.md): each long is a new handle.
    static native long addRecoveryKeyFromEnv(long handle);

    static native long removeRecoveryKey(long handle);

    static native long recoverDocumentFromEnv(byte[] keystore, String privateKeyPath);

    static native long recoverFileFromEnv(String keystorePath, String privateKeyPath);

    /** The recovery key's key_sha256, or null. */
    static native String recoveryKeySha256(long handle);

    static native int[] recoveryKekIds(long handle, boolean covered);

    /** The envelope re-encrypted under the active KEK, or null when it already is. */
    static native byte[] reencrypt(long handle, byte[] envelope, byte[] context);

    /** The KEK id of an authentic envelope v1, or -1. */
    static native int kekIdOf(long handle, byte[] value, byte[] context);

    // Streams (docs/stream.md): a stream handle owns its derived key; one thread at a time.
    /**
     * {@code header} ({@link LkrCrypt#STREAM_HEADER_LENGTH}, 52 bytes) receives the stream header.
     */
    static native long streamEncryptInit(
            long handle, byte[] context, int segmentSize, byte[] header);

    static native int streamEncryptUpdate(long stream, byte[] in, int off, int len, byte[] out);

    static native int streamEncryptFinish(long stream, byte[] out);

    static native void streamEncryptFree(long stream);

    /** {@code header}: the stream's first {@link LkrCrypt#STREAM_HEADER_LENGTH} (52) bytes. */
    static native long streamDecryptInit(long handle, byte[] header, byte[] context);

    static native int streamDecryptUpdate(long stream, byte[] in, int off, int len, byte[] out);

    static native int streamDecryptFinish(long stream, byte[] out);

    /**
     * The output a decrypting stream needs: for {@code streamDecryptUpdate} of {@code inputLength}
     * more bytes, or ({@code finish}) for {@code streamDecryptFinish}. Java never reads the
     * (unauthenticated) segment size from the header: buffers grow with the data that arrives.
     */
    static native int streamDecryptMaxLength(long stream, int inputLength, boolean finish);

    static native void streamDecryptFree(long stream);
}
