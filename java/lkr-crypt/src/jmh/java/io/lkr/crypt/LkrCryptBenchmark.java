package io.lkr.crypt;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * LkrCrypt (byte[], caller-owned arrays, direct ByteBuffer) against the same envelope v1 in pure
 * {@code javax.crypto} ({@link PureJavaEnvelope}: HKDF through {@code Mac}, AES-GCM under the
 * derived key per record), against SunJCE's bare AES/GCM/NoPadding call under one reused key (no
 * derivation: a lower bound for any Java envelope), and the Rust-only time of the same operation
 * (timed inside Rust, {@value #RUST_OPS} operations per JNI call), so that {@link BenchMain} can
 * print ratios and what the time consists of.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class LkrCryptBenchmark {
    static final int RUST_OPS = 16;

    @Param({"64", "1024", "16384", "1048576"})
    public int size;

    LkrCrypt crypt;

    /** A native handle of its own for the Rust-only timings ({@link BenchHooks}). */
    long rustHandle;

    byte[] plaintext;
    byte[] context = "CONNECTION.PASSWORD:42".getBytes(StandardCharsets.UTF_8);
    byte[] envelope;
    ByteBuffer directIn;
    ByteBuffer directEnv;
    ByteBuffer directOut;

    /** The caller-owned arrays: the output is reused, as a caller of that API does. */
    byte[] arrayOut;

    PureJavaEnvelope pure;
    byte[] pureEnvelope;

    SecureRandom random;
    SecretKey jceKey;
    Cipher jceEnc;
    Cipher jceDec;
    byte[] jceNonce = new byte[12];
    byte[] jceCiphertext;
    byte[] jceCiphertextNonce;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        crypt = LkrCrypt.openFromEnvironment((byte[]) null);
        rustHandle = BenchHooks.open();
        plaintext = new byte[size];
        new SecureRandom().nextBytes(plaintext);
        envelope = crypt.encrypt(plaintext, context);
        directIn = ByteBuffer.allocateDirect(size);
        directIn.put(plaintext).flip();
        directEnv = ByteBuffer.allocateDirect(size + LkrCrypt.OVERHEAD);
        directEnv.put(envelope).flip();
        directOut = ByteBuffer.allocateDirect(size + LkrCrypt.OVERHEAD);
        arrayOut = new byte[size + LkrCrypt.OVERHEAD];
        pure =
                PureJavaEnvelope.of(
                        crypt,
                        java.util.Base64.getDecoder().decode(System.getenv("LKR_MASTER_KEY_ENV")));
        pureEnvelope = pure.encrypt(plaintext, context);

        random = new SecureRandom();
        byte[] k = new byte[32];
        random.nextBytes(k);
        jceKey = new SecretKeySpec(k, "AES");
        jceEnc = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
        jceDec = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
        jceCiphertextNonce = new byte[12];
        random.nextBytes(jceCiphertextNonce);
        jceEnc.init(Cipher.ENCRYPT_MODE, jceKey, new GCMParameterSpec(128, jceCiphertextNonce));
        jceEnc.updateAAD(context);
        jceCiphertext = jceEnc.doFinal(plaintext);
        warmUp();
    }

    /**
     * SunJCE's GCM intrinsics apply once its methods are C2-compiled, which takes thousands of
     * calls: at 1 MiB (one call = tens of ms interpreted) JMH's warm-up alone would measure the
     * interpreter. A running application has them compiled, so both sides are warmed on small
     * values first.
     */
    private void warmUp() throws Exception {
        byte[] small = new byte[4096];
        byte[] nonce = new byte[12];
        for (int i = 0; i < 30_000; i++) {
            random.nextBytes(nonce);
            jceEnc.init(Cipher.ENCRYPT_MODE, jceKey, new GCMParameterSpec(128, nonce));
            jceEnc.updateAAD(context);
            byte[] ct = jceEnc.doFinal(small);
            jceDec.init(Cipher.DECRYPT_MODE, jceKey, new GCMParameterSpec(128, nonce));
            jceDec.updateAAD(context);
            jceDec.doFinal(ct);
            crypt.decrypt(crypt.encrypt(small, context), context);
            pure.decrypt(pure.encrypt(small, context), context);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        crypt.close();
        BenchHooks.close(rustHandle);
    }

    @Benchmark
    public byte[] lkrEncryptBytes() throws Exception {
        return crypt.encrypt(plaintext, context);
    }

    @Benchmark
    public byte[] lkrDecryptBytes() throws Exception {
        return crypt.decrypt(envelope, context);
    }

    @Benchmark
    public int lkrEncryptArray() throws Exception {
        return crypt.encrypt(plaintext, 0, size, context, arrayOut, 0);
    }

    @Benchmark
    public int lkrDecryptArray() throws Exception {
        return crypt.decrypt(envelope, 0, envelope.length, context, arrayOut, 0);
    }

    /** The envelope in pure javax.crypto, a new result array per call (as lkr's byte[] API). */
    @Benchmark
    public byte[] pureEncryptBytes() throws Exception {
        return pure.encrypt(plaintext, context);
    }

    @Benchmark
    public byte[] pureDecryptBytes() throws Exception {
        return pure.decrypt(pureEnvelope, context);
    }

    /** The envelope in pure javax.crypto into the caller's array (as lkr's caller-owned API). */
    @Benchmark
    public int pureEncryptArray() throws Exception {
        return pure.encrypt(plaintext, 0, size, context, arrayOut, 0);
    }

    @Benchmark
    public int pureDecryptArray() throws Exception {
        return pure.decrypt(pureEnvelope, 0, pureEnvelope.length, context, arrayOut, 0);
    }

    @Benchmark
    public int lkrEncryptDirect() throws Exception {
        directIn.position(0);
        directOut.clear();
        return crypt.encrypt(directIn, context, directOut);
    }

    @Benchmark
    public int lkrDecryptDirect() throws Exception {
        directEnv.position(0);
        directOut.clear();
        return crypt.decrypt(directEnv, context, directOut);
    }

    @Benchmark
    @OperationsPerInvocation(RUST_OPS)
    public long rustOnlyEncrypt() {
        return BenchHooks.rustOnlyNanos(rustHandle, size, RUST_OPS, false);
    }

    @Benchmark
    @OperationsPerInvocation(RUST_OPS)
    public long rustOnlyDecrypt() {
        return BenchHooks.rustOnlyNanos(rustHandle, size, RUST_OPS, true);
    }

    /**
     * What the JVM alone spends on the result array of the byte[] paths (allocating and zeroing
     * fresh heap memory): both byte[] paths and SunJCE pay it per call; the report subtracts it to
     * show the JNI overhead proper.
     */
    @Benchmark
    public byte[] allocEncryptResult() {
        return new byte[size + LkrCrypt.OVERHEAD];
    }

    @Benchmark
    public byte[] allocDecryptResult() {
        return new byte[size];
    }

    /**
     * SunJCE's bare GCM call with a fresh random nonce per call under one reused key: no
     * derivation, no envelope — a lower bound for any Java implementation of the format.
     */
    @Benchmark
    public byte[] jceEncrypt() throws Exception {
        random.nextBytes(jceNonce);
        jceEnc.init(Cipher.ENCRYPT_MODE, jceKey, new GCMParameterSpec(128, jceNonce));
        jceEnc.updateAAD(context);
        return jceEnc.doFinal(plaintext);
    }

    @Benchmark
    public byte[] jceDecrypt() throws Exception {
        jceDec.init(Cipher.DECRYPT_MODE, jceKey, new GCMParameterSpec(128, jceCiphertextNonce));
        jceDec.updateAAD(context);
        return jceDec.doFinal(jceCiphertext);
    }
}
