package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * encrypt_file / decrypt_file (docs/native-interfaces.md) with a keystore file, files and
 * stdin/stdout.
 */
class FileTasksTest {
    @TempDir Path dir;

    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final PrintStream out =
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    private int run(String... args) {
        return Main.run(args, out, err);
    }

    /** {@code task IN OUT --keystore KEYSTORE}, then {@code more}. */
    private int run(String task, Path in, Path out, Path keystore, String... more) {
        List<String> a =
                new ArrayList<>(
                        List.of(
                                task,
                                in.toString(),
                                out.toString(),
                                "--keystore",
                                keystore.toString()));
        a.addAll(List.of(more));
        return run(a.toArray(new String[0]));
    }

    @Test
    void filesRoundTripAndDamageLeavesNoPlaintext() throws Exception {
        Path plain = randomFile("backup.tar.gz", 300_000);
        Path ks = dir.resolve("keystore.json");
        Path sealed = dir.resolve("backup.tar.gz.lks");
        Path back = dir.resolve("restored.tar.gz");
        assertEquals(
                0,
                run(
                        "encrypt_file",
                        plain,
                        sealed,
                        ks,
                        "--context",
                        "backup",
                        "--segment-size",
                        "4096"),
                errBytes.toString());
        assertTrue(Files.exists(ks), "the keystore is created by an open for writing");
        assertEquals(
                0,
                run("decrypt_file", sealed, back, ks, "--context", "backup"),
                errBytes.toString());
        assertArrayEquals(Files.readAllBytes(plain), Files.readAllBytes(back));

        // Wrong context, truncated, flipped: exit 1, no output file, no temporary file left.
        byte[] s = Files.readAllBytes(sealed);
        byte[] flipped = s.clone();
        flipped[flipped.length / 2] ^= 1;
        Path bad1 = Files.write(dir.resolve("flipped.lks"), flipped);
        Path bad2 =
                Files.write(
                        dir.resolve("truncated.lks"), java.util.Arrays.copyOf(s, s.length - 20));
        for (String[] a :
                List.of(
                        new String[] {sealed.toString(), "other"},
                        new String[] {bad1.toString(), "backup"},
                        new String[] {bad2.toString(), "backup"})) {
            Path target = dir.resolve("never.out");
            errBytes.reset();
            assertEquals(
                    1,
                    run(
                            "decrypt_file",
                            a[0],
                            target.toString(),
                            "--keystore",
                            ks.toString(),
                            "--context",
                            a[1]));
            assertTrue(
                    errBytes.toString().contains("could not be authenticated"),
                    errBytes.toString());
            assertFalse(Files.exists(target), "partial plaintext left behind");
        }
        try (var files = Files.list(dir)) {
            assertFalse(
                    files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")),
                    "temporary file left");
        }
        // decrypt_file only reads: a missing keystore is an error naming it.
        errBytes.reset();
        Path missing = dir.resolve("nope.json");
        assertEquals(1, run("decrypt_file", sealed, back, missing));
        assertTrue(errBytes.toString().contains(missing.toString()), errBytes.toString());
        assertFalse(Files.exists(missing));
        // Usage errors.
        assertEquals(2, run("encrypt_file", plain.toString()));
    }

    @Test
    void stdinToStdoutInAPipeline() throws Exception {
        byte[] data =
                "a tar.gz stream, in a pipeline\n".repeat(5000).getBytes(StandardCharsets.UTF_8);
        Path ks = dir.resolve("ks.json");
        Path sealed = dir.resolve("piped.lks");
        Files.write(sealed, pipe(data, "encrypt_file", "-", "-", "--keystore", ks.toString()));
        byte[] back =
                pipe(
                        Files.readAllBytes(sealed),
                        "decrypt_file",
                        "-",
                        "-",
                        "--keystore",
                        ks.toString());
        assertArrayEquals(data, back);
        assertEquals('L', Files.readAllBytes(sealed)[0]);
    }

