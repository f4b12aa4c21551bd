package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.cli.SampleDb;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The migration's contract (docs/native-interfaces.md), run against each kind of internal database
 * by a subclass: embedded HyperSQL ({@link HsqldbMigrationTest}) and a real MariaDB server ({@link
 * MariaDbMigrationTest}).
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
        try (Connection c = t.db.connect();
                Statement s = c.createStatement()) {
            s.execute("DELETE FROM " + d.q("OAUTH_CLIENT_APP"));
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "INSERT INTO " + d.q("CONNECTION") + " VALUES (1, 'x', ?)")) {
                // 40 bytes: under the wrong key 48 bytes of garbage, which pass the padding and
                // UTF-8
                // checks both about once in 10^10 runs (a 5-byte text: once in 1.5 million).
                ps.setString(
                        1,
                        new SampleDb(LEGACY_KEY)
                                .legacyEncrypt(
                                        "hello, a text value of forty bytes here."
                                                .getBytes(StandardCharsets.UTF_8)));
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
        String garbage =
                Base64.getEncoder().encodeToString(new byte[48]); // zero IV, zero "ciphertext"
        store("CONNECTION", "PASSWORD", 5, garbage);
        store("CONNECTION", "PASSWORD", 50, "not base64 !!");
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

    // ---- a wrong legacy key and --skip-undecryptable (issue #14.4)
    // ----------------------------------

    /** Only the binary column of the sample (no UTF-8 check can catch a wrong key there). */
    void binaryColumnOnly() throws Exception {
        Files.writeString(
                manifest,
                "- {table: OAUTH_CLIENT_APP, key: ID, column: CLIENT_SECRET, context: none, "
                        + "type: binary}\n",
                StandardCharsets.UTF_8);
    }

    void setClientSecret(int app, String stored) throws SQLException {
        store("OAUTH_CLIENT_APP", "CLIENT_SECRET", SampleDb.appId(app), stored);
    }

    /**
     * Issue #14.4: under a wrong legacy key some binary values have valid padding by chance and
     * "decrypt" into garbage. Most legacy values failing is a wrong key, not damaged data: refused
     * even with --skip-undecryptable, nothing written, and the message says so. (Here 3 of the 31
     * binary values decrypt under the wrong key by construction — as 76 of 20,000 did by chance.)
     */
    @Test
    void aWrongLegacyKeyIsRefusedEvenWithSkipUndecryptable() throws Exception {
        sample(300);
        binaryColumnOnly();
        SampleDb wrong = new SampleDb(WRONG_KEY);
        for (int app : new int[] {4, 17, 29}) {
            setClientSecret(app, wrong.legacyEncrypt(SampleDb.clientSecret(app)));
        }
        Map<String, String> before = snapshot();
        assertEquals(1, migrate(WRONG_KEY, "--skip-undecryptable"), out + err);
        assertEquals(before, snapshot(), "every value unchanged");
        assertNull(setting(Settings.KEYSTORE), "nothing written, not even the keystore");
        assertTrue(
                err.contains(
                        " of 31 legacy value(s) do not decrypt with the legacy key (the legacy key given "
                                + "by the caller): the legacy key is probably wrong"),
                err);
        assertTrue(err.contains("Nothing was written, even with --skip-undecryptable"), err);
        // From the environment: the message names the variable.
        Process p =
                child(
                                Map.of(
                                        "LKR_LEGACY_KEY_ENV",
                                        Base64.getEncoder().encodeToString(WRONG_KEY)),
                                "--skip-undecryptable")
                        .redirectErrorStream(true)
                        .start();
        String output = drain(p);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), output);
        assertTrue(
                output.contains(
                        "do not decrypt with the legacy key (LKR_LEGACY_KEY_ENV): the legacy key is "
                                + "probably wrong"),
                output);
        assertEquals(before, snapshot(), "every value unchanged");
    }

    /**
     * The other side of the rule: the right key with a few damaged binary values (bad padding by
     * construction) and --skip-undecryptable leaves those alone, migrates the others, exits 3; a
     * rerun, whose only legacy values are the damaged ones, still exits 3 (nothing to lose).
     */
    @Test
    void aRightKeyWithAFewDamagedBinaryValuesSkipsThem() throws Exception {
        sample(300);
        binaryColumnOnly();
        SampleDb right = new SampleDb(LEGACY_KEY);
        Map<Integer, String> damaged = new java.util.TreeMap<>();
        for (int app : new int[] {2, 11, 30}) {
            // 20 bytes of plaintext: pad byte 12; XOR 12 into the last byte of the block before the
            // final one turns the final plaintext byte into 0, which is never valid padding.
            byte[] v = Base64.getDecoder().decode(right.legacyEncrypt(new byte[20]));
            v[v.length - 17] ^= 12;
            String stored = Base64.getEncoder().encodeToString(v);
            damaged.put(app, stored);
            setClientSecret(app, stored);
        }
        assertEquals(1, migrate(LEGACY_KEY), out + err);
        assertTrue(err.contains("3 value(s) do not decrypt"), err);
        assertFalse(err.contains("probably wrong"), err);
        assertEquals(3, migrate(LEGACY_KEY, "--skip-undecryptable"), out + err);
        assertFalse(err.contains("probably wrong"), err);
        Map<String, String> after = snapshot();
        try (Connection c = t.db.connect();
                LkrCrypt crypt = KeystoreStore.openExisting(c, t.db.dialect(), t.db.toString())) {
            for (int app = 1; app <= 31; app++) {
                String stored = after.get("OAUTH_CLIENT_APP:" + SampleDb.appId(app));
                if (damaged.containsKey(app)) {
                    assertEquals(damaged.get(app), stored, "damaged value " + app + " left alone");
                } else {
                    assertArrayEquals(
                            SampleDb.clientSecret(app),
                            crypt.decrypt(Base64.getDecoder().decode(stored), new byte[0]),
                            "app " + app);
                }
            }
        }
        assertEquals(3, migrate(LEGACY_KEY, "--skip-undecryptable"), out + err);
        assertEquals(after, snapshot());
    }

    /**
     * An envelope moved to another row is not authentic under that row's context. docs/legacy.md
     * alone would try it as a legacy value, which AES-CBC "decrypts" into garbage about once in
     * 4096; the migration reports it instead (naming its KEK and the context as the suspect) and,
     * with --skip-undecryptable, leaves it exactly as it is.
     */
    @Test
    void anEnvelopeUnderTheWrongContextIsReportedNeverTriedAsLegacy() throws Exception {
        sample(100);
        assertEquals(0, migrate(LEGACY_KEY), err);
        String moved = snapshot().get("CONNECTION:7");
        store("CONNECTION", "PASSWORD", 8, moved);
        Map<String, String> before = snapshot();
        assertEquals(1, migrate(LEGACY_KEY), out);
        assertEquals(before, snapshot(), "nothing written");
        assertTrue(err.contains("1 value(s) do not decrypt"), err);
        assertTrue(
                err.contains(
                        "CONNECTION ID=8 (column PASSWORD): The value is an envelope v1 of KEK 1 but is not "
                                + "authentic under its context"),
                err);
        assertFalse(err.contains(moved), err);

        assertEquals(3, migrate(LEGACY_KEY, "--skip-undecryptable"), err);
        assertEquals(before, snapshot(), "the moved envelope is left exactly as it was");
    }

    /**
     * Issue #21.3: envelopes of a KEK this keystore does not hold (retired, or another keystore's)
     * on a binary column. Tried as legacy values, about 1 in 270 of these block-aligned values
     * "decrypted" into garbage, and --skip-undecryptable migrated that garbage over the originals
     * (226 of 60,000). Now each is reported as an envelope of an unknown KEK and left exactly as it
     * is.
     */
    @Test
    void envelopesOfAnUnknownKekAreNeverMigratedAsLegacy() throws Exception {
        int rows = 60_000;
        Dialect d = t.db.dialect();
        try (Connection c = t.db.connect();
                Statement st = c.createStatement()) {
            st.execute(
                    "CREATE TABLE "
                            + d.q("ATTACHMENT")
                            + " ("
                            + d.q("ID")
                            + " INT PRIMARY KEY, "
                            + d.q("DATA")
                            + " VARCHAR(200))");
            c.setAutoCommit(false);
            try (LkrCrypt other = io.lkr.crypt.LkrCrypt.openFromEnvironment((byte[]) null);
                    LkrCrypt o2 = other.keystoreAdmin().rotateKek();
                    LkrCrypt o3 = o2.keystoreAdmin().rotateKek();
                    PreparedStatement ps =
                            c.prepareStatement(
                                    "INSERT INTO " + d.q("ATTACHMENT") + " VALUES (?, ?)")) {
                SecureRandom random = new SecureRandom();
                for (int i = 0; i < rows; i++) {
                    byte[] pt = new byte[27]; // 96-byte envelopes: a size AES-CBC accepts
                    random.nextBytes(pt);
                    ps.setInt(1, i);
                    ps.setString(
                            2, Base64.getEncoder().encodeToString(o3.encrypt(pt, new byte[0])));
                    ps.addBatch();
                    if (i % 5000 == 4999 || i == rows - 1) {
                        ps.executeBatch();
                    }
                }
            }
            c.commit();
        }
        Files.writeString(
                manifest,
                "- {table: ATTACHMENT, key: ID, column: DATA, context: none, type: binary}\n",
                StandardCharsets.UTF_8);
        Map<String, String> before = stored("ATTACHMENT", "DATA");
        assertEquals(3, migrate(LEGACY_KEY, "--skip-undecryptable"), out + err);
        assertEquals(
                before,
                stored("ATTACHMENT", "DATA"),
                "every envelope of the unknown KEK is left exactly as it was");
        assertTrue(
                err.contains(
                        "The value is an envelope v1 of KEK 3, which this keystore does not hold"),
                err);
        assertFalse(err.contains("probably wrong"), err);
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
        assertTrue(
                err.contains(
                        "There are other live nodes connected to this backend Looker database."),
                err);
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
                Heartbeat.upsert(
                        c, t.db.dialect(), "gone", "h0", t.db.dialect().nowMinusSeconds(3600));
                assertEquals(List.of("n2"), LiveNodes.find(c, t.db.dialect()));
                Heartbeat.upsert(
                        c, t.db.dialect(), "n2", "h2", t.db.dialect().nowMinusSeconds(3600));
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
        try (Connection a = t.db.connect();
                Connection b = t.db.connect()) {
            Schema.ensure(a, t.db.dialect());
            LkrCrypt first =
                    KeystoreStore.publishOrAdopt(
                            a, t.db.dialect(), LkrCrypt.openFromEnvironment((byte[]) null));
            LkrCrypt second =
                    KeystoreStore.publishOrAdopt(
                            b, t.db.dialect(), LkrCrypt.openFromEnvironment((byte[]) null));
            try {
                assertNotEquals(first, second);
                assertArrayEquals(first.exportKeystore(), second.exportKeystore());
                byte[] ctx = "T.C:1".getBytes(StandardCharsets.UTF_8);
                assertArrayEquals(
                        "x".getBytes(StandardCharsets.UTF_8),
                        second.decrypt(
                                first.encrypt("x".getBytes(StandardCharsets.UTF_8), ctx), ctx));
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
        // Killed once the progress shows 500 or more values done.
        killWhen(
                child(Map.of(), "--batch-size", "50", "--progress-interval-ms", "10"),
                Pattern.compile("^Re-encrypting: ([5-9]\\d\\d|[1-9]\\d{3,})/"));
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
            {
                "LKR_MASTER_KEY_ENV",
                Base64.getEncoder().encodeToString(new byte[31]),
                "",
                "Size of the Master Key is invalid it must be 32 bytes however is 31"
            },
            {
                "LKR_MASTER_KEY_ENV",
                "",
                badFile.toString(),
                "Permission for backing key file must be 0400, but is 0644"
            },
            {
                "LKR_MASTER_KEY_ENV",
                "",
                dir.resolve("missing").toString(),
                "Missing backing keystore"
            },
            {"LKR_MASTER_KEY_ENV", "not base64 at all!", "", "Master Key is not valid base64"},
        };
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(
                badFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        for (String[] c : cases) {
            Process p =
                    child(Map.of(c[0], c[1], "LKR_MASTER_KEY_FILE", c[2]))
                            .redirectErrorStream(true)
                            .start();
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
                assertTrue(
                        Settings.insertIfAbsent(
                                c,
                                t.db.dialect(),
                                Settings.KEYSTORE,
                                new String(k.exportKeystore(), StandardCharsets.UTF_8)));
            }
        }
        Process p =
                child(
                                Map.of(
                                        "LKR_MASTER_KEY_ENV",
                                        Base64.getEncoder().encodeToString(new byte[32]),
                                        "LKR_MASTER_KEY_FILE",
                                        ""))
                        .redirectErrorStream(true)
                        .start();
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
        assertTrue(
                LOG_LINE.matcher(Files.readString(dir.resolve("log").resolve("lkr-crypt.log")))
                        .find());
        assertAllMigratedToOriginals(30);
        assertTrue(new File(dir.toFile(), "log").isDirectory());
    }
}
