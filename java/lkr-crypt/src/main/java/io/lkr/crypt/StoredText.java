package io.lkr.crypt;

import java.util.Base64;
import java.util.Objects;

/**
 * The stored text form of a value (docs/envelope.md: standard base64, RFC 4648 §4, padded), decoded
 * exactly as the engine decodes it ({@code decode_text} in the crate): whitespace around the text
 * is ignored (Unicode White_Space, as Rust's {@code str::trim}), and the rest must be the standard
 * alphabet, padded to a multiple of 4 characters, canonical (no bit set after the last byte).
 * Nothing else is accepted: no line breaks or other characters inside, no missing padding.
 */
public final class StoredText {
    private StoredText() {}

    /**
     * The stored text form of {@code value}: standard base64, padded.
     *
     * @param value the stored bytes
     * @return their text form
     */
    public static String encode(byte[] value) {
        return Base64.getEncoder().encodeToString(value);
    }

    /**
     * The value whose stored text form is {@code text} (surrounding whitespace ignored).
     *
     * @param text the text form
     * @return the stored bytes
     * @throws IllegalArgumentException when it is not one
     */
    public static byte[] decode(String text) {
        String t = trim(Objects.requireNonNull(text, "text"));
        // The JDK's decoder first (its messages for what it refuses), then what it lets pass.
        byte[] value = Base64.getDecoder().decode(t);
        int n = t.length();
        if (n % 4 != 0) {
            throw new IllegalArgumentException(
                    "Base64 without its padding: " + n + " characters, not a multiple of 4");
        }
        if (n > 0 && t.charAt(n - 1) == '=') {
            boolean two = t.charAt(n - 2) == '=';
            int last = sextet(t.charAt(n - (two ? 3 : 2)));
            if ((last & (two ? 0x0f : 0x03)) != 0) {
                throw new IllegalArgumentException(
                        "Base64 that is not canonical: bits set after the last byte");
            }
        }
        return value;
    }

    /** {@link #decode} for the engine's calls: text that is not a stored form is not authentic. */
    static byte[] decodeValue(String text) throws NotAuthenticException {
        try {
            return decode(text);
        } catch (IllegalArgumentException e) {
            throw new NotAuthenticException(
                    ErrorKind.NOT_AUTHENTIC,
                    "The value could not be authenticated: it is not valid base64");
        }
    }

    /** {@code text} without leading and trailing Unicode White_Space (Rust's {@code str::trim}). */
    static String trim(String text) {
        int from = 0;
        int to = text.length();
        while (from < to && isWhiteSpace(text.charAt(from))) {
            from++;
        }
        while (to > from && isWhiteSpace(text.charAt(to - 1))) {
            to--;
        }
        return text.substring(from, to);
    }

    /**
     * Unicode's White_Space property (Rust's {@code char::is_whitespace}); all of it is in the BMP.
     */
    static boolean isWhiteSpace(char c) {
        return c == ' '
                || (c >= '\t' && c <= '\r')
                || c == '\u0085'
                || c == '\u00a0'
                || c == '\u1680'
                || (c >= '\u2000' && c <= '\u200a')
                || c == '\u2028'
                || c == '\u2029'
                || c == '\u202f'
                || c == '\u205f'
                || c == '\u3000';
    }

    private static int sextet(char c) {
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9') {
            return c - '0' + 52;
        }
        return c == '+' ? 62 : 63;
    }
}
