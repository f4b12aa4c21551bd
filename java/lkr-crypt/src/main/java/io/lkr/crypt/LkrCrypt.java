package io.lkr.crypt;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.ToLongFunction;
import javax.crypto.AEADBadTagException;
import javax.crypto.ShortBufferException;

/**
 * An open keystore: encrypts, decrypts and migrates records as envelopes v1 (docs/envelope.md,
 * docs/legacy.md, docs/native-interfaces.md).
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

    /**
     * The GCM tag at an envelope's end and after every stream segment (docs/envelope.md,
     * docs/stream.md).
     */
    static final int TAG_LENGTH = 16;

    private static final Cleaner CLEANER = Cleaner.create();

    private final CryptHandle handle;
    private final Cleaner.Cleanable cleanable;

    /**
     * The maximum record size (plaintext bytes), read once: values over it are refused before
     * allocating.
     */
    private final long maxRecord;

    /** Takes ownership of {@code ptr}: when this constructor fails, the handle is closed (once). */
    private LkrCrypt(long ptr) {
        CryptHandle h = null;
        try {
            h = new CryptHandle(ptr);
            this.cleanable = CLEANER.register(this, h);
            this.maxRecord = Native.maxRecordSize(ptr);
        } catch (RuntimeException | Error e) {
            if (h != null) {
                h.run(); // idempotent: the Cleaner, if registered, finds the handle closed
            } else {
                Native.close(ptr);
            }
            throw e;
        }
        this.handle = h;
    }

    /**
     * The largest plaintext one record may hold ({@code LKR_MAX_RECORD_SIZE}, default 64 MiB);
     * larger values are refused with {@link IllegalArgumentException} before anything is allocated
     * for them. Large data belongs in a stream.
     *
     * @return the limit in bytes
     */
    public long maxRecordSize() {
        return maxRecord;
    }

    /**
     * Refuses (with the engine's message) a value over the maximum, before anything is allocated.
     */
    private void checkLength(int length, boolean stored) {
        if (length > maxRecord + (stored ? OVERHEAD : 0)) {
            handle.run(p -> Native.checkRecordLength(p, length, stored));
        }
    }

    // ---- opening -----------------------------------------------------------------------------

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
     * (docs/native-interfaces.md, "Keys as data"), otherwise exactly as {@link
     * #openFromEnvironment(Path)}: a missing keystore is created (KEK id 1), the legacy key comes
     * from {@code LKR_LEGACY_KEY_ENV} / {@code LKR_LEGACY_KEY_FILE} if set. The handle keeps its
     * own copy of the key: {@code key} may be closed once this returns.
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
        Objects.requireNonNull(keystore, "keystore");
        Native.ensureLoaded();
        String path = keystore.toAbsolutePath().toString();
        return new LkrCrypt(key.call(k -> Native.openPathWithKey(k, path)));
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
    private static LkrCrypt openFile(Path keystore, ToLongFunction<String> open) {
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
     * True when the environment configured a legacy key for {@link #migrate(byte[], byte[])}.
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

    // ---- byte[] ------------------------------------------------------------------------------

    /**
     * Encrypts {@code plaintext} bound to {@code context} (may be empty) into a new envelope v1.
     *
     * @param plaintext the value
     * @param context what the value is bound to (e.g. {@code TABLE.COLUMN:key})
     * @return the envelope v1
     * @throws GeneralSecurityException when the engine refuses; the exception (e.g. {@link
     *     NotAuthenticException}) carries its message
     */
    public byte[] encrypt(byte[] plaintext, byte[] context) throws GeneralSecurityException {
        Objects.requireNonNull(plaintext, "plaintext");
        Objects.requireNonNull(context, "context");
        checkLength(plaintext.length, false);
        // The plaintext goes straight into the new array at the header's end: the JIT copies
        // instead of zeroing (no extra pass), and the native side seals it in place.
        byte[] out = new byte[encryptedLength(plaintext.length)];
        System.arraycopy(plaintext, 0, out, HEADER_LENGTH, plaintext.length);
        sealInPlace(out, context);
        return out;
    }

    /**
     * Seals {@code buf} (the plaintext at {@link #HEADER_LENGTH}, room for the header and the tag)
     * into an envelope in place. When anything fails — a closed handle included — the plaintext
     * copy is wiped before the exception leaves.
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
        checkLength(envelope.length, true);
        // A copy of the ciphertext (one pass, instead of zeroing a new array), opened in place.
        byte[] out =
                envelope.length < OVERHEAD
                        ? new byte[0]
                        : Arrays.copyOfRange(envelope, HEADER_LENGTH, envelope.length - TAG_LENGTH);
        // The engine wipes what it wrote; this covers every other failure.
        handle.runOrWipe(out, p -> Native.decryptInPlace(p, envelope, context, out));
        return out;
    }

    // ---- caller-owned arrays (no allocation, no copy) ------------------------------------------

    /**
     * Encrypts {@code in[inOff, inOff + inLen)} bound to {@code context} into {@code out} at {@code
     * outOff}, like {@code Cipher.doFinal(input, inputOffset, inputLen, output, outputOffset)}:
     * nothing is allocated and nothing copied — the native side reads the plaintext from {@code in}
     * and writes the envelope into {@code out} directly. For large values this is the fast path:
     * the {@code byte[]} form pays the JVM for a fresh result array per call.
     *
     * <p>{@code in} and {@code out} may be the same array. With the plaintext at {@code outOff +
     * 53} (where the envelope holds its ciphertext) the envelope is sealed in place; with any other
     * overlap the plaintext is first copied (and the copy wiped).
     *
     * <p>GC trade-off: both arrays are pinned for the call ({@code GetPrimitiveArrayCritical}, a
     * JNI critical region), so a garbage collection that another thread needs meanwhile may wait
     * for the cryptography to end (on Java 17 G1 waits; from Java 22 it pins the arrays' regions
     * instead, JEP 423) — about 1 ms per 16 MiB on a current x86 core. The alternative, copying,
     * costs more than the cryptography itself. Keep one record to what a record is for and use a
     * stream for bulk data.
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
        return onArrays(false, in, inOff, inLen, context, out, outOff);
    }

    /**
     * Decrypts the envelope {@code in[inOff, inOff + inLen)} bound to {@code context} into {@code
     * out} at {@code outOff}, like {@link #encrypt(byte[], int, int, byte[], byte[], int)}: nothing
     * is allocated or copied, both arrays are pinned for the call (the same GC trade-off). When the
     * value is not authentic, {@code out} holds none of its plaintext: what the cipher wrote is
     * zeroed before the exception leaves.
     *
     * <p>{@code in} and {@code out} may be the same array. With {@code outOff == inOff + 53} (the
     * envelope's ciphertext) the value is opened in place; with any other overlap the envelope is
     * first copied.
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
        return onArrays(true, in, inOff, inLen, context, out, outOff);
    }

    /**
     * The caller-owned array calls: checks the regions and the room in {@code out} ({@link
     * ShortBufferException}), then encrypts or decrypts natively. When {@code in} is {@code out}
     * and the regions overlap other than where the native side works in place (the plaintext at the
     * envelope's offset 53), the input is copied first, and the copy wiped after.
     */
    private int onArrays(
            boolean decrypt,
            byte[] in,
            int inOff,
            int inLen,
            byte[] context,
            byte[] out,
            int outOff)
            throws GeneralSecurityException {
        Checks.arrays(in, inOff, inLen, context, out, outOff);
        checkLength(inLen, decrypt);
        int needed = decrypt ? decryptedLength(inLen) : encryptedLength(inLen);
        Checks.room(needed, out.length - outOff);
        int shift = decrypt ? HEADER_LENGTH : -HEADER_LENGTH;
        boolean copy = Checks.mustCopy(in, inOff, inLen, out, outOff, needed, shift);
        byte[] src = copy ? Arrays.copyOfRange(in, inOff, inOff + inLen) : in;
        int off = copy ? 0 : inOff;
        try {
            return handle.callInt(
                    p ->
                            decrypt
                                    ? Native.decryptArray(
                                            p, src, off, inLen, context, out, outOff, needed)
                                    : Native.encryptArray(
                                            p, src, off, inLen, context, out, outOff, needed));
        } finally {
            if (copy) {
                Arrays.fill(src, (byte) 0);
            }
        }
    }

    /**
     * Migrates a legacy value (IV ‖ AES-128-CBC ciphertext, docs/legacy.md) to an envelope v1 bound
     * to {@code context}, with the legacy key from the environment; the plaintext never leaves
     * native code. A value that already is an authentic envelope v1 under {@code context} is
     * returned unchanged.
     *
     * @param legacy the legacy value (or an envelope v1)
     * @param context the context to bind the envelope to
     * @return the envelope v1
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     */
    public byte[] migrate(byte[] legacy, byte[] context) throws GeneralSecurityException {
        return migrate(legacy, context, null);
    }

    /**
     * As {@link #migrate(byte[], byte[])} with the caller's 16-byte legacy key (null: the
     * environment's).
     *
     * @param legacy the legacy value (or an envelope v1)
     * @param context the context to bind the envelope to
     * @param legacyKey the legacy AES-128 key (16 bytes), or null
     * @return the envelope v1
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     */
    public byte[] migrate(byte[] legacy, byte[] context, byte[] legacyKey)
            throws GeneralSecurityException {
        Objects.requireNonNull(legacy, "legacy");
        Objects.requireNonNull(context, "context");
        return handle.call(p -> Native.migrate(p, legacy, context, legacyKey, false));
    }

    // ---- base64 text forms -------------------------------------------------------------------

    /**
     * Encrypts and returns the stored text form: standard base64 of the envelope.
     *
     * @param plaintext the value
     * @param context what the value is bound to
     * @return base64 of the envelope v1
     * @throws GeneralSecurityException when the engine refuses; the exception (e.g. {@link
     *     NotAuthenticException}) carries its message
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
     * @throws GeneralSecurityException {@link NotAuthenticException} when the value is not
     *     authentic
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
     * @throws GeneralSecurityException when the engine refuses; the exception (e.g. {@link
     *     NotAuthenticException}) carries its message
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
     * @throws GeneralSecurityException {@link NotAuthenticException} when the value is not
     *     authentic
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
     * Migrates the stored text form of a legacy text value (base64) to the stored text form of an
     * envelope v1; the legacy plaintext must be valid UTF-8 (text columns, docs/legacy.md). An
     * envelope already authentic under {@code context} comes back unchanged.
     *
     * @param legacyBase64 base64 of the legacy value (or of an envelope v1)
     * @param context the context to bind the envelope to
     * @return base64 of the envelope v1
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     */
    public String migrateString(String legacyBase64, String context)
            throws GeneralSecurityException {
        return migrateString(legacyBase64, context, null);
    }

    /**
     * As {@link #migrateString(String, String)} with the caller's 16-byte legacy key (null: the
     * environment's).
     *
     * @param legacyBase64 base64 of the legacy value (or of an envelope v1)
     * @param context the context to bind the envelope to
     * @param legacyKey the legacy AES-128 key (16 bytes), or null
     * @return base64 of the envelope v1
     * @throws GeneralSecurityException {@link LegacyException} when the legacy value does not
     *     decrypt or no legacy key is configured
     */
    public String migrateString(String legacyBase64, String context, byte[] legacyKey)
            throws GeneralSecurityException {
        Objects.requireNonNull(legacyBase64, "legacyBase64");
        Objects.requireNonNull(context, "context");
        byte[] value = StoredText.decodeValue(legacyBase64);
        byte[] ctx = context.getBytes(StandardCharsets.UTF_8);
        byte[] out = handle.call(p -> Native.migrate(p, value, ctx, legacyKey, true));
        return StoredText.encode(out);
    }

    // ---- direct ByteBuffers (no copy) --------------------------------------------------------

    /**
     * Encrypts the remaining bytes of the direct buffer {@code plaintext} into the direct buffer
     * {@code out} at its position, like {@code Cipher.doFinal(ByteBuffer, ByteBuffer)}: on success
     * {@code plaintext}'s position moves to its limit and {@code out}'s past the envelope. Nothing
     * is copied.
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
        int n =
                handle.callInt(
                        p ->
                                Native.encryptDirect(
                                        p,
                                        plaintext,
                                        plaintext.position(),
                                        plaintext.remaining(),
                                        context,
                                        out,
                                        out.position(),
                                        out.remaining()));
        plaintext.position(plaintext.limit());
        out.position(out.position() + n);
        return n;
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
        int n =
                handle.callInt(
                        p ->
                                Native.decryptDirect(
                                        p,
                                        envelope,
                                        envelope.position(),
                                        envelope.remaining(),
                                        context,
                                        out,
                                        out.position(),
                                        out.remaining()));
        envelope.position(envelope.limit());
        out.position(out.position() + n);
        return n;
    }

    // ---- batches: many small values in one native call ---------------------------------------

    /**
     * Encrypts {@code plaintexts[i]} bound to {@code contexts[i]}, for every i, in one native call.
     *
     * @param plaintexts the values
     * @param contexts their contexts, as many
     * @return the envelopes v1, in order
     * @throws GeneralSecurityException when the engine refuses; the exception (e.g. {@link
     *     NotAuthenticException}) carries its message
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
     * @throws GeneralSecurityException {@link NotAuthenticException} for the first value that is
     *     not authentic
     */
    public byte[][] decryptBatch(byte[][] envelopes, byte[][] contexts)
            throws GeneralSecurityException {
        Checks.batch(envelopes, contexts, "envelopes");
        return handle.call(p -> Native.decryptBatch(p, envelopes, contexts));
    }

    /** Options of {@link #migrateBatch(byte[][], byte[][], byte[], Set)}. */
    public enum MigrateOption {
        /** The legacy plaintexts must be valid UTF-8 (text columns, docs/legacy.md). */
        REQUIRE_UTF8(1),
        /**
         * Also re-encrypt authentic envelopes v1 whose KEK is not the active one (after {@link
         * #rotateKek()}): outcome {@link MigrationResult.Outcome#ROTATED}.
         */
        REENCRYPT(2),
        /**
         * A value shaped like an envelope v1 of a KEK this keystore holds that is not authentic
         * under its context is UNDECRYPTABLE instead of being tried as a legacy value
         * (docs/legacy.md's default). Use it when migrating a database: with a wrong context,
         * AES-CBC would "decrypt" about one such envelope in 4096 into garbage. {@code
         * migrate_encryption} always sets it.
         */
        STRICT_V1(4);

        /** The native flag ({@code LKR_MIGRATE_*}). */
        final int flag;

        MigrateOption(int flag) {
            this.flag = flag;
        }
    }

    /**
     * Migrates many values in one native call, with a result per value: migrated from legacy,
     * already v1 or undecryptable — one bad value does not fail the batch. Only what concerns the
     * whole call throws (no legacy key configured, a legacy key not of 16 bytes, bad arguments).
     *
     * @param values the stored values
     * @param contexts their contexts, as many
     * @return one result per value, in order
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @param requireUtf8 the legacy plaintexts must be valid UTF-8 (text columns, docs/legacy.md)
     */
    public MigrationResult[] migrateBatch(
            byte[][] values, byte[][] contexts, byte[] legacyKey, boolean requireUtf8)
            throws GeneralSecurityException {
        return migrateBatch(
                values,
                contexts,
                legacyKey,
                requireUtf8
                        ? EnumSet.of(MigrateOption.REQUIRE_UTF8)
                        : EnumSet.noneOf(MigrateOption.class));
    }

    /**
     * {@link #migrateBatch(byte[][], byte[][], byte[], boolean)} with {@code options}: with {@link
     * MigrateOption#REENCRYPT} it is also the re-encryption to the active KEK after a rotation
     * (docs/native-interfaces.md), legacy and older-KEK values alike, in one pass.
     *
     * @param values the stored values
     * @param contexts their contexts, as many
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @param options how to migrate (none: an empty set)
     * @return one result per value, in order
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     */
    public MigrationResult[] migrateBatch(
            byte[][] values, byte[][] contexts, byte[] legacyKey, Set<MigrateOption> options)
            throws GeneralSecurityException {
        int flags = flags(options);
        Checks.batch(values, contexts, "values");
        MigrationBatch batch = MigrationBatch.of(values, contexts);
        handle.run(p -> batch.migrate(p, legacyKey, flags));
        return batch.results();
    }

    /**
     * Migrates the values of {@code batch} in one native call, as {@link #migrateBatch(byte[][],
     * byte[][], byte[], Set)} but without an object per value: the results are read from the batch
     * ({@link MigrationBatch#outcome(int)}, {@link MigrationBatch#resultBase64(int)}, ...). For
     * bulk migrations, with a batch that is reused.
     *
     * @param batch the values and contexts; receives the results
     * @param options how to migrate (none: an empty set)
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     */
    public void migrateBatch(MigrationBatch batch, byte[] legacyKey, Set<MigrateOption> options)
            throws GeneralSecurityException {
        int flags = flags(options);
        Objects.requireNonNull(batch, "batch");
        handle.run(p -> batch.migrate(p, legacyKey, flags));
    }

    /**
     * {@link #migrateBatch(MigrationBatch, byte[], Set)} with {@link MigrateOption#REQUIRE_UTF8} or
     * none.
     *
     * @param batch the values and contexts; receives the results
     * @param legacyKey the legacy AES-128 key (16 bytes), or null for the environment's
     * @param requireUtf8 the legacy plaintexts must be valid UTF-8
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     */
    public void migrateBatch(MigrationBatch batch, byte[] legacyKey, boolean requireUtf8)
            throws GeneralSecurityException {
        Objects.requireNonNull(batch, "batch");
        handle.run(
                p ->
                        batch.migrate(
                                p, legacyKey, requireUtf8 ? MigrateOption.REQUIRE_UTF8.flag : 0));
    }

    /** The native flags of {@code options} ({@link MigrateOption#flag}). */
    private static int flags(Set<MigrateOption> options) {
        Objects.requireNonNull(options, "options");
        int flags = 0;
        for (MigrateOption o : MigrateOption.values()) {
            flags |= options.contains(o) ? o.flag : 0;
        }
        return flags;
    }

    /**
     * {@link #migrateBatch(byte[][], byte[][], byte[], boolean)} with the environment's legacy key.
     *
     * @param values the stored values
     * @param contexts their contexts, as many
     * @param requireUtf8 the legacy plaintexts must be valid UTF-8
     * @return one result per value, in order
     * @throws GeneralSecurityException when the whole call fails (e.g. no legacy key configured)
     */
    public MigrationResult[] migrateBatch(byte[][] values, byte[][] contexts, boolean requireUtf8)
            throws GeneralSecurityException {
        return migrateBatch(values, contexts, null, requireUtf8);
    }

    // ---- KEK rotation, re-encryption and rekey (docs/native-interfaces.md)
    // -------------------------------------

    /**
     * Checks the CMK configuration of the environment (docs/keys.md: exactly one source, valid
     * base64 of 32 bytes, a key file of mode 0400) without using the key — no KMS request. {@code
     * suffix} names the variables: {@code ""} ({@code LKR_MASTER_KEY_ENV}, ...), {@code "_SOURCE"}
     * or {@code "_DESTINATION"} (for {@code rekey}). Throws {@link MasterKeyException} with the
     * documented message when it is wrong.
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
     * before its next draw. A copy of the process made by {@code fork()} or {@code clone(2)}
     * reseeds by itself; call this after a copy the kernel does not see, before anything is
     * encrypted again: from CRaC's {@code Resource.afterRestore}, from an AWS Lambda SnapStart
     * {@code afterRestore} runtime hook, or after a VM was cloned. Otherwise two restored copies
     * would draw the same salts and nonces.
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
     * Every KEK id of the keystore, ascending.
     *
     * @return the ids
     */
    public int[] kekIds() {
        return handle.call(Native::kekIds);
    }

    /**
     * KEK rotation: a new handle on a copy of the keystore with a new active KEK (id = the largest
     * + 1); older KEKs keep decrypting. This handle is unchanged. Store the new handle's {@link
     * #exportKeystore()} where the application keeps its keystore, then use it (and close this
     * one). For a keystore file, {@link #rotateKekFile(Path)} does both.
     *
     * @return a new handle, to close when done
     * @throws GeneralSecurityException when the engine refuses; the exception (e.g. {@link
     *     NotAuthenticException}) carries its message
     */
    public LkrCrypt rotateKek() throws GeneralSecurityException {
        return handle.call(p -> new LkrCrypt(Native.rotateKek(p)));
    }

    /**
     * A new handle on a copy of the keystore without KEK {@code kekId} (never the active one).
     * Values and streams that KEK encrypted no longer decrypt with it: re-encrypt them first
     * ({@link #reencrypt}) and keep an exported copy of the old keystore for older backups.
     *
     * @param kekId the KEK to remove
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link KeystoreException} for the active or an unknown KEK
     */
    public LkrCrypt retireKek(int kekId) throws GeneralSecurityException {
        return handle.call(p -> new LkrCrypt(Native.retireKek(p, kekId)));
    }

    /**
     * Rekey of this handle's keystore: a new handle whose keystore holds the same KEKs re-wrapped
     * under the CMK of the {@code _DESTINATION} variables ({@code LKR_MASTER_KEY_ENV_DESTINATION},
     * {@code LKR_MASTER_KEY_FILE_DESTINATION} or {@code LKR_AWS_CMK_DESTINATION}), checked to open
     * with it. No value changes. Store its {@link #exportKeystore()} in place of the old keystore.
     *
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} when the destination CMK is
     *     missing, wrong or unreachable
     */
    public LkrCrypt rekeyFromEnvironment() throws GeneralSecurityException {
        return handle.call(p -> new LkrCrypt(Native.rekeyFromEnv(p)));
    }

    /**
     * docs/native-interfaces.md {@code rekey} of a keystore document the application keeps (e.g. in
     * its database): opens it with the {@code _SOURCE} CMK and returns a handle on the KEKs
     * re-wrapped under the {@code _DESTINATION} CMK, checked to open with it. Replace the stored
     * document with its {@link #exportKeystore()} (atomically, e.g. compare-and-set).
     *
     * @param keystore the keystore document under the source CMK
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     */
    public static LkrCrypt rekeyKeystore(byte[] keystore) throws GeneralSecurityException {
        Objects.requireNonNull(keystore, "keystore");
        Native.ensureLoaded();
        return new LkrCrypt(Native.rekeyDocumentFromEnv(keystore));
    }

    /**
     * docs/native-interfaces.md {@code rekey} of the keystore file {@code keystore}, from the
     * {@code _SOURCE} CMK to the {@code _DESTINATION} CMK: checked, then replaced atomically (a
     * crash leaves the old or the new file). Returns a handle under the destination CMK.
     *
     * @param keystore the keystore file
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     */
    public static LkrCrypt rekeyKeystoreFile(Path keystore) throws GeneralSecurityException {
        return openFile(keystore, Native::rekeyFileFromEnv);
    }

    /**
     * docs/native-interfaces.md {@code rotate_kek} of the keystore file {@code keystore} with the
     * CMK of the environment: a new active KEK, the file replaced atomically. Returns a handle on
     * it.
     *
     * @param keystore the keystore file
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     */
    public static LkrCrypt rotateKekFile(Path keystore) throws GeneralSecurityException {
        return openFile(keystore, Native::rotateKekFileFromEnv);
    }

    // ---- The recovery key (docs/keystore.md, "Recovery key") ----------------------------------

    /**
     * {@code add_recovery_key}: a new handle on a copy of the keystore that also holds every KEK
     * wrapped under the recovery public key named by {@code LKR_RECOVERY_PUBLIC_KEY_FILE} (PEM, RSA
     * 3072 or 4096 bits; it must be set), replacing any earlier recovery section. This handle is
     * unchanged; store the new one's {@link #exportKeystore()}. Later rotations wrap new KEKs under
     * the same key, and refuse while the variable is unset or names another key.
     *
     * @return a new handle, to close when done
     * @throws GeneralSecurityException when the variable is unset, its key is not RSA 3072/4096
     *     ({@link MasterKeyException}), or the engine refuses; the exception carries its message
     */
    public LkrCrypt addRecoveryKeyFromEnvironment() throws GeneralSecurityException {
        return handle.call(p -> new LkrCrypt(Native.addRecoveryKeyFromEnv(p)));
    }

    /**
     * {@code remove_recovery_key}: a new handle on a copy of the keystore without its recovery
     * section (refused when it has none).
     *
     * @return a new handle, to close when done
     * @throws GeneralSecurityException when the keystore has no recovery key
     */
    public LkrCrypt removeRecoveryKey() throws GeneralSecurityException {
        return handle.call(p -> new LkrCrypt(Native.removeRecoveryKey(p)));
    }

    /**
     * The keystore's recovery key as its {@code key_sha256} (base64 of the SHA-256 of the public
     * key's DER SubjectPublicKeyInfo), or null when the keystore has none.
     *
     * @return the recovery key's {@code key_sha256}, or null
     */
    public String recoveryKeySha256() {
        return handle.call(Native::recoveryKeySha256);
    }

    /**
     * The ids of the KEKs the recovery key covers ({@code covered}), or does not cover (KEKs a lost
     * CMK would lose), ascending. Without a recovery key no KEK is covered.
     *
     * @param covered true for the KEKs the recovery key covers, false for those it does not
     * @return KEK ids, ascending
     */
    public int[] recoveryKekIds(boolean covered) {
        return handle.call(p -> Native.recoveryKekIds(p, covered));
    }

    /**
     * {@code recover} of a keystore document whose CMK is lost (e.g. the database's): every KEK is
     * unwrapped from the recovery section with the private key in {@code privateKey} (PEM PKCS#8,
     * unencrypted, mode 0400) and wrapped under the CMK of the {@code _DESTINATION} variables —
     * same KEK ids and active KEK, the recovery section kept. The returned handle is checked to
     * open with the destination; replace the stored document with its {@link #exportKeystore()}
     * (atomically, e.g. compare-and-set). Refused when the keystore has no recovery section, the
     * private key is not its recovery key, or a KEK is not covered.
     *
     * @param keystore the keystore document (UTF-8 JSON) whose CMK is lost
     * @param privateKey the recovery private key's file
     * @return a handle under the destination CMK, to close when done
     * @throws GeneralSecurityException when the destination CMK or the private key is wrong ({@link
     *     MasterKeyException}) or recovery is refused ({@link KeystoreException}); nothing is
     *     written
     */
    public static LkrCrypt recoverKeystore(byte[] keystore, Path privateKey)
            throws GeneralSecurityException {
        Objects.requireNonNull(keystore, "keystore");
        Objects.requireNonNull(privateKey, "privateKey");
        Native.ensureLoaded();
        return new LkrCrypt(
                Native.recoverDocumentFromEnv(keystore, privateKey.toAbsolutePath().toString()));
    }

    /**
     * {@code recover} of the keystore file {@code keystore} (see {@link #recoverKeystore}):
     * checked, then replaced atomically (a crash leaves the old or the new file). Returns a handle
     * under the destination CMK.
     *
     * @param keystore the keystore file whose CMK is lost
     * @param privateKey the recovery private key's file
     * @return a handle under the destination CMK, to close when done
     * @throws GeneralSecurityException as {@link #recoverKeystore}; the file is then unchanged
     */
    public static LkrCrypt recoverKeystoreFile(Path keystore, Path privateKey)
            throws GeneralSecurityException {
        Objects.requireNonNull(privateKey, "privateKey");
        String key = privateKey.toAbsolutePath().toString();
        return openFile(keystore, path -> Native.recoverFileFromEnv(path, key));
    }

    /**
     * Re-encryption to the active KEK: {@code envelope} (authentic under {@code context}) encrypted
     * again under the active KEK — or {@code envelope} itself (the same array) when it already is
     * under it, so {@code result != envelope} says whether to store it. The plaintext never enters
     * Java. Throws {@link javax.crypto.AEADBadTagException} when the value is not authentic.
     *
     * @param envelope an envelope v1 of this keystore
     * @param context the context it was encrypted under
     * @return the envelope under the active KEK, or {@code envelope} itself
     * @throws GeneralSecurityException {@link NotAuthenticException} when the value is not
     *     authentic
     */
    public byte[] reencrypt(byte[] envelope, byte[] context) throws GeneralSecurityException {
        Objects.requireNonNull(envelope, "envelope");
        Objects.requireNonNull(context, "context");
        byte[] moved = handle.call(p -> Native.reencrypt(p, envelope, context));
        return moved == null ? envelope : moved;
    }

    /**
     * The id of the KEK that encrypted {@code value} when it is an envelope v1 authentic under
     * {@code context}; empty otherwise (a legacy value, a damaged one, another keystore's).
     *
     * @param value a stored value
     * @param context its context
     * @return the KEK id, or empty
     */
    public OptionalInt kekIdOf(byte[] value, byte[] context) {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(context, "context");
        int id = handle.callInt(p -> Native.kekIdOf(p, value, context));
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    // ---- lifetime ----------------------------------------------------------------------------

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
        cleanable.clean();
    }

    /** Default stream segment size (docs/stream.md): 64 KiB of plaintext per segment. */
    public static final int DEFAULT_SEGMENT_SIZE = 65536;

    /** The smallest segment size a stream takes (docs/stream.md; the engine refuses less). */
    public static final int MIN_SEGMENT_SIZE = 4096;

    /**
     * The largest segment size a stream takes, 16 MiB (docs/stream.md; the engine refuses more).
     */
    public static final int MAX_SEGMENT_SIZE = 16 << 20;

    /**
     * An output stream that encrypts what is written to it as a stream v1 (docs/stream.md) bound to
     * {@code context}, with the default segment size. Close it to complete the stream.
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
     * As {@link #encryptingStream(OutputStream, byte[])} with {@code segmentSize} plaintext bytes
     * per segment (4096 to 16 MiB). Writes the stream header at once.
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
     * fails while reading (an {@link IOException} whose cause is the {@link
     * GeneralSecurityException}).
     *
     * @param in where the stream comes from
     * @param context the context it was encrypted under
     * @return the decrypting stream, to close
     * @throws IOException when reading the header fails
     * @throws GeneralSecurityException {@link NotAuthenticException} for a foreign header or an
     *     unknown KEK
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
