package io.lkr.crypt;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import javax.crypto.ShortBufferException;

/**
 * Argument checks of the batch, caller-owned array and direct-buffer calls of {@link LkrCrypt} and
 * {@link LegacyMigrator} (before anything native), and the UTF-8 rule of {@link LkrCrypt}.
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

    /**
     * The arguments of the caller-owned array calls: non-null arrays, {@code [inOff, inOff +
     * inLen)} within {@code in} and {@code outOff} within {@code out} ({@link
     * IndexOutOfBoundsException} otherwise, as {@link Objects#checkFromIndexSize}).
     */
    static void arrays(byte[] in, int inOff, int inLen, byte[] context, byte[] out, int outOff) {
        Objects.requireNonNull(in, "input");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(out, "output");
        Objects.checkFromIndexSize(inOff, inLen, in.length);
        Objects.checkFromIndexSize(outOff, 0, out.length);
        if (context == in || context == out) {
            throw new IllegalArgumentException("The context must be an array of its own");
        }
    }

    /**
     * Throws {@link ShortBufferException} when {@code given} bytes are fewer than {@code needed}.
     */
    static void room(int needed, int given) throws ShortBufferException {
        if (given < needed) {
            throw new ShortBufferException(
                    "Output buffer too small: " + needed + " bytes needed, " + given + " given");
        }
    }

    /**
     * True when the output region {@code [outOff, outOff + outLen)} of {@code out} shares bytes
     * with the input region of {@code in} — unless it lies {@code shift} bytes after the input's
     * start, where the native side works in place ({@link CryptHandle#NO_IN_PLACE}: nowhere).
     */
    static boolean mustCopy(
            byte[] in, int inOff, int inLen, byte[] out, int outOff, int outLen, long shift) {
        return in == out
                && inLen > 0
                && outLen > 0
                && inOff < outOff + outLen
                && outOff < inOff + inLen
                && (long) outOff - inOff != shift;
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
