package io.lkr.crypt;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The smallest use of the library through a jar, for a JVM of another platform
 * (tests/aarch64_jvm.sh runs it on an arm64 JVM under qemu-user with only the operator jar and this
 * class on the class path): loads the native library the jar bundles for this platform, encrypts
 * and decrypts a record under a random CMK and a new in-memory keystore, and checks that a changed
 * byte is refused. Prints {@code SMOKE OK <platform> loaded=<from>} and exits 0, or prints what
 * failed and exits 1.
 */
public final class SmokeProbe {
    private SmokeProbe() {}

    public static void main(String[] args) throws Exception {
        byte[] cmk = new byte[32];
        new SecureRandom().nextBytes(cmk);
        byte[] secret = "hunter2".getBytes(StandardCharsets.UTF_8);
        byte[] ctx = "CONNECTION.PASSWORD:42".getBytes(StandardCharsets.UTF_8);
        try (MasterKey key = MasterKey.local(cmk);
                LkrCrypt crypt = LkrCrypt.open(key, (byte[]) null)) {
            byte[] env = crypt.encrypt(secret, ctx);
            if (!Arrays.equals(crypt.decrypt(env, ctx), secret)) {
                fail("the decrypted record differs from the plaintext");
            }
            env[env.length - 1] ^= 1;
            try {
                crypt.decrypt(env, ctx);
                fail("a changed record was decrypted");
            } catch (NotAuthenticException expected) {
                // refused, as it must be
            }
        }
        System.out.println(
                "SMOKE OK " + NativeLoader.platform() + " loaded=" + NativeLoader.loadedFrom());
    }

    private static void fail(String why) {
        System.out.println("SMOKE FAILED: " + why);
        System.exit(1);
    }
}
