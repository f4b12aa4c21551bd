package io.lkr.crypt;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.ToLongFunction;
import javax.crypto.AEADBadTagException;
import javax.crypto.ShortBufferException;

/**
 * An open keystore: encrypts and decrypts records as envelopes v1 and streams as streams v1
 * (docs/envelope.md, docs/stream.md, docs/native-interfaces.md). Two views of the same handle hold
 * the rest: {@link #legacyMigrator()} (legacy values to envelopes v1, docs/legacy.md) and {@link
 * #keystoreAdmin()} (KEK rotation, rekey, the recovery key).
 *
 * <p>One instance is meant to be shared by every thread of the application. {@link #close()} may be
 * called at any time, also while other threads are inside a call: it waits for the calls in
 * progress, releases the native handle, and every later call throws {@link IllegalStateException}.
 * An instance that is never closed is released when it becomes unreachable.
 *
 * <p>Failures: {@link AEADBadTagException} ({@link NotAuthenticException}) when a value is not
 * authentic; {@link MasterKeyException}, {@link KeystoreException} and {@link LegacyException} (all
 * {@link GeneralSecurityException}s) with the engine's messages, which contain the documented exact
 * texts; {@link NullPointerException} / {@link IllegalArgumentException} for bad arguments.
 */
public final class LkrCrypt implements AutoCloseable {
    /** Bytes an envelope adds to its plaintext (docs/envelope.md). */
    public static final int OVERHEAD = 69;

    /** Envelope v1 header: magic, version, algorithm, KEK id, salt, nonce (docs/envelope.md). */
    static final int HEADER_LENGTH = 53;

    /** The GCM tag closing an envelope and each stream segment (docs/envelope.md, stream.md). */
    static final int TAG_LENGTH = 16;

    // From this size on the JVM zeroes a new array whatever follows, so the byte[] API works
    // between the caller's array and the new one rather than copying first (README Performance).
    static final int LARGE_VALUE = 16 << 10;

    /** Caller-owned encryption: sealed in place with the plaintext at the envelope's offset 53. */
    private static final CryptHandle.ArrayOp ENCRYPT_ARRAY =
            new CryptHandle.ArrayOp(
                    false, LkrCrypt::encryptedLength, -HEADER_LENGTH, Native::encryptArray);

    /** Caller-owned decryption: opened in place with the output at the ciphertext (offset 53). */
    private static final CryptHandle.ArrayOp DECRYPT_ARRAY =
            new CryptHandle.ArrayOp(
                    true, LkrCrypt::decryptedLength, HEADER_LENGTH, Native::decryptArray);

    /** The native handle; {@link KeystoreAdmin} and {@link LegacyMigrator} call through it too. */
    final CryptHandle handle;

    /** Takes ownership of {@code ptr}: when this constructor fails, the handle is closed (once). */
    LkrCrypt(long ptr) {
        this.handle = CryptHandle.adopt(this, ptr);
    }

    /**
     * The largest plaintext one record may hold ({@code LKR_MAX_RECORD_SIZE}, default 64 MiB);
     * larger values are refused ({@link IllegalArgumentException}) before any allocation.
     *
     * @return the limit in bytes
     */
    public long maxRecordSize() {
        return handle.maxRecord;
    }

    /**
     * Opens the keystore file at {@code keystore} with the CMK chosen by the environment ({@code
     * LKR_MASTER_KEY_ENV}, {@code LKR_MASTER_KEY_FILE} or {@code LKR_AWS_CMK}: exactly one) and the
     * legacy key from {@code LKR_LEGACY_KEY_ENV} / {@code LKR_LEGACY_KEY_FILE} if set. A missing
     * keystore is created (KEK id 1).
     *
     * @param keystore the keystore file
     * @return the handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     */
    public static LkrCrypt openFromEnvironment(Path keystore) throws GeneralSecurityException {
        return openFile(keystore, Native::openPath);
    }

    /**
     * Opens a keystore the application keeps itself (e.g. in its database) with the CMK and legacy
     * key from the environment, as {@link #openFromEnvironment(Path)}. {@code null} creates a new
     * keystore (KEK id 1): store {@link #exportKeystore()}.
     *
     * @param keystoreOrNull the keystore document, or null for a new keystore
     * @return the handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     */
    public static LkrCrypt openFromEnvironment(byte[] keystoreOrNull)
            throws GeneralSecurityException {
        Native.ensureLoaded();
        return new LkrCrypt(Native.openBytes(keystoreOrNull));
    }

