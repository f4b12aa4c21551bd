package io.lkr.crypt.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * A database task that keeps a log ({@link TaskLog}) in its hidden {@code --log-dir} (default
 * ./log).
 */
abstract class LoggedDbTaskCommand extends DbTaskCommand {
    @Option(
            names = "--log-dir",
            hidden = true,
            defaultValue = "log",
            description = "Directory of the task's log (default: ${DEFAULT-VALUE})")
    Path logDir;

    @Override
    void printLocations() {
        super.printLocations();
        err.println("Log: " + logDir.resolve(TaskLog.FILE).toAbsolutePath().normalize());
    }

    /** The task's log: the console and {@code logDir}'s log file. */
    @Override
    TaskLog openLog() {
        return new TaskLog(logDir, out, err);
    }
}