    /**
     * #14.2: a write error on standard output (a full device) fails the task, naming the output.
     */
    @Test
    void aFullStandardOutputFailsTheTask() throws Exception {
        Path plain = randomFile("big.bin", 3_000_000);
        Path ks = dir.resolve("ks.json");
        Path sealed = dir.resolve("big.lks");
        assertEquals(0, run("encrypt_file", plain, sealed, ks), errBytes.toString());
        for (String[] args :
                List.of(
                        new String[] {
                            "encrypt_file", plain.toString(), "-", "--keystore", ks.toString()
                        },
                        new String[] {
                            "decrypt_file", sealed.toString(), "-", "--keystore", ks.toString()
                        })) {
            Process p =
                    child(args)
                            .redirectOutput(ProcessBuilder.Redirect.to(new File("/dev/full")))
                            .start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the task did not end");
            String stderr = Files.readString(dir.resolve("child.err"));
            assertEquals(1, p.exitValue(), args[0] + " into /dev/full: " + stderr);
            assertTrue(
                    stderr.contains(
                            args[0]
                                    + " failed: Could not write standard output: No space left on device"),
                    stderr);
        }
    }

    /** #14.2: a reader that goes away early (a closed pipe) fails the task, naming the output. */
    @Test
    void aPipeClosedEarlyFailsTheTask() throws Exception {
        Path plain = randomFile("big.bin", 3_000_000);
        Path ks = dir.resolve("ks.json");
        Process p =
                child("encrypt_file", plain.toString(), "-", "--keystore", ks.toString()).start();
        try (InputStream stdout = p.getInputStream()) {
            assertEquals('L', stdout.read());
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the task did not end");
        String stderr = Files.readString(dir.resolve("child.err"));
        assertEquals(1, p.exitValue(), stderr);
        assertTrue(
                stderr.contains(
                        "encrypt_file failed: Could not write standard output: Broken pipe"),
                stderr);
    }

    /**
     * #14.3: an output that is not a regular file is written, never replaced: a FIFO, a symbolic
     * link to a FIFO, a symbolic link to a regular file (the link stays, its target is replaced),
     * /dev/stdout (a link to a pipe), a character device of our own, and then (only once all of
     * those passed, so that a broken implementation never reaches it) /dev/null.
     */
    @Test
    void outputsThatAreNotRegularFilesAreWrittenNotReplaced() throws Exception {
        byte[] data = "what a backup holds\n".repeat(20_000).getBytes(StandardCharsets.UTF_8);
        Path plain = Files.write(dir.resolve("plain.txt"), data);
        Path ks = dir.resolve("ks.json");

        Path fifo = mkfifo(dir.resolve("fifo"));
        assertArrayEquals(data, decrypt(ks, throughFifo(fifo, fifo, plain, ks)));
        assertTrue(
                Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                        .isOther(),
                "the FIFO was replaced");

        Path linkToFifo = Files.createSymbolicLink(dir.resolve("link-to-fifo"), fifo.getFileName());
        assertArrayEquals(data, decrypt(ks, throughFifo(linkToFifo, fifo, plain, ks)));
        assertTrue(Files.isSymbolicLink(linkToFifo), "the link was replaced");
        assertTrue(
                Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                        .isOther());

        Path real = Files.createDirectory(dir.resolve("real"));
        Path target = Files.writeString(real.resolve("backup.lks"), "the old backup");
        Path link = Files.createSymbolicLink(dir.resolve("backup.lks"), dir.relativize(target));
        assertEquals(0, run("encrypt_file", plain, link, ks), errBytes.toString());
        assertTrue(Files.isSymbolicLink(link), "the link was replaced by a file");
        assertTrue(Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS));
        assertArrayEquals(data, decrypt(ks, Files.readAllBytes(target)));
        try (var files = Files.list(real)) {
            assertEquals(
                    List.of(target),
                    files.collect(Collectors.toList()),
                    "temporary file left beside the target");
        }
        // A failed decrypt through the link leaves the target as it was.
        byte[] before = Files.readAllBytes(target);
        Path bad = Files.write(dir.resolve("bad.lks"), Arrays.copyOf(before, before.length - 30));
        assertEquals(1, run("decrypt_file", bad, link, ks));
        assertArrayEquals(before, Files.readAllBytes(target));
        assertTrue(Files.isSymbolicLink(link));

        // /dev/stdout: links (/proc/self/fd/1) to this child's stdout pipe, written through.
        Process p =
                child("encrypt_file", plain.toString(), "/dev/stdout", "--keystore", ks.toString())
                        .start();
        byte[] piped = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the task did not end");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("child.err")));
        assertArrayEquals(data, decrypt(ks, piped));
        assertTrue(Files.isSymbolicLink(Path.of("/dev/stdout")));

        Path device = dir.resolve("null-device");
        boolean mknod =
                new ProcessBuilder("mknod", device.toString(), "c", "1", "3").start().waitFor()
                        == 0;
        if (mknod) {
            assertEquals(0, run("encrypt_file", plain, device, ks), errBytes.toString());
            assertTrue(
                    Files.readAttributes(
                                    device, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                            .isOther(),
                    "the device node was replaced by a file");
        }
        // Every case above passed: writing to /dev/null is harmless.
        assertEquals(
                0,
                run("encrypt_file", plain.toString(), "/dev/null", "--keystore", ks.toString()),
                errBytes.toString());
        assertFalse(Files.isRegularFile(Path.of("/dev/null"), LinkOption.NOFOLLOW_LINKS));
    }

    /** #14.3: a missing output directory is reported as such (not as an unreadable input). */
    @Test
    void aMissingOutputDirectoryIsNamed() throws Exception {
        Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
        Path out = dir.resolve("no-such-dir").resolve("out.lks");
        assertEquals(1, run("encrypt_file", plain, out, dir.resolve("ks.json")));
        String e = errBytes.toString();
        assertTrue(
                e.contains(
                        "Could not write "
                                + out
                                + ": the directory "
                                + out.getParent()
                                + " does not exist"),
                e);
        assertFalse(e.contains("Cannot read"), e);
    }

    /** A file of {@code size} random bytes in the test directory. */
    private Path randomFile(String name, int size) throws IOException {
        byte[] data = new byte[size];
        new SecureRandom().nextBytes(data);
        return Files.write(dir.resolve(name), data);
    }

    private static Path mkfifo(Path p) throws Exception {
        assertEquals(0, new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor());
        return p;
    }

    /**
     * Encrypts {@code plain} into {@code out}, which leads to {@code fifo}; returns what a reader
     * of the FIFO got.
     */
    private byte[] throughFifo(Path out, Path fifo, Path plain, Path ks) throws Exception {
        byte[][] got = new byte[1][];
        Thread reader =
                new Thread(
                        () -> {
                            try (InputStream in = Files.newInputStream(fifo)) {
                                got[0] = in.readAllBytes();
                            } catch (IOException e) {
                                got[0] = new byte[0];
                            }
                        });
        reader.setDaemon(
                true); // a broken implementation replaces the FIFO: this reader then waits for ever
        reader.start();
        assertEquals(0, run("encrypt_file", plain, out, ks), errBytes.toString());
        reader.join(30_000);
        assertFalse(reader.isAlive(), "nothing was written into the FIFO");
        return got[0];
    }

    private byte[] decrypt(Path ks, byte[] sealed) throws Exception {
        Path in = Files.write(Files.createTempFile(dir, "sealed", ".lks"), sealed);
        Path back = dir.resolve("back-" + in.getFileName());
        assertEquals(0, run("decrypt_file", in, back, ks), errBytes.toString());
        return Files.readAllBytes(back);
    }

    /** A child JVM running the CLI, stderr to child.err. */
    private ProcessBuilder child(String... args) throws Exception {
        return new ProcessBuilder(CliChild.command(List.of(args)))
                .directory(dir.toFile())
                .redirectError(dir.resolve("child.err").toFile());
    }

    /** Runs the CLI in a child JVM with {@code input} on stdin; returns its stdout. */
    private byte[] pipe(byte[] input, String... args) throws Exception {
        Process p = child(args).start();
        Thread feeder =
                new Thread(
                        () -> {
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
