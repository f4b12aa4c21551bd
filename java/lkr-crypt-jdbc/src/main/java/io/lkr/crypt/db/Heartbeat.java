package io.lkr.crypt.db;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The heartbeat of a running application node (docs/native-interfaces.md): every {@link
 * #interval()} it writes the database's own {@code CURRENT_TIMESTAMP} into its row of {@code NODE},
 * so that {@code migrate_encryption}, {@code rekey} and {@code rotate_kek} refuse while it runs.
 *
 * <pre>{@code
 * Heartbeat hb = Heartbeat.forThisHost(db);   // or new Heartbeat(db, nodeId, hostname, interval)
 * hb.start();                                  // first beat now (creates NODE if missing), then in the background
 * ...
 * hb.stop();                                   // on shutdown; the row ages out after 60 s
 * }</pre>
 */
public final class Heartbeat implements AutoCloseable {
    /** The default interval between beats. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

    private final InternalDb db;
    private final String nodeId;
    private final String hostname;
    private final Duration interval;
    private ScheduledExecutorService timer;
    private Connection connection;
    private volatile SQLException lastFailure;

    /**
     * A heartbeat, not started.
     *
     * @param db the internal database
     * @param nodeId this node's id (1 to 64 characters)
     * @param hostname this node's host, for operators
     * @param interval the time between beats
     */
    public Heartbeat(InternalDb db, String nodeId, String hostname, Duration interval) {
        this.db = Objects.requireNonNull(db, "db");
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.interval = Objects.requireNonNull(interval, "interval");
        if (nodeId.isEmpty() || nodeId.length() > 64) {
            throw new IllegalArgumentException("A node id has 1 to 64 characters");
        }
        if (interval.isNegative()
                || interval.isZero()
                || interval.getSeconds() >= LiveNodes.LIVE_SECONDS) {
            throw new IllegalArgumentException(
                    "The heartbeat interval must be between 0 and "
                            + LiveNodes.LIVE_SECONDS
                            + " s");
        }
    }

    /**
     * A heartbeat for this host: a random node id, the local host name, {@link #DEFAULT_INTERVAL}.
     *
     * @param db the internal database
     * @return the heartbeat, not started
     */
    public static Heartbeat forThisHost(InternalDb db) {
        return new Heartbeat(db, UUID.randomUUID().toString(), localHostName(), DEFAULT_INTERVAL);
    }

    static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    /**
     * This node's id.
     *
     * @return the id in {@code NODE}
     */
    public String nodeId() {
        return nodeId;
    }

    /**
     * This node's host.
     *
     * @return the host name in {@code NODE}
     */
    public String hostname() {
        return hostname;
    }

    /**
     * The time between beats.
     *
     * @return the interval
     */
    public Duration interval() {
        return interval;
    }

    /**
     * The failure of the most recent beat, or null if it succeeded.
     *
     * @return the failure, or null
     */
    public SQLException lastFailure() {
        return lastFailure;
    }

    /**
     * Beats once now (failing loudly), then every {@link #interval()} on a daemon thread.
     *
     * @throws SQLException when the first beat fails
     */
    public synchronized void start() throws SQLException {
        if (timer != null) {
            return;
        }
        beat();
        timer =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "lkr-heartbeat");
                            t.setDaemon(true);
                            return t;
                        });
        long ms = interval.toMillis();
        timer.scheduleAtFixedRate(
                () -> {
                    try {
                        beat();
                    } catch (SQLException e) {
                        lastFailure = e;
                    }
                },
                ms,
                ms,
                TimeUnit.MILLISECONDS);
    }

    /**
     * Writes this node's row now: {@code HEARTBEAT_AT = CURRENT_TIMESTAMP} of the database.
     *
     * @throws SQLException when the database fails
     */
    public synchronized void beat() throws SQLException {
        try {
            if (connection == null || connection.isClosed()) {
                connection = db.connect();
                Schema.ensure(connection, db.dialect());
            }
            upsert(connection, db.dialect(), nodeId, hostname, db.dialect().now());
            lastFailure = null;
        } catch (SQLException e) {
            closeConnection();
            lastFailure = e;
            throw e;
        }
    }

    /** Writes a NODE row with {@code HEARTBEAT_AT} = the SQL expression {@code at}. */
    static void upsert(Connection c, Dialect d, String id, String host, String at)
            throws SQLException {
        String update =
                "UPDATE "
                        + d.q(Schema.NODE)
                        + " SET "
                        + d.q("HOSTNAME")
                        + " = ?, "
                        + d.q("HEARTBEAT_AT")
                        + " = "
                        + at
                        + " WHERE "
                        + d.q("ID")
                        + " = ?";
        for (int attempt = 0; attempt < 3; attempt++) {
            try (PreparedStatement ps = c.prepareStatement(update)) {
                ps.setString(1, host);
                ps.setString(2, id);
                if (ps.executeUpdate() > 0) {
                    commitIfNeeded(c);
                    return;
                }
            }
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "INSERT INTO "
                                    + d.q(Schema.NODE)
                                    + " ("
                                    + d.q("ID")
                                    + ", "
                                    + d.q("HOSTNAME")
                                    + ", "
                                    + d.q("HEARTBEAT_AT")
                                    + ") VALUES (?, ?, "
                                    + at
                                    + ")")) {
                ps.setString(1, id);
                ps.setString(2, host);
                ps.executeUpdate();
                commitIfNeeded(c);
                return;
            } catch (SQLException e) {
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
                if (!d.isDuplicateKey(e)) {
                    throw e;
                }
            }
        }
        throw new SQLException("Could not write the heartbeat of node " + id);
    }

    private static void commitIfNeeded(Connection c) throws SQLException {
        if (!c.getAutoCommit()) {
            c.commit();
        }
    }

    /** Stops beating (the row stays and ages out after 60 s) and closes the connection. */
    public synchronized void stop() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
        closeConnection();
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // nothing to do: the connection is gone
            }
            connection = null;
        }
    }

    @Override
    public void close() {
        stop();
    }
}
