package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KeystoreStore;
import io.lkr.crypt.db.LiveNodes;
import io.lkr.crypt.db.MaintenanceLock;
import io.lkr.crypt.db.Manifest;
import io.lkr.crypt.db.Migration;
import io.lkr.crypt.db.Settings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code migrate_encryption [-d db.yaml]}: migrates the internal database from legacy AES-128-CBC
 * to AES-256-GCM (docs/native-interfaces.md, whose words are the task's description). Order: the
 * CMK configuration (docs/keys.md), the live-node check, the database's {@link MaintenanceLock}
 * (held to the end; not for a dry run), the check of every value, then the committed batches; see
 * {@link Migration}.
 */
@Command(
        name = "migrate_encryption",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Re-encrypts the internal database from legacy AES-128-CBC to AES-256-GCM.")
public final class MigrateEncryptionTask extends LoggedDbTaskCommand {
    /** The task's name. */
    public static final String NAME = "migrate_encryption";

    /** docs/native-interfaces.md's log line. */
    public static final String START_MESSAGE =
            "Starting migration from AES-128-CBC Legacy to AES-GCM-256";

    @Option(
            names = "--columns",
            paramLabel = "FILE",
            description = "Manifest of encrypted columns " + "(default: ${DEFAULT-VALUE})",
            defaultValue = Manifest.DEFAULT_FILE)
    Path columns;

    @Option(
            names = "--skip-undecryptable",
            description =
                    "Leave values that do not decrypt untouched, " + "report them and exit with 3")
    boolean skipUndecryptable;

    @Option(names = "--dry-run", description = "Count and check every value; change nothing")
    boolean dryRun;

    @Option(
            names = "--reencrypt",
            description =
                    "Also re-encrypt values under an older KEK to the active KEK "
                            + "(after rotate_kek); then retire_kek can remove the old KEK")
    boolean reencrypt;

    @Option(
            names = "--batch-size",
            paramLabel = "N",
            defaultValue = "1000",
            description = "Rows per committed batch (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--progress-interval-ms", hidden = true, defaultValue = "5000")
    long progressIntervalMs;

    private final byte[] legacyKey;

    MigrateEncryptionTask(PrintStream out, PrintStream err, byte[] legacyKey) {
        super(out, err);
        this.legacyKey = legacyKey;
    }

    /** Runs the task; returns the exit status (0, 1, 2 or 3). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, null);
    }

    /**
     * As {@link #run(String[], PrintStream, PrintStream)} with the caller's 16-byte legacy key
     * (docs/legacy.md: the key may come from the caller) instead of the environment's (null).
     */
    public static int run(String[] args, PrintStream out, PrintStream err, byte[] legacyKey) {
        return TaskSupport.execute(new MigrateEncryptionTask(out, err, legacyKey), args, out, err);
    }

    public static void main(String[] args) {
        Main.exit(run(args, System.out, System.err));
    }

    @Override
    public Integer call() {
        if (batchSize < 1 || batchSize > 100_000) {
            err.println("--batch-size must be between 1 and 100000");
            return TaskSupport.USAGE;
        }
        try (TaskLog log = openLog()) {
            return migrate(log);
        }
    }

    private int migrate(TaskLog log) {
        // 1. The CMK configuration (docs/keys.md), before the database is touched.
        LkrCrypt fresh = TaskSupport.validateMasterKey(log);
        if (fresh == null) {
            return TaskSupport.FAILED;
        }
        LkrCrypt crypt = fresh;
        InternalDb db = null;
        try {
            List<EncryptedColumn> manifest;
            try {
                manifest = YamlConfig.manifest(columns);
            } catch (IOException e) {
                log.error(e.getMessage());
                return TaskSupport.FAILED;
            }
            db = TaskSupport.database(creds, log);
            if (db == null) {
                return TaskSupport.FAILED;
            }
            try (Connection c = db.connectForTask(true)) {
                c.setAutoCommit(false);
                // 2. Live nodes, by the database's clock.
                String refusal = LiveNodes.refusal(c, db.dialect());
                if (refusal != null) {
                    log.error(refusal);
                    return TaskSupport.FAILED;
                }
                // 3. The maintenance lock, held to the end (a dry run writes nothing and takes
                // none).
                try (MaintenanceLock lock =
                        dryRun
                                ? null
                                : TaskSupport.maintenanceLock(
                                        db, reencrypt ? NAME + " --reencrypt" : NAME, log)) {
                    if (!dryRun && lock == null) {
                        return TaskSupport.FAILED;
                    }
                    // 4. The keystore: the stored one, else the new one (published before the first
                    // write).
                    byte[] stored = KeystoreStore.read(c, db.dialect());
                    c.commit();
                    if (stored != null) {
                        crypt = LkrCrypt.openFromEnvironment(stored);
                        fresh.close();
                    }
                    return work(log, db, c, manifest, crypt, stored == null, lock);
                }
            }
        } catch (GeneralSecurityException e) {
            log.error(e.getMessage());
            return TaskSupport.FAILED;
        } catch (SQLException e) {
            log.error(TaskSupport.describe(e, db));
            return TaskSupport.FAILED;
        } finally {
            crypt.close();
            fresh.close();
        }
    }

    private int work(
            TaskLog log,
            InternalDb db,
            Connection c,
            List<EncryptedColumn> manifest,
            LkrCrypt crypt,
            boolean newKeystore,
            MaintenanceLock lock)
            throws SQLException, GeneralSecurityException {
        Migration.Options o = new Migration.Options();
        o.batchSize = batchSize;
        o.skipUndecryptable = skipUndecryptable;
        o.legacyKey = legacyKey;
        o.reencrypt = reencrypt;
        ProgressDisplay progress =
                new ProgressDisplay(err, ProgressDisplay.isTerminal(), log, progressIntervalMs);
        Migration m = new Migration(c, db.dialect(), manifest, o, progress);
        m.checkTables();
        c.commit();
        if (dryRun) {
            log.info(
                    "Dry run: checking the migration from AES-128-CBC Legacy to AES-GCM-256 of "
                            + db
                            + "; nothing will be written");
        } else {
            log.infoLine(START_MESSAGE);
        }
        if (reencrypt) {
            log.info(
                    "Values under an older KEK will be re-encrypted under the active KEK "
                            + crypt.activeKekId()
                            + (dryRun ? " (dry run)" : ""));
        }
        long total = m.countValues();
        Migration.Report check = m.check(crypt);
        if (!check.undecryptable.isEmpty()) {
            log.error(check.undecryptable.size() + " value(s) do not decrypt (table, key: why):");
            for (Migration.Undecryptable u : check.undecryptable) {
                log.error("  " + u);
            }
            if (check.legacyKeyLooksWrong()) {
                long failed = check.total(s -> s.legacyFailed);
                summary(log, check, false, true);
                log.error(
                        failed
                                + " of "
                                + (failed + check.total(s -> s.legacy))
                                + " legacy value(s) do not decrypt "
                                + "with the legacy key ("
                                + legacyKeySource()
                                + "): the legacy key is probably wrong (a right "
                                + "key fails only on the few values that are damaged). Nothing was written, even with "
                                + "--skip-undecryptable: a wrong key \"decrypts\" about one binary value in 256 into garbage, "
                                + "whose original would be lost. Set the right legacy key and run migrate_encryption again.");
                return TaskSupport.FAILED;
            }
            if (!skipUndecryptable) {
                summary(log, check, false, true);
                log.error(
                        "Nothing was written. Check the legacy key (LKR_LEGACY_KEY_ENV / LKR_LEGACY_KEY_FILE) "
                                + "and, for envelopes that are not authentic, the column's context in encrypted_columns.yaml; "
                                + "or rerun with --skip-undecryptable to leave these values untouched.");
                return TaskSupport.FAILED;
            }
        }
        if (dryRun) {
            summary(log, check, false, true);
            log.info("Dry run: nothing was written.");
            return check.undecryptable.isEmpty() ? TaskSupport.OK : TaskSupport.SKIPPED;
        }
        lock.ensureHeld();
        LkrCrypt writer = crypt;
        if (newKeystore) {
            writer = KeystoreStore.publishOrAdopt(c, db.dialect(), crypt);
            log.fileOnly(
                    "INFO",
                    "Created the keystore of the internal database (" + Settings.KEYSTORE + ")");
        }
        try {
            Migration.Report done = m.write(writer, total);
            long skipped = done.total(s -> s.undecryptable) + done.total(s -> s.conflicts);
            if (skipped == 0) {
                Settings.put(c, db.dialect(), Settings.SCHEME, Settings.SCHEME_GCM);
            }
            done.cryptoNanos += check.cryptoNanos;
            done.totalNanos += check.totalNanos;
            summary(log, done, true, false);
            if (done.total(s -> s.conflicts) > 0) {
                log.warn(
                        done.total(s -> s.conflicts)
                                + " value(s) changed during the migration and were left "
                                + "as they are: run migrate_encryption again.");
            }
            if (done.total(s -> s.undecryptable) > 0) {
                log.warn(
                        done.total(s -> s.undecryptable)
                                + " value(s) that do not decrypt were left untouched "
                                + "(--skip-undecryptable); the encryption scheme is not recorded.");
                return TaskSupport.SKIPPED;
            }
            return skipped == 0 ? TaskSupport.OK : TaskSupport.SKIPPED;
        } finally {
            if (writer != crypt) {
                writer.close();
            }
        }
    }

    /** Where the legacy key came from, for messages (never the key itself). */
    private String legacyKeySource() {
        if (legacyKey != null) {
            return "the legacy key given by the caller";
        }
        String env = System.getenv("LKR_LEGACY_KEY_ENV");
        if (env != null && !env.isEmpty()) {
            return "LKR_LEGACY_KEY_ENV";
        }
        String file = System.getenv("LKR_LEGACY_KEY_FILE");
        if (file != null && !file.isEmpty()) {
            return "LKR_LEGACY_KEY_FILE=" + file;
        }
        return "LKR_LEGACY_KEY_ENV / LKR_LEGACY_KEY_FILE";
    }

    private static void summary(TaskLog log, Migration.Report r, boolean wrote, boolean check) {
        String fmt = "  %-40s %12s %12s %12s %12s %14s %8s";
        log.info(check ? "Check summary (nothing written):" : "Migration summary:");
        log.info(
                String.format(
                        Locale.ROOT,
                        fmt,
                        "column",
                        "values",
                        "already v1",
                        "legacy",
                        "older KEK",
                        "undecryptable",
                        "empty"));
        for (Migration.ColumnSummary s : r.columns) {
            log.info(
                    String.format(
                            Locale.ROOT,
                            fmt,
                            s.column.name(),
                            s.values,
                            s.alreadyV1,
                            s.legacy,
                            s.olderKek,
                            s.undecryptable,
                            s.empty));
        }
        if (wrote) {
            log.info("  re-encrypted and written: " + r.total(s -> s.migrated) + " value(s)");
        }
        double secs = r.totalNanos / 1e9;
        long rows = r.total(s -> s.values + s.empty);
        log.info(
                String.format(
                        Locale.ROOT,
                        "  %d rows in %.1f s (%,.0f rows/s); time in crypto: %.1f %%",
                        rows,
                        secs,
                        secs > 0 ? rows / secs : 0.0,
                        r.totalNanos > 0 ? 100.0 * r.cryptoNanos / r.totalNanos : 0.0));
    }
}
