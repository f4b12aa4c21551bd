package io.lkr.crypt.db;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * Where the internal database is (docs/native-interfaces.md): the embedded HyperSQL file database
 * {@code ./.db/lkr} by default, or the one a {@code db.yaml} names ({@code dialect}, {@code host},
 * {@code port}, {@code database}, {@code username}, {@code password}; for {@code hsqldb}, {@code
 * database} is the file path, or {@code hsql://host:port/name} for a HyperSQL server). The password
 * never appears in {@link #toString()} or any message.
 */
public final class InternalDb {
    /** The default embedded database, relative to the working directory. */
    public static final String DEFAULT_HSQLDB_PATH = "./.db/lkr";

    /**
     * A db.yaml {@code database} of dialect hsqldb starting with this names a HyperSQL server, not
     * a file.
     */
    public static final String HSQLDB_SERVER_PREFIX = "hsql://";

    private final Dialect dialect;
    private final String url;
    private final String username;
    private final String password;
    private final String description;

    /**
     * The embedded database's file path (its files are this plus .script, .log, ...); null for
     * MySQL.
     */
    private final String hsqldbPath;

    private InternalDb(
            Dialect dialect,
            String url,
            String username,
            String password,
            String description,
            String hsqldbPath) {
        this.dialect = dialect;
        this.url = url;
        this.username = username;
        this.password = password;
        this.description = description;
        this.hsqldbPath = hsqldbPath;
    }

    /**
     * The embedded HyperSQL file database at {@code path} (user SA, empty password).
     *
     * @param path the database's file path (without {@code .script})
     * @return where the database is
     */
    public static InternalDb hsqldb(String path) {
        return hsqldb(path, "SA", "");
    }

    private static InternalDb hsqldb(String path, String user, String password) {
        Objects.requireNonNull(path, "path");
        if (path.startsWith(HSQLDB_SERVER_PREFIX)) {
            // A HyperSQL server (several processes may use it at once): database:
            // hsql://host:port/name
            return new InternalDb(
                    Dialect.HSQLDB,
                    "jdbc:hsqldb:" + path,
                    user,
                    password,
                    "jdbc:hsqldb:" + path,
                    null);
        }
        String url = "jdbc:hsqldb:file:" + path + ";shutdown=true";
        return new InternalDb(
                Dialect.HSQLDB, url, user, password, "jdbc:hsqldb:file:" + path, path);
    }

    /**
     * A MySQL / MariaDB database.
     *
     * @param host the server's host
     * @param port its port
     * @param database the database's name
     * @param user the user
     * @param password the password (null: empty)
     * @return where the database is
     */
    public static InternalDb mysql(
            String host, int port, String database, String user, String password) {
        String url = "jdbc:mariadb://" + host + ":" + port + "/" + database;
        return new InternalDb(
                Dialect.MYSQL,
                url,
                user,
                password == null ? "" : password,
                "mysql://" + user + "@" + host + ":" + port + "/" + database,
                null);
    }

    /**
     * The database that a db.yaml's settings name ({@code dialect}, {@code host}, {@code port},
     * {@code database}, {@code username}, {@code password}), as a YAML or JSON parser returns them;
     * {@code where} (e.g. the file's name) starts every message. Reading the file is the caller's
     * (the command line's {@code YamlConfig}): this artifact depends on no parser.
     *
     * @param settings the settings, keys as above; values are taken by their {@code toString()}
     * @param where what the settings came from, for the messages
     * @return where the database is
     * @throws IOException when a setting is missing or wrong; the message says which
     */
    public static InternalDb fromSettings(Map<?, ?> settings, String where) throws IOException {
        Map<?, ?> m = Objects.requireNonNull(settings, "settings");
        Dialect d;
        try {
            d = Dialect.fromName(str(m, "dialect", null));
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": " + e.getMessage(), e);
        }
        String database = str(m, "database", null);
        if (database == null || database.isEmpty()) {
            throw new IOException(where + ": \"database\" is missing");
        }
        if (d == Dialect.HSQLDB) {
            return hsqldb(database, str(m, "username", "SA"), str(m, "password", ""));
        }
        String portText = str(m, "port", "3306");
        int port;
        try {
            port = Integer.parseInt(portText.trim());
        } catch (NumberFormatException e) {
            throw new IOException(where + ": \"port\" is not a number: " + portText, e);
        }
        return mysql(
                str(m, "host", "127.0.0.1"),
                port,
                database,
                str(m, "username", "root"),
                str(m, "password", ""));
    }

    private static String str(Map<?, ?> m, String key, String dflt) {
        Object v = m.get(key);
        return v == null ? dflt : String.valueOf(v);
    }

    /**
     * The kind of database.
     *
     * @return its dialect
     */
    public Dialect dialect() {
        return dialect;
    }

    /**
     * True for an embedded HyperSQL file database: one process at a time can open it (HyperSQL's
     * file lock), unlike a server.
     *
     * @return whether it is an embedded file database
     */
    public boolean isEmbedded() {
        return url.startsWith("jdbc:hsqldb:file:");
    }

    /**
     * Opens a connection (auto-commit on, session in UTC).
     *
     * @return the connection, to close
     * @throws SQLException when the database cannot be reached
     */
    public Connection connect() throws SQLException {
        return connect(true);
    }

    /**
     * Opens a connection; with {@code createIfMissing} false an embedded database that does not
     * exist yet is an error instead of a new empty database (read-only tasks).
     *
     * @param createIfMissing whether a missing embedded database is created
     * @return the connection, to close
     * @throws SQLException when the database cannot be reached
     */
    public Connection connect(boolean createIfMissing) throws SQLException {
        dialect.loadDriver();
        Properties p = new Properties();
        p.setProperty("user", username);
        p.setProperty("password", password);
        String u = url;
        if (dialect == Dialect.HSQLDB && !createIfMissing) {
            u += ";ifexists=true";
        }
        Connection c = open(u, p);
        try {
            dialect.setupSession(c);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * Opens a connection for a task that is done with the database when it closes it (the
     * command-line tasks). Closing it shuts an embedded HyperSQL database down explicitly, when it
     * is the database's last session in this process, and checks that the shutdown completed:
     * HyperSQL swallows a shutdown that fails (e.g. a full disk while it rewrites its script),
     * leaving {@code .script.new} and {@code .log} behind while the task reports success; here that
     * is an {@link UncleanShutdownException} from {@code close()}. MySQL or a HyperSQL server: a
     * plain connection.
     *
     * @param createIfMissing whether a missing embedded database is created
     * @return the connection, to close
     * @throws SQLException when the database cannot be reached
     */
    public Connection connectForTask(boolean createIfMissing) throws SQLException {
        Connection c = connect(createIfMissing);
        if (hsqldbPath == null) {
            return c; // MySQL, or a HyperSQL server: other processes use it, never shut it down
        }
        return (Connection)
                Proxy.newProxyInstance(
                        Connection.class.getClassLoader(),
                        new Class<?>[] {Connection.class},
                        (proxy, method, args) -> {
                            if (method.getName().equals("close")
                                    && method.getParameterCount() == 0) {
                                shutdown(c);
                                return null;
                            }
                            try {
                                return method.invoke(c, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
    }

    /** A shutdown of the embedded database that did not complete; the message says what to do. */
    public static final class UncleanShutdownException extends SQLException {
        private static final long serialVersionUID = 1L;

        UncleanShutdownException(String message) {
            super(message);
        }
    }

    /**
     * SHUTDOWN if {@code c} is the last session, close, then check that no shutdown was left half
     * done.
     */
    private void shutdown(Connection c) throws SQLException {
        if (c.isClosed()) {
            return;
        }
        boolean last;
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
            try (Statement s = c.createStatement();
                    ResultSet rs =
                            s.executeQuery(
                                    "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SYSTEM_SESSIONS")) {
                last = rs.next() && rs.getLong(1) <= 1;
            }
            if (last) {
                try (Statement s = c.createStatement()) {
                    s.execute("SHUTDOWN");
                } catch (SQLException e) {
                    // a user without the privilege: closing the last session shuts down
                    // (shutdown=true)
                }
            }
        } finally {
            c.close();
        }
        if (last) {
            List<String> left = new ArrayList<>();
            for (String suffix : List.of(".script.new", ".log")) {
                if (Files.exists(Path.of(hsqldbPath + suffix))) {
                    left.add(hsqldbPath + suffix);
                }
            }
            if (!left.isEmpty()) {
                throw new UncleanShutdownException(
                        "The embedded database "
                                + hsqldbPath
                                + " was not shut down "
                                + "cleanly ("
                                + String.join(" and ", left)
                                + " remain; a full disk or an I/O error?). Its "
                                + "committed changes are in "
                                + hsqldbPath
                                + ".log and its next open recovers them: free "
                                + "disk space, then run status to check.");
            }
        }
    }

    /**
     * How long an embedded database whose lock file is still held is waited for: HyperSQL keeps a
     * lock file with a heartbeat, and after a process was killed (kill -9) the next open is refused
     * until that heartbeat is older than about 10 s. A rerun right after a crash must still work,
     * so the open is retried for this long.
     */
    static final long HSQLDB_LOCK_WAIT_MILLIS = 30_000;

    private Connection open(String u, Properties p) throws SQLException {
        long deadline = System.nanoTime() + HSQLDB_LOCK_WAIT_MILLIS * 1_000_000;
        while (true) {
            try {
                return DriverManager.getConnection(u, p);
            } catch (SQLException e) {
                String m = String.valueOf(e.getMessage());
                if (dialect != Dialect.HSQLDB
                        || !m.contains("lock acquisition failure")
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Where the database is, without the password. */
    @Override
    public String toString() {
        return description;
    }
}