    /**
     * Opens the keystore file at {@code keystore} with the CMK {@code key} given as data
     * (docs/native-interfaces.md, "Keys as data"), otherwise as {@link #openFromEnvironment(Path)}
     * (a missing keystore is created, the legacy key comes from the environment). The handle keeps
     * its own copy of the key: {@code key} may be closed once this returns.
     *
     * @param key the CMK
     * @param keystore the keystore file
     * @return the handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     * @throws IllegalStateException when {@code key} is closed
     */
    public static LkrCrypt open(MasterKey key, Path keystore) throws GeneralSecurityException {
        Objects.requireNonNull(key, "key");
        return openFile(keystore, path -> key.call(k -> Native.openPathWithKey(k, path)));
    }

    /**
     * Opens a keystore document the application keeps itself with the CMK {@code key}, as {@link
     * #openFromEnvironment(byte[])}: {@code null} creates a new keystore (KEK id 1) in memory —
     * store {@link #exportKeystore()}.
     *
     * @param key the CMK
     * @param keystoreOrNull the keystore document, or null for a new keystore
     * @return the handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     * @throws IllegalStateException when {@code key} is closed
     */
    public static LkrCrypt open(MasterKey key, byte[] keystoreOrNull)
            throws GeneralSecurityException {
        Objects.requireNonNull(key, "key");
        Native.ensureLoaded();
        return new LkrCrypt(key.call(k -> Native.openBytesWithKey(k, keystoreOrNull)));
    }

    /** A handle from {@code open} of the keystore file at {@code keystore} (its absolute path). */
    static LkrCrypt openFile(Path keystore, ToLongFunction<String> open) {
        Objects.requireNonNull(keystore, "keystore");
        Native.ensureLoaded();
        return new LkrCrypt(open.applyAsLong(keystore.toAbsolutePath().toString()));
    }

    /**
     * The keystore document (UTF-8 JSON, docs/keystore.md): only wrapped keys, safe to store.
     *
     * @return the document's UTF-8 bytes
     */
    public byte[] exportKeystore() {
        return handle.call(Native::exportKeystore);
    }

    /**
     * The id of the KEK that encrypts new values.
     *
     * @return the active KEK's id
     */
    public int activeKekId() {
        return handle.callInt(Native::activeKekId);
    }

    /**
     * True when the environment configured a legacy key for the {@link #legacyMigrator()}.
     *
     * @return whether a legacy key is configured
     */
    public boolean hasLegacyKey() {
        return handle.call(Native::hasLegacyKey);
    }

    /**
     * The envelope length for a plaintext of {@code plaintextLength} bytes.
     *
     * @param plaintextLength the plaintext's length
     * @return the envelope's length
     */
    public static int encryptedLength(int plaintextLength) {
        if (plaintextLength < 0 || plaintextLength > Integer.MAX_VALUE - OVERHEAD) {
            throw new IllegalArgumentException(
                    "No envelope for a plaintext of " + plaintextLength + " bytes");
        }
        return plaintextLength + OVERHEAD;
    }

    /**
     * The plaintext length of an envelope of {@code envelopeLength} bytes (0 if shorter than one).
     *
     * @param envelopeLength the envelope's length
     * @return the plaintext's length
     */
    public static int decryptedLength(int envelopeLength) {
        return Math.max(0, envelopeLength - OVERHEAD);
    }

    /**
     * Encrypts {@code plaintext} bound to {@code context} (may be empty) into a new envelope v1.
     *
     * @param plaintext the value
     * @param context what the value is bound to (e.g. {@code TABLE.COLUMN:key})
     * @return the envelope v1
     * @throws GeneralSecurityException when the engine refuses (its message says why)
     */
    public byte[] encrypt(byte[] plaintext, byte[] context) throws GeneralSecurityException {
        Objects.requireNonNull(plaintext, "plaintext");
        Objects.requireNonNull(context, "context");
        handle.checkLength(plaintext.length, false);
        byte[] out = new byte[encryptedLength(plaintext.length)];
        if (plaintext.length >= LARGE_VALUE) { // zeroed anyway: no copy, sealed across
            encrypt(plaintext, 0, plaintext.length, context, out, 0);
            return out;
        }
        // The plaintext goes straight into the new array at the header's end: the JIT copies
        // instead of zeroing (no extra pass), and the native side seals it in place.
        System.arraycopy(plaintext, 0, out, HEADER_LENGTH, plaintext.length);
        sealInPlace(out, context);
        return out;
    }

