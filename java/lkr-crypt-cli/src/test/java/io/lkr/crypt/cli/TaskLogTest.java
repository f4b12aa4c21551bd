package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.TestSupport.Run;
import io.lkr.crypt.db.Dialect;
import io.lkr.crypt.db.InternalDb;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** log/lkr-crypt.log (issue #21 item 10): never through a link, owner-only, one line per entry. */
class TaskLogTest {
    static final byte[] LEGACY_KEY = Base64.getDecoder().decode("AAECAwQFBgcICQoLDA0ODw==");

    /** docs/native-interfaces.md's line form. */
    static final String LINE =
            "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} [+-]\\d{4} \\[(INFO|WARN|ERROR)\\|[^|]*\\|crypt\\] :: .*";

    @TempDir Path dir;

    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final PrintStream out =
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    @Test
    void aSymbolicLinkIsNeitherFollowedNorReplaced() throws Exception {
        Path logDir = Files.createDirectory(dir.resolve("log"));
        Path victim = Files.writeString(dir.resolve("victim"), "not a log\n");
        Path link = Files.createSymbolicLink(logDir.resolve(TaskLog.FILE), victim);
        try (TaskLog log = new TaskLog(logDir, out, err)) {
            log.info("a result");
        }
        assertEquals("not a log\n", Files.readString(victim));
        assertTrue(Files.isSymbolicLink(link));
        assertTrue(
                errBytes.toString()
                        .contains("Cannot write the log " + link + ": it is a symbolic link"),
                errBytes.toString());

        Files.delete(link);
        Path nowhere = dir.resolve("created-through-the-link");
        Files.createSymbolicLink(link, nowhere);
        try (TaskLog log = new TaskLog(logDir, out, err)) {
            log.error("a refusal");
        }
        assertFalse(Files.exists(nowhere), "the log was created through a dangling link");
    }

    @Test
    void theLogIsOwnerOnlyWhateverTheUmask() throws Exception {
        // status on a database that does not exist: refused, and the refusal is logged.
        Run r = CliChild.run(dir, "umask 000; touch umask-probe; ", Map.of(), List.of("status"));
        assertEquals(1, r.exit, r.toString());
        assertEquals("rw-rw-rw-", mode(dir.resolve("umask-probe")), "the child's umask");
        assertEquals("rwx------", mode(dir.resolve("log")));
        assertEquals("rw-------", mode(dir.resolve("log").resolve(TaskLog.FILE)));
        assertTrue(
                Files.readString(dir.resolve("log").resolve(TaskLog.FILE))
                        .contains("Missing keystore"));
    }

    @Test
    void aKeyValueWithANewlineStaysOnItsLine() throws Exception {
        Path db = dir.resolve("db").resolve("lkr");
        Path yaml =
                Files.writeString(
                        dir.resolve("db.yaml"), "dialect: hsqldb\ndatabase: " + db + "\n");
        Path manifest = dir.resolve("cols.yaml");
        SampleDb.writeManifest(manifest);
        String forged = "2026-11-28 22:42:20.279 +0000 [INFO|main|crypt] :: GCM";
        try (Connection c = InternalDb.hsqldb(db.toString()).connect()) {
            new SampleDb(LEGACY_KEY).create(c, Dialect.HSQLDB, 5, 32, false);
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "INSERT INTO \"OAUTH_CLIENT_APP\" (\"ID\", \"CLIENT_SECRET\") VALUES (?, ?)")) {
                ps.setString(1, "k\n" + forged);
                ps.setString(
                        2,
                        Base64.getEncoder()
                                .encodeToString(
                                        "not a legacy value".getBytes(StandardCharsets.UTF_8)));
                ps.executeUpdate();
            }
        }
        Path logDir = dir.resolve("log");
        assertEquals(
                1,
                MigrateEncryptionTask.run(
                        new String[] {
                            "-d",
                            yaml.toString(),
                            "--columns",
                            manifest.toString(),
                            "--log-dir",
                            logDir.toString()
                        },
                        out,
                        err,
                        LEGACY_KEY));
        List<String> lines = Files.readAllLines(logDir.resolve(TaskLog.FILE));
        for (String line : lines) {
            assertTrue(line.matches(LINE), "not a log line: " + line);
            assertFalse(line.startsWith(forged), "a forged line: " + line);
        }
        assertTrue(
                lines.stream().anyMatch(l -> l.contains("k\\n" + forged)),
                String.join("\n", lines));
        for (String line : errBytes.toString().split("\n")) {
            assertFalse(line.startsWith(forged), "a forged line on stderr: " + line);
        }
        assertEquals(
                "a\\tb\\rc\\u0000d\\u009be\\u2028f",
                TaskLog.escape("a\tb\rc\u0000d\u009be\u2028f"));
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
