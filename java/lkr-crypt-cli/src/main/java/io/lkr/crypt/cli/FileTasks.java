package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KeystoreStore;
import io.lkr.crypt.db.Schema;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code encrypt_file IN OUT} and {@code decrypt_file IN OUT} (docs/native-interfaces.md): stream
 * format v1 for backups and cached files, {@code -} meaning stdin / stdout. OUT is written by the
 * rule of {@link OutputTarget}: a file is written to a temporary file beside it and renamed into
 * place only when the whole stream is done, so a failed decrypt leaves no partial plaintext behind
 * and an existing file stays as it was; standard output, a device or a FIFO receive the data as it
 * is produced, and any write error fails the task. Diagnostics go to stderr (stdout may be the
 * data). The keystore comes from {@code --keystore FILE}, else the internal database.
 */
public final class FileTasks {
    private FileTasks() {}

    abstract static class FileTask extends DbTaskCommand {
        @Parameters(index = "0", paramLabel = "IN", description = "Input file, or - for stdin")
        String input;

        @Parameters(index = "1", paramLabel = "OUT", description = "Output file, or - for stdout")
        String output;

        @Option(
                names = "--context",
                paramLabel = "TEXT",
                defaultValue = "",
                description = "Context the stream is bound to (default: empty)")
        String context;

        @Option(
                names = "--keystore",
                paramLabel = "FILE",
                description = "Keystore file to use instead of the internal database's")
        Path keystore;

        abstract boolean writes();

        @Override
        boolean usesDatabase() {
            return keystore == null;
        }

        @Override
        String optionError() {
            return outside(
                    "--context",
                    context.getBytes(StandardCharsets.UTF_8).length,
                    0,
                    LkrCrypt.MAX_CONTEXT);
        }

        abstract void transfer(LkrCrypt crypt, InputStream src, OutputStream dst)
                throws IOException, GeneralSecurityException;

        /** {@code out} is not written to: the data goes to OUT ({@code -}: stdout). */
        @Override
        int work() {
            try (LkrCrypt crypt = open()) {
                if (crypt == null) {
                    return FAILED;
                }
                return run(crypt);
            } catch (GeneralSecurityException e) {
                err.println(e.getMessage());
                return FAILED;
            }
        }

        private LkrCrypt open() throws GeneralSecurityException {
            if (keystore != null) {
                if (!writes() && !Files.exists(keystore)) {
                    err.println(
                            "Missing keystore: "
                                    + keystore
                                    + " does not exist (decrypt_file only reads a keystore)");
                    return null;
                }
                try {
                    return LkrCrypt.openFromEnvironment(keystore);
                } catch (GeneralSecurityException e) {
                    noteMismatch(e, keystore);
                    throw e;
                }
            }
            InternalDb db = database();
            if (db == null) {
                return null;
            }
            try (Connection c = db.connectForTask(writes())) {
                if (writes()) {
                    Schema.ensure(c, db.dialect());
                    return KeystoreStore.openForWriting(c, db.dialect(), this::openKeystore);
                }
                return KeystoreStore.openExisting(
                        c, db.dialect(), db.toString(), this::openKeystore);
            } catch (SQLException e) {
                boolean missing = !writes() && !(e instanceof InternalDb.UncleanShutdownException);
                err.println(
                        (missing ? "Missing keystore: " : "")
                                + TaskSupport.describe(e, db)
                                + (missing
                                        ? " (give --keystore FILE to use a keystore file)"
                                        : ""));
                return null;
            }
        }

        private int run(LkrCrypt crypt) {
            String task = writes() ? "encrypt_file" : "decrypt_file";
            InputStream src;
            try {
                src = input.equals("-") ? System.in : Files.newInputStream(Path.of(input));
            } catch (NoSuchFileException e) {
                err.println("Cannot read " + input + ": no such file");
                return FAILED;
            } catch (IOException e) {
                err.println("Cannot read " + input + ": " + e.getMessage());
                return FAILED;
            }
            try (InputStream s = src;
                    OutputTarget dst = OutputTarget.open(output, OutputTarget.Existing.REPLACE)) {
                transfer(crypt, s, dst.stream());
                dst.commit();
                return OK;
            } catch (OutputTarget.OutputException e) {
                err.println(task + " failed: " + e.getMessage());
                return FAILED;
            } catch (IOException e) {
                Throwable cause =
                        e.getCause() instanceof GeneralSecurityException ? e.getCause() : e;
                err.println(task + " failed: " + cause.getMessage());
                return FAILED;
            } catch (GeneralSecurityException e) {
                err.println(task + " failed: " + e.getMessage());
                return FAILED;
            }
        }
    }

    @Command(
            name = "encrypt_file",
            description = {
                "Encrypts IN into OUT as an lkr-crypt stream (docs/stream.md); - is stdin/stdout.",
                "A file OUT appears only once the whole stream is written: on failure an existing OUT stays as it was. "
                        + "Any write error (a full disk, a closed pipe) fails the task with status 1."
            })
    static final class Encrypt extends FileTask {
        @Option(
                names = "--segment-size",
                paramLabel = "N",
                defaultValue = "" + LkrCrypt.DEFAULT_SEGMENT_SIZE,
                description =
                        "Plaintext bytes per segment, 4096 to 16777216 (default: ${DEFAULT-VALUE})")
        int segmentSize;

        @Override
        boolean writes() {
            return true;
        }

        @Override
        String optionError() {
            String e = super.optionError();
            return e != null
                    ? e
                    : outside(
                            "--segment-size",
                            segmentSize,
                            LkrCrypt.MIN_SEGMENT_SIZE,
                            LkrCrypt.MAX_SEGMENT_SIZE);
        }

        @Override
        void transfer(LkrCrypt crypt, InputStream src, OutputStream dst)
                throws IOException, GeneralSecurityException {
            try (OutputStream enc =
                    crypt.encryptingStream(
                            new NonClosing(dst),
                            context.getBytes(StandardCharsets.UTF_8),
                            segmentSize)) {
                src.transferTo(enc);
            }
        }
    }

    @Command(
            name = "decrypt_file",
            description = {
                "Decrypts the lkr-crypt stream IN into OUT; - is stdin/stdout.",
                "A file OUT appears only once the whole stream is authenticated: on failure nothing is written and "
                        + "an existing OUT stays as it was.",
                "To - (or a device or FIFO) each segment is written once it is authenticated: if the stream fails "
                        + "later (truncated or damaged), the segments before it have already been written, then the task "
                        + "exits with status 1 and an error on stderr. Use such output only when the exit status is 0."
            })
    static final class Decrypt extends FileTask {
        @Override
        boolean writes() {
            return false;
        }

        @Override
        void transfer(LkrCrypt crypt, InputStream src, OutputStream dst)
                throws IOException, GeneralSecurityException {
            try (InputStream dec =
                    crypt.decryptingStream(
                            new NonClosingIn(src), context.getBytes(StandardCharsets.UTF_8))) {
                dec.transferTo(dst);
            }
        }
    }

    /** Keeps stdout (or the caller's stream) open when the encrypting stream closes. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }

    private static final class NonClosingIn extends java.io.FilterInputStream {
        NonClosingIn(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
            // the caller closes it
        }
    }
}
