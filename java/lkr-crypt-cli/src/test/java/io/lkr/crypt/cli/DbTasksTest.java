package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.InternalDb;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate_master_key, status, read_value and the dispatcher. */
class DbTasksTest {
    static final byte[] LEGACY_KEY = Base64.getDecoder().decode("AAECAwQFBgcICQoLDA0ODw==");

    @TempDir Path dir;
    String out;
    String err;

    int run(String task, String... args) {
        return run(null, task, args);
    }

    /**
     * Runs {@code task} with {@code args} and the caller's legacy key (null: the environment's).
     */
    int run(byte[] legacyKey, String task, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        List<String> a = new java.util.ArrayList<>(List.of(task));
        a.addAll(List.of(args));
        int rc =
                Main.run(
                        a.toArray(new String[0]),
                        new PrintStream(o, true, StandardCharsets.UTF_8),
                        new PrintStream(e, true, StandardCharsets.UTF_8),
                        legacyKey);
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return rc;
    }

    @Test
    void generateMasterKeyWritesA0400FileAndNeverOverwrites() throws Exception {
        Path f = dir.resolve("cmk.b64");
        assertEquals(0, run("generate_master_key", "--file", f.toString()), err);
        assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        byte[] key = Base64.getDecoder().decode(Files.readString(f).trim());
        assertEquals(32, key.length);
        assertTrue(out.contains("LKR_MASTER_KEY_FILE="), out);
        String before = Files.readString(f);
        assertEquals(1, run("generate_master_key", "--file", f.toString()));
        assertTrue(err.contains("Refusing to overwrite"), err);
        assertEquals(before, Files.readString(f));
        assertEquals(2, run("generate_master_key"));
        assertTrue(err.contains("--file"), err);
    }

