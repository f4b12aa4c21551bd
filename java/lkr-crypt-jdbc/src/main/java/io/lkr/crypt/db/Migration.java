package io.lkr.crypt.db;

import io.lkr.crypt.LegacyMigrator;
import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.MigrationBatch;
import io.lkr.crypt.MigrationResult;
import io.lkr.crypt.StoredText;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Migrates the encrypted columns of the internal database from legacy AES-128-CBC to envelopes v1
 * (docs/legacy.md, docs/native-interfaces.md) — with {@link Options#moveToActiveKek}, also
 * envelopes of an older KEK to the active one — in two phases over each column, scanned in key
 * order with keyset pagination:
 *
 * <ol>
 *   <li>{@link #check}: every value goes through the native {@link LegacyMigrator#migrateBatch} and
 *       nothing is written. It counts values already in v1 (told apart natively: magic, version and
 *       successful authentication under the value's context — never guessed here), legacy values,
 *       and lists those that do not decrypt (text columns also require UTF-8 plaintext, which
 *       catches a wrong legacy key even for a single value). When most legacy values fail, the key
 *       is wrong ({@link Report#legacyKeyLooksWrong()}): the caller refuses to write, even with
 *       {@link Options#skipUndecryptable}.
 *   <li>{@link #write}: the same scan again; each page's migrated values are written with a
 *       compare-and-set {@code UPDATE t SET c = new WHERE key = k AND c = old} and committed as one
 *       batch. A crash at any moment loses at most the uncommitted batch, whose values are still
 *       legacy; a rerun leaves the v1 values alone (authentic under their context) and finishes the
 *       others. Nothing is ever encrypted twice.
 * </ol>
 *
 * When the check's migrated values fit in a third of the free heap, they are kept and the write
 * phase only runs the compare-and-set updates (no second scan, no second encryption); otherwise, or
 * when the keystore changed in between (another node published one first), the write phase scans
 * and migrates again.
 *
 * <p>Values are stored in text columns as standard base64 (docs/envelope.md, docs/legacy.md text
 * form). NULL and empty values are left alone.
 */
public final class Migration {
    /** How the migration runs. */
    public static final class Options {
        /** Rows per page and per committed batch. */
        public int batchSize = 1000;

        /** Leave undecryptable values untouched (and report them) instead of refusing. */
        public boolean skipUndecryptable;

        /**
         * The legacy AES-128 key (16 bytes), or null for the one the engine read from the
         * environment.
         */
        public byte[] legacyKey;

        /**
         * Also move envelopes v1 whose KEK is not the active one to the active KEK (after {@code
         * rotate_kek}; the operator's {@code migrate_encryption --reencrypt}), with the same
         * checks, batches and crash safety.
         */
        public boolean moveToActiveKek;
    }

    /** Receives progress: a phase starts with its total of rows, then rows are scanned. */
    public interface Progress {
        /**
         * A phase starts.
         *
         * @param phase its name
         * @param totalRows the rows it will scan
         */
        default void begin(String phase, long totalRows) {}

        /**
         * Rows were scanned.
         *
         * @param rows how many more
         */
        default void advance(long rows) {}

        /** The phase ended. */
        default void end() {}

        /** No progress display. */
        Progress NONE = new Progress() {};
    }

    /** A value that does not decrypt: where it is and why, never what it is. */
    public static final class Undecryptable {
        /** Its table. */
        public final String table;

        /** Its column. */
        public final String column;

        /** The table's key column. */
        public final String keyColumn;

        /** Its row's key. */
        public final String key;

        /** Why: the engine's message (it names no value). */
        public final String reason;

        Undecryptable(EncryptedColumn c, String key, String reason) {
            this.table = c.table();
            this.column = c.column();
            this.keyColumn = c.key();
            this.key = key;
            this.reason = reason;
        }

        @Override
        public String toString() {
            return table + " " + keyColumn + "=" + key + " (column " + column + "): " + reason;
        }
    }

    /** Counts for one column. */
    public static final class ColumnSummary {
        /** The column counted. */
        public final EncryptedColumn column;

        /** Non-empty values scanned. */
        public long values;

        /** Empty (NULL or '') values, left alone. */
        public long empty;

        /** Values already envelopes v1. */
        public long alreadyV1;

        /** Legacy values that decrypt (the check) — to be migrated from legacy. */
        public long legacy;

        /**
         * Envelopes v1 under an older KEK (the check, with {@link Options#moveToActiveKek}) — to be
         * moved to the active KEK.
         */
        public long olderKek;

        /** Values migrated (from legacy, or to the active KEK) and committed (the write phase). */
        public long migrated;

        /** Values that do not decrypt or cannot be used (reported; skipped on request). */
        public long undecryptable;

        /**
         * Of those, the legacy values that do not decrypt with the legacy key (outcome {@link
         * MigrationResult.Outcome#UNDECRYPTABLE}): what {@link Report#legacyKeyLooksWrong()}
         * counts.
         */
        public long legacyFailed;

        /** Values changed by someone else between read and write (left for a rerun). */
        public long conflicts;

        ColumnSummary(EncryptedColumn column) {
            this.column = column;
        }
    }

    /** What a phase found or did. */
    public static final class Report {
        /** Counts per column, in manifest order. */
        public final List<ColumnSummary> columns = new ArrayList<>();

        /** The values that do not decrypt. */
        public final List<Undecryptable> undecryptable = new ArrayList<>();

        /** Nanoseconds spent inside {@link LkrCrypt} calls. */
        public long cryptoNanos;

        /** Nanoseconds of the whole phase. */
        public long totalNanos;

        /**
         * A count summed over the columns.
         *
         * @param f the count of one column (e.g. {@code s -> s.migrated})
         * @return its sum
         */
        public long total(java.util.function.ToLongFunction<ColumnSummary> f) {
            long n = 0;
            for (ColumnSummary s : columns) {
                n += f.applyAsLong(s);
            }
            return n;
        }

        /**
         * The wrong-key rule (issue #14.4): true when at least half of the legacy values checked do
         * not decrypt and at least one does. AES-CBC has no integrity, so a wrong legacy key
         * "decrypts" about one value in 256 into garbage (valid padding by chance) and binary
         * columns have no UTF-8 check to catch it: skipping the failures would migrate that garbage
         * and lose the originals. A wrong key fails on ~99.6 % of the legacy values; a right key
         * with damaged data on a few. Half is far from both, and is judged over the whole run
         * (every column: one key decrypts them all). When no legacy value decrypts, nothing would
         * be written anyway — nothing can be lost — and this is also what a rerun sees after an
         * earlier run skipped the damaged values; so that case is left to {@code
         * --skip-undecryptable}. Envelopes v1 that cannot be used ({@link
         * MigrationResult.Outcome#UNUSABLE_V1}) say nothing about the legacy key and do not count.
         *
         * @return whether the legacy key looks wrong
         */
        public boolean legacyKeyLooksWrong() {
            long failed = total(s -> s.legacyFailed);
            long decrypted = total(s -> s.legacy);
            return decrypted > 0 && failed >= decrypted;
        }

        /**
         * Whether the legacy key is almost certainly wrong: legacy values fail, and the few that
         * decrypt (if any) are no more than a wrong key gives by chance — about one binary value in
         * 256 has valid padding under any key, so at most one per {@link #CHANCE_PASSES} failures.
         *
         * @return whether the legacy key is almost certainly wrong
         */
        public boolean legacyKeyAlmostCertainlyWrong() {
            long failed = total(s -> s.legacyFailed);
            return failed > 0 && total(s -> s.legacy) * CHANCE_PASSES <= failed;
        }

        /** Failures per legacy value a wrong key still decrypts by chance, at the most. */
        public static final int CHANCE_PASSES = 64;
    }

    /**
     * The check's migrated values, kept (within a memory budget) so that the write phase need not
     * read and migrate every row again: per column, the key, the value as read and its envelope's
     * text form (base64, as stored). Written only with the engine that made them, each with a
     * compare-and-set on the value as read. Null when the budget was exceeded (the write phase then
     * re-scans).
     */
    private static final class Pending {
        final List<Object> keys = new ArrayList<>();
        final List<String> old = new ArrayList<>();
        final List<String> envelopes = new ArrayList<>();
    }

    /** The packed batch of {@link #processPage}, reused from page to page. */
    private final MigrationBatch batch = new MigrationBatch();

    private java.util.Map<EncryptedColumn, Pending> pending;
    private long pendingBytes;
    private long pendingBudget;
    private LkrCrypt checkedWith;
    private Report lastCheck;

    private final Connection connection;
    private final Dialect dialect;
    private final List<EncryptedColumn> columns;
    private final Options options;
    private final Progress progress;

    /**
     * A migration of the columns of a manifest.
     *
     * @param connection the internal database
     * @param dialect its dialect
     * @param columns the encrypted columns
     * @param options how to migrate
     * @param progress where progress goes (null: nowhere)
     */
    public Migration(
            Connection connection,
            Dialect dialect,
            List<EncryptedColumn> columns,
            Options options,
            Progress progress) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.dialect = Objects.requireNonNull(dialect, "dialect");
        this.columns = Collections.unmodifiableList(new ArrayList<>(columns));
        this.options = Objects.requireNonNull(options, "options");
        this.progress = progress == null ? Progress.NONE : progress;
        if (options.batchSize < 1) {
            throw new IllegalArgumentException("The batch size must be at least 1");
        }
    }

    /**
     * Verifies that every table of the manifest exists (before anything is read or written).
     *
     * @throws SQLException when a table is missing or the database fails
     */
    public void checkTables() throws SQLException {
        for (EncryptedColumn c : columns) {
            if (!Schema.tableExists(connection, c.table())) {
                throw new SQLException(
                        "Table "
                                + c.table()
                                + " of the manifest ("
                                + c.name()
                                + ") does not exist in the internal database");
            }
        }
    }

    /**
     * Rows with a non-NULL value in each column, for progress.
     *
     * @return the number of values
     * @throws SQLException when the database fails
     */
    public long countValues() throws SQLException {
        long n = 0;
        for (EncryptedColumn c : columns) {
            try (Statement s = connection.createStatement();
                    ResultSet rs =
                            s.executeQuery(
                                    "SELECT COUNT(*) FROM "
                                            + dialect.q(c.table())
                                            + " WHERE "
                                            + dialect.q(c.column())
                                            + " IS NOT NULL")) {
                rs.next();
                n += rs.getLong(1);
            }
            commitRead();
        }
        return n;
    }

    /**
     * Phase 1: checks every value, writes nothing.
     *
     * @param crypt the engine of the keystore
     * @return what the check found
     * @throws SQLException when the database fails
     * @throws GeneralSecurityException when the engine refuses the whole call (e.g. no legacy key)
     */
    public Report check(LkrCrypt crypt) throws SQLException, GeneralSecurityException {
        Runtime rt = Runtime.getRuntime();
        pendingBudget = (rt.maxMemory() - (rt.totalMemory() - rt.freeMemory())) / 3;
        pendingBytes = 0;
        pending = new java.util.HashMap<>();
        checkedWith = crypt;
        lastCheck = run(crypt, false, countValues());
        return lastCheck;
    }

    /**
     * Rows the write phase will update (known after {@link #check}).
     *
     * @return the number of rows
     */
    public long pendingRows() {
        return lastCheck == null ? 0 : lastCheck.total(x -> x.legacy + x.olderKek);
    }

    /**
     * Phase 2: migrates and writes in committed batches.
     *
     * @param crypt the engine of the keystore (the one of the check)
     * @param totalRows the rows to update, for progress
     * @return what was written
     * @throws SQLException when the database fails
     * @throws GeneralSecurityException when the engine refuses the whole call (e.g. no legacy key)
     */
    public Report write(LkrCrypt crypt, long totalRows)
            throws SQLException, GeneralSecurityException {
        String logSize = dialect.suspendCheckpoints(connection);
        try {
            if (pending != null && crypt == checkedWith && lastCheck != null) {
                return writePending();
            }
            pending = null;
            return run(crypt, true, totalRows);
        } finally {
            dialect.resumeCheckpoints(connection, logSize);
        }
    }

    private Report writePending() throws SQLException {
        Report report = new Report();
        long t0 = System.nanoTime();
        Dialect d = dialect;
        progress.begin("Re-encrypting", pendingRows());
        try {
            for (ColumnSummary checked : lastCheck.columns) {
                EncryptedColumn c = checked.column;
                ColumnSummary s = new ColumnSummary(c);
                s.values = checked.values;
                s.empty = checked.empty;
                s.alreadyV1 = checked.alreadyV1;
                s.legacy = checked.legacy;
                s.olderKek = checked.olderKek;
                s.undecryptable = checked.undecryptable;
                s.legacyFailed = checked.legacyFailed;
                report.columns.add(s);
                Pending p = pending.get(c);
                if (p == null) {
                    continue;
                }
                try (PreparedStatement ps =
                        connection.prepareStatement(
                                d.compareAndSet(c.table(), c.column(), c.key()))) {
                    int n = p.keys.size();
                    for (int from = 0; from < n; from += options.batchSize) {
                        int to = Math.min(n, from + options.batchSize);
                        for (int i = from; i < to; i++) {
                            ps.setString(1, p.envelopes.get(i));
                            ps.setObject(2, p.keys.get(i));
                            ps.setString(3, p.old.get(i));
                            ps.addBatch();
                            p.envelopes.set(i, null);
                        }
                        long written = execute(ps, to - from);
                        s.migrated += written;
                        s.conflicts += (to - from) - written;
                        progress.advance(to - from);
                    }
                }
                pending.remove(c);
            }
        } finally {
            progress.end();
            pending = null;
        }
        report.totalNanos = System.nanoTime() - t0;
        report.undecryptable.addAll(lastCheck.undecryptable);
        return report;
    }

    /** Executes and commits one batch of compare-and-set updates; returns the rows updated. */
    private long execute(PreparedStatement ps, int pendingCount) throws SQLException {
        int[] counts = ps.executeBatch();
        connection.commit();
        if (counts.length != pendingCount) {
            return pendingCount;
        }
        long written = 0;
        for (int k : counts) {
            if (k > 0 || k == Statement.SUCCESS_NO_INFO) {
                written++;
            }
        }
        return written;
    }

    private Report run(LkrCrypt crypt, boolean write, long totalRows)
            throws SQLException, GeneralSecurityException {
        Report report = new Report();
        long t0 = System.nanoTime();
        progress.begin(write ? "Re-encrypting" : "Checking", totalRows);
        try {
            for (EncryptedColumn c : columns) {
                ColumnSummary s = new ColumnSummary(c);
                report.columns.add(s);
                scanColumn(crypt, c, s, report, write);
            }
        } finally {
            progress.end();
        }
        report.totalNanos = System.nanoTime() - t0;
        return report;
    }

    private void scanColumn(
            LkrCrypt crypt, EncryptedColumn c, ColumnSummary s, Report report, boolean write)
            throws SQLException, GeneralSecurityException {
        Dialect d = dialect;
        String select =
                "SELECT "
                        + d.q(c.key())
                        + ", "
                        + d.q(c.column())
                        + " FROM "
                        + d.q(c.table())
                        + " WHERE "
                        + d.q(c.column())
                        + " IS NOT NULL";
        String order = " ORDER BY " + d.q(c.key()) + d.limit(options.batchSize);
        String first = select + order;
        String next = select + " AND " + d.q(c.key()) + " > ?" + order;
        String update = d.compareAndSet(c.table(), c.column(), c.key());
        int n = options.batchSize;
        Object[] keys = new Object[n];
        String[] keyTexts = new String[n];
        String[] stored = new String[n];
        try (PreparedStatement firstPs = connection.prepareStatement(first);
                PreparedStatement nextPs = connection.prepareStatement(next);
                PreparedStatement updatePs = write ? connection.prepareStatement(update) : null) {
            firstPs.setFetchSize(n);
            nextPs.setFetchSize(n);
            Object lastKey = null;
            boolean firstPage = true;
            while (true) {
                PreparedStatement ps = firstPage ? firstPs : nextPs;
                if (!firstPage) {
                    ps.setObject(1, lastKey);
                }
                firstPage = false;
                int rows = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        keys[rows] = rs.getObject(1);
                        keyTexts[rows] = rs.getString(1);
                        stored[rows] = rs.getString(2);
                        rows++;
                    }
                }
                if (rows == 0) {
                    commitRead();
                    break;
                }
                lastKey = keys[rows - 1];
                processPage(crypt, c, s, report, rows, keys, keyTexts, stored, updatePs);
                progress.advance(rows);
                if (rows < n) {
                    commitRead();
                    break;
                }
            }
        }
    }

    private void processPage(
            LkrCrypt crypt,
            EncryptedColumn c,
            ColumnSummary s,
            Report report,
            int rows,
            Object[] keys,
            String[] keyTexts,
            String[] stored,
            PreparedStatement updatePs)
            throws SQLException, GeneralSecurityException {
        // Decode the stored text forms; what is not base64 cannot be a value of ours.
        int[] index = new int[rows];
        byte[][] values = new byte[rows][];
        int m = 0;
        for (int i = 0; i < rows; i++) {
            String v = stored[i].trim();
            if (v.isEmpty()) {
                s.empty++;
                continue;
            }
            s.values++;
            byte[] raw;
            try {
                raw = StoredText.decode(stored[i]);
            } catch (IllegalArgumentException e) {
                s.undecryptable++;
                report.undecryptable.add(new Undecryptable(c, keyTexts[i], "not base64"));
                continue;
            }
            index[m] = i;
            values[m] = raw;
            m++;
        }
        if (m == 0) {
            commitRead();
            return;
        }
        byte[] prefix = c.contextFor(""); // TABLE.COLUMN: (or empty, for context: none)
        boolean rowContext = c.context() == EncryptedColumn.Context.ROW;
        java.util.Set<LegacyMigrator.MigrateOption> flags = flags(c);
        // The crypto: packing the values with their contexts (prefix + key, built in place), the
        // native call, and the results left in the batch (outcomes and slices of one array). It
        // allocates nothing on the Java heap once the batch has grown to the page size.
        long t = System.nanoTime();
        MigrationBatch b = batch;
        b.clear();
        for (int j = 0; j < m; j++) {
            b.add(values[j], 0, values[j].length, prefix, rowContext ? keyTexts[index[j]] : null);
        }
        crypt.legacyMigrator().migrateBatch(b, options.legacyKey, flags);
        report.cryptoNanos += System.nanoTime() - t;
        int pendingUpdates = 0;
        for (int j = 0; j < m; j++) {
            int i = index[j];
            MigrationResult.Outcome outcome = b.outcome(j);
            switch (outcome) {
                case ALREADY_V1:
                    s.alreadyV1++;
                    break;
                case UNDECRYPTABLE:
                case UNUSABLE_V1:
                    if (outcome == MigrationResult.Outcome.UNDECRYPTABLE) {
                        s.legacyFailed++;
                    }
                    s.undecryptable++;
                    report.undecryptable.add(new Undecryptable(c, keyTexts[i], b.message(j)));
                    break;
                case FROM_LEGACY:
                case ROTATED:
                    if (outcome == MigrationResult.Outcome.ROTATED) {
                        s.olderKek++;
                    } else {
                        s.legacy++;
                    }
                    if (updatePs == null && pending != null) {
                        String env = b.resultBase64(j);
                        pendingBytes += 2L * stored[i].length() + env.length() + 160;
                        if (pendingBytes > pendingBudget) {
                            pending = null; // too big to keep: the write phase re-scans
                        } else {
                            Pending p = pending.computeIfAbsent(c, x -> new Pending());
                            p.keys.add(keys[i]);
                            p.old.add(stored[i]);
                            p.envelopes.add(env);
                        }
                    }
                    if (updatePs != null) {
                        updatePs.setString(1, b.resultBase64(j));
                        updatePs.setObject(2, keys[i]);
                        updatePs.setString(3, stored[i]);
                        updatePs.addBatch();
                        pendingUpdates++;
                    }
                    break;
                default:
                    throw new IllegalStateException("Unknown outcome " + outcome);
            }
        }
        if (pendingUpdates > 0) {
            long written = execute(updatePs, pendingUpdates);
            s.migrated += written;
            s.conflicts += pendingUpdates - written;
        } else {
            commitRead();
        }
    }

    private java.util.Set<LegacyMigrator.MigrateOption> flags(EncryptedColumn c) {
        // An envelope of this keystore that does not authenticate under the manifest's context is
        // reported, never tried as a legacy value (which CBC would "decrypt" into garbage ~1/4096).
        java.util.EnumSet<LegacyMigrator.MigrateOption> f =
                java.util.EnumSet.of(LegacyMigrator.MigrateOption.STRICT_V1);
        if (c.isText()) {
            f.add(LegacyMigrator.MigrateOption.REQUIRE_UTF8);
        }
        if (options.moveToActiveKek) {
            f.add(LegacyMigrator.MigrateOption.MOVE_TO_ACTIVE_KEK);
        }
        return f;
    }

    /** Ends the read transaction (no locks are kept between pages). */
    private void commitRead() throws SQLException {
        if (!connection.getAutoCommit()) {
            connection.commit();
        }
    }
}
