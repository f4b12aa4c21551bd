package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * An independent check of docs/derivations.md, docs/envelope.md, docs/keystore.md with javax.crypto
 * only: unwrap the KEK from the exported keystore with the CMK, derive the record key with
 * HKDF-Expand (through Mac), open the envelope with AES/GCM/NoPadding — and the other way round.
 */
class IndependentFormatTest {

    /** RFC 5869 HKDF-Expand with SHA-256, the PRK used directly (docs/derivations.md). */
    static byte[] hkdfExpand(byte[] prk, byte[] info, int len) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(prk, "HmacSHA256"));
        byte[] out = new byte[len];
        byte[] t = new byte[0];
        int done = 0;
        for (int counter = 1; done < len; counter++) {
            mac.update(t);
            mac.update(info);
            mac.update((byte) counter);
            t = mac.doFinal();
            int n = Math.min(t.length, len - done);
            System.arraycopy(t, 0, out, done, n);
            done += n;
        }
        return out;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    static byte[] be32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    static String field(String json, String regex) {
        Matcher m = Pattern.compile(regex).matcher(json);
        assertTrue(m.find(), regex + " in " + json);
        return m.group(1);
    }

    /**
     * The KEK with id {@code id}, unwrapped from the keystore JSON with the local CMK
     * (docs/keystore.md).
     */
    static byte[] unwrapKek(byte[] cmk, String json, int id) throws Exception {
        String wrapped =
                field(
                        json,
                        "\\{[^}]*\"id\"\\s*:\\s*"
                                + id
                                + "\\b[^}]*\"wrapped\"\\s*:\\s*\"([^\"]+)\"");
        byte[] w = Base64.getDecoder().decode(wrapped);
        assertEquals(60, w.length);
        byte[] wrapKey = hkdfExpand(cmk, utf8("lkr-crypt v1 kek-wrap"), 32);
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(
                Cipher.DECRYPT_MODE,
                new SecretKeySpec(wrapKey, "AES"),
                new GCMParameterSpec(128, w, 0, 12));
        gcm.updateAAD(concat(utf8("lkr-crypt v1 kek"), be32(id)));
        return gcm.doFinal(w, 12, w.length - 12);
    }

    @Test
    void javaxCryptoOpensALibraryEnvelope() throws Exception {
        byte[] cmk = Base64.getDecoder().decode(TestSupport.TEST_CMK);
        try (LkrCrypt crypt = TestSupport.openNew()) {
            String json = new String(crypt.exportKeystore(), StandardCharsets.UTF_8);

            // The fingerprint of docs/derivations.md identifies the CMK.
            byte[] fp =
                    Base64.getDecoder().decode(field(json, "\"fingerprint\"\\s*:\\s*\"([^\"]+)\""));
            assertArrayEquals(hkdfExpand(cmk, utf8("lkr-crypt v1 fingerprint"), 16), fp);

            int kekId = crypt.activeKekId();
            byte[] kek = unwrapKek(cmk, json, kekId);
            assertEquals(32, kek.length);

            for (String text : new String[] {"", "hunter2", "x".repeat(5000)}) {
                byte[] ctx = utf8("CONNECTION.PASSWORD:42");
                byte[] env = crypt.encrypt(utf8(text), ctx);
                assertArrayEquals(utf8("LKR"), Arrays.copyOfRange(env, 0, 3));
                assertEquals(1, env[3]);
                assertEquals(1, env[4]);
                assertEquals(kekId, ByteBuffer.wrap(env, 5, 4).getInt());
                byte[] header = Arrays.copyOfRange(env, 0, 53);
                byte[] salt = Arrays.copyOfRange(env, 9, 41);
                byte[] nonce = Arrays.copyOfRange(env, 41, 53);
                byte[] dataKey = hkdfExpand(kek, concat(utf8("LKRd"), be32(kekId), salt), 32);

                Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
                gcm.init(
                        Cipher.DECRYPT_MODE,
                        new SecretKeySpec(dataKey, "AES"),
                        new GCMParameterSpec(128, nonce));
                gcm.updateAAD(concat(header, ctx));
                assertArrayEquals(utf8(text), gcm.doFinal(env, 53, env.length - 53));

                // The context is part of the additional data.
                Cipher wrong = Cipher.getInstance("AES/GCM/NoPadding");
                wrong.init(
                        Cipher.DECRYPT_MODE,
                        new SecretKeySpec(dataKey, "AES"),
                        new GCMParameterSpec(128, nonce));
                wrong.updateAAD(header);
                assertThrows(
                        AEADBadTagException.class, () -> wrong.doFinal(env, 53, env.length - 53));
            }

            // And the other way: an envelope made with javax.crypto opens in the library.
            byte[] salt = TestSupport.random(32);
            byte[] nonce = TestSupport.random(12);
            byte[] header = concat(utf8("LKR"), new byte[] {1, 1}, be32(kekId), salt, nonce);
            byte[] dataKey = hkdfExpand(kek, concat(utf8("LKRd"), be32(kekId), salt), 32);
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(
                    Cipher.ENCRYPT_MODE,
                    new SecretKeySpec(dataKey, "AES"),
                    new GCMParameterSpec(128, nonce));
            gcm.updateAAD(concat(header, utf8("T.C:1")));
            byte[] env = concat(header, gcm.doFinal(utf8("made by javax.crypto")));
            assertArrayEquals(utf8("made by javax.crypto"), crypt.decrypt(env, utf8("T.C:1")));
        }
    }
}
