package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.TestSupport.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #19.7: {@code --home DIR} and {@code LKR_HOME} place the log, the embedded database and the
 * manifest; every task prints the resolved database and log on stderr as it starts.
 */
class HomeTest {
    static final String LEGACY_KEY = "AAECAwQFBgcICQoLDA0ODw==";

    @TempDir Path dir;

    private Run cli(Map<String, String> env, String... args) throws Exception {
        Map<String, String> e = new HashMap<>(env);
        e.put("LKR_LEGACY_KEY_ENV", LEGACY_KEY);
        return CliChild.run(dir, "", e, List.of(args));
    }

    @Test
    void homeFromTheOptionOrTheVariableHoldsTheDatabaseLogAndManifest() throws Exception {
        Path home = Files.createDirectory(dir.resolve("home")).toRealPath();
        String db = "Internal database: jdbc:hsqldb:file:" + home.resolve(".db/lkr");
        String log = "Log: " + home.resolve("log/lkr-crypt.log");

        Run made = cli(Map.of(), "create_sample_db", "--rows", "10", "--home", home.toString());
        assertEquals(0, made.exit, made.toString());
        assertTrue(made.err.startsWith(db + "\n"), made.toString());
        assertTrue(Files.exists(home.resolve("encrypted_columns.yaml")));
        assertTrue(Files.isDirectory(home.resolve(".db")));

        Run migrated = cli(Map.of("LKR_HOME", home.toString()), "migrate_encryption");
        assertEquals(0, migrated.exit, migrated.toString());
        assertTrue(migrated.err.startsWith(db + "\n" + log + "\n"), migrated.toString());
        assertTrue(Files.readString(home.resolve("log/lkr-crypt.log")).contains("GCM"));

        Run status = cli(Map.of(), "status", "--home", home.toString());
        assertEquals(0, status.exit, status.toString());
        assertTrue(status.out.contains("Values: 12 GCM, 0 legacy"), status.toString());
        assertFalse(status.out.contains("Internal database: jdbc"), "locations go to stderr");

        // stdout stays the data: the locations are on stderr.
        Files.writeString(dir.resolve("data.txt"), "a backup");
        assertEquals(
                0,
                cli(Map.of(), "encrypt_file", "data.txt", "data.lks", "--home", home.toString())
                        .exit);
        Run back = cli(Map.of("LKR_HOME", home.toString()), "decrypt_file", "data.lks", "-");
        assertEquals(0, back.exit, back.toString());
        assertEquals("a backup", back.out);
        assertTrue(back.err.startsWith(db + "\n"), back.toString());

        // Nothing went to the working directory; a path given explicitly stays as given.
        assertFalse(Files.exists(dir.resolve(".db")));
        assertFalse(Files.exists(dir.resolve("log")));
        assertFalse(Files.exists(dir.resolve("encrypted_columns.yaml")));
        Run explicit = cli(Map.of(), "status", "--home", home.toString(), "--columns", "cols.yaml");
        assertEquals(0, explicit.exit, explicit.toString());
        assertTrue(explicit.err.contains("cols.yaml"), explicit.toString());
    }

    @Test
    void aHomeThatIsNotADirectoryIsRefused() throws Exception {
        Run r = cli(Map.of(), "status", "--home", "no-such-home");
        assertEquals(2, r.exit, r.toString());
        assertTrue(
                r.err.startsWith("Invalid value for option '--home': no-such-home"), r.toString());
        Run v = cli(Map.of("LKR_HOME", "no-such-home"), "status");
        assertEquals(2, v.exit, v.toString());
        assertTrue(v.err.startsWith("LKR_HOME=no-such-home is not a directory"), v.toString());
        assertFalse(Files.exists(dir.resolve("no-such-home")));
    }
}
