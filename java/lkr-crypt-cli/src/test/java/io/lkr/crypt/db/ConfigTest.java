package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.cli.YamlConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** db.yaml, the manifest and the dialects. */
class ConfigTest {
    @TempDir Path dir;

    @Test
    void defaultIsTheEmbeddedHyperSqlDatabase() throws IOException {
        InternalDb db = YamlConfig.internalDb(null);
        assertEquals(Dialect.HSQLDB, db.dialect());
        assertEquals("jdbc:hsqldb:file:./.db/lkr", db.toString());
    }

    @Test
    void mysqlCredsAndNoPasswordInDescriptions() throws IOException {
        Path y = dir.resolve("db.yaml");
        Files.writeString(
                y,
                "dialect: mysql\nhost: db.example\nport: 3307\ndatabase: looker\nusername: lk\n"
                        + "password: s3cret-pw\n",
                StandardCharsets.UTF_8);
        InternalDb db = YamlConfig.internalDb(y);
        assertEquals(Dialect.MYSQL, db.dialect());
        assertEquals("mysql://lk@db.example:3307/looker", db.toString());
        assertFalse(db.toString().contains("s3cret"));
    }

    @Test
    void hsqldbCredsNameAPath() throws IOException {
        Path y = dir.resolve("db.yaml");
        Files.writeString(y, "dialect: hsqldb\ndatabase: /var/lkr/db\n", StandardCharsets.UTF_8);
        assertEquals("jdbc:hsqldb:file:/var/lkr/db", YamlConfig.internalDb(y).toString());
    }

    @Test
    void yamlIsLoadedSafely() throws IOException {
        Path y = dir.resolve("db.yaml");
        Files.writeString(
                y,
                "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL "
                        + "[\"http://127.0.0.1:1/\"]]]]\n",
                StandardCharsets.UTF_8);
        IOException e = assertThrows(IOException.class, () -> YamlConfig.internalDb(y));
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
        assertThrows(IOException.class, () -> YamlConfig.manifest("- !!java.io.File [\"/\"]\n"));
    }

    @Test
    void badCreds() throws IOException {
        Path y = dir.resolve("db.yaml");
        Files.writeString(y, "dialect: oracle\ndatabase: x\n", StandardCharsets.UTF_8);
        assertTrue(
                assertThrows(IOException.class, () -> YamlConfig.internalDb(y))
                        .getMessage()
                        .contains("Unknown database dialect"));
        assertTrue(
                assertThrows(
                                IOException.class,
                                () -> YamlConfig.internalDb(dir.resolve("nope.yaml")))
                        .getMessage()
                        .contains("not found"));
    }

    @Test
    void manifest() throws IOException {
        List<EncryptedColumn> cols =
                YamlConfig.manifest(
                        "- {table: CONNECTION, key: ID, column: PASSWORD, context: row}\n"
                                + "- {table: T, key: K, column: C, context: none, type: binary}\n");
        assertEquals(2, cols.size());
        EncryptedColumn a = cols.get(0);
        assertTrue(a.isText());
        assertEquals(
                "CONNECTION.PASSWORD:42", new String(a.contextFor("42"), StandardCharsets.UTF_8));
        assertFalse(cols.get(1).isText());
        assertEquals(0, cols.get(1).contextFor("7").length);
        assertThrows(
                IOException.class,
                () -> YamlConfig.manifest("- {table: T, key: K, column: C, context: cell}\n"));
        assertThrows(IOException.class, () -> YamlConfig.manifest("- {table: T, column: C}\n"));
        assertThrows(
                IOException.class,
                () ->
                        YamlConfig.manifest(
                                "- {table: T, key: K, column: C}\n"
                                        + "- {table: T, key: K, column: C}\n"));
        assertTrue(
                assertThrows(
                                IOException.class,
                                () -> YamlConfig.manifest(dir.resolve("missing.yaml")))
                        .getMessage()
                        .contains("--columns"));
    }

    @Test
    void dialects() {
        assertEquals("\"KEY\"", Dialect.HSQLDB.q("KEY"));
        assertEquals("`KEY`", Dialect.MYSQL.q("KEY"));
        assertEquals("LONGVARCHAR", Dialect.HSQLDB.longText());
        assertEquals("TEXT", Dialect.MYSQL.longText());
        assertThrows(IllegalArgumentException.class, () -> Dialect.MYSQL.q("a`b"));
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        new Heartbeat(
                                InternalDb.hsqldb("x"),
                                "n",
                                "h",
                                java.time.Duration.ofSeconds(60)));
    }
}
