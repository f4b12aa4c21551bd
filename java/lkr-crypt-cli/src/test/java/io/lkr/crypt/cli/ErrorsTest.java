package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.TestSupport.Run;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #19.5: a bad option value is a usage error (exit 2) naming the option and its bounds, never
 * a Java exception name; a missing or unwritable output is named; paths are shown as given.
 */
class ErrorsTest {
    @TempDir Path dir;

    private Run cli(String... args) throws Exception {
        return CliChild.run(dir, "", Map.of(), List.of(args));
    }

    private static void usageError(Run r, String option, String... words) {
        assertEquals(2, r.exit, r.toString());
        String first = r.err.lines().findFirst().orElse("");
        assertTrue(first.contains("'" + option + "'"), r.toString());
        for (String w : words) {
            assertTrue(first.contains(w), w + " in " + r);
        }
        assertTrue(r.err.contains("Usage: "), r.toString());
        assertFalse(r.err.contains("Exception"), r.toString());
        assertFalse(r.err.contains("java."), r.toString());
    }

    @Test
    void segmentSizeOutsideItsBoundsIsAUsageErrorNamingThem() throws Exception {
        Files.writeString(dir.resolve("data.txt"), "data");
        String min = "" + LkrCrypt.MIN_SEGMENT_SIZE;
        String max = "" + LkrCrypt.MAX_SEGMENT_SIZE;
        for (String bad : List.of("10", "4095", "16777217", "-1")) {
            Run r =
                    cli(
                            "encrypt_file",
                            "data.txt",
                            "out.lks",
                            "--keystore",
                            "ks.json",
                            "--segment-size",
                            bad);
            usageError(r, "--segment-size", bad, min, max);
            assertFalse(Files.exists(dir.resolve("out.lks")));
            assertFalse(Files.exists(dir.resolve("ks.json")), "a usage error writes nothing");
        }
        usageError(
                cli("encrypt_file", "data.txt", "out.lks", "--segment-size", "x"),
                "--segment-size",
                "'x'");
        // The bounds are the engine's: both are accepted, and the engine refuses one beyond.
        for (String edge : List.of(min, max)) {
            Run r =
                    cli(
                            "encrypt_file",
                            "data.txt",
                            "out-" + edge,
                            "--keystore",
                            "ks.json",
                            "--segment-size",
                            edge);
            assertEquals(0, r.exit, r.toString());
        }
        try (LkrCrypt k = LkrCrypt.openFromEnvironment((byte[]) null)) {
            for (int beyond :
                    new int[] {LkrCrypt.MIN_SEGMENT_SIZE - 1, LkrCrypt.MAX_SEGMENT_SIZE + 1}) {
                try {
                    k.encryptingStream(new ByteArrayOutputStream(), new byte[0], beyond).close();
                    throw new AssertionError("the engine took a segment size of " + beyond);
                } catch (IllegalArgumentException expected) {
                    assertTrue(expected.getMessage().contains("" + beyond), expected.getMessage());
                }
            }
        }
    }

    @Test
    void otherBoundedOptions() throws Exception {
        usageError(
                cli("migrate_encryption", "--batch-size", "0"), "--batch-size", "0", "1", "100000");
        usageError(cli("retire_kek", "--kek-id", "0"), "--kek-id", "0");
        usageError(cli("create_sample_db", "--rows", "-1"), "--rows", "-1");
        usageError(cli("create_sample_db", "--value-size", "0"), "--value-size", "0");
        usageError(
                cli("encrypt_file", "-", "-", "--context", "c".repeat(LkrCrypt.MAX_CONTEXT + 1)),
                "--context",
                "" + LkrCrypt.MAX_CONTEXT);
        usageError(cli("status", "--nope"), "--nope");
    }

    @Test
    void aMissingOrUnwritableOutputIsNamedAsGiven() throws Exception {
        Files.writeString(dir.resolve("data.txt"), "data");
        List<String> outputs = new ArrayList<>(List.of("no-such-dir/out.lks", "data.txt/out.lks"));
        for (String out : outputs) {
            Run r = cli("encrypt_file", "data.txt", out, "--keystore", "ks.json");
            assertEquals(1, r.exit, r.toString());
            assertTrue(r.err.contains(out), out + " named in " + r);
            assertFalse(r.err.contains("Cannot read"), r.toString());
            assertFalse(r.err.contains(dir.toString()), "a path the user did not give: " + r);
            assertFalse(r.err.contains("Exception"), r.toString());
        }
        Run missingInput = cli("encrypt_file", "nothing.txt", "out.lks", "--keystore", "ks.json");
        assertEquals(1, missingInput.exit);
        assertTrue(
                missingInput.err.contains("Cannot read nothing.txt: no such file"),
                missingInput.toString());
        Run key = cli("generate_master_key", "--file", "no-such-dir/cmk.key");
        assertEquals(1, key.exit);
        assertTrue(key.err.contains("no-such-dir/cmk.key"), key.toString());
        assertFalse(key.err.contains(dir.toString()), key.toString());
        // A database keystore to export (an open for writing creates it).
        assertEquals(0, cli("encrypt_file", "data.txt", "db.lks").exit);
        Run export = cli("export_keystore", "no-such-dir/ks.json");
        assertEquals(1, export.exit, export.toString());
        assertTrue(export.err.contains("no-such-dir/ks.json"), export.toString());
    }
}
