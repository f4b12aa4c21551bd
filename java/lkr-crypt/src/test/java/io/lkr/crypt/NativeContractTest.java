package io.lkr.crypt;

import static io.lkr.crypt.LegacyMigrationTest.legacy;
import static io.lkr.crypt.TestSupport.random;
import static io.lkr.crypt.TestSupport.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.LegacyMigrator.MigrateOption;
import io.lkr.crypt.MigrationResult.Outcome;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The numbers Java shares with the native side, each kept in one Java place, against the native
 * side itself (issue #15): the error codes ({@link ErrorKind} against the generated C header's
 * {@code LKR_ERR_*} and the library's {@code lkr_status_name}), the format sizes ({@link
 * LkrCrypt}'s constants against the header and what the library does), the migrate flags ({@link
 * MigrateOption} against {@code LKR_MIGRATE_*}) and the migration outcome codes ({@link
 * MigrationResult.Outcome} against what the JNI batch migration reports).
 */
class NativeContractTest {
    /** The generated header, committed in the repository (the tests run in java/lkr-crypt/). */
    static final Path HEADER = Path.of("..", "..", "include", "lkr_crypt.h");

    static final Path LIBRARY =
            Path.of(
                    "target",
                    "classes",
                    "native",
                    NativeLoader.platform(),
                    System.mapLibraryName("lkr_crypt"));
    static final byte[] KEY = LegacyMigrationTest.KEY;

    @TempDir Path dir;

