package io.lkr.crypt;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Argument checks of {@link LkrCrypt}'s batch and direct-buffer calls (before anything native), and
 * its UTF-8 rule.
 */
final class Checks {
    private Checks() {}

    /**
     * {@code plaintext} as text (for {@link LkrCrypt#decryptString}); an {@link
     * IllegalArgumentException} when it is not valid UTF-8.
     */
    static String utf8Text(byte[] plaintext) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(plaintext))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(
                    "The value is authentic but its plaintext is not UTF-8 text: use decrypt(byte[], byte[])",
                    e);
        }
    }

    /** The arguments of the direct-buffer calls: both buffers direct, the output writable. */
    static void direct(ByteBuffer in, byte[] context, ByteBuffer out) {
        Objects.requireNonNull(in, "input buffer");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(out, "output buffer");
        if (!in.isDirect() || !out.isDirect()) {
            throw new IllegalArgumentException(
                    "Both buffers must be direct ByteBuffers (ByteBuffer.allocateDirect); "
                            + "use the byte[] methods for heap buffers");
        }
        if (out.isReadOnly()) {
            throw new IllegalArgumentException("The output buffer is read-only");
        }
    }

    /** The arguments of a batch call: one non-null context per non-null value. */
    static void batch(byte[][] values, byte[][] contexts, String what) {
        Objects.requireNonNull(values, what);
        Objects.requireNonNull(contexts, "contexts");
        if (values.length != contexts.length) {
            throw new IllegalArgumentException(
                    what
                            + " and contexts must have the same length (one context per value): "
                            + values.length
                            + " and "
                            + contexts.length);
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) {
                throw new NullPointerException(what + "[" + i + "]");
            }
            if (contexts[i] == null) {
                throw new NullPointerException("contexts[" + i + "]");
            }
        }
    }
}
