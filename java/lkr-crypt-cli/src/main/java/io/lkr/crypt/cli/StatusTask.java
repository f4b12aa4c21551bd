package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.Dialect;
import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KekUsage;
import io.lkr.crypt.db.KeystoreStore;
import io.lkr.crypt.db.LiveNodes;
import io.lkr.crypt.db.Schema;
import io.lkr.crypt.db.Settings;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code status}: CMK kind and fingerprint, keystore, active KEK, recovery key, live nodes, and
 * legacy vs GCM value counts of the encrypted columns (docs/native-interfaces.md), as text or as
 * one JSON document ({@code --format json}). Reads only. Before the first migration (a database
 * without a keystore) it counts the legacy values waiting; a database that cannot be opened is an
 * error naming it.
 */
@Command(
        name = "status",
        description = "CMK kind, keystore, active KEK, legacy vs GCM value counts.")
public final class StatusTask extends LoggedDbTaskCommand {
    @Option(
            names = "--keystore",
            paramLabel = "FILE",
            description = "Use this keystore file instead of the " + "internal database's")
    Path keystore;

    @Mixin ManifestOption columns;

    @Option(
            names = "--format",
            paramLabel = "FORMAT",
            defaultValue = "text",
            description =
                    "text, or json: one JSON document on stdout (fields in "
                            + "docs/native-interfaces.md), diagnostics on stderr "
                            + "(default: ${DEFAULT-VALUE})")
    Json.Format format;

    /** The figures, in the order of the text, for {@code --format json}. */
    private final Map<String, Object> report = new LinkedHashMap<>();

    /** The report is complete although the keystore is missing (before the first migration). */
    private boolean reportedWithoutKeystore;

    /** Where the text goes: stdout, or nowhere with {@code --format json}. */
    private PrintStream text;

    /** The engine over a new, unpublished keystore of the configured CMK. */
    private LkrCrypt fresh;

    @Override
    void checkMasterKey() throws GeneralSecurityException {
        fresh = LkrCrypt.openFromEnvironment((byte[]) null);
    }

    @Override
    int work() {
        try {
            text =
                    format == Json.Format.json
                            ? new PrintStream(OutputStream.nullOutputStream())
                            : out;
            int rc = run();
            if ((rc == OK || reportedWithoutKeystore) && format == Json.Format.json) {
                out.println(Json.write(report));
            }
            return rc;
        } finally {
            fresh.close();
        }
    }