    @Test
    void statusBeforeAndAfterTheMigration() throws Exception {
        Path db = dir.resolve("db").resolve("lkr");
        Path yaml = dir.resolve("db.yaml");
        Files.writeString(yaml, "dialect: hsqldb\ndatabase: " + db + "\n");
        Path manifest = dir.resolve("cols.yaml");
        SampleDb.writeManifest(manifest);
        String log = dir.resolve("log").toString();
        String[] onDb = {"-d", yaml.toString(), "--columns", manifest.toString(), "--log-dir", log};
        // A database that does not exist: a read-only task does not create it.
        assertEquals(1, run("status", onDb));
        assertTrue(err.contains("Missing keystore"), err);
        assertTrue(
                !Files.exists(dir.resolve("db"))
                        || !Files.exists(dir.resolve("db").resolve("lkr.script")));

        try (Connection c = InternalDb.hsqldb(db.toString()).connect()) {
            new SampleDb(LEGACY_KEY)
                    .create(c, InternalDb.hsqldb(db.toString()).dialect(), 40, 32, false);
        }
        // Before the migration (#19.2): no keystore yet, the legacy values waiting; a task that
        // only reads never creates a keystore and reports its absence as an error (exit 1).
        assertEquals(1, run("status", onDb), err);
        assertTrue(err.contains("Missing keystore: no "), err);
        assertTrue(out.contains("Values: 0 GCM, 45 legacy"), out);
        assertTrue(out.contains("Legacy values waiting for migrate_encryption: 45"), out);
        assertTrue(out.matches("(?s).*CONNECTION\\.PASSWORD\\s+0\\s+40\\s+0.*"), out);

        assertEquals(0, run(LEGACY_KEY, "migrate_encryption", onDb), err);
        assertEquals(0, run("status", onDb), err);
        assertTrue(out.contains("CMK: local"), out);
        assertTrue(
                out.contains(
                        Boolean.getBoolean("lkr.test.fips")
                                ? "FIPS mode: yes"
                                : "FIPS mode: no (not the FIPS build)"),
                out);
        assertTrue(out.contains("Active KEK: 1"), out);
        assertTrue(out.contains("Encryption scheme: aes-256-gcm"), out);
        assertTrue(out.matches("(?s).*CONNECTION\\.PASSWORD\\s+40\\s+0\\s+0.*"), out);
        assertTrue(out.contains("Values: 45 GCM, 0 legacy"), out);

        assertEquals(
                0,
                run(
                        "read_value",
                        "CONNECTION.PASSWORD",
                        "7",
                        "-d",
                        yaml.toString(),
                        "--columns",
                        manifest.toString()),
                err);
        assertEquals(SampleDb.connectionPassword(7, 32), out.trim());

        // With a keystore file instead of the database's.
        Path ks = dir.resolve("ks.json");
        try (Connection c = InternalDb.hsqldb(db.toString()).connect()) {
            Files.writeString(
                    ks,
                    io.lkr.crypt.db.Settings.get(
                            c, io.lkr.crypt.db.Dialect.HSQLDB, io.lkr.crypt.db.Settings.KEYSTORE));
        }
        String[] onFile =
                java.util.stream.Stream.concat(
                                java.util.stream.Stream.of("--keystore", ks.toString()),
                                java.util.Arrays.stream(onDb))
                        .toArray(String[]::new);
        assertEquals(0, run("status", onFile), err);
        assertTrue(out.contains("Keystore: file " + ks), out);
        try (LkrCrypt k = LkrCrypt.openFromEnvironment(Files.readAllBytes(ks))) {
            assertEquals(1, k.activeKekId());
        }

        // export_keystore: mode 0600, the database's document; a backup encrypted with the
        // database's keystore decrypts with the exported file.
        Path exported = dir.resolve("exported.json");
        assertEquals(0, run("export_keystore", exported.toString(), "-d", yaml.toString()), err);
        assertEquals(
                "rw-------",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(exported)));
        assertEquals(Files.readString(ks), Files.readString(exported));
        Path data = Files.writeString(dir.resolve("backup.tar"), "backup bytes ".repeat(1000));
        Path sealed = dir.resolve("backup.tar.lks");
        assertEquals(
                0, run("encrypt_file", data.toString(), sealed.toString(), "-d", yaml.toString()));
        Path restored = dir.resolve("restored.tar");
        assertEquals(
                0,
                run(
                        "decrypt_file",
                        sealed.toString(),
                        restored.toString(),
                        "--keystore",
                        exported.toString()));
        assertEquals(Files.readString(data), Files.readString(restored));
        // A database without a keystore: nothing is written.
        Path empty = dir.resolve("empty.yaml");
        Files.writeString(
                empty, "dialect: hsqldb\ndatabase: " + dir.resolve("nodb").resolve("lkr") + "\n");
        Path none = dir.resolve("none.json");
        assertEquals(1, run("export_keystore", none.toString(), "-d", empty.toString()));
        assertTrue(err.contains("Missing keystore"), err);
        assertTrue(!Files.exists(none));
    }

    /**
     * #14.7: export_keystore refuses an existing path (file, link, dangling link) unless --force.
     */
    @Test
    void exportKeystoreNeverOverwritesWithoutForce() throws Exception {
        Path yaml = dir.resolve("db.yaml");
        Files.writeString(
                yaml, "dialect: hsqldb\ndatabase: " + dir.resolve("db").resolve("lkr") + "\n");
        Path data = Files.writeString(dir.resolve("data.txt"), "data");
        // An open for writing creates the database's keystore.
        assertEquals(
                0,
                run(
                        "encrypt_file",
                        data.toString(),
                        dir.resolve("data.lks").toString(),
                        "-d",
                        yaml.toString()),
                err);

        Path precious =
                Files.writeString(
                        dir.resolve("old-keystore.json"), "the only copy of an old keystore");
        Path link = Files.createSymbolicLink(dir.resolve("link.json"), precious.getFileName());
        Path dangling =
                Files.createSymbolicLink(dir.resolve("dangling.json"), Path.of("nowhere.json"));
        for (Path existing : List.of(precious, link, dangling)) {
            assertEquals(
                    1,
                    run("export_keystore", existing.toString(), "-d", yaml.toString()),
                    existing.toString());
            assertTrue(
                    err.contains("Refusing to overwrite the existing " + existing)
                            && err.contains("--force"),
                    err);
        }
        assertEquals("the only copy of an old keystore", Files.readString(precious));
        assertTrue(Files.isSymbolicLink(link) && Files.isSymbolicLink(dangling));
        assertFalse(Files.exists(dir.resolve("nowhere.json")));

        // --force: a link stays a link, its target receives the keystore with mode 0600.
        assertEquals(
                0, run("export_keystore", link.toString(), "--force", "-d", yaml.toString()), err);
        assertTrue(Files.isSymbolicLink(link), "the link was replaced");
        String doc = Files.readString(precious);
        assertTrue(doc.contains("master_key"), doc);
        assertEquals(
                "rw-------",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(precious)));
        assertEquals(
                0,
                run("export_keystore", dangling.toString(), "--force", "-d", yaml.toString()),
                err);
        assertTrue(Files.isSymbolicLink(dangling));
        assertEquals(doc, Files.readString(dir.resolve("nowhere.json")));
        try (LkrCrypt k = LkrCrypt.openFromEnvironment(Files.readAllBytes(precious))) {
            assertTrue(k.activeKekId() >= 1);
        }
    }

    /** #14.3: a task that changes a keystore file behind a symbolic link keeps the link. */
    @Test
    void rotatingAKeystoreFileBehindALinkKeepsTheLink() throws Exception {
        Path real = Files.createDirectory(dir.resolve("real"));
        Path target = real.resolve("ks.json");
        try (LkrCrypt k = LkrCrypt.openFromEnvironment((byte[]) null)) {
            Files.write(target, k.exportKeystore());
        }
        Path link = Files.createSymbolicLink(dir.resolve("ks.json"), dir.relativize(target));
        assertEquals(
                0,
                run(
                        "rotate_kek",
                        "--keystore",
                        link.toString(),
                        "--log-dir",
                        dir.resolve("log").toString()),
                err);
        assertTrue(Files.isSymbolicLink(link), "the link was replaced by a file");
        try (LkrCrypt k = LkrCrypt.openFromEnvironment(Files.readAllBytes(target))) {
            assertEquals(2, k.activeKekId());
        }
        try (var files = Files.list(real)) {
            assertEquals(1, files.count(), "temporary file left beside the target");
        }
    }

    @Test
    void logLineFormat() {
        String line = TaskLog.format("INFO", MigrateEncryptionTask.START_MESSAGE);
        assertTrue(
                line.matches(
                        "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} [+-]\\d{4} \\[INFO\\|"
                                + java.util.regex.Pattern.quote(Thread.currentThread().getName())
                                + "\\|crypt\\] :: Starting migration from AES-128-CBC Legacy to AES-GCM-256"),
                line);
    }
}
