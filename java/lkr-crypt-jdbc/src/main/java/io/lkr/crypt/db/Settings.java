package io.lkr.crypt.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Rows of {@code SETTING} (docs/native-interfaces.md): {@code encryption_keystore}, {@code
 * encryption_scheme}.
 */
public final class Settings {
    /** The keystore document (docs/keystore.md). */
    public static final String KEYSTORE = "encryption_keystore";

    /** The encryption scheme of the stored values. */
    public static final String SCHEME = "encryption_scheme";

    /** {@link #SCHEME} once the values are envelopes v1. */
    public static final String SCHEME_GCM = "aes-256-gcm";

    private Settings() {}

    /**
     * The value of {@code key}, or null.
     *
     * @param c an open connection
     * @param d its dialect
     * @param key the setting
     * @return its value, or null
     * @throws SQLException when the database fails
     */
    public static String get(Connection c, Dialect d, String key) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(
                        "SELECT "
                                + d.q("VALUE")
                                + " FROM "
                                + d.q(Schema.SETTING)
                                + " WHERE "
                                + d.q("KEY")
                                + " = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * Inserts {@code key} only if absent. Returns false (and leaves the row alone) when another
     * writer inserted it first. Commits when the connection is not in auto-commit.
     *
     * @param c an open connection
     * @param d its dialect
     * @param key the setting
     * @param value its value
     * @return whether it was inserted
     * @throws SQLException when the database fails
     */
    public static boolean insertIfAbsent(Connection c, Dialect d, String key, String value)
            throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(
                        "INSERT INTO "
                                + d.q(Schema.SETTING)
                                + " ("
                                + d.q("KEY")
                                + ", "
                                + d.q("VALUE")
                                + ") VALUES (?, ?)")) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
            if (!c.getAutoCommit()) {
                c.commit();
            }
            return true;
        } catch (SQLException e) {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
            if (d.isDuplicateKey(e)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Sets {@code key} to {@code value} only while it still holds {@code expected} (a
     * compare-and-set in one UPDATE), and commits. Returns false, changing nothing, when another
     * writer changed it first.
     *
     * @param c an open connection
     * @param d its dialect
     * @param key the setting
     * @param expected its value as read
     * @param value the new value
     * @return whether it was set
     * @throws SQLException when the database fails
     */
    public static boolean compareAndSet(
            Connection c, Dialect d, String key, String expected, String value)
            throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(d.compareAndSet(Schema.SETTING, "VALUE", "KEY"))) {
            ps.setString(1, value);
            ps.setString(2, key);
            ps.setString(3, expected);
            int n = ps.executeUpdate();
            if (!c.getAutoCommit()) {
                if (n == 1) {
                    c.commit();
                } else {
                    c.rollback();
                }
            }
            return n == 1;
        }
    }

    /**
     * Sets {@code key} to {@code value} (update, else insert). Commits when not in auto-commit.
     *
     * @param c an open connection
     * @param d its dialect
     * @param key the setting
     * @param value its value
     * @throws SQLException when the database fails
     */
    public static void put(Connection c, Dialect d, String key, String value) throws SQLException {
        for (int attempt = 0; attempt < 3; attempt++) {
            try (PreparedStatement ps =
                    c.prepareStatement(d.update(Schema.SETTING, "VALUE", "KEY"))) {
                ps.setString(1, value);
                ps.setString(2, key);
                if (ps.executeUpdate() > 0) {
                    if (!c.getAutoCommit()) {
                        c.commit();
                    }
                    return;
                }
            }
            if (insertIfAbsent(c, d, key, value)) {
                return;
            }
        }
        throw new SQLException("Could not set " + key + " in " + Schema.SETTING);
    }
}
