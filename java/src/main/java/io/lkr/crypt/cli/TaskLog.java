package io.lkr.crypt.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The log of a task: {@code log/lkr-crypt.log} under the working directory, appended to, in the
 * application's format (SPEC §9):
 * {@code 2026-11-28 22:42:20.279 +0000 [INFO|main|crypt] :: Starting migration ...}.
 * {@link #info} also goes to stdout (results), {@link #warn} and {@link #error} to stderr
 * (diagnostics and refusals). No key and no value is ever logged.
 */
public final class TaskLog implements AutoCloseable {
    /** The log file's name inside the log directory. */
    public static final String FILE = "lkr-crypt.log";
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS Z");

    private final PrintStream out;
    private final PrintStream err;
    private Writer file;
    private boolean warned;

    public TaskLog(Path logDir, PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
        if (logDir != null) {
            try {
                Files.createDirectories(logDir);
                file = Files.newBufferedWriter(logDir.resolve(FILE), StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            } catch (IOException e) {
                err.println("Cannot write the log " + logDir.resolve(FILE) + ": " + e.getMessage());
                warned = true;
            }
        }
    }

    /** The line as the log has it. */
    public static String format(String level, String message) {
        return ZonedDateTime.now().format(TIME) + " [" + level + "|" + Thread.currentThread().getName()
                + "|crypt] :: " + message;
    }

    /** A result: to stdout and the log, in the log format. */
    public void infoLine(String message) {
        String line = format("INFO", message);
        out.println(line);
        file(line);
    }

    /** A result: plain text to stdout, in the log format to the log. */
    public void info(String message) {
        out.println(message);
        file(format("INFO", message));
    }

    /** A diagnostic: plain text to stderr, in the log format to the log. */
    public void warn(String message) {
        err.println(message);
        file(format("WARN", message));
    }

    /** A refusal or failure: plain text to stderr, in the log format to the log. */
    public void error(String message) {
        err.println(message);
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
