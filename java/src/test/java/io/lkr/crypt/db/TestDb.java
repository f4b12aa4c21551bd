package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.fail;

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

    private TestDb(InternalDb db, Path yaml, String mysqlDatabase) {
        this.db = db;
        this.yaml = yaml;
        this.mysqlDatabase = mysqlDatabase;
    }

    /** An embedded HyperSQL file database under {@code dir}. */
    public static TestDb hsqldb(Path dir) throws Exception {
        String path = dir.resolve("db").resolve("lkr").toString();
        Path yaml = dir.resolve("db.yaml");
        Files.writeString(yaml, "dialect: hsqldb\ndatabase: " + path + "\n", StandardCharsets.UTF_8);
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
            String msg = "!!! MariaDB tests NOT RUN: LKR_TEST_MYSQL_PORT/USER are not set. Run them with "
                    + "`bash tests/mariadb_server.sh mvn -f java/pom.xml -B -ntp verify`.";
            if ("true".equals(System.getenv("CI"))) {
                fail(msg);
            }
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        String name = "lkr_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)
                .toLowerCase(Locale.ROOT);
        Class.forName("org.mariadb.jdbc.Driver");
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://" + host + ":" + port + "/" + base, user,
                password); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        Path yaml = dir.resolve("db.yaml");
        Files.writeString(yaml, "dialect: mysql\nhost: " + host + "\nport: " + port + "\ndatabase: " + name
                + "\nusername: " + user + "\npassword: '" + password + "'\n", StandardCharsets.UTF_8);
        return new TestDb(InternalDb.mysql(host, Integer.parseInt(port), name, user, password), yaml, name);
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    /** Drops the MariaDB database (nothing for HyperSQL: the temporary directory goes). */
    public void drop() {
        if (mysqlDatabase == null) {
            return;
        }
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE " + mysqlDatabase);
        } catch (SQLException ignored) {
            // a throwaway server
        }
    }
}
