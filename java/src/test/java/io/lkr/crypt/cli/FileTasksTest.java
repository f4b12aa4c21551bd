package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** encrypt_file / decrypt_file (SPEC §9) with a keystore file, files and stdin/stdout. */
class FileTasksTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    private int run(String... args) {
        return Main.run(args, out, err);
    }

    @Test
    void filesRoundTripAndDamageLeavesNoPlaintext() throws Exception {
        byte[] data = new byte[300_000];
        new SecureRandom().nextBytes(data);
        Path plain = Files.write(dir.resolve("backup.tar.gz"), data);
        Path ks = dir.resolve("keystore.json");
        Path sealed = dir.resolve("backup.tar.gz.lks");
        Path back = dir.resolve("restored.tar.gz");
        assertEquals(0, run("encrypt_file", plain.toString(), sealed.toString(), "--keystore", ks.toString(),
                "--context", "backup", "--segment-size", "4096"), errBytes.toString());
        assertTrue(Files.exists(ks), "the keystore is created by an open for writing");
        assertEquals(0, run("decrypt_file", sealed.toString(), back.toString(), "--keystore", ks.toString(),
                "--context", "backup"), errBytes.toString());
        assertArrayEquals(data, Files.readAllBytes(back));

        // Wrong context, truncated, flipped: exit 1, no output file, no temporary file left.
        byte[] s = Files.readAllBytes(sealed);
        byte[] flipped = s.clone();
        flipped[flipped.length / 2] ^= 1;
        Path bad1 = Files.write(dir.resolve("flipped.lks"), flipped);
        Path bad2 = Files.write(dir.resolve("truncated.lks"), java.util.Arrays.copyOf(s, s.length - 20));
        for (String[] a : List.of(
                new String[] {sealed.toString(), "other"},
                new String[] {bad1.toString(), "backup"},
                new String[] {bad2.toString(), "backup"})) {
            Path target = dir.resolve("never.out");
            errBytes.reset();
            assertEquals(1, run("decrypt_file", a[0], target.toString(), "--keystore", ks.toString(), "--context", a[1]));
            assertTrue(errBytes.toString().contains("could not be authenticated"), errBytes.toString());
            assertFalse(Files.exists(target), "partial plaintext left behind");
        }
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary file left");
        }
        // decrypt_file only reads: a missing keystore is an error naming it.
        errBytes.reset();
        Path missing = dir.resolve("nope.json");
        assertEquals(1, run("decrypt_file", sealed.toString(), back.toString(), "--keystore", missing.toString()));
        assertTrue(errBytes.toString().contains(missing.toString()), errBytes.toString());
        assertFalse(Files.exists(missing));
        // Usage errors.
        assertEquals(2, run("encrypt_file", plain.toString()));
    }

    @Test
    void stdinToStdoutInAPipeline() throws Exception {
        byte[] data = "a tar.gz stream, in a pipeline\n".repeat(5000).getBytes(StandardCharsets.UTF_8);
        Path ks = dir.resolve("ks.json");
        Path sealed = dir.resolve("piped.lks");
        Files.write(sealed, pipe(data, "encrypt_file", "-", "-", "--keystore", ks.toString()));
        byte[] back = pipe(Files.readAllBytes(sealed), "decrypt_file", "-", "-", "--keystore", ks.toString());
        assertArrayEquals(data, back);
        assertEquals('L', Files.readAllBytes(sealed)[0]);
    }

    /** Runs the CLI in a child JVM with {@code input} on stdin; returns its stdout. */
    private byte[] pipe(byte[] input, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "-Djava.library.path=" + System.getProperty("java.library.path", ""),
                "io.lkr.crypt.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.redirectError(dir.resolve("child.err").toFile());
        Process p = pb.start();
        Thread feeder = new Thread(() -> {
            try (var in = p.getOutputStream()) {
                in.write(input);
            } catch (Exception ignored) {
                // the child failed; its exit status says so
            }
        });
        feeder.start();
        byte[] result = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        feeder.join();
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("child.err")));
        return result;
    }
}