    /** Every {@code #define PREFIX<NAME> <number>} of the header, by NAME. */
    static Map<String, Integer> defines(String prefix) throws Exception {
        Map<String, Integer> out = new TreeMap<>();
        Matcher m =
                Pattern.compile("(?m)^#define " + Pattern.quote(prefix) + "(\\w+) (-?\\d+)\\s*$")
                        .matcher(Files.readString(HEADER));
        while (m.find()) {
            out.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return out;
    }

    static int define(String name) throws Exception {
        Integer v = defines("").get(name);
        assertTrue(v != null, HEADER + " defines " + name);
        return v;
    }

    @Test
    void errorCodesAreTheHeaders() throws Exception {
        Map<String, Integer> java = new TreeMap<>();
        for (ErrorKind k : ErrorKind.values()) {
            java.put(k.name(), k.code());
        }
        assertEquals(defines("LKR_ERR_"), java, "ErrorKind against the LKR_ERR_* of " + HEADER);
        assertEquals(0, define("LKR_OK"));
    }

    /**
     * {@code lkr_status_name} and the length functions of the library, through a small C program.
     */
    @Test
    void statusNamesAndEnvelopeLengthsAreTheLibrarys() throws Exception {
        StringBuilder c =
                new StringBuilder(
                        "#include <stdio.h>\n#include \"lkr_crypt.h\"\nint main(void) {\n");
        for (ErrorKind k : ErrorKind.values()) {
            c.append("    printf(\"status %d %s\\n\", LKR_ERR_")
                    .append(k.name())
                    .append(", lkr_status_name(LKR_ERR_")
                    .append(k.name())
                    .append("));\n");
        }
        c.append("    printf(\"encrypted_len %zu\\n\", lkr_encrypted_len(1000) - 1000);\n");
        c.append("    printf(\"decrypted_len %zu\\n\", 1000 - lkr_decrypted_len(1000));\n");
        c.append("    return 0;\n}\n");
        Map<String, String> out = runC(c.toString());
        for (ErrorKind k : ErrorKind.values()) {
            assertEquals(
                    k.name(), out.get("status " + k.code()), "lkr_status_name(" + k.code() + ")");
        }
        assertEquals(
                String.valueOf(LkrCrypt.OVERHEAD), out.get("encrypted_len"), "lkr_encrypted_len");
        assertEquals(
                String.valueOf(LkrCrypt.OVERHEAD), out.get("decrypted_len"), "lkr_decrypted_len");
    }

    /**
     * Builds and runs C {@code source} against the header and the library; its output lines by
     * first words.
     */
    private Map<String, String> runC(String source) throws Exception {
        Path src = Files.writeString(dir.resolve("probe.c"), source, StandardCharsets.US_ASCII);
        Path exe = dir.resolve("probe");
        // The library's soname is liblkr_crypt.so.1 (docs/platforms.md): the probe looks for that
        // name at run time, so it gets a directory holding the library under it.
        Path libDir = Files.createDirectories(dir.resolve("lib"));
        Path lib = Files.copy(LIBRARY.toAbsolutePath(), libDir.resolve("liblkr_crypt.so.1"));
        String log =
                run(
                        List.of(
                                "cc",
                                "-o",
                                exe.toString(),
                                "-I" + HEADER.getParent().toAbsolutePath(),
                                src.toString(),
                                lib.toString(),
                                "-Wl,-rpath," + libDir));
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : run(List.of(exe.toString())).split("\n")) {
            int sp = line.lastIndexOf(' ');
            out.put(line.substring(0, sp), line.substring(sp + 1));
        }
        assertTrue(!out.isEmpty(), log);
        return out;
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, cmd + " failed: " + out);
        return out;
    }

    @Test
    void errorCodesReachJavaAsTheirKinds() throws Exception {
        try (LkrCrypt crypt = TestSupport.openNew()) {
            byte[] env = crypt.encrypt(utf8("x"), utf8("T.C:1"));
            NotAuthenticException na =
                    assertThrows(
                            NotAuthenticException.class, () -> crypt.decrypt(env, utf8("T.C:2")));
            assertEquals(ErrorKind.NOT_AUTHENTIC, na.kind());
            byte[] unknownKek = env.clone();
            unknownKek[8] = 99; // docs/envelope.md: the KEK id, be32 at offsets 5..8
            NotAuthenticException uk =
                    assertThrows(
                            NotAuthenticException.class,
                            () -> crypt.decrypt(unknownKek, utf8("T.C:1")));
            assertEquals(ErrorKind.UNKNOWN_KEK, uk.kind(), uk.getMessage());
            LegacyException le =
                    assertThrows(
                            LegacyException.class,
                            () -> crypt.legacyMigrator().migrate(random(17), utf8("c"), KEY));
            assertEquals(ErrorKind.LEGACY, le.kind());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> crypt.encrypt(utf8("x"), new byte[LkrCrypt.MAX_CONTEXT + 1]));
        }
        KeystoreException ke =
                assertThrows(
                        KeystoreException.class,
                        () -> LkrCrypt.openFromEnvironment(utf8("{not a keystore")));
        assertEquals(ErrorKind.KEYSTORE, ke.kind());
        MasterKeyException mk =
                assertThrows(
                        MasterKeyException.class,
                        () ->
                                LkrCrypt.checkMasterKeyConfiguration(
                                        "_SOURCE")); // no _SOURCE variable in the tests
        assertEquals(ErrorKind.MASTER_KEY, mk.kind());
    }

    @Test
    void formatSizesAreTheEngines() throws Exception {
        assertEquals(define("LKR_MAX_CONTEXT"), LkrCrypt.MAX_CONTEXT);
        assertEquals(define("LKR_STREAM_HEADER_LEN"), LkrCrypt.STREAM_HEADER_LENGTH);
        assertEquals(define("LKR_STREAM_DEFAULT_SEGMENT"), LkrCrypt.DEFAULT_SEGMENT_SIZE);
        assertEquals(LkrCrypt.OVERHEAD, LkrCrypt.HEADER_LENGTH + LkrCrypt.TAG_LENGTH);
        assertEquals(LkrCrypt.HEADER_LENGTH, MigrationBatch.EXPANSION);
        try (LkrCrypt crypt = TestSupport.openNew()) {
            byte[] ctx = utf8("T.C:1");
            for (int n : new int[] {0, 1, 100, 4096}) {
                byte[] pt = random(n);
                // Made and opened by the engine alone (the batch calls allocate natively).
                byte[] env = crypt.encryptBatch(new byte[][] {pt}, new byte[][] {ctx})[0];
                assertEquals(n + LkrCrypt.OVERHEAD, env.length, "the engine's overhead");
                // Java's in-place layout (plaintext at HEADER_LENGTH) as the engine reads it.
                byte[] buf = new byte[LkrCrypt.encryptedLength(n)];
                System.arraycopy(pt, 0, buf, LkrCrypt.HEADER_LENGTH, n);
                crypt.sealInPlace(buf, ctx);
                assertArrayEquals(
                        pt, crypt.decryptBatch(new byte[][] {buf}, new byte[][] {ctx})[0]);
                assertArrayEquals(pt, crypt.decrypt(env, ctx));
            }
            crypt.encrypt(utf8("x"), new byte[LkrCrypt.MAX_CONTEXT]);
            assertThrows(
                    IllegalArgumentException.class,
                    () -> crypt.encrypt(utf8("x"), new byte[LkrCrypt.MAX_CONTEXT + 1]));
            java.io.ByteArrayOutputStream sink = new java.io.ByteArrayOutputStream();
            crypt.encryptingStream(sink, ctx).close();
            byte[] stream = sink.toByteArray();
            assertTrue(stream.length > LkrCrypt.STREAM_HEADER_LENGTH);
            try (DecryptingInputStream in =
                    crypt.decryptingStream(new java.io.ByteArrayInputStream(stream), ctx)) {
                assertEquals(-1, in.read());
            }
        }
    }

    @Test
    void migrateFlagsAreTheHeaders() throws Exception {
        Map<String, Integer> java = new TreeMap<>();
        for (MigrateOption o : MigrateOption.values()) {
            // Java names the flag by what it does to a value; C keeps LKR_MIGRATE_REENCRYPT.
            java.put(o == MigrateOption.MOVE_TO_ACTIVE_KEK ? "REENCRYPT" : o.name(), o.flag);
        }
        assertEquals(
                defines("LKR_MIGRATE_"),
                java,
                "MigrateOption against the LKR_MIGRATE_* of " + HEADER);
    }

    /** Each outcome once, from the JNI batch migration: its raw code is the enum's. */
    @Test
    void migrationOutcomeCodesAreTheEngines() throws Exception {
        byte[] ctx = utf8("T.C:1");
        try (LkrCrypt old = TestSupport.openNew();
                LkrCrypt crypt = old.keystoreAdmin().rotateKek()) {
            List<byte[]> values = new ArrayList<>();
            List<Outcome> expected = new ArrayList<>();
            values.add(legacy(KEY, utf8("a legacy value")));
            expected.add(Outcome.FROM_LEGACY);
            values.add(crypt.encrypt(utf8("v1"), ctx));
            expected.add(Outcome.ALREADY_V1);
            values.add(random(17)); // not a legacy value's length
            expected.add(Outcome.UNDECRYPTABLE);
            values.add(old.encrypt(utf8("older KEK"), ctx));
            expected.add(Outcome.ROTATED);
            values.add(crypt.encrypt(utf8("another context"), utf8("T.C:2")));
            expected.add(Outcome.UNUSABLE_V1);
            MigrationBatch batch = new MigrationBatch();
            for (byte[] v : values) {
                batch.add(v, ctx);
            }
            crypt.legacyMigrator()
                    .migrateBatch(
                            batch,
                            KEY,
                            EnumSet.of(MigrateOption.MOVE_TO_ACTIVE_KEK, MigrateOption.STRICT_V1));
            for (int i = 0; i < values.size(); i++) {
                assertEquals(
                        expected.get(i).code,
                        batch.outcomeCode(i),
                        "native code of " + expected.get(i));
            }
            assertEquals(Outcome.values().length, expected.size(), "every outcome is covered");
        }
    }
}
