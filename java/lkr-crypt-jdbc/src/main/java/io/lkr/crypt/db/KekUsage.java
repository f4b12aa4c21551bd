package io.lkr.crypt.db;

import io.lkr.crypt.KeystoreAdmin;
import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.StoredText;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * Which KEK encrypts each value of the encrypted columns (for {@code status} and before a KEK is
 * retired): per column, the count of authentic envelopes v1 per KEK id, of other non-empty values
 * (legacy, or not authentic under this keystore) and of empty ones. Reads only; the KEK id of a
 * value is the native engine's answer after authenticating it (never parsed here).
 */
public final class KekUsage {
    /** Counts of one column. */
    public static final class Column {
        /** The column counted. */
        public final EncryptedColumn column;

        /** KEK id → authentic envelopes v1 under it. */
        public final Map<Integer, Long> byKek = new TreeMap<>();

        /** Non-empty values that are not authentic envelopes v1 of this keystore (legacy ones). */
        public long other;

        /** NULL or empty values. */
        public long empty;

        /** False when the table does not exist. */
        public boolean exists = true;

        Column(EncryptedColumn column) {
            this.column = column;
        }

        /**
         * Envelopes v1 of every KEK.
         *
         * @return their number
         */
        public long v1() {
            long n = 0;
            for (long v : byKek.values()) {
                n += v;
            }
            return n;
        }
    }

    private final List<Column> columns;

    private KekUsage(List<Column> columns) {
        this.columns = Collections.unmodifiableList(columns);
    }

    /**
     * The per-column counts, in manifest order.
     *
     * @return the columns' counts
     */
    public List<Column> columns() {
        return columns;
    }

    /**
     * Values under KEK {@code kekId}, over every column.
     *
     * @param kekId a KEK id
     * @return the number of values
     */
    public long valuesUnder(int kekId) {
        long n = 0;
        for (Column c : columns) {
            n += c.byKek.getOrDefault(kekId, 0L);
        }
        return n;
    }

    /**
     * KEK id → values under it, over every column.
     *
     * @return the counts by KEK id
     */
    public Map<Integer, Long> totalByKek() {
        Map<Integer, Long> m = new TreeMap<>();
        for (Column c : columns) {
            c.byKek.forEach((k, v) -> m.merge(k, v, Long::sum));
        }
        return m;
    }

    /**
     * Non-empty values that are not envelopes v1 of this keystore, over every column.
     *
     * @return their number
     */
    public long other() {
        long n = 0;
        for (Column c : columns) {
            n += c.other;
        }
        return n;
    }

    /**
     * Scans every column of {@code manifest} (keyset pages of 1000 rows, each read committed).
     *
     * @param c an open connection
     * @param d its dialect
     * @param manifest the encrypted columns
     * @param crypt the engine of the keystore
     * @return the counts
     * @throws SQLException when the database fails
     */
    public static KekUsage scan(
            Connection c, Dialect d, List<EncryptedColumn> manifest, LkrCrypt crypt)
            throws SQLException {
        KeystoreAdmin admin = crypt.keystoreAdmin();
        List<Column> out = new ArrayList<>();
        for (EncryptedColumn col : manifest) {
            Column counts = new Column(col);
            out.add(counts);
            if (!Schema.tableExists(c, col.table())) {
                counts.exists = false;
                continue;
            }
            String select =
                    "SELECT "
                            + d.q(col.key())
                            + ", "
                            + d.q(col.column())
                            + " FROM "
                            + d.q(col.table());
            String order = " ORDER BY " + d.q(col.key()) + d.limit(1000);
            Object last = null;
            while (true) {
                int rows = 0;
                try (PreparedStatement ps =
                        c.prepareStatement(
                                select
                                        + (last == null ? "" : " WHERE " + d.q(col.key()) + " > ?")
                                        + order)) {
                    if (last != null) {
                        ps.setObject(1, last);
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rows++;
                            last = rs.getObject(1);
                            String v = rs.getString(2);
                            if (v == null || v.isBlank()) {
                                counts.empty++;
                                continue;
                            }
                            OptionalInt kek;
                            try {
                                kek =
                                        admin.kekIdOf(
                                                StoredText.decode(v),
                                                col.contextFor(rs.getString(1)));
                            } catch (IllegalArgumentException notBase64) {
                                kek = OptionalInt.empty();
                            }
                            if (kek.isPresent()) {
                                counts.byKek.merge(kek.getAsInt(), 1L, Long::sum);
                            } else {
                                counts.other++;
                            }
                        }
                    }
                }
                if (!c.getAutoCommit()) {
                    c.commit();
                }
                if (rows < 1000) {
                    break;
                }
            }
        }
        return new KekUsage(out);
    }
}
