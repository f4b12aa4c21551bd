package io.lkr.crypt.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * What differs between the two kinds of internal database (docs/native-interfaces.md): identifier
 * quoting ({@code KEY} is reserved on MySQL), the long text type, time arithmetic and duplicate-key
 * errors. Every session runs in UTC so that a {@code TIMESTAMP} written by one node and judged by
 * another means the same instant (the database's own clock is the only clock used).
 */
public enum Dialect {
    /** HyperSQL 2.7, embedded file database (the default) or server. */
    HSQLDB("org.hsqldb.jdbc.JDBCDriver", '"', "LONGVARCHAR"),
    /** MySQL / MariaDB through MariaDB Connector/J. */
    MYSQL("org.mariadb.jdbc.Driver", '`', "TEXT");

    private final String driverClass;
    private final char quote;
    private final String longText;

    Dialect(String driverClass, char quote, String longText) {
        this.driverClass = driverClass;
        this.quote = quote;
        this.longText = longText;
    }

    /**
     * The dialect named in db.yaml ({@code hsqldb} or {@code mysql}, any case).
     *
     * @param name the name
     * @return the dialect
     */
    public static Dialect fromName(String name) {
        if (name != null) {
            switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "hsqldb":
                case "hsql":
                case "hypersql":
                    return HSQLDB;
                case "mysql":
                case "mariadb":
                    return MYSQL;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException(
                "Unknown database dialect \"" + name + "\": use hsqldb or mysql");
    }

    /**
     * Loads the JDBC driver explicitly (a shaded jar may keep only one java.sql.Driver service
     * file).
     */
    void loadDriver() {
        try {
            Class.forName(driverClass);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(
                    "JDBC driver " + driverClass + " is not on the class path", e);
        }
    }

    /**
     * {@code name} as a quoted identifier: {@code "NAME"} or {@code `NAME`}.
     *
     * @param name an identifier
     * @return it quoted
     */
    public String q(String name) {
        if (name.indexOf(quote) >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("Invalid identifier: " + name);
        }
        return quote + name + quote;
    }

    /**
     * {@code names} as a list of quoted identifiers: {@code "A", "B"}.
     *
     * @param names identifiers
     * @return them quoted, separated by commas
     */
    public String columns(String... names) {
        return Arrays.stream(names).map(this::q).collect(Collectors.joining(", "));
    }

    /**
     * The long text type: {@code LONGVARCHAR} (HyperSQL has no TEXT) or {@code TEXT}.
     *
     * @return the type's name
     */
    public String longText() {
        return longText;
    }

    /**
     * The type of {@code NODE.HEARTBEAT_AT}; on MySQL explicitly nullable so no auto-update
     * applies.
     *
     * @return the column type
     */
    public String timestampType() {
        return this == MYSQL ? "TIMESTAMP NULL" : "TIMESTAMP";
    }

    /**
     * SQL for the database's clock {@code seconds} seconds ago (negative: in the future).
     *
     * @param seconds how far back
     * @return the SQL expression
     */
    public String nowMinusSeconds(int seconds) {
        if (this == MYSQL) {
            return "(CURRENT_TIMESTAMP - INTERVAL " + seconds + " SECOND)";
        }
        return "(LOCALTIMESTAMP - INTERVAL '" + seconds + "' SECOND)";
    }

    /**
     * SQL for the database's clock now, as written to a {@code TIMESTAMP} column.
     *
     * @return the SQL expression
     */
    public String now() {
        return this == MYSQL ? "CURRENT_TIMESTAMP" : "LOCALTIMESTAMP";
    }

    /**
     * {@code UPDATE table SET column = ? WHERE key = ?}: one row's column set (parameters: the new
     * value, the row's key).
     *
     * @param table the table
     * @param column the column set
     * @param key the key column
     * @return the statement
     */
    public String update(String table, String column, String key) {
        return "UPDATE " + q(table) + " SET " + q(column) + " = ? WHERE " + q(key) + " = ?";
    }

    /**
     * {@link #update} only while the column still holds the value read, a compare-and-set
     * (parameters: the new value, the row's key, the value read).
     *
     * @param table the table
     * @param column the column set
     * @param key the key column
     * @return the statement
     */
    public String compareAndSet(String table, String column, String key) {
        return update(table, column, key) + " AND " + q(column) + " = ?";
    }

    /**
     * {@code LIMIT n} at the end of a SELECT (both dialects accept it).
     *
     * @param n the number of rows
     * @return the clause
     */
    public String limit(int n) {
        return " LIMIT " + n;
    }

    /** Per-session setup: UTC, so TIMESTAMPs are comparable whatever the JVM's zone. */
    void setupSession(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            if (this == MYSQL) {
                s.execute("SET time_zone = '+00:00'");
            } else {
                s.execute("SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE");
            }
        }
    }

    /**
     * True when {@code e} reports a duplicate primary key (another writer won).
     *
     * @param e a failure of an INSERT
     * @return whether it is a duplicate key
     */
    public boolean isDuplicateKey(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLIntegrityConstraintViolationException) {
                return true;
            }
            if (t instanceof SQLException) {
                SQLException s = (SQLException) t;
                String state = s.getSQLState();
                if ("23505".equals(state) || s.getErrorCode() == 1062 || s.getErrorCode() == -104) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Suspends HyperSQL's automatic checkpoints on {@code c} for a bulk write (other dialects:
     * nothing). HyperSQL checkpoints whenever its redo log passes {@code hsqldb.log_size} (50 MB by
     * default), and a checkpoint of MEMORY tables rewrites the whole database: migrating every row
     * would rewrite it dozens of times. During the write phase the automatic checkpoint is off
     * (every change is still in the redo log, synced as configured: a crash loses nothing committed
     * beyond what HyperSQL's write delay allows, and a rerun redoes that); {@link
     * #resumeCheckpoints} restores the previous size at the end (HyperSQL's default, 50 MB, when it
     * reads 0 — which a killed run leaves behind). Returns that size, or null when it cannot be
     * read or changed (then nothing changes) or for another dialect.
     *
     * @param c an open connection
     * @return the previous log size, or null
     */
    public String suspendCheckpoints(Connection c) {
        if (this != HSQLDB) {
            return null;
        }
        try (Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "SELECT PROPERTY_VALUE FROM INFORMATION_SCHEMA.SYSTEM_PROPERTIES "
                                        + "WHERE PROPERTY_NAME = 'hsqldb.log_size'")) {
            if (!rs.next()) {
                return null;
            }
            String size = rs.getString(1).trim();
            if (Integer.parseInt(size) == 0) {
                // Left at 0 by a run that was killed: restore HyperSQL's default.
                size = "50";
            }
            commitRead(c);
            s.execute("SET FILES LOG SIZE 0");
            return size;
        } catch (SQLException | NumberFormatException e) {
            return null;
        }
    }

    /**
     * Restores what {@link #suspendCheckpoints} returned ({@code null}: nothing to do).
     *
     * @param c an open connection
     * @param logSize what {@link #suspendCheckpoints} returned
     * @throws SQLException when the database fails
     */
    public void resumeCheckpoints(Connection c, String logSize) throws SQLException {
        if (logSize == null) {
            return;
        }
        try (Statement s = c.createStatement()) {
            commitRead(c);
            s.execute("SET FILES LOG SIZE " + Integer.parseInt(logSize));
        }
    }

    private static void commitRead(Connection c) throws SQLException {
        if (!c.getAutoCommit()) {
            c.commit();
        }
    }
}