    /**
     * Seals {@code buf} (the plaintext at {@link #HEADER_LENGTH}) into an envelope in place; when
     * anything fails, a closed handle included, the plaintext copy is wiped.
     */
    void sealInPlace(byte[] buf, byte[] context) throws GeneralSecurityException {
        handle.runOrWipe(buf, p -> Native.encryptInPlace(p, context, buf));
    }

    /**
     * Decrypts an envelope v1 bound to {@code context}.
     *
     * @param envelope the envelope v1
     * @param context the context it was encrypted under
     * @return the plaintext
     * @throws AEADBadTagException when the value is not authentic under this context and keystore
     */
    public byte[] decrypt(byte[] envelope, byte[] context) throws GeneralSecurityException {
        Objects.requireNonNull(envelope, "envelope");
        Objects.requireNonNull(context, "context");
        handle.checkLength(envelope.length, true);
        if (envelope.length >= LARGE_VALUE) { // zeroed anyway: opened across, no copy
            byte[] out = new byte[decryptedLength(envelope.length)];
            decrypt(envelope, 0, envelope.length, context, out, 0);
            return out;
        }
        // A copy of the ciphertext (one pass, instead of zeroing a new array), opened in place.
        byte[] out =
                envelope.length < OVERHEAD
                        ? new byte[0]
                        : Arrays.copyOfRange(envelope, HEADER_LENGTH, envelope.length - TAG_LENGTH);
        // The engine wipes what it wrote; this covers every other failure.
        handle.runOrWipe(out, p -> Native.decryptInPlace(p, envelope, context, out));
        return out;
    }

    /**
     * Encrypts {@code in[inOff, inOff + inLen)} bound to {@code context} into {@code out} at {@code
     * outOff}, like {@code Cipher.doFinal(input, inputOffset, inputLen, output, outputOffset)}:
     * nothing is allocated or copied, the fast path for large values (the {@code byte[]} form pays
     * the JVM for a fresh result array per call).
     *
     * <p>{@code in} and {@code out} may be the same array: sealed in place with the plaintext at
     * {@code outOff + 53}; with any other overlap the plaintext is copied first (and wiped).
     *
     * <p>GC trade-off: both arrays are pinned for the call (a JNI critical region), so a garbage
     * collection meanwhile may wait for the cryptography to end, about 1 ms per 16 MiB
     * (docs/native-interfaces.md, "Caller-owned arrays"). Use a stream for bulk data.
     *
     * @param in the array holding the plaintext
     * @param inOff where the plaintext starts in {@code in}
     * @param inLen the plaintext's length
     * @param context what the value is bound to (e.g. {@code TABLE.COLUMN:key})
     * @param out the array the envelope is written into
     * @param outOff where the envelope starts in {@code out}
     * @return the envelope's length, {@link #encryptedLength(int) encryptedLength(inLen)}
     * @throws ShortBufferException when {@code out} has fewer than {@code encryptedLength(inLen)}
     *     bytes from {@code outOff} on (the message says how many are needed); nothing is written
     * @throws IndexOutOfBoundsException when the input region is not within {@code in} or {@code
     *     outOff} is not within {@code out}
     */
    public int encrypt(byte[] in, int inOff, int inLen, byte[] context, byte[] out, int outOff)
            throws GeneralSecurityException {
        return handle.callOnArrays(ENCRYPT_ARRAY, in, inOff, inLen, context, out, outOff);
    }

