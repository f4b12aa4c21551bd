package io.lkr.crypt.db;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The one database-wide maintenance lock (issue #14.1): every task that writes values or the
 * keystore of the internal database ({@code migrate_encryption}, {@code rotate_kek}, {@code
 * retire_kek}, {@code rekey}, ...) takes it once, after the live-node check and before it reads
 * what it will change, and holds it until it ends. A second task is refused at once with {@link
 * HeldException}, whose message names the holder: its task, host, pid and since when (by the
 * database's clock). Nobody waits for a lock, and nobody ever removes one by hand:
 *
 * <ul>
 *   <li><b>MySQL / MariaDB</b>: {@code GET_LOCK(name, 0)} on a connection of its own, held for the
 *       task's life (the name carries the database's name: locks are server-wide). The server
 *       releases it when that connection ends — a killed task's lock is gone at once. The row of
 *       {@code MAINTENANCE_LOCK} only describes the holder, for the refusal; a row left by a killed
 *       holder is overwritten by the next one to get the lock.
 *   <li><b>HyperSQL server</b> (several processes): the row itself is the lock, taken by
 *       compare-and-set ({@code INSERT} failing on the existing row, or {@code UPDATE ... WHERE}
 *       its lease has expired), with a lease refreshed by a daemon thread every {@link
 *       #leaseSeconds()}{@code / 3} s and expiring {@link #leaseSeconds()} s after the last
 *       refresh, both by the database's clock. A killed task's lock expires within one lease
 *       (default {@value #DEFAULT_LEASE_SECONDS} s; system property {@value #LEASE_PROPERTY}).
 *   <li><b>Embedded HyperSQL</b> (a file database): only one process at a time can open it (its
 *       file lock), so a row left by another JVM is provably stale and taken over at once; within
 *       one JVM the row and its lease work as on a server.
 * </ul>
 *
 * The lock is released by {@link #close()} (row deleted, {@code RELEASE_LOCK}, connection closed).
 */
public final class MaintenanceLock implements AutoCloseable {
    /** The table holding the holder's row (created when missing). */
    public static final String TABLE = Schema.MAINTENANCE_LOCK;

    /**
     * System property: the lease in seconds on HyperSQL (and the MySQL connection's keep-alive
     * period × 3).
     */
    public static final String LEASE_PROPERTY = "lkr.crypt.maintenanceLock.leaseSeconds";

    /** The default lease: a killed task's lock on a HyperSQL server expires within this. */
    public static final int DEFAULT_LEASE_SECONDS = 30;

    private static final String ROW = "maintenance";

    /** This JVM: a row written under another instance on an embedded database is stale. */
    private static final String INSTANCE = UUID.randomUUID().toString();

    /**
     * A maintenance task may not start: nodes are live ({@link LiveNodes#MESSAGE}), or another task
     * holds the lock ({@link HeldException}). The message is the operator's refusal; nothing was
     * written.
     */
    public static class RefusedException extends Exception {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    /** Another task holds the lock; the message names it and says what to do. */
    public static final class HeldException extends RefusedException {
        private static final long serialVersionUID = 1L;

        HeldException(String message) {
            super(message);
        }
    }

    private final InternalDb db;
    private final Dialect d;
    private final Connection c;
    private final String token = UUID.randomUUID().toString();
    private final String serverLockName;
    private final int leaseSeconds;
    private final Thread refresher;
    private volatile String lost;
    private boolean closed;

    private MaintenanceLock(InternalDb db, Connection c, String serverLockName, int leaseSeconds) {
        this.db = db;
        this.d = db.dialect();
        this.c = c;
        this.serverLockName = serverLockName;
        this.leaseSeconds = leaseSeconds;
        this.refresher = new Thread(this::refreshLoop, "lkr-maintenance-lock");
        this.refresher.setDaemon(true);
    }

    /**
     * The lease in seconds ({@value #LEASE_PROPERTY}, at least 3; default {@value
     * #DEFAULT_LEASE_SECONDS}).
     *
     * @return the lease
     */
    public static int leaseSeconds() {
        return Math.max(3, Integer.getInteger(LEASE_PROPERTY, DEFAULT_LEASE_SECONDS));
    }

    /**
     * The start of a maintenance task on {@code db} (docs/native-interfaces.md, once the CMK
     * configuration is valid): the live-node check on the task's connection {@code c} ({@link
     * LiveNodes#refusal}, by the database's clock), then — when {@code takeLock}; a dry run takes
     * none and gets null — the lock for {@code task}. Throws {@link RefusedException} with the
     * documented refusal when nodes are live or another task holds the lock.
     *
     * <p>Why after the live-node check: the documented order is the CMK configuration, then live
     * nodes, then the work, and the lock is the first step of the work. Nodes do not take the lock,
     * so checking them under it would close no race; this way a task refused for live nodes keeps
     * the documented exact refusal and never touches the lock. Everything the task changes is read
     * only once the lock is held.
     *
     * @param db the internal database
     * @param c the task's connection to it, for the live-node check
     * @param task the task's name
     * @param takeLock whether to take the lock (false for a dry run)
     * @return the lock, to close at the task's end; null when {@code takeLock} is false
     * @throws SQLException when the database fails
     * @throws RefusedException when nodes are live or another task holds the lock
     */
    public static MaintenanceLock begin(InternalDb db, Connection c, String task, boolean takeLock)
            throws SQLException, RefusedException {
        String refusal = LiveNodes.refusal(c, db.dialect());
        if (refusal != null) {
            throw new RefusedException(refusal);
        }
        return takeLock ? acquire(db, task) : null;
    }

    /**
     * Takes the lock for {@code task} (its name, for the holder's description) on a connection of
     * its own, or throws {@link HeldException} at once naming the task that holds it.
     *
     * @param db the internal database
     * @param task the task's name
     * @return the lock, to close at the task's end
     * @throws SQLException when the database fails
     * @throws HeldException when another task holds the lock
     */
    public static MaintenanceLock acquire(InternalDb db, String task)
            throws SQLException, HeldException {
        Connection c = db.connect();
        MaintenanceLock lock = null;
        try {
            if (!Schema.tableExists(c, TABLE)) {
                Schema.ensure(c, db.dialect());
            }
            String name = db.dialect() == Dialect.MYSQL ? serverLockName(c) : null;
            lock = new MaintenanceLock(db, c, name, leaseSeconds());
            if (name != null) {
                lock.acquireServerLock(task);
            } else {
                lock.acquireRow(task);
            }
            lock.refresher.start();
            return lock;
        } catch (SQLException | HeldException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The server-wide lock's name for this database (at most 64 characters, as MySQL requires). */
    private static String serverLockName(Connection c) throws SQLException {
        String database;
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT DATABASE()")) {
            rs.next();
            database = rs.getString(1);
        }
        String name = "lkr-crypt maintenance " + database;
        if (name.length() <= 64) {
            return name;
        }
        try {
            byte[] h =
                    MessageDigest.getInstance("SHA-256")
                            .digest(database.getBytes(StandardCharsets.UTF_8));
            return "lkr-crypt maintenance " + HexFormat.of().formatHex(h, 0, 20);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- MySQL / MariaDB: GET_LOCK --------------------------------------------------------------

    private void acquireServerLock(String task) throws SQLException, HeldException {
        try (PreparedStatement ps = c.prepareStatement("SELECT GET_LOCK(?, 0)")) {
            ps.setString(1, serverLockName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getInt(1) != 1) {
                    throw held();
                }
            }
        }
        // Ours now: any row is a description left by a holder that is gone.
        try (PreparedStatement del =
                c.prepareStatement(
                        "DELETE FROM " + d.q(TABLE) + " WHERE " + d.q("NAME") + " = ?")) {
            del.setString(1, ROW);
            del.executeUpdate();
        }
        insertRow(task);
    }

    // ---- HyperSQL: the row with a lease
    // ----------------------------------------------------------

    private void acquireRow(String task) throws SQLException, HeldException {
        for (int attempt = 0; attempt < 3; attempt++) {
            // Compare-and-set over an expired lease, or (embedded) over a row another JVM left.
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "UPDATE "
                                    + d.q(TABLE)
                                    + " SET "
                                    + d.q("TOKEN")
                                    + " = ?, "
                                    + d.q("INSTANCE")
                                    + " = ?, "
                                    + d.q("TASK")
                                    + " = ?, "
                                    + d.q("HOST")
                                    + " = ?, "
                                    + d.q("PID")
                                    + " = ?, "
                                    + d.q("SINCE")
                                    + " = "
                                    + d.now()
                                    + ", "
                                    + d.q("EXPIRES_AT")
                                    + " = "
                                    + d.nowMinusSeconds(-leaseSeconds)
                                    + " WHERE "
                                    + d.q("NAME")
                                    + " = ? AND ("
                                    + d.q("EXPIRES_AT")
                                    + " < "
                                    + d.now()
                                    + (db.isEmbedded() ? " OR " + d.q("INSTANCE") + " <> ?" : "")
                                    + ")")) {
                bindHolder(ps, task);
                ps.setString(6, ROW);
                if (db.isEmbedded()) {
                    ps.setString(7, INSTANCE);
                }
                if (ps.executeUpdate() == 1) {
                    return;
                }
            }
            try {
                insertRow(task);
                return;
            } catch (SQLException e) {
                if (!d.isDuplicateKey(e)) {
                    throw e;
                }
            }
            if (holderRow() != null) {
                throw held();
            }
            // The row went away between the two statements: try again.
        }
        throw held();
    }

    private void insertRow(String task) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(
                        "INSERT INTO "
                                + d.q(TABLE)
                                + " ("
                                + d.columns(
                                        "TOKEN",
                                        "INSTANCE",
                                        "TASK",
                                        "HOST",
                                        "PID",
                                        "NAME",
                                        "SINCE",
                                        "EXPIRES_AT")
                                + ") VALUES (?, ?, ?, ?, ?, ?, "
                                + d.now()
                                + ", "
                                + d.nowMinusSeconds(-leaseSeconds)
                                + ")")) {
            bindHolder(ps, task);
            ps.setString(6, ROW);
            ps.executeUpdate();
        }
    }

    private void bindHolder(PreparedStatement ps, String task) throws SQLException {
        ps.setString(1, token);
        ps.setString(2, INSTANCE);
        ps.setString(3, task.length() > 64 ? task.substring(0, 64) : task);
        String host = hostName();
        ps.setString(4, host.length() > 255 ? host.substring(0, 255) : host);
        ps.setLong(5, ProcessHandle.current().pid());
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException | SecurityException e) {
            return "unknown host";
        }
    }

    /**
     * The holder's row: "task on host H (pid P), since T UTC (database clock)", and its lease's end
     * (HyperSQL); null when no row describes a holder.
     */
    private String[] holderRow() throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(
                        "SELECT "
                                + d.columns("TASK", "HOST", "PID", "SINCE", "EXPIRES_AT")
                                + " FROM "
                                + d.q(TABLE)
                                + " WHERE "
                                + d.q("NAME")
                                + " = ?")) {
            ps.setString(1, ROW);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return new String[] {
                    rs.getString(1)
                            + " on host "
                            + rs.getString(2)
                            + " (pid "
                            + rs.getLong(3)
                            + "), since "
                            + seconds(rs.getString(4))
                            + " UTC (database clock)",
                    seconds(rs.getString(5))
                };
            }
        }
    }

    private static String seconds(String timestamp) {
        String t = String.valueOf(timestamp);
        int dot = t.indexOf('.');
        return dot > 0 ? t.substring(0, dot) : t;
    }

    private HeldException held() throws SQLException {
        String[] holder = holderRow();
        String expiry =
                serverLockName != null
                        ? " The lock goes as soon as that task ends, also when it is killed (the server releases it with "
                                + "the task's connection)."
                        : holder == null
                                ? ""
                                : " If that task was killed, its lock expires when its lease runs out, at "
                                        + holder[1]
                                        + " UTC (database clock; a running task keeps renewing it); then the next task takes it.";
        return new HeldException(
                "Another maintenance task holds the maintenance lock of the internal database "
                        + db
                        + ": "
                        + (holder != null ? holder[0] : "a task that has not recorded itself yet")
                        + ". Nothing "
                        + "was changed: wait until that task has finished, then run this task again."
                        + expiry);
    }

    // ---- while held
    // --------------------------------------------------------------------------------

    private void refreshLoop() {
        long periodMillis = leaseSeconds * 1000L / 3;
        while (true) {
            try {
                Thread.sleep(periodMillis);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                if (closed) {
                    return;
                }
                try {
                    if (!stillHeld(true)) {
                        lost =
                                "the maintenance lock of the internal database "
                                        + db
                                        + " was lost (its lease "
                                        + "expired or its connection ended)";
                        return;
                    }
                } catch (SQLException e) {
                    lost =
                            "the maintenance lock of the internal database "
                                    + db
                                    + " could not be refreshed: "
                                    + e.getMessage();
                    return;
                }
            }
        }
    }

    /** True when the lock is still ours; with {@code refresh}, a HyperSQL lease is extended. */
    private boolean stillHeld(boolean refresh) throws SQLException {
        if (serverLockName != null) {
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT IS_USED_LOCK(?) = CONNECTION_ID()")) {
                ps.setString(1, serverLockName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getInt(1) == 1;
                }
            }
        }
        String sql =
                refresh
                        ? "UPDATE "
                                + d.q(TABLE)
                                + " SET "
                                + d.q("EXPIRES_AT")
                                + " = "
                                + d.nowMinusSeconds(-leaseSeconds)
                                + " WHERE "
                                + d.q("NAME")
                                + " = ? AND "
                                + d.q("TOKEN")
                                + " = ?"
                        : "SELECT COUNT(*) FROM "
                                + d.q(TABLE)
                                + " WHERE "
                                + d.q("NAME")
                                + " = ? AND "
                                + d.q("TOKEN")
                                + " = ? AND "
                                + d.q("EXPIRES_AT")
                                + " > "
                                + d.now();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, ROW);
            ps.setString(2, token);
            if (refresh) {
                return ps.executeUpdate() == 1;
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getLong(1) == 1;
            }
        }
    }

    /**
     * Verifies, before a task's decisive write, that the lock is still this task's (its lease was
     * refreshed in time, its connection is alive); throws with an operator's message otherwise.
     *
     * @throws SQLException when the lock is no longer held or the database fails
     */
    public synchronized void ensureHeld() throws SQLException {
        if (lost == null && !closed && stillHeld(false)) {
            return;
        }
        throw new SQLException(
                (lost != null
                                ? lost
                                : "the maintenance lock of the internal database "
                                        + db
                                        + " is no longer held")
                        + "; stopped before writing. Run the task again.");
    }

    /**
     * Releases the lock: the row, the server lock, the connection. Never fails: what cannot be
     * released here goes anyway (MySQL: with the connection; HyperSQL: the lease expires).
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        refresher.interrupt();
        try (Connection conn = c) {
            try (PreparedStatement ps =
                    conn.prepareStatement(
                            "DELETE FROM "
                                    + d.q(TABLE)
                                    + " WHERE "
                                    + d.q("NAME")
                                    + " = ? AND "
                                    + d.q("TOKEN")
                                    + " = ?")) {
                ps.setString(1, ROW);
                ps.setString(2, token);
                ps.executeUpdate();
            }
            if (serverLockName != null) {
                try (PreparedStatement ps = conn.prepareStatement("SELECT RELEASE_LOCK(?)")) {
                    ps.setString(1, serverLockName);
                    ps.executeQuery().close();
                }
            }
        } catch (SQLException e) {
            // released with the connection (MySQL) or when the lease expires (HyperSQL)
        }
    }
}
