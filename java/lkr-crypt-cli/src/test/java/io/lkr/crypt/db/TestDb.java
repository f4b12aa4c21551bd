package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.fail;

import io.lkr.crypt.cli.YamlConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/** A fresh internal database for one test, and its db.yaml. */
public final class TestDb {
    public final InternalDb db;
    public final Path yaml;
    private final String mysqlDatabase;
    private final org.hsqldb.server.Server server;

    private TestDb(InternalDb db, Path yaml, String mysqlDatabase) {
        this(db, yaml, mysqlDatabase, null);
    }

    private TestDb(
            InternalDb db, Path yaml, String mysqlDatabase, org.hsqldb.server.Server server) {
        this.db = db;
        this.yaml = yaml;
        this.mysqlDatabase = mysqlDatabase;
        this.server = server;
    }

    /**
     * A HyperSQL server (several processes use it at once, unlike the embedded file database)
     * started in this JVM on a free loopback port, its database under {@code dir}; db.yaml names it
     * as {@code database: hsql://127.0.0.1:PORT/lkr}. {@link #drop()} stops it.
     */
    public static TestDb hsqldbServer(Path dir) throws Exception {
        int port;
        try (java.net.ServerSocket s =
                new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        org.hsqldb.server.Server server = new org.hsqldb.server.Server();
        server.setDatabaseName(0, "lkr");
        server.setDatabasePath(0, "file:" + dir.resolve("server-db").resolve("lkr"));
        server.setAddress("127.0.0.1");
        server.setPort(port);
        server.setSilent(true);
        server.setLogWriter(null);
        server.setErrWriter(null);
        server.setNoSystemExit(true);
        server.start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (server.getState() != org.hsqldb.server.ServerConstants.SERVER_STATE_ONLINE) {
            if (System.nanoTime() > deadline) {
                fail("The HyperSQL server did not start: " + server.getServerError());
            }
            Thread.sleep(20);
        }
        Path yaml = dir.resolve("db.yaml");
        Files.writeString(
                yaml,
                "dialect: hsqldb\ndatabase: hsql://127.0.0.1:" + port + "/lkr\n",
                StandardCharsets.UTF_8);
        return new TestDb(YamlConfig.internalDb(yaml), yaml, null, server);
    }

    /** An embedded HyperSQL file database under {@code dir}. */
    public static TestDb hsqldb(Path dir) throws Exception {
        String path = dir.resolve("db").resolve("lkr").toString();
        Path yaml = dir.resolve("db.yaml");
        Files.writeString(
                yaml, "dialect: hsqldb\ndatabase: " + path + "\n", StandardCharsets.UTF_8);
        return new TestDb(InternalDb.hsqldb(path), yaml, null);
    }

    /**
     * A new database on the MariaDB server of tests/mariadb_server.sh (LKR_TEST_MYSQL_*). Without
     * it: a failure under CI=true, else the test is skipped with a loud message.
     */
    public static TestDb mysql(Path dir) throws Exception {
        String host = env("LKR_TEST_MYSQL_HOST", "127.0.0.1");
        String port = System.getenv("LKR_TEST_MYSQL_PORT");
        String user = System.getenv("LKR_TEST_MYSQL_USER");
        String password = env("LKR_TEST_MYSQL_PASSWORD", "");
        String base = env("LKR_TEST_MYSQL_DATABASE", "lkr_test");
        if (port == null || port.isEmpty() || user == null || user.isEmpty()) {
            String msg =
                    "!!! MariaDB tests NOT RUN: LKR_TEST_MYSQL_PORT/USER are not set. Run them with "
                            + "`bash tests/mariadb_server.sh mvn -f java/pom.xml -B -ntp verify`.";
            if ("true".equals(System.getenv("CI"))) {
                fail(msg);
            }
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        String name =
                "lkr_t_"
                        + UUID.randomUUID()
                                .toString()
                                .replace("-", "")
                                .substring(0, 12)
                                .toLowerCase(Locale.ROOT);
        Class.forName("org.mariadb.jdbc.Driver");
        try (Connection c =
                        DriverManager.getConnection(
                                "jdbc:mariadb://" + host + ":" + port + "/" + base,
                                user,
                                password);
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        Path yaml = dir.resolve("db.yaml");
        Files.writeString(
                yaml,
                "dialect: mysql\nhost: "
                        + host
                        + "\nport: "
                        + port
                        + "\ndatabase: "
                        + name
                        + "\nusername: "
                        + user
                        + "\npassword: '"
                        + password
                        + "'\n",
                StandardCharsets.UTF_8);
        return new TestDb(
                InternalDb.mysql(host, Integer.parseInt(port), name, user, password), yaml, name);
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    /**
     * Drops the MariaDB database, stops a HyperSQL server (an embedded database's directory just
     * goes).
     */
    public void drop() {
        if (server != null) {
            server.shutdownCatalogs(org.hsqldb.Database.CLOSEMODE_NORMAL);
            server.stop();
        }
        if (mysqlDatabase == null) {
            return;
        }
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("DROP DATABASE " + mysqlDatabase);
        } catch (SQLException ignored) {
            // a throwaway server
        }
    }
}