    /**
     * Decrypts the envelope {@code in[inOff, inOff + inLen)} bound to {@code context} into {@code
     * out} at {@code outOff}, like {@link #encrypt(byte[], int, int, byte[], byte[], int)} (the
     * same GC trade-off). A value that is not authentic leaves none of its plaintext in {@code
     * out}. {@code in} and {@code out} may be the same array: opened in place with {@code outOff ==
     * inOff + 53}; with any other overlap the envelope is copied first.
     *
     * @param in the array holding the envelope v1
     * @param inOff where the envelope starts in {@code in}
     * @param inLen the envelope's length
     * @param context the context it was encrypted under
     * @param out the array the plaintext is written into
     * @param outOff where the plaintext starts in {@code out}
     * @return the plaintext's length, {@link #decryptedLength(int) decryptedLength(inLen)}
     * @throws ShortBufferException when {@code out} has fewer than {@code decryptedLength(inLen)}
     *     bytes from {@code outOff} on (the message says how many are needed); nothing is written
     * @throws AEADBadTagException when the value is not authentic under this context and keystore
     * @throws IndexOutOfBoundsException when the input region is not within {@code in} or {@code
     *     outOff} is not within {@code out}
     */
    public int decrypt(byte[] in, int inOff, int inLen, byte[] context, byte[] out, int outOff)
            throws GeneralSecurityException {
        return handle.callOnArrays(DECRYPT_ARRAY, in, inOff, inLen, context, out, outOff);
    }

    /**
     * Encrypts and returns the stored text form: standard base64 of the envelope.
     *
     * @param plaintext the value
     * @param context what the value is bound to
     * @return base64 of the envelope v1
     * @throws GeneralSecurityException when the engine refuses (its message says why)
     */
    public String encryptToBase64(byte[] plaintext, byte[] context)
            throws GeneralSecurityException {
        return StoredText.encode(encrypt(plaintext, context));
    }

    /**
     * Decrypts the stored text form (base64 of an envelope).
     *
     * @param envelopeBase64 base64 of an envelope v1
     * @param context the context it was encrypted under
     * @return the plaintext
     * @throws AEADBadTagException when the value is not authentic
     */
    public byte[] decryptFromBase64(String envelopeBase64, byte[] context)
            throws GeneralSecurityException {
        Objects.requireNonNull(envelopeBase64, "envelopeBase64");
        return decrypt(StoredText.decodeValue(envelopeBase64), context);
    }

