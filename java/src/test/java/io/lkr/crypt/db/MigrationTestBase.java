package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.cli.MigrateEncryptionTask;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The migration's contract (SPEC §9), run against each kind of internal database by a subclass:
 * embedded HyperSQL ({@link HsqldbMigrationTest}) and a real MariaDB server
 * ({@link MariaDbMigrationTest}).
 */
abstract class MigrationTestBase extends DbTaskTestBase {
    // ---- the contract --------------------------------------------------------------------------

    @Test
    void fullMigration() throws Exception {
        sample(500);
        assertNull(setting(Settings.KEYSTORE));
        assertEquals(0, migrate(LEGACY_KEY), err);
        assertTrue(LOG_LINE.matcher(out).find(), out);
        String log = Files.readString(dir.resolve("log").resolve("lkr-crypt.log"));
        assertTrue(LOG_LINE.matcher(log).find(), log);
        assertTrue(out.contains("CONNECTION.PASSWORD"), out);
        assertAllMigratedToOriginals(500);
        assertEquals(Settings.SCHEME_GCM, setting(Settings.SCHEME));
        assertTrue(setting(Settings.KEYSTORE).contains("\"lkr-keystore\""));
    }

    @Test
    void idempotentRerun() throws Exception {
        sample(300);
        assertEquals(0, migrate(LEGACY_KEY), err);
        Map<String, String> first = snapshot();
        assertEquals(0, migrate(LEGACY_KEY), err);
        assertEquals(first, snapshot(), "a rerun must leave v1 values alone");
        assertTrue(out.matches("(?s).*CONNECTION\\.PASSWORD\\s+300\\s+300\\s+0\\s+0\\s+0.*"), out);
        // And with no legacy key at all: every value is v1 already, so nothing needs it.
        assertEquals(0, migrate(null), err);
        assertEquals(first, snapshot());
    }

    @Test
    void dryRunChangesNothing() throws Exception {
        sample(200);
        Map<String, String> before = snapshot();
        assertEquals(0, migrate(LEGACY_KEY, "--dry-run"), err);
        assertEquals(before, snapshot());
        assertNull(setting(Settings.KEYSTORE), "a dry run publishes no keystore");
        assertNull(setting(Settings.SCHEME));
        assertTrue(out.matches("(?s).*CONNECTION\\.PASSWORD\\s+200\\s+0\\s+200\\s+0\\s+0.*"), out);
    }

    @Test
    void wrongLegacyKeyChangesNothing() throws Exception {
        sample(200);
        Map<String, String> before = snapshot();
        assertEquals(1, migrate(WRONG_KEY), out);
        assertEquals(before, snapshot());
        assertNull(setting(Settings.KEYSTORE), "nothing written, not even the keystore");
        assertTrue(err.contains("Nothing was written"), err);
        assertTrue(err.contains("CONNECTION ID=17 (column PASSWORD)"), err);
        for (String v : before.values()) {
            assertFalse(err.contains(v), "a value appears in the report");
        }
    }