    private int run() {
        InternalDb db = database();
        if (db == null) {
            return FAILED;
        }
        byte[] doc = null;
        String where;
        if (keystore != null) {
            try {
                doc = Files.readAllBytes(keystore);
            } catch (IOException e) {
                log.error("Missing keystore: " + keystore + " (" + e.getMessage() + ")");
                return FAILED;
            }
            where = "file " + keystore;
        } else {
            where =
                    "internal database "
                            + db
                            + " ("
                            + Schema.SETTING
                            + "."
                            + Settings.KEYSTORE
                            + ")";
        }
        Connection c = null;
        try {
            c = db.connectForTask(false);
        } catch (SQLException e) {
            if (keystore == null) {
                log.error(
                        "Missing keystore: the internal database "
                                + db
                                + " cannot be opened: "
                                + e.getMessage());
                return FAILED;
            }
        }
        int rc;
        try {
            rc = status(db, c, doc, where);
        } catch (RuntimeException | Error e) {
            TaskSupport.closeQuietly(c);
            throw e;
        }
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                log.error(TaskSupport.describe(e, db));
                return FAILED;
            }
        }
        return rc;
    }

    private int status(InternalDb db, Connection c, byte[] doc, String where) {
        try {
            String scheme = null;
            List<String> live = List.of();
            if (c != null) {
                Schema.ensure(c, db.dialect());
                if (doc == null) {
                    doc = KeystoreStore.read(c, db.dialect());
                }
                scheme = Settings.get(c, db.dialect(), Settings.SCHEME);
                live = LiveNodes.find(c, db.dialect());
            }
            // Without a keystore (before the first migration), the values are counted against a
            // new one: none is authentic under it, every non-empty value waits as legacy.
            LkrCrypt crypt;
            try {
                crypt = doc == null ? fresh : openKeystore(doc);
            } catch (GeneralSecurityException e) {
                log.error(e.getMessage());
                return FAILED;
            }
            try {
                report.put("keystore", describeKeystore(doc, where, crypt));
                report.put("configured_cmk", configuredCmk());
                report.put("fips_mode", LkrCrypt.isFipsMode());
                report.put("recovery_key", doc == null ? null : describeRecovery(crypt));
                if (doc == null) {
                    text.println("Recovery key: none (no keystore yet)");
                }
                text.println(
                        "Encryption scheme: "
                                + (scheme == null
                                        ? "not recorded (legacy AES-128-CBC until "
                                                + "migrate_encryption has run)"
                                        : scheme));
                report.put("scheme", scheme);
                text.println("Live nodes: " + live.size() + (live.isEmpty() ? "" : " " + live));
                report.put("live_nodes", live);
                report.put("columns", null);
                report.put("values", null);
                if (c != null) {
                    counts(c, db.dialect(), crypt, doc == null);
                }
            } finally {
                if (crypt != fresh) {
                    crypt.close();
                }
            }
            if (doc == null) {
                // A task that only reads never creates a keystore, and a missing one is an error
                // naming where it was looked for (docs/keystore.md): exit 1, after the report of
                // what waits for the migration (stdout, and the JSON document with --format json).
                reportedWithoutKeystore = true;
                log.error(
                        "Missing keystore: no "
                                + Settings.KEYSTORE
                                + " in "
                                + where
                                + " (migrate_encryption creates it)");
                return FAILED;
            }
            return OK;
        } catch (SQLException e) {
            log.error(TaskSupport.describe(e, db));
            return FAILED;
        }
    }

    /**
     * The configured CMK (LKR_MASTER_KEY_* / LKR_AWS_CMK, docs/keys.md), as a keystore names it:
     * that of the new keystore opened first.
     */
    @Override
    Map<String, Object> configuredCmk() {
        return TaskSupport.masterKey(fresh.exportKeystore());
    }

    private Map<String, Object> describeKeystore(byte[] doc, String where, LkrCrypt crypt) {
        Map<String, Object> ks = new LinkedHashMap<>();
        ks.put("exists", doc != null);
        ks.put("source", keystore != null ? "file" : "database");
        ks.put("location", where);
        if (doc == null) {
            text.println("CMK: none recorded yet (no keystore)");
        } else {
            Map<String, Object> cmk = TaskSupport.masterKey(doc);
            text.println("CMK: " + TaskSupport.cmkKind(doc));
            text.println("CMK expected by the keystore: " + TaskSupport.describeCmk(cmk));
            ks.put("cmk", cmk);
        }
        text.println("CMK configured: " + TaskSupport.describeCmk(configuredCmk()));
        text.println(
                "FIPS mode: "
                        + (LkrCrypt.isFipsMode()
                                ? "yes (AWS-LC's FIPS 140-3 module, docs/fips.md)"
                                : "no (not the FIPS build)"));
        if (doc == null) {
            text.println("Keystore: none yet in the " + where + "; migrate_encryption creates it");
            text.println("Active KEK: none (no keystore yet)");
            ks.put("cmk", null);
            ks.put("active_kek", null);
            ks.put("kek_ids", List.of());
            return ks;
        }
        int[] ids = crypt.keystoreAdmin().kekIds();
        text.println("Keystore: " + where);
        text.println(
                "Active KEK: "
                        + crypt.activeKekId()
                        + " ("
                        + ids.length
                        + " KEK"
                        + (ids.length == 1 ? "" : "s")
                        + " in the keystore: "
                        + KeystoreTasks.Base.ids(ids)
                        + ")");
        ks.put("active_kek", crypt.activeKekId());
        ks.put("kek_ids", list(ids));
        return ks;
    }

    private static List<Integer> list(int[] ids) {
        return Arrays.stream(ids).boxed().collect(Collectors.toList());
    }

    /**
     * The recovery key (docs/keystore.md): its key_sha256 and the KEKs it covers; a KEK it does not
     * cover is a warning (a lost CMK would lose it). Null when there is none.
     */
    private Map<String, Object> describeRecovery(LkrCrypt crypt) {
        String sha = crypt.keystoreAdmin().recoveryKeySha256();
        if (sha == null) {
            text.println("Recovery key: none (add_recovery_key sets one)");
            return null;
        }
        int[] covered = crypt.keystoreAdmin().recoveryKekIds(true);
        text.println(
                "Recovery key: key_sha256 "
                        + sha
                        + ", covers KEK(s) "
                        + (covered.length == 0 ? "none" : KeystoreTasks.Base.ids(covered)));
        int[] uncovered = crypt.keystoreAdmin().recoveryKekIds(false);
        if (uncovered.length > 0) {
            log.warn(
                    "KEK(s) "
                            + KeystoreTasks.Base.ids(uncovered)
                            + " are not covered by the recovery key: a lost CMK would lose them. "
                            + "Run add_recovery_key with "
                            + RecoveryTasks.PUBLIC_KEY_VARIABLE
                            + " set.");
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("key_sha256", sha);
        r.put("covered_kek_ids", list(covered));
        r.put("uncovered_kek_ids", list(uncovered));
        return r;
    }

    private void counts(Connection c, Dialect d, LkrCrypt crypt, boolean noKeystore)
            throws SQLException {
        List<EncryptedColumn> manifest;
        try {
            manifest = columns.read();
        } catch (IOException e) {
            log.warn("No value counts: " + e.getMessage());
            return;
        }
        KekUsage usage = KekUsage.scan(c, d, manifest, crypt);
        String fmt = "  %-40s %12s %12s %8s  %s";
        text.println(
                String.format(
                        Locale.ROOT,
                        fmt,
                        "column",
                        "GCM",
                        "legacy",
                        "empty",
                        "GCM values per KEK"));
        List<Map<String, Object>> cols = new ArrayList<>();
        for (KekUsage.Column col : usage.columns()) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("column", col.column.name());
            j.put("table_exists", col.exists);
            cols.add(j);
            if (!col.exists) {
                text.println(
                        String.format(Locale.ROOT, "  %-40s (no such table)", col.column.name()));
                continue;
            }
            text.println(
                    String.format(
                            Locale.ROOT,
                            fmt,
                            col.column.name(),
                            col.v1(),
                            col.other,
                            col.empty,
                            perKek(col.byKek)));
            j.put("gcm", col.v1());
            j.put("legacy", col.other);
            j.put("empty", col.empty);
            j.put("gcm_by_kek", byKek(col.byKek));
        }
        report.put("columns", cols);
        long gcm = usage.totalByKek().values().stream().mapToLong(Long::longValue).sum();
        text.println("Values: " + gcm + " GCM, " + usage.other() + " legacy (or not authentic)");
        text.println(
                "GCM values per KEK: "
                        + (usage.totalByKek().isEmpty() ? "none" : perKek(usage.totalByKek()))
                        + (!noKeystore
                                        && usage.totalByKek().keySet().stream()
                                                .anyMatch(k -> k != crypt.activeKekId())
                                ? " (migrate_encryption --reencrypt moves them to the active KEK "
                                        + crypt.activeKekId()
                                        + ")"
                                : ""));
        if (noKeystore) {
            text.println(
                    "Legacy values waiting for migrate_encryption: "
                            + usage.other()
                            + " (no keystore yet; migrate_encryption creates it)");
        }
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("gcm", gcm);
        values.put("legacy", usage.other());
        values.put("gcm_by_kek", byKek(usage.totalByKek()));
        report.put("values", values);
    }

    /** KEK id → count, with the ids as JSON object keys. */
    private static Map<String, Object> byKek(Map<Integer, Long> byKek) {
        Map<String, Object> m = new LinkedHashMap<>();
        byKek.forEach((k, v) -> m.put(Integer.toString(k), v));
        return m;
    }

    private static String perKek(Map<Integer, Long> byKek) {
        StringBuilder b = new StringBuilder();
        byKek.forEach(
                (k, v) ->
                        b.append(b.length() == 0 ? "" : ", ")
                                .append("KEK ")
                                .append(k)
                                .append(": ")
                                .append(v));
        return b.toString();
    }
}
