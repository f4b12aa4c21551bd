package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import java.io.PrintStream;
import java.security.GeneralSecurityException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every task's picocli command shares (docs/native-interfaces.md): the streams it reports to,
 * its log, the exit statuses, and the order of its work — the task's own option checks, then the
 * CMK configuration, then {@link #work()}. The tasks are the subcommands of {@link Main}.
 */
abstract class TaskCommand implements Callable<Integer> {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int SKIPPED = 3;

    PrintStream out;
    PrintStream err;

    @Spec CommandSpec spec;

    /**
     * The caller's 16-byte legacy key (docs/legacy.md), or null for the environment's; only {@code
     * migrate_encryption} uses it.
     */
    byte[] legacyKey;

    /**
     * The task's log while it runs: the console, and the log file for {@link LoggedDbTaskCommand}.
     */
    TaskLog log;

    /** Called by {@link Main} once the command is made. */
    final void init(PrintStream out, PrintStream err, byte[] legacyKey) {
        this.out = out;
        this.err = err;
        this.legacyKey = legacyKey;
    }

    /**
     * An option value picocli cannot check itself (a bound): a message naming the option and what
     * it takes — the task then exits 2 with its usage — or null.
     */
    String optionError() {
        return null;
    }

    /**
     * The usage error of {@code option} when {@code value} is not between {@code min} and {@code
     * max}, else null.
     */
    static String outside(String option, long value, long min, long max) {
        return value >= min && value <= max
                ? null
                : "Invalid value for option '"
                        + option
                        + "': "
                        + value
                        + " is not between "
                        + min
                        + " and "
                        + max;
    }

    /** The task's log: by default the console only (results on stdout, diagnostics on stderr). */
    TaskLog openLog() {
        return new TaskLog(null, out, err);
    }

    /**
     * Validates the CMK configuration of the environment (docs/keys.md) before anything is touched;
     * throws with the engine's message. By default: opens an engine over a new, unpublished
     * keystore.
     */
    void checkMasterKey() throws GeneralSecurityException {
        LkrCrypt.openFromEnvironment((byte[]) null).close();
    }

    /** The task's work, once its options and the CMK configuration are valid: its exit status. */
    abstract int work();

    @Override
    public final Integer call() {
        String optionError = optionError();
        if (optionError != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), optionError);
        }
        try (TaskLog l = openLog()) {
            log = l;
            try {
                checkMasterKey();
            } catch (GeneralSecurityException e) {
                log.error(e.getMessage());
                return FAILED;
            }
            return work();
        }
    }
}
