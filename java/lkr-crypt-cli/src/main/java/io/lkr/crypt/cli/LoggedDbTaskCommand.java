package io.lkr.crypt.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * A database task that keeps a log ({@link TaskLog}) in its hidden {@code --log-dir} (default
 * ./log).
 */
abstract class LoggedDbTaskCommand extends DbTaskCommand {
    @Option(names = "--log-dir", hidden = true, defaultValue = "log")
    Path logDir;

    LoggedDbTaskCommand(PrintStream out, PrintStream err) {
        super(out, err);
    }

    /** The task's log: the console and {@code logDir}'s log file. */
    TaskLog openLog() {
        return new TaskLog(logDir, out, err);
    }
}
