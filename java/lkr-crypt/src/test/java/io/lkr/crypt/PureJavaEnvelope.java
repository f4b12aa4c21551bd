package io.lkr.crypt;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Envelope v1 written in pure {@code javax.crypto} — what a Java team would write instead of
 * depending on lkr-crypt, and the benchmark's fair peer (JMH column "pure-Java"): per record,
 * HKDF-Expand through {@code Mac} HmacSHA256 keyed once with the KEK (docs/derivations.md: one HMAC
 * of {@code "LKRd" ‖ be32(kek_id) ‖ salt ‖ 0x01}), then {@code Cipher} AES/GCM/NoPadding
 * initialised with the derived key, the envelope's nonce and its header ‖ context as additional
 * data (docs/envelope.md). Salt and nonce come from one {@link SecureRandom} draw of 44 bytes.
 *
 * <p>Not thread-safe (one per thread, like {@code Cipher}). Test and benchmark code only: the
 * library itself calls native code for every byte of cryptography.
 */
final class PureJavaEnvelope {
    static final int HEADER = 53;
    static final int TAG = 16;
    static final int OVERHEAD = HEADER + TAG;

    private final int kekId;
    private final Mac hkdf;
    private final Cipher gcm;
    private final SecureRandom random = new SecureRandom();

    /** {@code "LKRd" ‖ be32(kek_id) ‖ salt(32) ‖ 0x01}: the salt is filled in per record. */
    private final byte[] info = new byte[41];

    private final byte[] dataKey = new byte[32];

    PureJavaEnvelope(byte[] kek, int kekId) throws GeneralSecurityException {
        this.kekId = kekId;
        hkdf = Mac.getInstance("HmacSHA256");
        hkdf.init(new SecretKeySpec(kek, "HmacSHA256"));
        gcm = Cipher.getInstance("AES/GCM/NoPadding");
        info[0] = 'L';
        info[1] = 'K';
        info[2] = 'R';
        info[3] = 'd';
        be32(kekId, info, 4);
        info[40] = 1;
    }

    /**
     * The envelope code of the active KEK of {@code crypt}, unwrapped from its exported keystore
     * with the local CMK {@code cmk} (docs/keystore.md).
     */
    static PureJavaEnvelope of(LkrCrypt crypt, byte[] cmk) throws Exception {
        int id = crypt.activeKekId();
        String json = new String(crypt.exportKeystore(), java.nio.charset.StandardCharsets.UTF_8);
        return new PureJavaEnvelope(IndependentFormatTest.unwrapKek(cmk, json, id), id);
    }

    private static void be32(int v, byte[] b, int off) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    /** The record data key for the salt at {@code env[off + 9 ..]}. */
    private SecretKeySpec recordKey(byte[] env, int off) throws GeneralSecurityException {
        System.arraycopy(env, off + 9, info, 8, 32);
        hkdf.update(info);
        hkdf.doFinal(dataKey, 0);
        return new SecretKeySpec(dataKey, "AES");
    }

    /**
     * Initialises the cipher for the envelope whose header is at {@code env[off ..]}: its record
     * key, its nonce, the header ‖ context as additional data.
     */
    private void init(int mode, byte[] env, int off, byte[] context)
            throws GeneralSecurityException {
        gcm.init(mode, recordKey(env, off), new GCMParameterSpec(128, env, off + 41, 12));
        gcm.updateAAD(env, off, HEADER);
        gcm.updateAAD(context);
    }

    /** Encrypts into {@code out} at {@code outOff}; returns the envelope's length. */
    int encrypt(byte[] in, int inOff, int inLen, byte[] context, byte[] out, int outOff)
            throws GeneralSecurityException {
        out[outOff] = 'L';
        out[outOff + 1] = 'K';
        out[outOff + 2] = 'R';
        out[outOff + 3] = 1;
        out[outOff + 4] = 1;
        be32(kekId, out, outOff + 5);
        byte[] saltNonce = new byte[44];
        random.nextBytes(saltNonce);
        System.arraycopy(saltNonce, 0, out, outOff + 9, 44);
        init(Cipher.ENCRYPT_MODE, out, outOff, context);
        return HEADER + gcm.doFinal(in, inOff, inLen, out, outOff + HEADER);
    }

    byte[] encrypt(byte[] plaintext, byte[] context) throws GeneralSecurityException {
        byte[] out = new byte[plaintext.length + OVERHEAD];
        encrypt(plaintext, 0, plaintext.length, context, out, 0);
        return out;
    }

    /** Decrypts {@code env[off, off + len)} into {@code out} at {@code outOff}. */
    int decrypt(byte[] env, int off, int len, byte[] context, byte[] out, int outOff)
            throws GeneralSecurityException {
        if (len < OVERHEAD
                || env[off] != 'L'
                || env[off + 1] != 'K'
                || env[off + 2] != 'R'
                || env[off + 3] != 1
                || env[off + 4] != 1
                || ((env[off + 5] & 0xff) << 24
                                | (env[off + 6] & 0xff) << 16
                                | (env[off + 7] & 0xff) << 8
                                | (env[off + 8] & 0xff))
                        != kekId) {
            throw new AEADBadTagException("not an envelope v1 of this KEK");
        }
        init(Cipher.DECRYPT_MODE, env, off, context);
        return gcm.doFinal(env, off + HEADER, len - HEADER, out, outOff);
    }

    byte[] decrypt(byte[] envelope, byte[] context) throws GeneralSecurityException {
        byte[] out = new byte[Math.max(0, envelope.length - OVERHEAD)];
        decrypt(envelope, 0, envelope.length, context, out, 0);
        return out;
    }
}
