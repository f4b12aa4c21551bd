package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.TestSupport.Run;
import io.lkr.crypt.db.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Issue #19.2 and #19.3: {@code status} before a migration (the legacy values waiting, no keystore
 * yet), after it and on a keystore file, with the CMK the keystore expects; {@code --format json}
 * on {@code status} and on {@code migrate_encryption}'s summaries, with the figures of the text.
 * Child JVMs on a real embedded HyperSQL database made by {@code create_sample_db}.
 */
class StatusJsonTest {
    static final String LEGACY_KEY = "AAECAwQFBgcICQoLDA0ODw==";

    /** The sample's values: create_sample_db --rows 10. */
    static final long VALUES = 12;

    @TempDir Path dir;

    private Run cli(Map<String, String> env, String... args) throws Exception {
        Map<String, String> e = new HashMap<>(env);
        e.put("LKR_LEGACY_KEY_ENV", LEGACY_KEY);
        return CliChild.run(dir, "", e, List.of(args));
    }

    private Run cli(String... args) throws Exception {
        return cli(Map.of(), args);
    }

    /** stdout of a --format json run: exactly one JSON document, parsed strictly. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> json(Run r) {
        return json(r, 0);
    }

    /** As {@link #json(Run)}, for a run that exits with {@code exit}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> json(Run r, int exit) {
        assertEquals(exit, r.exit, r.toString());
        String doc = r.out.trim();
        assertFalse(doc.contains("\n"), "one document on one line: " + r);
        assertTrue(doc.startsWith("{") && doc.endsWith("}"), r.toString());
        // JSON is YAML 1.2 flow style; SnakeYAML's safe loader refuses a second document.
        Object parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(doc);
        assertTrue(parsed instanceof Map, doc);
        return (Map<String, Object>) parsed;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        assertTrue(o instanceof Map, String.valueOf(o));
        return (Map<String, Object>) o;
    }

    static long number(Object o) {
        assertTrue(o instanceof Number, String.valueOf(o));
        return ((Number) o).longValue();
    }

    /** The text table's row of {@code column}: GCM, legacy and empty counts. */
    static long[] row(String text, String column) {
        Matcher m =
                Pattern.compile(
                                "(?m)^  "
                                        + Pattern.quote(column)
                                        + "\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)")
                        .matcher(text);
        assertTrue(m.find(), column + " in " + text);
        return new long[] {
            Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))
        };
    }

    /** Every column of a status JSON document has the figures of the text's table. */
    @SuppressWarnings("unchecked")
    static void sameColumns(Map<String, Object> j, String text) {
        List<Object> cols = (List<Object>) j.get("columns");
        assertFalse(cols.isEmpty());
        for (Object o : cols) {
            Map<String, Object> c = map(o);
            assertEquals(Boolean.TRUE, c.get("table_exists"), c.toString());
            long[] r = row(text, (String) c.get("column"));
            assertEquals(r[0], number(c.get("gcm")), c.toString());
            assertEquals(r[1], number(c.get("legacy")), c.toString());
            assertEquals(r[2], number(c.get("empty")), c.toString());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void statusBeforeAndAfterTheMigrationAsTextAndJson() throws Exception {
        assertEquals(0, cli("create_sample_db", "--rows", "10").exit);

        // Before the migration: no keystore, every value waits as legacy; the report, then the
        // missing keystore as an error naming where it was looked for (exit 1: a task that only
        // reads never creates one).
        Run before = cli("status");
        assertEquals(1, before.exit, before.toString());
        assertTrue(before.out.contains("Encryption scheme: not recorded"), before.out);
        assertTrue(before.out.contains("Keystore: none yet in the internal database"), before.out);
        assertTrue(before.out.contains("migrate_encryption creates it"), before.out);
        assertTrue(before.out.contains("Values: 0 GCM, " + VALUES + " legacy"), before.out);
        assertTrue(
                before.out.contains("Legacy values waiting for migrate_encryption: " + VALUES),
                before.out);
        assertTrue(before.out.contains("CMK configured: local, fingerprint "), before.out);
        assertTrue(before.err.contains("Missing keystore: no "), before.err);

        Run beforeJson = cli("status", "--format", "json");
        Map<String, Object> b = json(beforeJson, 1);
        assertTrue(beforeJson.err.contains("Internal database: jdbc:hsqldb"), "diagnostics");
        Map<String, Object> ks = map(b.get("keystore"));
        assertEquals(Boolean.FALSE, ks.get("exists"));
        assertEquals("database", ks.get("source"));
        assertNull(ks.get("cmk"));
        assertNull(ks.get("active_kek"));
        assertNull(b.get("scheme"));
        assertNull(b.get("recovery_key"));
        assertEquals(List.of(), b.get("live_nodes"));
        assertEquals(Boolean.getBoolean("lkr.test.fips"), b.get("fips_mode"));
        assertEquals(0, number(map(b.get("values")).get("gcm")));
        assertEquals(VALUES, number(map(b.get("values")).get("legacy")));
        assertEquals(Map.of(), map(b.get("values")).get("gcm_by_kek"));
        sameColumns(b, before.out);
        String configured = (String) map(b.get("configured_cmk")).get("fingerprint");
        assertEquals("local", map(b.get("configured_cmk")).get("kind"));
        assertTrue(before.out.contains("CMK configured: local, fingerprint " + configured));

        // The dry run's summary as JSON: the check's figures, nothing written.
        Run dryText = cli("migrate_encryption", "--dry-run");
        assertEquals(0, dryText.exit, dryText.toString());
        Run dry = cli("migrate_encryption", "--dry-run", "--format", "json");
        Map<String, Object> d = json(dry);
        assertTrue(dry.err.contains("Check summary (nothing written):"), "the text on stderr");
        assertEquals("migrate_encryption", d.get("task"));
        assertEquals(Boolean.TRUE, d.get("dry_run"));
        assertEquals(Boolean.FALSE, d.get("written"));
        assertEquals(0, number(d.get("exit_status")));
        Map<String, Object> dt = map(d.get("totals"));
        assertEquals(VALUES, number(dt.get("legacy")));
        assertEquals(0, number(dt.get("migrated")));
        for (Object o : (List<Object>) d.get("columns")) {
            Map<String, Object> c = map(o);
            Matcher m =
                    Pattern.compile(
                                    "(?m)^  "
                                            + Pattern.quote((String) c.get("column"))
                                            + "\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)")
                            .matcher(dryText.out);
            assertTrue(m.find(), c + " in " + dryText.out);
            String[] names = {
                "values", "already_v1", "legacy", "older_kek", "undecryptable", "empty"
            };
            for (int i = 0; i < names.length; i++) {
                assertEquals(Long.parseLong(m.group(i + 1)), number(c.get(names[i])), names[i]);
            }
        }
        assertTrue(cli("status").out.contains("Values: 0 GCM, " + VALUES + " legacy"));

        // The migration's summary as JSON; the log's lines go to stderr.
        Run migrated = cli("migrate_encryption", "--format", "json");
        Map<String, Object> mj = json(migrated);
        assertTrue(migrated.err.contains(MigrateEncryptionTask.START_MESSAGE), migrated.err);
        assertEquals(Boolean.FALSE, mj.get("dry_run"));
        assertEquals(Boolean.TRUE, mj.get("written"));
        assertEquals(VALUES, number(map(mj.get("totals")).get("migrated")));
        assertTrue(((Number) mj.get("seconds")).doubleValue() >= 0);

        // After: the CMK the keystore expects, the active KEK, values per KEK and column.
        Run after = cli("status");
        assertEquals(0, after.exit, after.toString());
        assertTrue(after.out.contains("CMK: local"), after.out);
        assertTrue(
                after.out.contains(
                        "CMK expected by the keystore: local, fingerprint " + configured),
                after.out);
        assertTrue(after.out.contains("Active KEK: 1"), after.out);
        assertTrue(after.out.contains("Values: " + VALUES + " GCM, 0 legacy"), after.out);
        assertTrue(after.out.contains("GCM values per KEK: KEK 1: " + VALUES), after.out);
        assertFalse(after.out.contains("Legacy values waiting"), after.out);

        Map<String, Object> a = json(cli("status", "--format", "json"));
        ks = map(a.get("keystore"));
        assertEquals(Boolean.TRUE, ks.get("exists"));
        assertEquals(1, number(ks.get("active_kek")));
        assertEquals(List.of(1), ks.get("kek_ids"));
        assertEquals(Map.of("kind", "local", "fingerprint", configured), ks.get("cmk"));
        assertEquals(Settings.SCHEME_GCM, a.get("scheme"));
        assertEquals(VALUES, number(map(a.get("values")).get("gcm")));
        assertEquals(0, number(map(a.get("values")).get("legacy")));
        assertEquals(VALUES, number(map(map(a.get("values")).get("gcm_by_kek")).get("1")));
        sameColumns(a, after.out);

        // On a keystore file: the fingerprint is the document's.
        assertEquals(0, cli("export_keystore", "ks.json").exit);
        Map<String, Object> doc =
                map(
                        new Yaml(new SafeConstructor(new LoaderOptions()))
                                .load(Files.readString(dir.resolve("ks.json"))));
        Object fingerprint = map(doc.get("master_key")).get("fingerprint");
        assertEquals(configured, fingerprint);
        Run fileText = cli("status", "--keystore", "ks.json");
        assertEquals(0, fileText.exit, fileText.toString());
        assertTrue(fileText.out.contains("Keystore: file ks.json"), fileText.out);
        assertTrue(fileText.out.contains("fingerprint " + fingerprint), fileText.out);
        Map<String, Object> f = json(cli("status", "--keystore", "ks.json", "--format", "json"));
        ks = map(f.get("keystore"));
        assertEquals("file", ks.get("source"));
        assertEquals("file ks.json", ks.get("location"));
        assertEquals(fingerprint, map(ks.get("cmk")).get("fingerprint"));
        assertEquals(VALUES, number(map(f.get("values")).get("gcm")));

        // Another CMK: the engine's refusal, then both fingerprints (the native text unchanged).
        Run other =
                cli(
                        Map.of(
                                "LKR_MASTER_KEY_ENV",
                                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                        "status",
                        "--format",
                        "json");
        assertEquals(1, other.exit, other.toString());
        assertEquals("", other.out.trim(), "no document on a failure");
        assertTrue(
                other.err.contains("The keystore expects the CMK local, fingerprint " + configured),
                other.err);
        assertTrue(other.err.contains("; the configured CMK is local, fingerprint "), other.err);
    }
}
