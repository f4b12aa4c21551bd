package io.lkr.crypt.db;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The tables lkr-crypt itself uses (docs/native-interfaces.md), created when missing. */
public final class Schema {
    /** The settings, the keystore among them ({@link Settings}). */
    public static final String SETTING = "SETTING";

    /** The running nodes ({@link Heartbeat}). */
    public static final String NODE = "NODE";

    /** The holder of the maintenance lock ({@link MaintenanceLock}). */
    public static final String MAINTENANCE_LOCK = "MAINTENANCE_LOCK";

    private Schema() {}

    /**
     * Creates {@code SETTING}, {@code NODE} and {@code MAINTENANCE_LOCK} when they do not exist
     * (commits if not auto-commit).
     *
     * @param c an open connection
     * @param d its dialect
     * @throws SQLException when the database fails
     */
    public static void ensure(Connection c, Dialect d) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(
                    "CREATE TABLE IF NOT EXISTS "
                            + d.q(SETTING)
                            + " ("
                            + d.q("KEY")
                            + " VARCHAR(255) PRIMARY KEY, "
                            + d.q("VALUE")
                            + " "
                            + d.longText()
                            + ")");
            s.execute(
                    "CREATE TABLE IF NOT EXISTS "
                            + d.q(NODE)
                            + " ("
                            + d.q("ID")
                            + " VARCHAR(64) PRIMARY KEY, "
                            + d.q("HOSTNAME")
                            + " VARCHAR(255), "
                            + d.q("HEARTBEAT_AT")
                            + " "
                            + d.timestampType()
                            + ")");
            s.execute(
                    "CREATE TABLE IF NOT EXISTS "
                            + d.q(MAINTENANCE_LOCK)
                            + " ("
                            + d.q("NAME")
                            + " VARCHAR(64) PRIMARY KEY, "
                            + d.q("TOKEN")
                            + " VARCHAR(64), "
                            + d.q("INSTANCE")
                            + " VARCHAR(64), "
                            + d.q("TASK")
                            + " VARCHAR(64), "
                            + d.q("HOST")
                            + " VARCHAR(255), "
                            + d.q("PID")
                            + " BIGINT, "
                            + d.q("SINCE")
                            + " "
                            + d.timestampType()
                            + ", "
                            + d.q("EXPIRES_AT")
                            + " "
                            + d.timestampType()
                            + ")");
        }
        if (!c.getAutoCommit()) {
            c.commit();
        }
    }

    /**
     * True when {@code table} exists (exact name, as the manifest spells it).
     *
     * @param c an open connection
     * @param table the table's name
     * @return whether it exists
     * @throws SQLException when the database fails
     */
    public static boolean tableExists(Connection c, String table) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        try (ResultSet rs = md.getTables(c.getCatalog(), null, table, new String[] {"TABLE"})) {
            while (rs.next()) {
                if (table.equals(rs.getString("TABLE_NAME"))) {
                    return true;
                }
            }
        }
        return false;
    }
}
