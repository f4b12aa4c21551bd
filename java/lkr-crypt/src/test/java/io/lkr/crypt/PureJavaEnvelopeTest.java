package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's pure-{@code javax.crypto} envelope ({@link PureJavaEnvelope}) and lkr-crypt read
 * each other's records, through both APIs of each, at the benchmark's sizes: it implements
 * docs/envelope.md exactly (and so proves the format again), so the benchmark compares like with
 * like.
 */
class PureJavaEnvelopeTest {
    @Test
    void pureJavaAndLkrReadEachOthersEnvelopes() throws Exception {
        byte[] cmk = Base64.getDecoder().decode(TestSupport.TEST_CMK);
        byte[] ctx = utf8("CONNECTION.PASSWORD:42");
        try (LkrCrypt crypt = TestSupport.openNew()) {
            PureJavaEnvelope pure = PureJavaEnvelope.of(crypt, cmk);
            for (int n : new int[] {0, 1, 64, 1024, 16384, 1 << 20}) {
                byte[] pt = TestSupport.random(n);

                byte[] fromLkr = crypt.encrypt(pt, ctx);
                assertArrayEquals(pt, pure.decrypt(fromLkr, ctx), "lkr -> pure, size " + n);
                byte[] fromPure = pure.encrypt(pt, ctx);
                assertEquals(n + LkrCrypt.OVERHEAD, fromPure.length);
                assertArrayEquals(pt, crypt.decrypt(fromPure, ctx), "pure -> lkr, size " + n);

                // The caller-owned forms of both, at offsets.
                byte[] env = new byte[n + 69 + 5];
                assertEquals(n + 69, pure.encrypt(pt, 0, n, ctx, env, 5));
                byte[] out = new byte[n + 3];
                assertEquals(n, crypt.decrypt(env, 5, n + 69, ctx, out, 3));
                assertArrayEquals(pt, Arrays.copyOfRange(out, 3, 3 + n));
                assertEquals(n + 69, crypt.encrypt(pt, 0, n, ctx, env, 5));
                assertEquals(n, pure.decrypt(env, 5, n + 69, ctx, out, 3));
                assertArrayEquals(pt, Arrays.copyOfRange(out, 3, 3 + n));

                // Both refuse the other's record under another context, and a changed byte.
                assertThrows(AEADBadTagException.class, () -> pure.decrypt(fromLkr, utf8("X")));
                assertThrows(AEADBadTagException.class, () -> crypt.decrypt(fromPure, utf8("X")));
                byte[] bad = fromPure.clone();
                bad[bad.length - 1] ^= 1;
                assertThrows(AEADBadTagException.class, () -> crypt.decrypt(bad, ctx));
            }
        }
    }
}
