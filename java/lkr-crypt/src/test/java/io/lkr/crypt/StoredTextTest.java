package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Base64;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;

/**
 * {@link StoredText}: the one decoder of the stored text form, as strict as the engine's {@code
 * decode_text} (the base64 crate's STANDARD engine: padded, canonical) after Rust's {@code
 * str::trim}.
 */
class StoredTextTest {
    /**
     * What the engine accepts: after trimming, exactly the canonical padded encoding of some bytes.
     */
    private static boolean engineAccepts(String text) {
        String t = StoredText.trim(text);
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(t);
        } catch (IllegalArgumentException e) {
            return false;
        }
        return Base64.getEncoder().encodeToString(decoded).equals(t);
    }

    private static boolean accepts(String text) {
        try {
            StoredText.decode(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void roundTripsWithSurroundingWhiteSpace() {
        for (int n = 0; n < 40; n++) {
            byte[] v = random(n);
            String text = StoredText.encode(v);
            assertEquals(Base64.getEncoder().encodeToString(v), text);
            assertArrayEquals(v, StoredText.decode(text));
            assertArrayEquals(v, StoredText.decode(" \t\r\n" + text + "\n\u000b\f"));
            assertArrayEquals(
                    v,
                    StoredText.decode(
                            "\u00a0\u3000\u2028" + text + "\u0085\u202f\u205f\u1680\u2009"));
        }
    }

    @Test
    void refusesWhatTheEngineRefuses() {
        String[] refused = {
            "QQ",
            "QUI",
            "QUJD=",
            "QR==",
            "QUJ=",
            "QUJDRA", // no padding, bad padding, bits after the last byte
            "QUJD\nRA==",
            "QU JD",
            "QUJD\r\nRA==", // whitespace inside (MIME line breaks)
            "-_8=",
            "QUJD?",
            "====",
            "QQ==QUJD",
            "Q===", // URL-safe alphabet, junk, padding misplaced
            "\u0000QUJD",
            "QUJD\u001f",
            "\u200bQUJD", // not Unicode White_Space: not trimmed
        };
        for (String t : refused) {
            assertThrows(IllegalArgumentException.class, () -> StoredText.decode(t), t);
        }
    }

    /**
     * Every short string over a small alphabet: accepted exactly when it is a canonical encoding.
     */
    @Test
    void acceptsExactlyTheCanonicalForms() {
        char[] alphabet = {'A', 'B', 'Q', 'g', '/', '+', '=', ' ', '\n', '-'};
        int checked = 0;
        for (int len = 0; len <= 6; len++) {
            int[] digits = new int[len];
            while (true) {
                char[] cs = new char[len];
                for (int i = 0; i < len; i++) {
                    cs[i] = alphabet[digits[i]];
                }
                String s = new String(cs);
                assertEquals(engineAccepts(s), accepts(s), () -> "\"" + s + "\"");
                checked++;
                int i = 0;
                while (i < len && ++digits[i] == alphabet.length) {
                    digits[i++] = 0;
                }
                if (i == len) {
                    break;
                }
            }
        }
        assertEquals(1_111_111, checked);
    }

    @Test
    void lkrCryptUsesIt() throws Exception {
        try (LkrCrypt crypt = TestSupport.openNew()) {
            String value = "x".repeat(50); // 119 bytes of envelope: one padding character
            String stored = crypt.encryptString(value, "T.C:1");
            assertEquals(value, crypt.decryptString("\u3000" + stored + " \n", "T.C:1"));
            String mime = stored.substring(0, 76) + "\r\n" + stored.substring(76);
            assertThrows(AEADBadTagException.class, () -> crypt.decryptString(mime, "T.C:1"));
            String unpadded = stored.replace("=", "");
            assertEquals(stored.length() - 1, unpadded.length());
            assertThrows(AEADBadTagException.class, () -> crypt.decryptString(unpadded, "T.C:1"));
        }
    }
}
