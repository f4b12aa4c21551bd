package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.MasterKey;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every task's picocli command shares (docs/native-interfaces.md): the streams it reports to,
 * its log, the exit statuses, the standard help options, and the order of its work — the task's own
 * option checks, then the CMK configuration, then {@link #work()}, then (after a CMK mismatch) the
 * CMK the keystore expects beside the configured one. The tasks are the subcommands of {@link
 * Main}.
 */
@Command(mixinStandardHelpOptions = true)
abstract class TaskCommand implements Callable<Integer> {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int SKIPPED = 3;

    PrintStream out;
    PrintStream err;

    @Spec CommandSpec spec;

    @Option(
            names = "--home",
            paramLabel = "DIR",
            description =
                    "Directory of the log (log/), the embedded database (.db/lkr) and the manifest "
                            + "(encrypted_columns.yaml) when no other path is given (default: $"
                            + HOME_VARIABLE
                            + ", else the working directory)")
    Path homeOption;

    /** The variable that sets the home directory when {@code --home} is not given. */
    static final String HOME_VARIABLE = "LKR_HOME";

    /**
     * The caller's 16-byte legacy key (docs/legacy.md), or null for the environment's; only {@code
     * migrate_encryption} uses it.
     */
    byte[] legacyKey;

    /**
     * The task's log while it runs: the console, and the log file for {@link LoggedDbTaskCommand}.
     */
    TaskLog log;

    /**
     * The start of every message of a CMK that does not open a keystore (docs/keys.md), whichever
     * key source found the mismatch.
     */
    static final String CMK_MISMATCH = "Master Key does not match the keystore";

    /** The line that explains a CMK mismatch, printed after the task's error; or null. */
    private String mismatch;

    /** Called by {@link Main} once the command is made. */
    final void init(PrintStream out, PrintStream err, byte[] legacyKey) {
        this.out = out;
        this.err = err;
        this.legacyKey = legacyKey;
    }

    /** The task's name: its picocli command's (as the list of tasks shows it). */
    final String name() {
        return spec.name();
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

    /**
     * The home directory (issue #19.7): {@code --home}, else {@code $LKR_HOME}, else null (the
     * working directory, as the paths are given).
     */
    Path home() {
        if (homeOption != null) {
            return homeOption;
        }
        String v = System.getenv(HOME_VARIABLE);
        return v == null || v.isEmpty() ? null : Path.of(v);
    }

    /**
     * Checks the home directory, then puts every relative default path of the task's options (the
     * manifest, the log directory) under it; a path the user gave stays as given. A usage error, or
     * null.
     */
    private String applyHome() {
        Path home = home();
        if (home == null) {
            return null;
        }
        if (!Files.isDirectory(home)) {
            return homeOption != null
                    ? "Invalid value for option '--home': " + home + " is not a directory"
                    : HOME_VARIABLE + "=" + home + " is not a directory";
        }
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        for (OptionSpec o : spec.options()) {
            if (o.type() == Path.class && o.defaultValue() != null && !parsed.hasMatchedOption(o)) {
                Path v = o.getValue();
                if (v != null && !v.isAbsolute()) {
                    o.setValue(home.resolve(v));
                }
            }
        }
        return null;
    }

    /**
     * The locations this task resolved, printed on stderr as it starts (stdout may be the data):
     * none by default.
     */
    void printLocations() {}

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

    /**
     * The suffix of the CMK variables this task opens existing keystores with (docs/keys.md): none
     * by default; {@code rekey} opens them with its {@code _SOURCE} CMK.
     */
    String cmkSuffix() {
        return "";
    }

    /** Opens the keystore document {@code doc} with the configured CMK, noting a mismatch. */
    final LkrCrypt openKeystore(byte[] doc) throws GeneralSecurityException {
        try {
            return LkrCrypt.openFromEnvironment(doc);
        } catch (GeneralSecurityException e) {
            noteMismatch(e, doc);
            throw e;
        }
    }

    /**
     * After the keystore document {@code doc} was refused with {@code e}: a CMK mismatch is
     * explained once the task has reported its error ({@link #call()}).
     */
    final void noteMismatch(GeneralSecurityException e, byte[] doc) {
        if (doc != null && e.getMessage() != null && e.getMessage().contains(CMK_MISMATCH)) {
            mismatch = explainMismatch(doc);
        }
    }

    /**
     * As {@link #noteMismatch(GeneralSecurityException, byte[])} for the keystore file {@code
     * file}.
     */
    final void noteMismatch(GeneralSecurityException e, Path file) {
        try {
            noteMismatch(e, Files.readAllBytes(file));
        } catch (IOException unreadable) {
            // nothing to explain with
        }
    }

    /**
     * The configured CMK ({@link #cmkSuffix()}'s variables, docs/keys.md) as a keystore names it
     * (docs/keystore.md {@code master_key}): that of a new, unpublished keystore.
     */
    Map<String, Object> configuredCmk() throws GeneralSecurityException {
        try (MasterKey key = MasterKey.fromEnvironment(cmkSuffix());
                LkrCrypt fresh = LkrCrypt.open(key, (byte[]) null)) {
            return TaskSupport.masterKey(fresh.exportKeystore());
        }
    }

    /**
     * The line for after the engine's refusal of {@code doc} (its message first, as it is): the CMK
     * the keystore expects and the configured one; null when they cannot be told apart.
     * Fingerprints and key ids are not secret.
     */
    private String explainMismatch(byte[] doc) {
        Map<String, Object> expected = TaskSupport.masterKey(doc);
        Map<String, Object> configured;
        try {
            configured = configuredCmk();
        } catch (GeneralSecurityException | RuntimeException e) {
            return null; // the configured CMK cannot be described: the engine's message stands
        }
        return expected.equals(configured)
                ? null
                : "The keystore expects the CMK "
                        + TaskSupport.describeCmk(expected)
                        + "; the configured CMK"
                        + (cmkSuffix().isEmpty() ? "" : " (" + cmkSuffix() + ")")
                        + " is "
                        + TaskSupport.describeCmk(configured)
                        + ".";
    }

    @Override
    public final Integer call() {
        String homeError = applyHome();
        String optionError = homeError != null ? homeError : optionError();
        if (optionError != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), optionError);
        }
        printLocations();
        try (TaskLog l = openLog()) {
            log = l;
            try {
                checkMasterKey();
            } catch (GeneralSecurityException e) {
                log.error(e.getMessage());
                return FAILED;
            }
            int status = work();
            if (status != OK && mismatch != null) {
                log.error(mismatch);
            }
            return status;
        }
    }
}
