package io.lkr.crypt;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongUnaryOperator;

/**
 * A Customer Master Key given as data (docs/native-interfaces.md, "Keys as data"): for applications
 * that keep the CMK in their own secret store instead of the environment (docs/keys.md). Open a
 * keystore with it through {@link LkrCrypt#open(MasterKey, Path)} or {@link
 * LkrCrypt#open(MasterKey, byte[])}.
 *
 * <p>The key bytes are kept natively, never on the Java heap (beyond the caller's own array or
 * string), and are wiped by {@link #close()}; a key that is never closed is released when it
 * becomes unreachable. Handles opened with a key keep their own copy: the key may be closed as soon
 * as they are open. Using a closed key throws {@link IllegalStateException}. Safe to share between
 * threads; {@code close()} waits for the opens in progress.
 *
 * <p>The local factories check at once, with docs/keys.md's messages ({@link MasterKeyException}):
 * the size ({@code Size of the Master Key is invalid it must be 32 bytes however is X}), the base64
 * text ({@code Master Key is not valid base64}), the file's mode ({@code Permission for backing key
 * file must be 0400, but is XXXX}) and presence ({@code Missing backing keystore}). A KMS key is
 * reached when a keystore is opened or created with it.
 */
public final class MasterKey implements AutoCloseable {
    private final NativePointer ptr;
    private final Cleaner.Cleanable cleanable;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final String description;

    /** Takes ownership of {@code p}: when this constructor fails, the key is freed (once). */
    private MasterKey(long p, String description) {
        NativePointer np = new NativePointer(p, Native::masterKeyFree, "MasterKey");
        try {
            this.cleanable = NativePointer.CLEANER.register(this, np);
        } catch (RuntimeException | Error e) {
            np.free();
            throw e;
        }
        this.ptr = np;
        this.description = description;
    }

    /**
     * A local CMK: exactly 32 raw bytes (copied; the caller may wipe {@code key32} afterwards).
     *
     * @param key32 the CMK's 32 bytes
     * @return the key, to {@link #close()} when done
     * @throws MasterKeyException when {@code key32} is not 32 bytes long
     */
    public static MasterKey local(byte[] key32) throws MasterKeyException {
        Objects.requireNonNull(key32, "key32");
        Native.ensureLoaded();
        return new MasterKey(Native.masterKeyLocal(key32), "local");
    }

    /**
     * A local CMK as standard base64 of 32 bytes (what {@code openssl rand -base64 32} prints);
     * surrounding whitespace is ignored.
     *
     * @param base64 the CMK as base64 text
     * @return the key, to {@link #close()} when done
     * @throws MasterKeyException when the text is not base64 or not of 32 bytes
     */
    public static MasterKey localBase64(String base64) throws MasterKeyException {
        Objects.requireNonNull(base64, "base64");
        Native.ensureLoaded();
        return new MasterKey(Native.masterKeyBase64(base64), "local");
    }

    /**
     * A local CMK read from a file holding its base64 text, with the checks of {@code
     * LKR_MASTER_KEY_FILE} (docs/keys.md): a regular file of mode exactly 0400, owned by this
     * process's user, read natively on one open descriptor.
     *
     * @param file0400 the key file (mode 0400)
     * @return the key, to {@link #close()} when done
     * @throws MasterKeyException when the file is missing, has another mode, or holds no valid key
     */
    public static MasterKey localFile(Path file0400) throws MasterKeyException {
        Objects.requireNonNull(file0400, "file0400");
        Native.ensureLoaded();
        return new MasterKey(Native.masterKeyFile(file0400.toString()), "local");
    }

    /**
     * An AWS KMS CMK with the default encryption context ({@code Looker_Encryption_Context}).
     *
     * @return the key, to {@link #close()} when done
     * @param keyId {@code alias/<name>}, a key id or a key ARN
     * @param region the key's AWS region; {@code null} or empty: the AWS SDK's chain ({@code
     *     AWS_REGION})
     */
    public static MasterKey awsKms(String keyId, String region) {
        return awsKms(keyId, region, null);
    }

    /**
     * An AWS KMS CMK. Nothing is asked of KMS here: the key is reached when a keystore is opened or
     * created with it. Credentials, endpoint and retries follow the AWS SDK's chain (docs/keys.md).
     * The keystore records the key id and the context, not the region.
     *
     * @return the key, to {@link #close()} when done
     * @param keyId {@code alias/<name>}, a key id or a key ARN
     * @param region the key's AWS region; {@code null} or empty: the AWS SDK's chain ({@code
     *     AWS_REGION})
     * @param encryptionContext the KMS encryption context string; {@code null} or empty: the
     *     default, {@code Looker_Encryption_Context}
     */
    public static MasterKey awsKms(String keyId, String region, String encryptionContext) {
        Objects.requireNonNull(keyId, "keyId");
        Native.ensureLoaded();
        return new MasterKey(
                Native.masterKeyAwsKms(keyId, region, encryptionContext), "aws-kms " + keyId);
    }

    /**
     * The CMK the environment chooses (docs/keys.md): exactly one of {@code LKR_MASTER_KEY_ENV},
     * {@code LKR_MASTER_KEY_FILE} or {@code LKR_AWS_CMK} (with {@code LKR_AWS_CMK_EC}), read and
     * checked now.
     *
     * @return the key, to {@link #close()} when done
     * @throws MasterKeyException when the configuration is wrong
     */
    public static MasterKey fromEnvironment() throws MasterKeyException {
        return fromEnvironment("");
    }

    /**
     * As {@link #fromEnvironment()}, with the variables named with {@code suffix}: {@code ""}, or
     * {@code "_SOURCE"} / {@code "_DESTINATION"} as {@code rekey} and {@code recover} read them
     * (e.g. {@code LKR_MASTER_KEY_FILE_SOURCE}).
     *
     * @param suffix {@code ""}, {@code "_SOURCE"} or {@code "_DESTINATION"}
     * @return the key, to {@link #close()} when done
     * @throws MasterKeyException when the configuration is wrong
     */
    public static MasterKey fromEnvironment(String suffix) throws MasterKeyException {
        Objects.requireNonNull(suffix, "suffix");
        Native.ensureLoaded();
        return new MasterKey(
                Native.masterKeyFromEnv(suffix),
                suffix.isEmpty() ? "from the environment" : "from the environment, " + suffix);
    }

    /**
     * Runs {@code f} on the live native key, which {@link #close()} cannot free meanwhile; {@link
     * IllegalStateException} when the key is closed.
     */
    long call(LongUnaryOperator f) {
        ReentrantReadWriteLock.ReadLock r = lock.readLock();
        r.lock();
        try {
            return f.applyAsLong(ptr.get());
        } finally {
            r.unlock();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Frees the native key, wiping its bytes; later calls do nothing. Waits for the opens in
     * progress with this key.
     */
    @Override
    public void close() {
        ReentrantReadWriteLock.WriteLock w = lock.writeLock();
        w.lock();
        try {
            cleanable.clean();
        } finally {
            w.unlock();
        }
    }

    /** What the key is ({@code local}, {@code aws-kms <key id>}, ...): never key bytes. */
    @Override
    public String toString() {
        return "MasterKey[" + description + "]";
    }
}
