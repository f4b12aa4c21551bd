package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.Dialect;
import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KeystoreStore;
import io.lkr.crypt.db.LiveNodes;
import io.lkr.crypt.db.Manifest;
import io.lkr.crypt.db.Schema;
import io.lkr.crypt.db.Settings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code status}: CMK kind, keystore, active KEK, and legacy vs GCM value counts of the encrypted
 * columns (SPEC §9). Reads only: a missing keystore is an error naming where it was looked for.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "CMK kind, keystore, active KEK, legacy vs GCM value counts.")
public final class StatusTask implements Callable<Integer> {
    @Option(names = {"-d", "--internal-db-creds"}, paramLabel = "db.yaml",
            description = "YAML file naming the internal database (default: embedded HyperSQL ./.db/lkr)")
    Path creds;

    @Option(names = "--keystore", paramLabel = "FILE", description = "Use this keystore file instead of the "
            + "internal database's")
    Path keystore;

    @Option(names = "--columns", paramLabel = "FILE", defaultValue = Manifest.DEFAULT_FILE,
            description = "Manifest of encrypted columns (default: ${DEFAULT-VALUE})")
    Path columns;

    @Option(names = "--log-dir", hidden = true, defaultValue = "log")
    Path logDir;

    private final PrintStream out;
    private final PrintStream err;

    StatusTask(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        return TaskSupport.execute(new StatusTask(out, err), args, out, err);
    }

    @Override
    public Integer call() {
        try (TaskLog log = new TaskLog(logDir, out, err)) {
            LkrCrypt check = TaskSupport.validateMasterKey(log);
            if (check == null) {
                return TaskSupport.FAILED;
            }
            check.close();
            return status(log);
        }
    }

    private int status(TaskLog log) {
        InternalDb db = TaskSupport.database(creds, log);
        if (db == null) {
            return TaskSupport.FAILED;
        }
        byte[] doc = null;
        String where;
        if (keystore != null) {
            try {
                doc = Files.readAllBytes(keystore);
            } catch (IOException e) {
                log.error("Missing keystore: " + keystore + " (" + e.getMessage() + ")");
                return TaskSupport.FAILED;
            }
            where = "file " + keystore;
        } else {
            where = "internal database " + db + " (" + Schema.SETTING + "." + Settings.KEYSTORE + ")";
        }
        Connection c = null;
        try {
            try {
                c = db.connect(false);
            } catch (SQLException e) {
                if (keystore == null) {
                    log.error("Missing keystore: the internal database " + db + " cannot be opened: " + e.getMessage());
                    return TaskSupport.FAILED;
                }
            }
            String scheme = null;
            List<String> live = List.of();
            if (c != null) {
                Schema.ensure(c, db.dialect());
                if (doc == null) {
                    doc = KeystoreStore.read(c, db.dialect());
                    if (doc == null) {
                        log.error("Missing keystore: no " + Settings.KEYSTORE + " in " + where);
                        return TaskSupport.FAILED;
                    }
                }
                scheme = Settings.get(c, db.dialect(), Settings.SCHEME);
                live = LiveNodes.find(c, db.dialect());
            }
            try (LkrCrypt crypt = LkrCrypt.openFromEnvironment(doc)) {
                describeKeystore(doc, where, crypt);
                out.println("Encryption scheme: " + (scheme == null ? "not recorded (legacy AES-128-CBC until "
                        + "migrate_encryption has run)" : scheme));
                out.println("Live nodes: " + live.size() + (live.isEmpty() ? "" : " " + live));
                if (c != null) {
                    counts(log, c, db.dialect(), crypt);
                }
            }
            return TaskSupport.OK;
        } catch (GeneralSecurityException e) {
            log.error(e.getMessage());
            return TaskSupport.FAILED;
        } catch (SQLException e) {
            log.error(TaskSupport.describe(e, db));
            return TaskSupport.FAILED;
        } finally {
            TaskSupport.closeQuietly(c);
        }
    }

    private void describeKeystore(byte[] doc, String where, LkrCrypt crypt) {
        Object parsed;
        try {
            parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(new String(doc, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            parsed = null;
        }
        String kind = "unknown";
        int keks = -1;
        if (parsed instanceof Map) {
            Object mk = ((Map<?, ?>) parsed).get("master_key");
            if (mk instanceof Map) {
                Map<?, ?> m = (Map<?, ?>) mk;
                kind = String.valueOf(m.get("kind"));
                if ("aws-kms".equals(kind) && m.get("key_id") != null) {
                    kind += " (" + m.get("key_id") + ")";
                }
            }
            Object k = ((Map<?, ?>) parsed).get("keks");
            if (k instanceof List) {
                keks = ((List<?>) k).size();
            }
        }
        out.println("CMK: " + kind);
        out.println("Keystore: " + where);
        out.println("Active KEK: " + crypt.activeKekId() + (keks >= 0 ? " (" + keks + " KEK" + (keks == 1 ? "" : "s")
                + " in the keystore)" : ""));
    }

    private void counts(TaskLog log, Connection c, Dialect d, LkrCrypt crypt) throws SQLException {
        List<EncryptedColumn> manifest;
        try {
            manifest = Manifest.load(columns);
        } catch (IOException e) {
            log.warn("No value counts: " + e.getMessage());
            return;
        }
        long gcmTotal = 0;
        long legacyTotal = 0;
        out.println(String.format(java.util.Locale.ROOT, "  %-40s %12s %12s %8s", "column", "GCM", "legacy", "empty"));
        Base64.Decoder dec = Base64.getDecoder();
        for (EncryptedColumn col : manifest) {
            if (!Schema.tableExists(c, col.table())) {
                out.println(String.format(java.util.Locale.ROOT, "  %-40s (no such table)", col.name()));
                continue;
            }
            long gcm = 0;
            long legacy = 0;
            long empty = 0;
            try (Statement s = c.createStatement()) {
                s.setFetchSize(1000);
                try (ResultSet rs = s.executeQuery("SELECT " + d.q(col.key()) + ", " + d.q(col.column()) + " FROM "
                        + d.q(col.table()))) {
                    while (rs.next()) {
                        String v = rs.getString(2);
                        if (v == null || v.isBlank()) {
                            empty++;
                            continue;
                        }
                        try {
                            byte[] pt = crypt.decrypt(dec.decode(v.trim()), col.contextFor(rs.getString(1)));
                            java.util.Arrays.fill(pt, (byte) 0);
                            gcm++;
                        } catch (GeneralSecurityException | IllegalArgumentException e) {
                            legacy++;
                        }
                    }
                }
            }
            gcmTotal += gcm;
            legacyTotal += legacy;
            out.println(String.format(java.util.Locale.ROOT, "  %-40s %12d %12d %8d", col.name(), gcm, legacy, empty));
        }
        out.println("Values: " + gcmTotal + " GCM, " + legacyTotal + " legacy (or not authentic)");
    }
}
