package io.lkr.crypt.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What differs between the two kinds of internal database (SPEC §9): identifier quoting
 * ({@code KEY} is reserved on MySQL), the long text type, time arithmetic and duplicate-key
 * errors. Every session runs in UTC so that a {@code TIMESTAMP} written by one node and judged
 * by another means the same instant (the database's own clock is the only clock used).
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

    /** The dialect named in db.yaml ({@code hsqldb} or {@code mysql}, any case). */
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
        throw new IllegalArgumentException("Unknown database dialect \"" + name + "\": use hsqldb or mysql");
    }

    /** Loads the JDBC driver explicitly (a shaded jar may keep only one java.sql.Driver service file). */
    void loadDriver() {
        try {
            Class.forName(driverClass);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("JDBC driver " + driverClass + " is not on the class path", e);
        }
    }

    /** {@code name} as a quoted identifier: {@code "NAME"} or {@code `NAME`}. */
    public String q(String name) {
        if (name.indexOf(quote) >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("Invalid identifier: " + name);
        }
        return quote + name + quote;
    }

    /** The long text type: {@code LONGVARCHAR} (HyperSQL has no TEXT) or {@code TEXT}. */
    public String longText() {
        return longText;
    }

    /** The type of {@code NODE.HEARTBEAT_AT}; on MySQL explicitly nullable so no auto-update applies. */
    public String timestampType() {
        return this == MYSQL ? "TIMESTAMP NULL" : "TIMESTAMP";
    }

    /** SQL for the database's clock {@code seconds} seconds ago (negative: in the future). */
    public String nowMinusSeconds(int seconds) {
        if (this == MYSQL) {
            return "(CURRENT_TIMESTAMP - INTERVAL " + seconds + " SECOND)";
        }
        return "(LOCALTIMESTAMP - INTERVAL '" + seconds + "' SECOND)";
    }

    /** SQL for the database's clock now, as written to a {@code TIMESTAMP} column. */
    public String now() {
        return this == MYSQL ? "CURRENT_TIMESTAMP" : "LOCALTIMESTAMP";
    }

    /** {@code LIMIT n} at the end of a SELECT (both dialects accept it). */
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

    /** True when {@code e} reports a duplicate primary key (another writer won). */
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
}
