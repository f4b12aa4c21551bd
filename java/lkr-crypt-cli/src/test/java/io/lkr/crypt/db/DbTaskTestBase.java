package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.cli.Main;
import io.lkr.crypt.cli.SampleDb;
import io.lkr.crypt.cli.TestHooksMain;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tests of the database tasks share: a fresh internal database per test (HyperSQL or
 * MariaDB, by subclass), the sample tables of {@link SampleDb}, the task arguments, snapshots of
 * the stored values, and child JVMs for kill -9 and environment tests.
 */
abstract class DbTaskTestBase {
    /** The legacy key of the sample values (and a wrong one). */
    static final byte[] LEGACY_KEY = Base64.getDecoder().decode("AAECAwQFBgcICQoLDA0ODw==");

    static final byte[] WRONG_KEY = Base64.getDecoder().decode("DwAODQwLCgkIBwYFBAMCAQ==");
    static final int VALUE_SIZE = 64;
    static final Pattern LOG_LINE =
            Pattern.compile(
                    "^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} [+-]\\d{4} "
                            + "\\[INFO\\|[^|\\]]+\\|crypt\\] :: Starting migration from AES-128-CBC Legacy to AES-GCM-256$",
                    Pattern.MULTILINE);

    @TempDir Path dir;
    TestDb t;
    Path manifest;
    String out;

    /** The task's stderr without the locations it prints first ({@link #locations}). */
    String err;

    /** The resolved database and log a task printed on stderr as it started (issue #19.7). */
    String locations;

    /** Splits a task's stderr into {@link #locations} and {@link #err}. */
    void stderr(String all) {
        StringBuilder where = new StringBuilder();
        StringBuilder rest = new StringBuilder();
        for (String line : all.split("(?<=\n)")) {
            (line.startsWith("Internal database: ") || line.startsWith("Log: ") ? where : rest)
                    .append(line);
        }
        locations = where.toString();
        err = rest.toString();
    }

    abstract TestDb create(Path dir) throws Exception;

    /** Row count for the kill -9 test: big enough to take a few seconds. */
    abstract int killRows();

    @BeforeEach
    void setUp() throws Exception {
        t = create(dir);
        manifest = dir.resolve("encrypted_columns.yaml");
        SampleDb.writeManifest(manifest);
    }

    @AfterEach
    void tearDown() {
        if (t != null) {
            t.drop();
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** The CMK of the test JVM (pom.xml, surefire environment). */
    static final String TEST_CMK = System.getenv("LKR_MASTER_KEY_ENV");

    static String randomCmk() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    /**
     * Runs a task of the jar in this JVM; stdout and stderr land in {@link #out} / {@link #err}.
     */
    int task(String name, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
        PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8);
        int rc = Main.run(taskArgs(name, args), po, pe);
        out = o.toString(StandardCharsets.UTF_8);
        stderr(e.toString(StandardCharsets.UTF_8));
        return rc;
    }

    /** The jar's arguments: the task {@code name}, then its {@code args}. */
    static String[] taskArgs(String name, String[] args) {
        List<String> a = new ArrayList<>(List.of(name));
        a.addAll(List.of(args));
        return a.toArray(new String[0]);
    }

    /** -d and the log directory, then {@code extra}. */
    String[] db(String... extra) {
        List<String> a =
                new ArrayList<>(
                        List.of(
                                "-d",
                                t.yaml.toString(),
                                "--log-dir",
                                dir.resolve("log").toString()));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    /**
     * A child JVM running {@code java -cp ... io.lkr.crypt.cli.TestHooksMain task args} ({@link
     * Main} with the tests' hooks, set by JVM options) with exactly these CMK variables.
     */
    ProcessBuilder jar(Map<String, String> env, String task, String... args) {
        return jar(List.of(), env, task, args);
    }

    /**
     * As {@link #jar(Map, String, String...)}, with these JVM options (e.g. {@code -Dname=value}).
     */
    ProcessBuilder jar(
            List<String> jvmOptions, Map<String, String> env, String task, String... args) {
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classPath(), TestHooksMain.class.getName(), task));
        cmd.addAll(List.of(args));
        ProcessBuilder pb =
                new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("LKR_") || k.startsWith("AWS_"));
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs a child task to its end: exit status and output. */
    Object[] run(ProcessBuilder pb) throws Exception {
        Process p = pb.start();
        String output = drain(p);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child ended");
        return new Object[] {p.exitValue(), output};
    }