    /** A single value under a wrong key: the UTF-8 check of a text column catches it too. */
    @Test
    void wrongLegacyKeyOnASingleTextValue() throws Exception {
        sample(0);
        Dialect d = t.db.dialect();
        try (Connection c = t.db.connect(); Statement s = c.createStatement()) {
            s.execute("DELETE FROM " + d.q("OAUTH_CLIENT_APP"));
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + d.q("CONNECTION") + " VALUES (1, 'x', ?)")) {
                // 40 bytes: under the wrong key 48 bytes of garbage, which pass the padding and UTF-8
                // checks both about once in 10^10 runs (a 5-byte text: once in 1.5 million).
                ps.setString(1, new SampleDb(LEGACY_KEY).legacyEncrypt(
                        "hello, a text value of forty bytes here.".getBytes(StandardCharsets.UTF_8)));
                ps.executeUpdate();
            }
        }
        Map<String, String> before = snapshot();
        assertEquals(1, migrate(WRONG_KEY), out);
        assertEquals(before, snapshot());
    }

    @Test
    void undecryptableValuesAreReportedAndSkippedOnRequest() throws Exception {
        sample(100);
        Dialect d = t.db.dialect();
        String garbage = Base64.getEncoder().encodeToString(new byte[48]); // zero IV, zero "ciphertext"
        try (Connection c = t.db.connect();
                PreparedStatement ps = c.prepareStatement("UPDATE " + d.q("CONNECTION") + " SET " + d.q("PASSWORD")
                        + " = ? WHERE " + d.q("ID") + " = ?")) {
            for (int id : new int[] {5, 50}) {
                ps.setString(1, id == 5 ? garbage : "not base64 !!");
                ps.setInt(2, id);
                ps.executeUpdate();
            }
        }
        Map<String, String> before = snapshot();
        assertEquals(1, migrate(LEGACY_KEY));
        assertEquals(before, snapshot(), "nothing written");
        assertTrue(err.contains("2 value(s) do not decrypt"), err);
        assertTrue(err.contains("CONNECTION ID=5 (column PASSWORD)"), err);
        assertTrue(err.contains("CONNECTION ID=50 (column PASSWORD)"), err);
        assertFalse(err.contains(garbage), err);
        String log = Files.readString(dir.resolve("log").resolve("lkr-crypt.log"));
        assertTrue(log.contains("CONNECTION ID=50 (column PASSWORD)"), log);

        assertEquals(3, migrate(LEGACY_KEY, "--skip-undecryptable"), err);
        assertTrue(err.contains("CONNECTION ID=5 (column PASSWORD)"), err);
        Map<String, String> after = snapshot();
        assertEquals(garbage, after.get("CONNECTION:5"));
        assertEquals("not base64 !!", after.get("CONNECTION:50"));
        long v1 = after.values().stream().filter(v -> !v.startsWith("not") && isV1(v)).count();
        assertEquals(after.size() - 2, v1);
        assertNull(setting(Settings.SCHEME), "not every value is migrated");
    }

    /**
     * An envelope moved to another row is not authentic under that row's context. SPEC §7 alone
     * would try it as a legacy value, which AES-CBC "decrypts" into garbage about once in 4096;
     * the migration reports it instead (naming its KEK and the context as the suspect) and, with
     * --skip-undecryptable, leaves it exactly as it is.
     */
    @Test
    void anEnvelopeUnderTheWrongContextIsReportedNeverTriedAsLegacy() throws Exception {
        sample(100);
        assertEquals(0, migrate(LEGACY_KEY), err);
        Dialect d = t.db.dialect();
        String moved = snapshot().get("CONNECTION:7");
        try (Connection c = t.db.connect();
                PreparedStatement ps = c.prepareStatement("UPDATE " + d.q("CONNECTION") + " SET " + d.q("PASSWORD")
                        + " = ? WHERE " + d.q("ID") + " = ?")) {
            ps.setString(1, moved);
            ps.setInt(2, 8);
            ps.executeUpdate();
        }
        Map<String, String> before = snapshot();
        assertEquals(1, migrate(LEGACY_KEY), out);
        assertEquals(before, snapshot(), "nothing written");
        assertTrue(err.contains("1 value(s) do not decrypt"), err);
        assertTrue(err.contains("CONNECTION ID=8 (column PASSWORD): The value is an envelope v1 of KEK 1 but is not "
                + "authentic under its context"), err);
        assertFalse(err.contains(moved), err);

        assertEquals(3, migrate(LEGACY_KEY, "--skip-undecryptable"), err);
        assertEquals(before, snapshot(), "the moved envelope is left exactly as it was");
    }

    @Test
    void refusesWhileANodeIsLiveByTheDatabaseClock() throws Exception {
        sample(50);
        Map<String, String> before = snapshot();
        Heartbeat hb = new Heartbeat(t.db, "node-1", "host-1", Duration.ofSeconds(1));
        assertEquals("node-1", hb.nodeId());
        assertEquals("host-1", hb.hostname());
        assertEquals(Duration.ofSeconds(1), hb.interval());
        hb.start();
        try {
            assertEquals(1, migrate(LEGACY_KEY));
            assertEquals(LiveNodes.MESSAGE + System.lineSeparator(), err);
            assertEquals(before, snapshot());
        } finally {
            hb.stop();
        }
        Dialect d = t.db.dialect();
        // 50 s old by the database's clock: still live.
        try (Connection c = t.db.connect()) {
            Heartbeat.upsert(c, d, "node-1", "host-1", d.nowMinusSeconds(50));
        }
        assertEquals(1, migrate(LEGACY_KEY));
        assertTrue(err.contains("There are other live nodes connected to this backend Looker database."), err);
        assertEquals(before, snapshot());
        // 61 s old: the node is gone.
        try (Connection c = t.db.connect()) {
            Heartbeat.upsert(c, d, "node-1", "host-1", d.nowMinusSeconds(61));
        }
        assertEquals(0, migrate(LEGACY_KEY), err);
        assertAllMigratedToOriginals(50);
    }

    @Test
    void heartbeatRefreshesItsRow() throws Exception {
        try (Heartbeat hb = new Heartbeat(t.db, "n2", "h2", Duration.ofMillis(200))) {
            hb.start();
            try (Connection c = t.db.connect()) {
                assertEquals(List.of("n2"), LiveNodes.find(c, t.db.dialect()));
                // An hour-old row is not a live node. (Checked on a row no heartbeat owns: n2's own
                // could be refreshed between the write and the read.)
                Heartbeat.upsert(c, t.db.dialect(), "gone", "h0", t.db.dialect().nowMinusSeconds(3600));
                assertEquals(List.of("n2"), LiveNodes.find(c, t.db.dialect()));
                Heartbeat.upsert(c, t.db.dialect(), "n2", "h2", t.db.dialect().nowMinusSeconds(3600));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                try (Connection c = t.db.connect()) {
                    if (LiveNodes.find(c, t.db.dialect()).equals(List.of("n2"))) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    fail("the heartbeat did not refresh its row");
                }
                Thread.sleep(50);
            }
            assertNull(hb.lastFailure());
        }
    }

    @Test
    void keystoreRaceTheLoserAdoptsTheWinner() throws Exception {
        try (Connection a = t.db.connect(); Connection b = t.db.connect()) {
            Schema.ensure(a, t.db.dialect());
            LkrCrypt first = KeystoreStore.publishOrAdopt(a, t.db.dialect(), LkrCrypt.openFromEnvironment((byte[]) null));
            LkrCrypt second = KeystoreStore.publishOrAdopt(b, t.db.dialect(), LkrCrypt.openFromEnvironment((byte[]) null));
            try {
                assertNotEquals(first, second);
                assertArrayEquals(first.exportKeystore(), second.exportKeystore());
                byte[] ctx = "T.C:1".getBytes(StandardCharsets.UTF_8);
                assertArrayEquals("x".getBytes(StandardCharsets.UTF_8),
                        second.decrypt(first.encrypt("x".getBytes(StandardCharsets.UTF_8), ctx), ctx));
            } finally {
                first.close();
                second.close();
            }
        }
    }

    // ---- child JVMs: kill -9 and the CMK rules --------------------------------------------------

    @Test
    void killMinus9MidwayThenRerunFinishesTheJob() throws Exception {
        int rows = killRows();
        sample(rows);
        int total = rows + rows / 10 + 1;
        Process p = child(Map.of(), "--batch-size", "50", "--progress-interval-ms", "10")
                .redirectErrorStream(true).start();
        AtomicInteger committed = new AtomicInteger();
        StringBuilder seen = new StringBuilder();
        Pattern progress = Pattern.compile("^Re-encrypting: (\\d+)/");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                seen.append(line).append('\n');
                java.util.regex.Matcher m = progress.matcher(line);
                if (m.find() && Integer.parseInt(m.group(1)) >= 500) {
                    committed.set(Integer.parseInt(m.group(1)));
                    p.destroyForcibly(); // SIGKILL on Linux
                    break;
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL; output:\n" + seen);
        assertTrue(committed.get() > 0, seen.toString());
        // Mid-way: some values migrated, not all.
        long v1 = snapshot().values().stream().filter(MigrationTestBase::isV1).count();
        assertTrue(v1 > 0 && v1 < total, "killed mid-way: " + v1 + " of " + total + " were v1");
        assertEquals(0, migrate(LEGACY_KEY), err);
        assertAllMigratedToOriginals(rows);
        assertEquals(Settings.SCHEME_GCM, setting(Settings.SCHEME));
    }

    @Test
    void cmkMisconfigurationIsRefusedBeforeAnyWrite() throws Exception {
        sample(20);
        Map<String, String> before = snapshot();
        Path badFile = dir.resolve("cmk");
        Files.writeString(badFile, Base64.getEncoder().encodeToString(new byte[32]));
        String[][] cases = {
            {"LKR_MASTER_KEY_ENV", Base64.getEncoder().encodeToString(new byte[31]), "", 
                "Size of the Master Key is invalid it must be 32 bytes however is 31"},
            {"LKR_MASTER_KEY_ENV", "", badFile.toString(), "Permission for backing key file must be 0400, but is 0644"},
            {"LKR_MASTER_KEY_ENV", "", dir.resolve("missing").toString(), "Missing backing keystore"},
            {"LKR_MASTER_KEY_ENV", "not base64 at all!", "", "Master Key is not valid base64"},
        };
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(badFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        for (String[] c : cases) {
            Process p = child(Map.of(c[0], c[1], "LKR_MASTER_KEY_FILE", c[2])).redirectErrorStream(true).start();
            String output = drain(p);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(1, p.exitValue(), output);
            assertTrue(output.contains(c[3]), c[3] + " expected in: " + output);
            assertEquals(before, snapshot());
            assertNull(setting(Settings.KEYSTORE));
        }
        // A CMK that does not match the stored keystore.
        assertEquals(0, migrate(LEGACY_KEY, "--dry-run"));
        try (Connection c = t.db.connect()) {
            Schema.ensure(c, t.db.dialect());
            try (LkrCrypt k = LkrCrypt.openFromEnvironment((byte[]) null)) {
                assertTrue(Settings.insertIfAbsent(c, t.db.dialect(), Settings.KEYSTORE,
                        new String(k.exportKeystore(), StandardCharsets.UTF_8)));
            }
        }
        Process p = child(Map.of("LKR_MASTER_KEY_ENV", Base64.getEncoder().encodeToString(new byte[32]),
                "LKR_MASTER_KEY_FILE", "")).redirectErrorStream(true).start();
        String output = drain(p);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), output);
        assertTrue(output.contains("Master Key does not match the keystore"), output);
        assertEquals(before, snapshot());
        assertNull(setting(Settings.SCHEME));
    }

    /** The child JVM, with the legacy key of the environment, end to end. */
    @Test
    void childJvmWithTheEnvironmentsLegacyKey() throws Exception {
        sample(30);
        Process p = child(Map.of()).redirectErrorStream(true).start();
        String output = drain(p);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        assertTrue(LOG_LINE.matcher(output).find(), output);
        assertTrue(LOG_LINE.matcher(Files.readString(dir.resolve("log").resolve("lkr-crypt.log"))).find());
        assertAllMigratedToOriginals(30);
        assertTrue(new File(dir.toFile(), "log").isDirectory());
    }
}