    /**
     * Encrypts a string (UTF-8) bound to a context (UTF-8) into the stored text form.
     *
     * @param plaintext the text
     * @param context what the text is bound to
     * @return base64 of the envelope v1
     * @throws GeneralSecurityException when the engine refuses (its message says why)
     */
    public String encryptString(String plaintext, String context) throws GeneralSecurityException {
        Objects.requireNonNull(plaintext, "plaintext");
        Objects.requireNonNull(context, "context");
        byte[] bytes = plaintext.getBytes(StandardCharsets.UTF_8);
        try {
            return encryptToBase64(bytes, context.getBytes(StandardCharsets.UTF_8));
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /**
     * Decrypts the stored text form of a string encrypted with {@link #encryptString}.
     *
     * @param envelopeBase64 base64 of an envelope v1
     * @param context the context it was encrypted under
     * @return the text
     * @throws AEADBadTagException when the value is not authentic
     * @throws IllegalArgumentException when the authentic plaintext is not UTF-8 text
     */
    public String decryptString(String envelopeBase64, String context)
            throws GeneralSecurityException {
        Objects.requireNonNull(context, "context");
        byte[] plaintext =
                decryptFromBase64(envelopeBase64, context.getBytes(StandardCharsets.UTF_8));
        try {
            return Checks.utf8Text(plaintext);
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    /**
     * Encrypts the remaining bytes of the direct buffer {@code plaintext} into the direct buffer
     * {@code out} at its position, like {@code Cipher.doFinal(ByteBuffer, ByteBuffer)}, without a
     * copy: {@code plaintext}'s position moves to its limit, {@code out}'s past the envelope.
     *
     * @param plaintext a direct buffer: its remaining bytes are encrypted
     * @param context what the value is bound to
     * @param out a direct buffer receiving the envelope
     * @return the envelope's length
     * @throws ShortBufferException when {@code out} has less than {@code
     *     encryptedLength(plaintext.remaining())} bytes left
     */
    public int encrypt(ByteBuffer plaintext, byte[] context, ByteBuffer out)
            throws GeneralSecurityException {
        Checks.direct(plaintext, context, out);
        Checks.room(encryptedLength(plaintext.remaining()), out.remaining());
        return handle.callOnBuffers(plaintext, context, out, Native::encryptDirect);
    }

    /**
     * Decrypts the remaining bytes of the direct buffer {@code envelope} into the direct buffer
     * {@code out}, as {@link #encrypt(ByteBuffer, byte[], ByteBuffer)}.
     *
     * @param envelope a direct buffer: its remaining bytes are the envelope v1
     * @param context the context it was encrypted under
     * @param out a direct buffer receiving the plaintext
     * @return the plaintext's length
     * @throws AEADBadTagException when the value is not authentic
     * @throws ShortBufferException when {@code out} has less than {@code
     *     decryptedLength(envelope.remaining())} bytes left
     */
    public int decrypt(ByteBuffer envelope, byte[] context, ByteBuffer out)
            throws GeneralSecurityException {
        Checks.direct(envelope, context, out);
        return handle.callOnBuffers(envelope, context, out, Native::decryptDirect);
    }

    /**
     * Encrypts {@code plaintexts[i]} bound to {@code contexts[i]}, for every i, in one native call.
     *
     * @param plaintexts the values
     * @param contexts their contexts, as many
     * @return the envelopes v1, in order
     * @throws GeneralSecurityException when the engine refuses (its message says why)
     */
    public byte[][] encryptBatch(byte[][] plaintexts, byte[][] contexts)
            throws GeneralSecurityException {
        Checks.batch(plaintexts, contexts, "plaintexts");
        return handle.call(p -> Native.encryptBatch(p, plaintexts, contexts));
    }

    /**
     * Decrypts {@code envelopes[i]} bound to {@code contexts[i]}, for every i, in one native call.
     * The first value that is not authentic fails the batch (the message names its index).
     *
     * @param envelopes the envelopes v1
     * @param contexts their contexts, as many
     * @return the plaintexts, in order
     * @throws AEADBadTagException for the first value that is not authentic
     */
    public byte[][] decryptBatch(byte[][] envelopes, byte[][] contexts)
            throws GeneralSecurityException {
        Checks.batch(envelopes, contexts, "envelopes");
        return handle.call(p -> Native.decryptBatch(p, envelopes, contexts));
    }

    /**
     * Checks the CMK configuration of the environment (docs/keys.md: exactly one source, valid
     * base64 of 32 bytes, a key file of mode 0400) without using the key — no KMS request. {@code
     * suffix} names the variables: {@code ""} ({@code LKR_MASTER_KEY_ENV}, ...), {@code "_SOURCE"}
     * or {@code "_DESTINATION"} (for {@code rekey}).
     *
     * @param suffix {@code ""}, {@code "_SOURCE"} or {@code "_DESTINATION"}
     * @throws GeneralSecurityException {@link MasterKeyException} when the configuration is wrong
     */
    public static void checkMasterKeyConfiguration(String suffix) throws GeneralSecurityException {
        Objects.requireNonNull(suffix, "suffix");
        Native.ensureLoaded();
        Native.checkMasterKeyConfig(suffix);
    }

    /**
     * This jar's version.
     *
     * @return the Maven project version of lkr-crypt
     */
    public static String version() {
        return NativeLoader.jarVersion();
    }

    /**
     * The native library's version as it reports it, {@code <crate version>/<JNI ABI>}; loads the
     * library first.
     *
     * @return the native library's version
     * @throws UnsatisfiedLinkError when the library cannot be used; the message says why
     */
    public static String nativeVersion() {
        Native.ensureLoaded();
        return Native.abiVersion();
    }

    /** The largest context any call accepts, in bytes (64 KiB); a larger one is refused. */
    public static final int MAX_CONTEXT = 65536;

    /**
     * Makes every thread reseed the native generator of salts and nonces from the operating system
     * before its next draw. A copy made by {@code fork()} or {@code clone(2)} reseeds by itself;
     * call this after a copy the kernel does not see (CRaC's {@code Resource.afterRestore}, an AWS
     * Lambda SnapStart {@code afterRestore} hook, a cloned VM), before encrypting again: two
     * restored copies would otherwise draw the same salts and nonces.
     */
    public static void reseedRandom() {
        Native.ensureLoaded();
        Native.reseedRandom();
    }

    /**
     * True when the native library is lkr-crypt's FIPS build and its cryptographic module, AWS-LC's
     * FIPS 140-3 validated module, runs in FIPS mode (docs/fips.md); false for every other build.
     * The FIPS build refuses to open a keystore when its module is not in FIPS mode.
     *
     * @return whether the FIPS module runs in FIPS mode
     */
    public static boolean isFipsMode() {
        Native.ensureLoaded();
        return Native.fipsMode();
    }

    /**
     * Legacy migration on this handle: legacy values (docs/legacy.md) to envelopes v1.
     *
     * @return a view of this handle, usable while it is open
     */
    public LegacyMigrator legacyMigrator() {
        return new LegacyMigrator(this);
    }

    /**
     * Keystore administration on this handle: KEK rotation and retirement, rekey, the recovery key,
     * moving values to the active KEK.
     *
     * @return a view of this handle, usable while it is open
     */
    public KeystoreAdmin keystoreAdmin() {
        return new KeystoreAdmin(this);
    }

    /**
     * True once {@link #close()} has run.
     *
     * @return whether the handle is closed
     */
    public boolean isClosed() {
        return handle.isClosing();
    }

    /**
     * Releases the native handle (its keys are zeroized). Waits for calls in progress on other
     * threads; later calls throw {@link IllegalStateException}. Closing twice does nothing.
     */
    @Override
    public void close() {
        handle.close();
    }

    /** Default stream segment size (docs/stream.md): 64 KiB of plaintext per segment. */
    public static final int DEFAULT_SEGMENT_SIZE = 65536;

    /** The smallest segment size a stream takes (docs/stream.md; the engine refuses less). */
    public static final int MIN_SEGMENT_SIZE = 4096;

    /** The largest segment size a stream takes, 16 MiB (docs/stream.md: the engine's limit). */
    public static final int MAX_SEGMENT_SIZE = 16 << 20;

    /**
     * {@link #encryptingStream(OutputStream, byte[], int)} with the default segment size.
     *
     * @param out where the stream goes
     * @param context what the stream is bound to
     * @return the encrypting stream, to close
     * @throws IOException when writing the header fails
     * @throws GeneralSecurityException when the engine refuses
     */
    public EncryptingOutputStream encryptingStream(OutputStream out, byte[] context)
            throws IOException, GeneralSecurityException {
        return encryptingStream(out, context, DEFAULT_SEGMENT_SIZE);
    }

    /**
     * An output stream that encrypts what is written to it as a stream v1 (docs/stream.md) bound to
     * {@code context}, {@code segmentSize} plaintext bytes per segment (4096 to 16 MiB). Writes the
     * stream header at once; close it to complete the stream.
     *
     * @param out where the stream goes
     * @param context what the stream is bound to
     * @param segmentSize plaintext bytes per segment
     * @return the encrypting stream, to close
     * @throws IOException when writing the header fails
     * @throws GeneralSecurityException when the engine refuses
     */
    public EncryptingOutputStream encryptingStream(
            OutputStream out, byte[] context, int segmentSize)
            throws IOException, GeneralSecurityException {
        return EncryptingOutputStream.open(handle, out, context, segmentSize);
    }

    /**
     * An input stream that decrypts the stream v1 read from {@code in}, bound to {@code context}.
     * Reads the 52-byte header now: a foreign or unknown-KEK stream fails here; damage further on
     * fails while reading (an {@link IOException} caused by the {@link GeneralSecurityException}).
     *
     * @param in where the stream comes from
     * @param context the context it was encrypted under
     * @return the decrypting stream, to close
     * @throws IOException when reading the header fails
     * @throws AEADBadTagException for a foreign header or an unknown KEK
     */
    public DecryptingInputStream decryptingStream(InputStream in, byte[] context)
            throws IOException, GeneralSecurityException {
        return DecryptingInputStream.open(handle, in, context);
    }

    /** The stream v1 header's length (docs/stream.md, {@code LKR_STREAM_HEADER_LEN}). */
    static final int STREAM_HEADER_LENGTH = 52;

    @Override
    public String toString() {
        try {
            return "LkrCrypt[active KEK " + activeKekId() + "]";
        } catch (IllegalStateException e) {
            return "LkrCrypt[closed]";
        }
    }
}
