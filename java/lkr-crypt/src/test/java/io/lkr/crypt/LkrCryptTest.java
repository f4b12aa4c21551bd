package io.lkr.crypt;

import static io.lkr.crypt.TestSupport.random;
import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.ShortBufferException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Round trips, authenticity, arguments, keystores: the library in the test JVM. */
class LkrCryptTest {
    static final byte[] CTX = utf8("CONNECTION.PASSWORD:42");
    static LkrCrypt crypt;

    @BeforeAll
    static void open() throws Exception {
        crypt = TestSupport.openNew();
    }

    @AfterAll
    static void close() {
        crypt.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15, 16, 17, 64, 1024, 16384, 1 << 20})
    void roundTrip(int size) throws Exception {
        byte[] pt = random(size);
        byte[] env = crypt.encrypt(pt, CTX);
        assertEquals(size + LkrCrypt.OVERHEAD, env.length);
        assertEquals(LkrCrypt.encryptedLength(size), env.length);
        assertEquals('L', env[0]);
        assertEquals('K', env[1]);
        assertEquals('R', env[2]);
        assertEquals(1, env[3]);
        assertEquals(1, env[4]);
        assertArrayEquals(pt, crypt.decrypt(env, CTX));
        assertArrayEquals(pt, crypt.decrypt(env.clone(), CTX.clone()));
    }

    /**
     * The FIPS build (Maven property {@code fips}, which sets {@code lkr.test.fips}) and no other.
     */
    @Test
    void fipsModeIsTheBuilds() {
        assertEquals(Boolean.getBoolean("lkr.test.fips"), LkrCrypt.isFipsMode());
    }

    @Test
    void everyEncryptionIsFresh() throws Exception {
        byte[] pt = utf8("same");
        byte[] a = crypt.encrypt(pt, CTX);
        byte[] b = crypt.encrypt(pt, CTX);
        assertFalse(Arrays.equals(a, b));
        assertFalse(
                Arrays.equals(Arrays.copyOfRange(a, 9, 53), Arrays.copyOfRange(b, 9, 53)),
                "salt and nonce");
    }

    @Test
    void emptyContextIsAContext() throws Exception {
        byte[] env = crypt.encrypt(utf8("x"), new byte[0]);
        assertArrayEquals(utf8("x"), crypt.decrypt(env, new byte[0]));
        assertThrows(AEADBadTagException.class, () -> crypt.decrypt(env, CTX));
    }

    @Test
    void everyChangedByteIsRejected() throws Exception {
        byte[] env = crypt.encrypt(random(40), CTX);
        for (int i = 0; i < env.length; i++) {
            for (int bit : new int[] {0x01, 0x80}) {
                byte[] t = env.clone();
                t[i] ^= (byte) bit;
                AEADBadTagException e =
                        assertThrows(
                                AEADBadTagException.class,
                                () -> crypt.decrypt(t, CTX),
                                "byte " + i);
                assertNotNull(e.getMessage());
            }
        }
    }

    @Test
    void truncationAndExtensionAreRejected() throws Exception {
        byte[] env = crypt.encrypt(random(100), CTX);
        for (int len = 0; len < env.length; len++) {
            byte[] t = Arrays.copyOf(env, len);
            assertThrows(AEADBadTagException.class, () -> crypt.decrypt(t, CTX), "length " + len);
        }
        byte[] longer = Arrays.copyOf(env, env.length + 1);
        assertThrows(AEADBadTagException.class, () -> crypt.decrypt(longer, CTX));
    }

    @Test
    void notAuthenticSaysSoAndNothingMore() throws Exception {
        byte[] env = crypt.encrypt(utf8("secret value"), CTX);
        NotAuthenticException e =
                assertThrows(
                        NotAuthenticException.class,
                        () -> crypt.decrypt(env, utf8("CONNECTION.PASSWORD:43")));
        assertEquals(ErrorKind.NOT_AUTHENTIC, e.kind());
        assertTrue(e.getMessage().contains("could not be authenticated"), e.getMessage());
        assertFalse(e.getMessage().contains("secret"));
    }

    @Test
    void wrongContextFails() throws Exception {
        byte[] env = crypt.encrypt(utf8("pw"), utf8("CONNECTION.PASSWORD:42"));
        assertThrows(
                AEADBadTagException.class,
                () -> crypt.decrypt(env, utf8("CONNECTION.PASSWORD:43")));
        assertThrows(AEADBadTagException.class, () -> crypt.decrypt(env, utf8("USER.PASSWORD:42")));
        assertThrows(AEADBadTagException.class, () -> crypt.decrypt(env, new byte[0]));
    }

    @Test
    void anotherKeystoreCannotDecrypt() throws Exception {
        byte[] env = crypt.encrypt(utf8("pw"), CTX);
        try (LkrCrypt other = TestSupport.openNew()) {
            assertThrows(AEADBadTagException.class, () -> other.decrypt(env, CTX));
        }
    }

    @Test
    void unknownKekAndVersionAreNamed() throws Exception {
        byte[] env = crypt.encrypt(utf8("pw"), CTX);
        byte[] kek = env.clone();
        kek[8] = 7;
        NotAuthenticException e =
                assertThrows(NotAuthenticException.class, () -> crypt.decrypt(kek, CTX));
        assertEquals(ErrorKind.UNKNOWN_KEK, e.kind());
        assertTrue(e.getMessage().contains("7"), e.getMessage());
        byte[] v2 = env.clone();
        v2[3] = 2;
        e = assertThrows(NotAuthenticException.class, () -> crypt.decrypt(v2, CTX));
        assertEquals(ErrorKind.UNSUPPORTED_FORMAT, e.kind());
    }

    @Test
    void keystoreBytesRoundTrip() throws Exception {
        byte[] ks = crypt.exportKeystore();
        String json = new String(ks, StandardCharsets.UTF_8);
        assertTrue(json.contains("\"lkr-keystore\""), json);
        assertTrue(json.contains("\"local\""), json);
        byte[] env = crypt.encrypt(utf8("kept in the database"), CTX);
        try (LkrCrypt again = LkrCrypt.openFromEnvironment(ks)) {
            assertEquals(crypt.activeKekId(), again.activeKekId());
            assertArrayEquals(utf8("kept in the database"), again.decrypt(env, CTX));
            assertArrayEquals(ks, again.exportKeystore());
        }
    }

    @Test
    void malformedKeystoreBytes() {
        KeystoreException e =
                assertThrows(
                        KeystoreException.class,
                        () -> LkrCrypt.openFromEnvironment(utf8("{\"format\": \"nope\"}")));
        assertEquals(ErrorKind.KEYSTORE, e.kind());
        assertThrows(KeystoreException.class, () -> LkrCrypt.openFromEnvironment(new byte[0]));
        assertThrows(KeystoreException.class, () -> LkrCrypt.openFromEnvironment(random(300)));
    }

    @Test
    void keystoreFileIsCreatedOnFirstOpenAndReused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keystore.json");
        byte[] env;
        try (LkrCrypt c = LkrCrypt.openFromEnvironment(file)) {
            env = c.encrypt(utf8("v"), CTX);
        }
        assertTrue(Files.exists(file));
        assertEquals(
                "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        byte[] first = Files.readAllBytes(file);
        try (LkrCrypt c = LkrCrypt.openFromEnvironment(file)) {
            assertArrayEquals(utf8("v"), c.decrypt(env, CTX));
            assertArrayEquals(first, c.exportKeystore());
        }
        assertArrayEquals(first, Files.readAllBytes(file));
    }

    @Test
    void base64Helpers() throws Exception {
        String stored = crypt.encryptString("pässwörd ✓", "CONNECTION.PASSWORD:42");
        byte[] raw = Base64.getDecoder().decode(stored);
        assertEquals(LkrCrypt.encryptedLength(utf8("pässwörd ✓").length), raw.length);
        assertEquals("pässwörd ✓", crypt.decryptString(stored, "CONNECTION.PASSWORD:42"));
        assertEquals(
                "pässwörd ✓", crypt.decryptString("  " + stored + "\n", "CONNECTION.PASSWORD:42"));
        assertThrows(
                AEADBadTagException.class,
                () -> crypt.decryptString(stored, "CONNECTION.PASSWORD:41"));
        assertThrows(
                AEADBadTagException.class, () -> crypt.decryptString("not base64 at all!", "x"));
        String bin = crypt.encryptToBase64(new byte[] {(byte) 0xff, (byte) 0xfe}, CTX);
        assertArrayEquals(new byte[] {(byte) 0xff, (byte) 0xfe}, crypt.decryptFromBase64(bin, CTX));
        assertThrows(
                IllegalArgumentException.class,
                () -> crypt.decryptString(bin, new String(CTX, StandardCharsets.UTF_8)));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 64, 1024, 16384, 1 << 20})
    void directBuffers(int size) throws Exception {
        byte[] pt = random(size);
        ByteBuffer in = ByteBuffer.allocateDirect(size + 10);
        in.position(5);
        in.put(pt);
        in.position(5).limit(5 + size);
        ByteBuffer env = ByteBuffer.allocateDirect(LkrCrypt.encryptedLength(size) + 3);
        env.position(3);
        int n = crypt.encrypt(in, CTX, env);
        assertEquals(LkrCrypt.encryptedLength(size), n);
        assertEquals(in.limit(), in.position());
        assertEquals(3 + n, env.position());

        byte[] envBytes = new byte[n];
        env.flip().position(3);
        env.duplicate().get(envBytes);
        assertArrayEquals(
                pt,
                crypt.decrypt(envBytes, CTX),
                "the byte[] path reads what the direct path wrote");

        ByteBuffer out = ByteBuffer.allocateDirect(size);
        assertEquals(size, crypt.decrypt(env, CTX, out));
        out.flip();
        byte[] back = new byte[size];
        out.get(back);
        assertArrayEquals(pt, back);
    }

    @Test
    void directBufferFailures() throws Exception {
        ByteBuffer in = ByteBuffer.allocateDirect(100);
        ByteBuffer small = ByteBuffer.allocateDirect(100 + LkrCrypt.OVERHEAD - 1);
        assertThrows(ShortBufferException.class, () -> crypt.encrypt(in.duplicate(), CTX, small));
        assertThrows(
                IllegalArgumentException.class,
                () -> crypt.encrypt(ByteBuffer.allocate(10), CTX, ByteBuffer.allocateDirect(100)));
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        crypt.encrypt(
                                in.duplicate(),
                                CTX,
                                ByteBuffer.allocateDirect(200).asReadOnlyBuffer()));
        ByteBuffer shared = ByteBuffer.allocateDirect(400);
        ByteBuffer src = shared.duplicate().position(0).limit(100).slice();
        ByteBuffer dst = shared.duplicate().position(50).limit(400).slice();
        assertThrows(IllegalArgumentException.class, () -> crypt.encrypt(src, CTX, dst), "overlap");

        ByteBuffer env = ByteBuffer.allocateDirect(200);
        crypt.encrypt(ByteBuffer.allocateDirect(50), CTX, env);
        env.flip();
        ByteBuffer tiny = ByteBuffer.allocateDirect(49);
        assertThrows(ShortBufferException.class, () -> crypt.decrypt(env.duplicate(), CTX, tiny));
        env.put(60, (byte) (env.get(60) ^ 1));
        ByteBuffer out = ByteBuffer.allocateDirect(50);
        for (int i = 0; i < 50; i++) {
            out.put(i, (byte) 0x33);
        }
        assertThrows(AEADBadTagException.class, () -> crypt.decrypt(env.duplicate(), CTX, out));
        assertEquals(0, out.position());
        for (int i = 0; i < 50; i++) {
            assertTrue(
                    out.get(i) == 0 || out.get(i) == 0x33,
                    "no unauthenticated plaintext left behind");
        }
    }

    @Test
    void contextsOver64KiBAreRefusedOnEveryPath() throws Exception {
        byte[] atMax = new byte[LkrCrypt.MAX_CONTEXT];
        byte[] over = new byte[LkrCrypt.MAX_CONTEXT + 1];
        byte[] env = crypt.encrypt(utf8("pw"), atMax);
        assertArrayEquals(utf8("pw"), crypt.decrypt(env, atMax));
        java.util.List<org.junit.jupiter.api.function.Executable> calls =
                java.util.List.of(
                        () -> crypt.encrypt(utf8("pw"), over),
                        () -> crypt.decrypt(env, over),
                        () -> crypt.legacyMigrator().migrate(env, over),
                        () -> crypt.keystoreAdmin().moveToActiveKek(env, over),
                        () -> crypt.encryptBatch(new byte[][] {utf8("pw")}, new byte[][] {over}),
                        () -> crypt.decryptBatch(new byte[][] {env}, new byte[][] {over}),
                        () ->
                                crypt.encrypt(
                                        ByteBuffer.allocateDirect(8),
                                        over,
                                        ByteBuffer.allocateDirect(100)),
                        () -> crypt.encryptingStream(new java.io.ByteArrayOutputStream(), over),
                        () ->
                                crypt.decryptingStream(
                                        new java.io.ByteArrayInputStream(new byte[60]), over));
        for (org.junit.jupiter.api.function.Executable call : calls) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
            assertTrue(e.getMessage().contains("context is too large"), e.getMessage());
        }
    }

    @Test
    void anEnvelopeOfAnUnknownKekIsNeverMigratedAsLegacy() throws Exception {
        byte[] legacyKey = random(16);
        try (LkrCrypt other = TestSupport.openNew();
                LkrCrypt o2 = other.keystoreAdmin().rotateKek();
                LkrCrypt o3 = o2.keystoreAdmin().rotateKek()) {
            for (int i = 0; i < 300; i++) {
                byte[] env = o3.encrypt(random(27), CTX); // 96 bytes: CBC-sized
                NotAuthenticException e =
                        assertThrows(
                                NotAuthenticException.class,
                                () -> crypt.legacyMigrator().migrate(env, CTX, legacyKey));
                assertEquals(ErrorKind.UNKNOWN_KEK, e.kind());
                assertTrue(
                        e.getMessage().contains("KEK 3")
                                && e.getMessage().contains("not tried as a legacy value"),
                        e.getMessage());
            }
        }
    }

    @Test
    void reseedRandomKeepsEncryptionWorking() throws Exception {
        byte[] before = crypt.encrypt(utf8("pw"), CTX);
        LkrCrypt.reseedRandom();
        byte[] after = crypt.encrypt(utf8("pw"), CTX);
        assertFalse(
                Arrays.equals(Arrays.copyOfRange(before, 9, 53), Arrays.copyOfRange(after, 9, 53)));
        assertArrayEquals(utf8("pw"), crypt.decrypt(after, CTX));
    }

    @Test
    void batches() throws Exception {
        int n = 500;
        byte[][] pts = new byte[n][];
        byte[][] ctxs = new byte[n][];
        for (int i = 0; i < n; i++) {
            pts[i] = random(i % 97);
            ctxs[i] = utf8("T.C:" + i);
        }
        byte[][] envs = crypt.encryptBatch(pts, ctxs);
        assertEquals(n, envs.length);
        for (int i = 0; i < n; i++) {
            assertArrayEquals(pts[i], crypt.decrypt(envs[i], ctxs[i]));
        }
        byte[][] back = crypt.decryptBatch(envs, ctxs);
        for (int i = 0; i < n; i++) {
            assertArrayEquals(pts[i], back[i]);
        }
        assertEquals(0, crypt.encryptBatch(new byte[0][], new byte[0][]).length);
        byte[][] swapped = ctxs.clone();
        swapped[7] = ctxs[8];
        AEADBadTagException e =
                assertThrows(AEADBadTagException.class, () -> crypt.decryptBatch(envs, swapped));
        assertTrue(e.getMessage().contains("Item 7"), e.getMessage());
    }

    @Test
    void badArguments() throws Exception {
        assertThrows(NullPointerException.class, () -> crypt.encrypt(null, CTX));
        assertThrows(NullPointerException.class, () -> crypt.encrypt(new byte[1], null));
        assertThrows(NullPointerException.class, () -> crypt.decrypt(null, CTX));
        assertThrows(NullPointerException.class, () -> crypt.decrypt(new byte[80], null));
        assertThrows(NullPointerException.class, () -> crypt.legacyMigrator().migrate(null, CTX));
        assertThrows(NullPointerException.class, () -> LkrCrypt.openFromEnvironment((Path) null));
        assertThrows(
                NullPointerException.class,
                () -> crypt.encryptBatch(new byte[][] {null}, new byte[][] {CTX}));
        assertThrows(
                NullPointerException.class,
                () -> crypt.encryptBatch(new byte[][] {CTX}, new byte[][] {null}));
        assertThrows(
                IllegalArgumentException.class,
                () -> crypt.encryptBatch(new byte[2][0], new byte[1][0]));
        assertThrows(IllegalArgumentException.class, () -> LkrCrypt.encryptedLength(-1));
        assertThrows(
                IllegalArgumentException.class, () -> LkrCrypt.encryptedLength(Integer.MAX_VALUE));
        LegacyException e =
                assertThrows(
                        LegacyException.class,
                        () -> crypt.legacyMigrator().migrate(new byte[32], CTX, new byte[15]));
        assertTrue(e.getMessage().contains("16 bytes however is 15"), e.getMessage());
    }

    @Test
    void nativeCallsRejectBadArgumentsToo() {
        // The natives check what LkrCrypt already checks: nothing reaches Rust as a null.
        assertThrows(
                IllegalArgumentException.class,
                () -> Native.encryptInPlace(0, new byte[0], new byte[70]));
        long h = Native.openBytes(null);
        try {
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptInPlace(h, null, new byte[70]));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptInPlace(h, new byte[0], new byte[68]));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptInPlace(h, new byte[0], null));
            byte[] same = new byte[70];
            assertThrows(
                    IllegalArgumentException.class, () -> Native.encryptInPlace(h, same, same));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.decryptInPlace(h, new byte[100], null, new byte[31]));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.decryptInPlace(h, new byte[100], new byte[0], new byte[30]));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.decryptInPlace(h, null, new byte[0], new byte[31]));
            byte[] env = new byte[100];
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.decryptInPlace(h, env, new byte[0], env));
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            Native.encryptDirect(
                                    h,
                                    ByteBuffer.allocate(4),
                                    0,
                                    4,
                                    new byte[0],
                                    ByteBuffer.allocateDirect(100),
                                    0,
                                    100));
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            Native.encryptDirect(
                                    h,
                                    ByteBuffer.allocateDirect(4),
                                    2,
                                    4,
                                    new byte[0],
                                    ByteBuffer.allocateDirect(100),
                                    0,
                                    100));
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            Native.encryptDirect(
                                    h,
                                    ByteBuffer.allocateDirect(4),
                                    -1,
                                    1,
                                    new byte[0],
                                    ByteBuffer.allocateDirect(100),
                                    0,
                                    100));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Native.encryptBatch(h, new byte[][] {null}, new byte[][] {{}}));
        } finally {
            Native.close(h);
        }
    }

    @Test
    void closedHandle() throws Exception {
        LkrCrypt c = TestSupport.openNew();
        byte[] env = c.encrypt(utf8("x"), CTX);
        c.close();
        assertTrue(c.isClosed());
        c.close();
        assertThrows(IllegalStateException.class, () -> c.encrypt(utf8("x"), CTX));
        assertThrows(IllegalStateException.class, () -> c.decrypt(env, CTX));
        assertThrows(IllegalStateException.class, c::exportKeystore);
        assertThrows(
                IllegalStateException.class,
                () -> c.encrypt(ByteBuffer.allocateDirect(1), CTX, ByteBuffer.allocateDirect(100)));
        assertEquals("LkrCrypt[closed]", c.toString());
    }

    @Test
    void libraryLoadedFromTheBundle() {
        assertNotNull(NativeLoader.loadedFrom());
        assertEquals("linux-x86_64", NativeLoader.platform());
    }

    /**
     * encrypt(byte[], byte[]) copies the plaintext into the array it seals in place; when sealing
     * fails — refused by the engine, or the handle closed meanwhile — that copy is wiped.
     */
    @Test
    void aFailedEncryptionWipesItsPlaintextCopy() throws Exception {
        byte[] secret = random(48);
        // Not try-with-resources: the handle is closed in the middle, on purpose (close is
        // idempotent).
        LkrCrypt c = LkrCrypt.openFromEnvironment((byte[]) null);
        try {
            // Refused by the engine: the context is the buffer itself.
            byte[] buf = withPlaintext(secret);
            assertThrows(IllegalArgumentException.class, () -> c.sealInPlace(buf, buf));
            assertArrayEquals(new byte[buf.length], buf, "the plaintext copy is wiped");
            // Too short for an envelope.
            byte[] shortBuf = Arrays.copyOf(secret, 40);
            assertThrows(IllegalArgumentException.class, () -> c.sealInPlace(shortBuf, CTX));
            assertArrayEquals(new byte[40], shortBuf);
            // And the ordinary path still works.
            byte[] ok = withPlaintext(secret);
            c.sealInPlace(ok, CTX);
            assertArrayEquals(secret, c.decrypt(ok, CTX));
            c.close();
            byte[] afterClose = withPlaintext(secret);
            assertThrows(IllegalStateException.class, () -> c.sealInPlace(afterClose, CTX));
            assertArrayEquals(new byte[afterClose.length], afterClose);
        } finally {
            c.close();
        }
    }

    private static byte[] withPlaintext(byte[] plaintext) {
        byte[] buf = new byte[LkrCrypt.encryptedLength(plaintext.length)];
        System.arraycopy(plaintext, 0, buf, LkrCrypt.HEADER_LENGTH, plaintext.length);
        return buf;
    }
}
