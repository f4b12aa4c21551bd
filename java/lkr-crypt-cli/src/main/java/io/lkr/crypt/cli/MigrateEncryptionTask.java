package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KeystoreStore;
import io.lkr.crypt.db.MaintenanceLock;
import io.lkr.crypt.db.Migration;
import io.lkr.crypt.db.Settings;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
        sortOptions = false,
        description = "Re-encrypts the internal database from legacy AES-128-CBC to AES-256-GCM.")
public final class MigrateEncryptionTask extends LoggedDbTaskCommand {
    /** docs/native-interfaces.md's log line. */
    public static final String START_MESSAGE =
            "Starting migration from AES-128-CBC Legacy to AES-GCM-256";

    @Mixin ManifestOption columns;

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
            description = "Rows per committed batch, 1 to 100000 (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(
            names = "--progress-interval-ms",
            hidden = true,
            defaultValue = "5000",
            description = "Milliseconds between progress lines (default: ${DEFAULT-VALUE})")
    long progressIntervalMs;

    @Option(
            names = "--format",
            paramLabel = "FORMAT",
            defaultValue = "text",
            description =
                    "text, or json: the summary as one JSON document on stdout (fields in "
                            + "docs/native-interfaces.md), every other line on stderr "
                            + "(default: ${DEFAULT-VALUE})")
    Json.Format format;

    private static final int MAX_BATCH = 100_000;

    /** The last summary's figures, for {@code --format json}; null before any summary. */
    private Map<String, Object> summaryJson;

    /** The engine over a new keystore that {@link #checkMasterKey()} opened. */
    private LkrCrypt fresh;

    @Override
    String optionError() {
        return outside("--batch-size", batchSize, 1, MAX_BATCH);
    }

    /** 1. The CMK configuration (docs/keys.md); its engine serves a new keystore. */
    @Override
    void checkMasterKey() throws GeneralSecurityException {
        fresh = LkrCrypt.openFromEnvironment((byte[]) null);
    }

    /** With {@code --format json}, the log's results go to stderr: stdout is the JSON alone. */
    @Override
    TaskLog openLog() {
        return new TaskLog(logDir, format == Json.Format.json ? err : out, err);
    }

    @Override
    int work() {
        int rc = migrateOrCheck();
        if (format == Json.Format.json && summaryJson != null) {
            summaryJson.put("exit_status", rc);
            out.println(Json.write(summaryJson));
        }
        return rc;
    }

    private int migrateOrCheck() {
        LkrCrypt crypt = fresh;
        InternalDb db = null;
        try {
            List<EncryptedColumn> manifest;
            try {
                manifest = columns.read();
            } catch (IOException e) {
                log.error(e.getMessage());
                return FAILED;
            }
            db = database();
            if (db == null) {
                return FAILED;
            }
            try (Connection c = db.connectForTask(true)) {
                c.setAutoCommit(false);
                // 2. Live nodes, by the database's clock, then 3. the maintenance lock, held to
                // the end (a dry run writes nothing and takes none).
                try (MaintenanceLock lock =
                        MaintenanceLock.begin(
                                db, c, reencrypt ? name() + " --reencrypt" : name(), !dryRun)) {
                    // 4. The keystore: the stored one, else the new one (published before the first
                    // write).
                    byte[] stored = KeystoreStore.read(c, db.dialect());
                    c.commit();
                    if (stored != null) {
                        crypt = openKeystore(stored);
                        fresh.close();
                    }
                    return migrate(db, c, manifest, crypt, stored == null, lock);
                }
            }
        } catch (GeneralSecurityException | MaintenanceLock.RefusedException e) {
            log.error(e.getMessage());
            return FAILED;
        } catch (SQLException e) {
            log.error(TaskSupport.describe(e, db));
            return FAILED;
        } finally {
            crypt.close();
            fresh.close();
        }
    }

    private int migrate(
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
        o.moveToActiveKek = reencrypt;
        ProgressDisplay progress =
                new ProgressDisplay(err, ProgressDisplay.isTerminal(), log, progressIntervalMs);
        Migration m = new Migration(c, db.dialect(), manifest, o, progress);
        m.checkTables();
        c.commit();
        if (dryRun) {
            log.info(
                    "Dry run: checking the migration from AES-128-CBC (legacy) to AES-256-GCM (v1) of "
                            + db
                            + "; nothing will be written");
        } else if (!reencrypt) {
            log.infoLine(START_MESSAGE);
        }
        if (reencrypt) {
            // What --reencrypt does; the migration's own line follows if legacy values remain.
            String line =
                    "Starting re-encryption of the values under an older KEK under the active KEK "
                            + crypt.activeKekId();
            if (dryRun) {
                log.info(line + " (dry run)");
            } else {
                log.infoLine(line);
            }
        }
        long total = m.countValues();
        Migration.Report check = m.check(crypt);
        if (reencrypt && !dryRun && check.total(s -> s.legacy + s.legacyFailed) > 0) {
            log.infoLine(START_MESSAGE);
        }
        if (!check.undecryptable.isEmpty()) {
            reportUndecryptable(check);
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
                return FAILED;
            }
            if (!skipUndecryptable) {
                summary(log, check, false, true);
                log.error(
                        "Nothing was written. Check the legacy key (LKR_LEGACY_KEY_ENV / LKR_LEGACY_KEY_FILE) "
                                + "and, for envelopes that are not authentic, the column's context in encrypted_columns.yaml; "
                                + "or rerun with --skip-undecryptable to leave these values untouched.");
                return FAILED;
            }
        }
        if (dryRun) {
            summary(log, check, false, true);
            log.info("Dry run: nothing was written.");
            return check.undecryptable.isEmpty() ? OK : SKIPPED;
        }
        lock.ensureHeld();
        LkrCrypt writer = crypt;
        if (newKeystore) {
            writer = KeystoreStore.publishOrAdopt(c, db.dialect(), crypt, this::openKeystore);
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
                return SKIPPED;
            }
            return skipped == 0 ? OK : SKIPPED;
        } finally {
            if (writer != crypt) {
                writer.close();
            }
        }
    }

    /**
     * The figures of {@link #summary} for {@code --format json} (docs/native-interfaces.md,
     * "Machine-readable output").
     */
    private Map<String, Object> summaryJson(Migration.Report r, boolean wrote) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("task", name());
        j.put("dry_run", dryRun);
        j.put("reencrypt", reencrypt);
        j.put("written", wrote);
        List<Map<String, Object>> cols = new ArrayList<>();
        for (Migration.ColumnSummary s : r.columns) {
            cols.add(counts(List.of(s)));
        }
        j.put("columns", cols);
        Map<String, Object> totals = counts(r.columns);
        totals.remove("column");
        j.put("totals", totals);
        j.put("undecryptable_listed", r.undecryptable.size());
        j.put("rows", r.total(s -> s.values + s.empty));
        j.put("seconds", r.totalNanos / 1e9);
        j.put("crypto_percent", r.totalNanos > 0 ? 100.0 * r.cryptoNanos / r.totalNanos : 0.0);
        return j;
    }

    /** The counts of the summary's table (and the values written), summed over {@code cols}. */
    private static Map<String, Object> counts(List<Migration.ColumnSummary> cols) {
        Map<String, Object> c = new LinkedHashMap<>();
        if (cols.size() == 1) {
            c.put("column", cols.get(0).column.name());
        }
        c.put("values", sum(cols, t -> t.values));
        c.put("already_v1", sum(cols, t -> t.alreadyV1));
        c.put("legacy", sum(cols, t -> t.legacy));
        c.put("older_kek", sum(cols, t -> t.olderKek));
        c.put("undecryptable", sum(cols, t -> t.undecryptable));
        c.put("empty", sum(cols, t -> t.empty));
        c.put("migrated", sum(cols, t -> t.migrated));
        c.put("conflicts", sum(cols, t -> t.conflicts));
        return c;
    }

    private static long sum(
            List<Migration.ColumnSummary> cols, ToLongFunction<Migration.ColumnSummary> f) {
        return cols.stream().mapToLong(f).sum();
    }

    /** How many undecryptable values are listed on stderr; the log lists every one. */
    static final int LISTED = 20;

    /**
     * Reports the values that do not decrypt, bounded and ranked (issue #19.4): first, when every
     * legacy value fails, that the legacy key is almost certainly wrong; the total; when there are
     * more than {@link #LISTED}, the reasons by count (most frequent first); then at most {@link
     * #LISTED} values on stderr and the log, the others in the log only.
     */
    private void reportUndecryptable(Migration.Report check) {
        List<Migration.Undecryptable> all = check.undecryptable;
        long failed = check.total(s -> s.legacyFailed);
        long decrypted = check.total(s -> s.legacy);
        boolean keyWrong = check.legacyKeyAlmostCertainlyWrong();
        if (keyWrong && decrypted == 0) {
            log.error(
                    "Every legacy value checked ("
                            + failed
                            + ") fails to decrypt with the legacy key ("
                            + legacyKeySource()
                            + "): the legacy key is almost certainly wrong.");
        } else if (keyWrong) {
            log.error(
                    failed
                            + " of "
                            + (failed + decrypted)
                            + " legacy values checked fail to decrypt with the legacy key ("
                            + legacyKeySource()
                            + "): the legacy key is almost certainly wrong (the "
                            + decrypted
                            + " that do are what a wrong key gives by chance).");
        }
        log.error(all.size() + " value(s) do not decrypt (table, key: why):");
        if (all.size() > LISTED) {
            Map<String, Long> byReason =
                    all.stream()
                            .collect(
                                    Collectors.groupingBy(
                                            u -> u.reason, TreeMap::new, Collectors.counting()));
            byReason.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .forEach(e -> log.error("  " + e.getValue() + " value(s): " + e.getKey()));
            log.error("  The first " + LISTED + ":");
        }
        for (int i = 0; i < all.size(); i++) {
            if (i < LISTED) {
                log.error("  " + all.get(i));
            } else {
                log.fileOnly("ERROR", "  " + all.get(i));
            }
        }
        if (all.size() > LISTED) {
            log.error(
                    "  ... and "
                            + (all.size() - LISTED)
                            + " more, every one listed in "
                            + logDir.resolve(TaskLog.FILE));
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

    private void summary(TaskLog log, Migration.Report r, boolean wrote, boolean check) {
        summaryJson = summaryJson(r, wrote);
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
            log.info(
                    "  written: "
                            + r.total(s -> s.migrated)
                            + " value(s), now AES-256-GCM (v1) under the active KEK");
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
