package io.lkr.crypt.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code generate_master_key --file PATH}: a new CMK (32 random bytes, standard base64) in a new
 * file created with mode 0400 (docs/native-interfaces.md). Never overwrites: an existing file is a
 * refusal.
 */
@Command(
        name = "generate_master_key",
        description =
                "Writes a new base64 32-byte Customer Master Key to a new file with mode 0400.")
public final class GenerateMasterKeyTask extends TaskCommand {
    @Option(
            names = "--file",
            paramLabel = "PATH",
            required = true,
            description = "The new key file")
    Path file;

    /** A new CMK needs no CMK configuration. */
    @Override
    void checkMasterKey() {}

    @Override
    int work() {
        if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            err.println("Refusing to overwrite the existing file " + file);
            return FAILED;
        }
        byte[] key = new byte[32];
        byte[] text = null;
        try {
            new SecureRandom().nextBytes(key);
            text =
                    (Base64.getEncoder().encodeToString(key) + "\n")
                            .getBytes(StandardCharsets.US_ASCII);
            try (SeekableByteChannel ch =
                    Files.newByteChannel(
                            file,
                            EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                            PosixFilePermissions.asFileAttribute(
                                    PosixFilePermissions.fromString("r--------")))) {
                ByteBuffer b = ByteBuffer.wrap(text);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                if (ch instanceof java.nio.channels.FileChannel) {
                    ((java.nio.channels.FileChannel) ch).force(true);
                }
            }
            // Whatever the umask: exactly 0400.
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        } catch (FileAlreadyExistsException e) {
            err.println("Refusing to overwrite the existing file " + file);
            return FAILED;
        } catch (IOException | UnsupportedOperationException e) {
            err.println("Could not write the master key file " + file + ": " + e.getMessage());
            return FAILED;
        } finally {
            Arrays.fill(key, (byte) 0);
            if (text != null) {
                Arrays.fill(text, (byte) 0);
            }
        }
        out.println("Wrote a new Customer Master Key to " + file + " (mode 0400). Use it with:");
        out.println("  export LKR_MASTER_KEY_FILE=" + file.toAbsolutePath());
        out.println(
                "Keep a copy in a safe place: without it, nothing encrypted under it can be read.");
        return OK;
    }
}