    static Map<String, String> env(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** the documented rekey variables, local → local. */
    static Map<String, String> rekeyEnv(String source, String destination) {
        return env(
                "LKR_MASTER_KEY_ENV_SOURCE", source, "LKR_MASTER_KEY_ENV_DESTINATION", destination);
    }

    String storedKeystore() throws Exception {
        return setting(Settings.KEYSTORE);
    }

    /** A migrated sample (KEK 1) of {@code rows} rows. */
    void migratedSample(int rows) throws Exception {
        sample(rows);
        assertEquals(
                0,
                Main.run(
                        taskArgs("migrate_encryption", args()),
                        new PrintStream(OutputStream.nullOutputStream()),
                        new PrintStream(OutputStream.nullOutputStream()),
                        LEGACY_KEY));
    }

    void sample(int rows) throws Exception {
        try (Connection c = t.db.connect()) {
            new SampleDb(LEGACY_KEY).create(c, t.db.dialect(), rows, VALUE_SIZE, false);
        }
    }

    /** {@link #db}, the manifest, then {@code extra}. */
    String[] args(String... extra) {
        List<String> a = new ArrayList<>(List.of("--columns", manifest.toString()));
        a.addAll(List.of(extra));
        return db(a.toArray(new String[0]));
    }

    int migrate(byte[] legacyKey, String... extra) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int rc =
                Main.run(
                        taskArgs("migrate_encryption", args(extra)),
                        new PrintStream(o, true, StandardCharsets.UTF_8),
                        new PrintStream(e, true, StandardCharsets.UTF_8),
                        legacyKey);
        out = o.toString(StandardCharsets.UTF_8);
        stderr(e.toString(StandardCharsets.UTF_8));
        return rc;
    }

    /** Every stored value of the sample tables: "TABLE:key" → stored text. */
    Map<String, String> snapshot() throws SQLException {
        Map<String, String> m = new TreeMap<>();
        stored("CONNECTION", "PASSWORD").forEach((id, v) -> m.put("CONNECTION:" + id, v));
        stored("OAUTH_CLIENT_APP", "CLIENT_SECRET")
                .forEach((id, v) -> m.put("OAUTH_CLIENT_APP:" + id, v));
        return m;
    }

