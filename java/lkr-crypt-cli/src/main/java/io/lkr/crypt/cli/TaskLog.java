package io.lkr.crypt.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The log of a task: {@code log/lkr-crypt.log} under the working directory, appended to, in the
 * application's format (docs/native-interfaces.md): {@code 2026-11-28 22:42:20.279 +0000
 * [INFO|main|crypt] :: Starting migration ...}. {@link #info} also goes to stdout (results), {@link
 * #warn} and {@link #error} to stderr (diagnostics and refusals). No key and no value is ever
 * logged; control characters in what comes from data are escaped, so every entry is one line. The
 * file is created with mode 0600 (its directory 0700) and never opened through a symbolic link.
 */
public final class TaskLog implements AutoCloseable {
    /** The log file's name inside the log directory. */
    public static final String FILE = "lkr-crypt.log";

    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS Z");
    private static final Set<PosixFilePermission> DIR_MODE =
            PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE =
            PosixFilePermissions.fromString("rw-------");

    private final PrintStream out;
    private final PrintStream err;
    private Writer file;
    private boolean warned;

    public TaskLog(Path logDir, PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
        if (logDir != null) {
            try {
                file = open(logDir);
            } catch (IOException e) {
                err.println("Cannot write the log " + logDir.resolve(FILE) + ": " + e.getMessage());
                warned = true;
            }
        }
    }

    /**
     * Opens the log for appending: the directory (0700) and the file (0600) created owner-only
     * whatever the umask; an existing file only if it is a regular file, never through a symbolic
     * link (O_NOFOLLOW).
     */
    private static Writer open(Path logDir) throws IOException {
        if (!Files.isDirectory(logDir)) {
            Files.createDirectories(logDir, PosixFilePermissions.asFileAttribute(DIR_MODE));
            Files.setPosixFilePermissions(logDir, DIR_MODE);
        }
        Path f = logDir.resolve(FILE);
        FileChannel ch;
        try {
            // CREATE_NEW (O_EXCL) neither follows nor replaces a link.
            ch =
                    FileChannel.open(
                            f,
                            EnumSet.of(
                                    StandardOpenOption.CREATE_NEW,
                                    StandardOpenOption.WRITE,
                                    StandardOpenOption.APPEND),
                            PosixFilePermissions.asFileAttribute(FILE_MODE));
            Files.setPosixFilePermissions(f, FILE_MODE);
        } catch (FileAlreadyExistsException e) {
            BasicFileAttributes a =
                    Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                throw new IOException(
                        "it is a symbolic link, which is not followed; remove it (the log is a regular file)");
            }
            if (!a.isRegularFile()) {
                throw new IOException("it is not a regular file");
            }
            ch =
                    FileChannel.open(
                            f,
                            Set.of(
                                    StandardOpenOption.WRITE,
                                    StandardOpenOption.APPEND,
                                    LinkOption.NOFOLLOW_LINKS));
        }
        return new BufferedWriter(
                new OutputStreamWriter(Channels.newOutputStream(ch), StandardCharsets.UTF_8));
    }

    /**
     * The line as the log has it; the thread name and the message are {@linkplain #escape escaped}.
     */
    public static String format(String level, String message) {
        return ZonedDateTime.now().format(TIME)
                + " ["
                + level
                + "|"
                + escape(Thread.currentThread().getName())
                + "|crypt] :: "
                + escape(message);
    }

    /**
     * {@code text} with its control characters escaped (newline, carriage return and tab as {@code
     * \n}, {@code \r}, {@code \t}; the others — C0, DEL, C1, the Unicode line and paragraph
     * separators — as a backslash, {@code u} and four hex digits), so that no data (a table name, a
     * key value, a message) can start a line of its own.
     */
    static String escape(String text) {
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control =
                    c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
            if (!control) {
                if (b != null) {
                    b.append(c);
                }
                continue;
            }
            if (b == null) {
                b = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            switch (c) {
                case '\n':
                    b.append("\\n");
                    break;
                case '\r':
                    b.append("\\r");
                    break;
                case '\t':
                    b.append("\\t");
                    break;
                default:
                    b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            }
        }
        return b == null ? text : b.toString();
    }

    /** A result: to stdout and the log, in the log format. */
    public void infoLine(String message) {
        String line = format("INFO", message);
        out.println(line);
        file(line);
    }

    /** A result: plain text to stdout, in the log format to the log. */
    public void info(String message) {
        out.println(escape(message));
        file(format("INFO", message));
    }

    /** A diagnostic: plain text to stderr, in the log format to the log. */
    public void warn(String message) {
        err.println(escape(message));
        file(format("WARN", message));
    }

    /** A refusal or failure: plain text to stderr, in the log format to the log. */
    public void error(String message) {
        err.println(escape(message));
        file(format("ERROR", message));
    }

    /** Only to the log. */
    public void fileOnly(String level, String message) {
        file(format(level, message));
    }

    private synchronized void file(String line) {
        if (file == null) {
            return;
        }
        try {
            file.write(line);
            file.write('\n');
            file.flush();
        } catch (IOException e) {
            if (!warned) {
                err.println("Cannot write the log: " + e.getMessage());
                warned = true;
            }
        }
    }

    @Override
    public synchronized void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // the log is best effort
            }
            file = null;
        }
    }
}
