package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.MaintenanceLock;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * What the database tasks share: running a picocli command with exit codes 0/1/2/3
 * (docs/native-interfaces.md).
 */
final class TaskSupport {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int SKIPPED = 3;

    private TaskSupport() {}

    /** Parses {@code args} into {@code command} and runs it; usage errors exit with 2. */
    static int execute(Callable<Integer> command, String[] args, PrintStream out, PrintStream err) {
        // The CLI reports database failures itself; MariaDB Connector/J would also print them raw.
        if (System.getProperty("mariadb.logging.disable") == null) {
            System.setProperty("mariadb.logging.disable", "true");
        }
        CommandLine cl = new CommandLine(command);
        cl.setOut(
                new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(
                new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cl.setExitCodeExceptionMapper(t -> FAILED);
        cl.setParameterExceptionHandler(
                (ex, a) -> {
                    CommandLine c = ex.getCommandLine();
                    c.getErr().println(ex.getMessage());
                    c.usage(c.getErr());
                    return USAGE;
                });
        cl.setExecutionExceptionHandler(
                (ex, c, parsed) -> {
                    c.getErr().println("Failed: " + ex);
                    return FAILED;
                });
        return cl.execute(args);
    }

    /** The internal database of {@code -d}, or a message and null. */
    static InternalDb database(Path creds, TaskLog log) {
        try {
            return YamlConfig.internalDb(creds);
        } catch (IOException e) {
            log.error(e.getMessage());
            return null;
        }
    }

    /**
     * Takes the internal database's maintenance lock for {@code task} (issue #14.1: every task that
     * writes values or the keystore), after the live-node check. Returns it, or logs whom it is
     * held by and returns null (the task then exits with {@link #FAILED}, nothing written).
     *
     * <p>Why after the live-node check: docs/native-interfaces.md's order is the CMK configuration,
     * then live nodes, then the work, and the lock is the first step of the work. Nodes do not take
     * the lock, so checking them under it would close no race; this way a task refused for live
     * nodes keeps the documented exact refusal and never touches the lock. Everything the task
     * changes (the keystore, the values, retire_kek's count of values under a KEK) is read only
     * once the lock is held.
     */
    static MaintenanceLock maintenanceLock(InternalDb db, String task, TaskLog log)
            throws SQLException {
        try {
            return MaintenanceLock.acquire(db, task);
        } catch (MaintenanceLock.HeldException e) {
            log.error(e.getMessage());
            return null;
        }
    }

    /**
     * Validates the CMK configuration of the environment (docs/keys.md) before the database is
     * touched: opens an engine over a new, unpublished keystore. Returns it, or logs the engine's
     * message and returns null.
     */
    static LkrCrypt validateMasterKey(TaskLog log) {
        try {
            return LkrCrypt.openFromEnvironment((byte[]) null);
        } catch (GeneralSecurityException e) {
            log.error(e.getMessage());
            return null;
        }
    }

    /**
     * Validates the CMK configuration (docs/keys.md) for tasks that report to {@code err} only
     * (their stdout may carry data): true when valid, else the engine's message is printed.
     */
    static boolean masterKeyConfigured(PrintStream err) {
        try (LkrCrypt check = LkrCrypt.openFromEnvironment((byte[]) null)) {
            return check != null;
        } catch (GeneralSecurityException e) {
            err.println(e.getMessage());
            return false;
        }
    }

    /**
     * Writes a keystore document to {@code file} by the rule of {@link OutputTarget}: a regular
     * file (or a new path, or a symbolic link's regular target) through a synced temporary file of
     * mode 0600 renamed into place, so a crash leaves the old file or the new one, never a mix (the
     * document holds only wrapped keys, so a leftover temporary file reveals nothing); a device
     * written directly. With {@link OutputTarget.Existing#REFUSE} an existing path stays.
     */
    static void writeKeystoreFile(Path file, byte[] doc, OutputTarget.Existing existing)
            throws IOException {
        try (OutputTarget t = OutputTarget.open(file.toString(), existing)) {
            t.stream().write(doc);
            t.commit();
        }
    }

    /**
     * The kind of CMK that wraps a keystore document (docs/keystore.md {@code master_key}):
     * "local", or "aws-kms (key id)"; "unknown" when the document cannot be read.
     */
    static String cmkKind(byte[] doc) {
        Object parsed;
        try {
            parsed =
                    new org.yaml.snakeyaml.Yaml(
                                    new org.yaml.snakeyaml.constructor.SafeConstructor(
                                            new org.yaml.snakeyaml.LoaderOptions()))
                            .load(new String(doc, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return "unknown";
        }
        if (parsed instanceof java.util.Map) {
            Object mk = ((java.util.Map<?, ?>) parsed).get("master_key");
            if (mk instanceof java.util.Map) {
                java.util.Map<?, ?> m = (java.util.Map<?, ?>) mk;
                String kind = String.valueOf(m.get("kind"));
                return "aws-kms".equals(kind) && m.get("key_id") != null
                        ? kind + " (" + m.get("key_id") + ")"
                        : kind;
            }
        }
        return "unknown";
    }

    /** An operator's message for a database failure (no value, no password). */
    static String describe(SQLException e, InternalDb db) {
        if (e instanceof InternalDb.UncleanShutdownException) {
            return e.getMessage();
        }
        String m = e.getMessage();
        return "Internal database " + db + ": " + (m == null ? e.getClass().getSimpleName() : m);
    }

    /** Closes quietly. */
    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // nothing to do
            }
        }
    }
}