    /** Every stored text of {@code column} in {@code table}: ID → stored text. */
    Map<String, String> stored(String table, String column) throws SQLException {
        Map<String, String> m = new TreeMap<>();
        Dialect d = t.db.dialect();
        try (Connection c = t.db.connect();
                Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "SELECT "
                                        + d.q("ID")
                                        + ", "
                                        + d.q(column)
                                        + " FROM "
                                        + d.q(table))) {
            while (rs.next()) {
                m.put(rs.getString(1), rs.getString(2));
            }
        }
        return m;
    }

    /**
     * Sets {@code column} of the row ID = {@code id} of {@code table} to {@code stored}, behind the
     * tasks' back.
     */
    void store(String table, String column, Object id, String stored) throws SQLException {
        try (Connection c = t.db.connect();
                PreparedStatement ps =
                        c.prepareStatement(t.db.dialect().update(table, column, "ID"))) {
            ps.setString(1, stored);
            ps.setObject(2, id);
            assertEquals(1, ps.executeUpdate());
        }
    }

    String setting(String key) throws SQLException {
        try (Connection c = t.db.connect()) {
            Schema.ensure(c, t.db.dialect());
            return Settings.get(c, t.db.dialect(), key);
        }
    }

    static boolean isV1(String stored) {
        byte[] b = Base64.getDecoder().decode(stored);
        return b.length >= 69 && b[0] == 'L' && b[1] == 'K' && b[2] == 'R' && b[3] == 1;
    }

    /**
     * Every value decrypts, through the database's keystore, to the sample's original plaintext.
     */
    void assertAllMigratedToOriginals(int rows) throws Exception {
        Map<String, String> snap = snapshot();
        assertEquals(rows + rows / 10 + 1, snap.size());
        try (Connection c = t.db.connect();
                LkrCrypt crypt = KeystoreStore.openExisting(c, t.db.dialect(), t.db.toString())) {
            for (Map.Entry<String, String> e : snap.entrySet()) {
                String[] k = e.getKey().split(":", 2);
                assertTrue(isV1(e.getValue()), e.getKey() + " is not v1");
                byte[] env = Base64.getDecoder().decode(e.getValue());
                if (k[0].equals("CONNECTION")) {
                    int id = Integer.parseInt(k[1]);
                    String pt =
                            new String(
                                    crypt.decrypt(
                                            env,
                                            ("CONNECTION.PASSWORD:" + id)
                                                    .getBytes(StandardCharsets.UTF_8)),
                                    StandardCharsets.UTF_8);
                    assertEquals(SampleDb.connectionPassword(id, VALUE_SIZE), pt, e.getKey());
                } else {
                    int n = Integer.parseInt(k[1].substring(4));
                    assertArrayEquals(
                            SampleDb.clientSecret(n), crypt.decrypt(env, new byte[0]), e.getKey());
                }
            }
        }
    }

    static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isEmpty() ? cp : System.getProperty("java.class.path");
    }

    ProcessBuilder child(Map<String, String> env, String... extra) {
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "--enable-native-access=ALL-UNNAMED",
                                "-cp",
                                classPath(),
                                Main.class.getName(),
                                "migrate_encryption"));
        cmd.addAll(List.of(args(extra)));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("LKR_LEGACY_KEY_ENV", Base64.getEncoder().encodeToString(LEGACY_KEY));
        pb.environment().putAll(env);
        return pb;
    }

    // ---- the maintenance lock (issue #14.1)
    // -------------------------------------------------------

    /** The start of a task's refusal while another one holds the maintenance lock. */
    static final String HELD =
            "Another maintenance task holds the maintenance lock of the internal database";

    /** What a paused rekey prints once it has checked its new keystore (and holds the lock). */
    static final Pattern CHECKED =
            Pattern.compile("^Checked the new keystore; replacing the old one");

    /**
     * {@link #err} is the refusal naming {@code task} of process {@code pid}, since when, and that
     * nothing changed.
     */
    void assertRefusedNaming(String task, long pid) {
        assertTrue(err.contains(HELD), err);
        assertTrue(err.contains(": " + task + " on host "), err);
        assertTrue(err.contains(" (pid " + pid + "), since "), err);
        assertTrue(err.contains("UTC (database clock)"), err);
        assertTrue(err.contains("Nothing was changed"), err);
    }

    /**
     * A real rekey in a child JVM (with {@code jvmOptions}), returned once it has checked its new
     * keystore and waits before replacing the old one — holding the maintenance lock.
     */
    Process pausedRekey(List<String> jvmOptions) throws Exception {
        List<String> options = new ArrayList<>(jvmOptions);
        options.add(TestHooksMain.pauseBeforeReplace(300_000));
        Process p = jar(options, rekeyEnv(TEST_CMK, randomCmk()), "rekey", db()).start();
        BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = r.readLine()) != null) {
            seen.append(line).append('\n');
            if (CHECKED.matcher(line).find()) {
                return p;
            }
        }
        p.waitFor(60, TimeUnit.SECONDS);
        throw new AssertionError("the rekey ended before it paused:\n" + seen);
    }

    /** Kills {@code p} with SIGKILL and waits for it. */
    static void kill(Process p) throws Exception {
        p.destroyForcibly();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child ended");
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
    }

    static String drain(Process p) throws Exception {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    // ---- shared by the keystore and recovery task tests ----------------------------------------

    /** A backup stream written with the database's keystore, and its plaintext. */
    byte[] backup(Path file, byte[] plaintext) throws Exception {
        try (Connection c = t.db.connect();
                LkrCrypt crypt = KeystoreStore.openExisting(c, t.db.dialect(), t.db.toString());
                OutputStream o =
                        crypt.encryptingStream(
                                Files.newOutputStream(file),
                                "backup".getBytes(StandardCharsets.UTF_8),
                                4096)) {
            o.write(plaintext);
        }
        return plaintext;
    }

    static byte[] readBackup(LkrCrypt crypt, Path file) throws Exception {
        try (InputStream in =
                crypt.decryptingStream(
                        Files.newInputStream(file), "backup".getBytes(StandardCharsets.UTF_8))) {
            return in.readAllBytes();
        }
    }

    /**
     * With the destination CMK in a child JVM: status counts every value as GCM (each one authentic
     * under the rekeyed keystore) and decrypt_file restores the backup.
     */
    void assertOpensWith(String cmk, int values, Path backup, byte[] plaintext) throws Exception {
        assertOpensWith(env("LKR_MASTER_KEY_ENV", cmk), values, backup, plaintext);
    }

    void assertOpensWith(Map<String, String> cmkEnv, int values, Path backup, byte[] plaintext)
            throws Exception {
        Object[] r = run(jar(cmkEnv, "status", args()));
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("Values: " + values + " GCM, 0 legacy"), (String) r[1]);
        if (backup != null) {
            assertArrayEquals(plaintext, restore(cmkEnv, backup, "-d", t.yaml.toString()));
        }
    }

    /**
     * decrypt_file of {@link #backup a backup} in a child JVM with {@code cmkEnv}, the keystore
     * named by {@code keystore} ({@code -d db.yaml} or {@code --keystore FILE}): its plaintext.
     */
    byte[] restore(Map<String, String> cmkEnv, Path backup, String... keystore) throws Exception {
        Path restored = dir.resolve("restored-" + System.nanoTime());
        List<String> args = new ArrayList<>(List.of(keystore));
        args.addAll(List.of("--context", "backup", backup.toString(), restored.toString()));
        Object[] r = run(jar(cmkEnv, "decrypt_file", args.toArray(new String[0])));
        assertEquals(0, r[0], (String) r[1]);
        return Files.readAllBytes(restored);
    }

    /**
     * Starts {@code task} in a child JVM that pauses once its new keystore is checked, and kills it
     * there with SIGKILL: before it replaces the old keystore.
     */
    void killBeforeReplace(Map<String, String> env, String task, String... args) throws Exception {
        killWhen(jar(List.of(TestHooksMain.pauseBeforeReplace(60_000)), env, task, args), CHECKED);
    }

    /** Starts a child task and kills it with SIGKILL once a line matching {@code when} appears. */
    String killWhen(ProcessBuilder pb, Pattern when) throws Exception {
        Process p = pb.redirectErrorStream(true).start();
        StringBuilder seen = new StringBuilder();
        try (BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                seen.append(line).append('\n');
                if (when.matcher(line).find()) {
                    p.destroyForcibly(); // SIGKILL on Linux
                    break;
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), "killed by SIGKILL; output:\n" + seen);
        return seen.toString();
    }

    /**
     * Starts {@code pb} with its output to {@code log}, kills it with SIGKILL after 200 to 1700 ms
     * (drawn from {@code rnd}), and returns its exit status (0 when it finished first).
     */
    static int killSoon(ProcessBuilder pb, java.util.Random rnd, Path log) throws Exception {
        Process p = pb.redirectOutput(log.toFile()).start();
        Thread.sleep(200 + rnd.nextInt(1500));
        p.destroyForcibly();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }

    /** The AWS SDK's variables for the KMS-API server at {@code endpoint} (us-east-1, moto). */
    static Map<String, String> awsEnv(String endpoint) {
        return env(
                "AWS_ENDPOINT_URL",
                endpoint,
                "AWS_REGION",
                "us-east-1",
                "AWS_ACCESS_KEY_ID",
                "testing",
                "AWS_SECRET_ACCESS_KEY",
                "testing",
                "AWS_EC2_METADATA_DISABLED",
                "true",
                "AWS_CONFIG_FILE",
                "/nonexistent/lkr-test/aws-config",
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/lkr-test/aws-credentials");
    }

    /** export_keystore of the test database's keystore to {@code file}, in this JVM. */
    void exportKeystore(Path file) {
        assertEquals(
                0,
                io.lkr.crypt.cli.Main.run(
                        new String[] {"export_keystore", "-d", t.yaml.toString(), file.toString()},
                        new PrintStream(OutputStream.nullOutputStream()),
                        new PrintStream(OutputStream.nullOutputStream())));
    }

    /** No temporary file (a keystore written beside its place) is left in the test directory. */
    void assertNoTemporaryFile() throws Exception {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            assertEquals(
                    0,
                    s.filter(f -> f.getFileName().toString().endsWith(".tmp")).count(),
                    "no temporary file");
        }
    }
}
