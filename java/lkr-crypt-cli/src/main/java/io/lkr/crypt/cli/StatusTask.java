package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.Dialect;
import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KekUsage;
import io.lkr.crypt.db.KeystoreStore;
import io.lkr.crypt.db.LiveNodes;
import io.lkr.crypt.db.Manifest;
import io.lkr.crypt.db.Schema;
import io.lkr.crypt.db.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code status}: CMK kind, keystore, active KEK, and legacy vs GCM value counts of the encrypted
 * columns (docs/native-interfaces.md). Reads only: a missing keystore is an error naming where it
 * was looked for.
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = "CMK kind, keystore, active KEK, legacy vs GCM value counts.")
public final class StatusTask extends LoggedDbTaskCommand {
    @Option(
            names = "--keystore",
            paramLabel = "FILE",
            description = "Use this keystore file instead of the " + "internal database's")
    Path keystore;

    @Option(
            names = "--columns",
            paramLabel = "FILE",
            defaultValue = Manifest.DEFAULT_FILE,
            description = "Manifest of encrypted columns (default: ${DEFAULT-VALUE})")
    Path columns;

    @Override
    int work() {
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
                    if (doc == null) {
                        log.error("Missing keystore: no " + Settings.KEYSTORE + " in " + where);
                        return FAILED;
                    }
                }
                scheme = Settings.get(c, db.dialect(), Settings.SCHEME);
                live = LiveNodes.find(c, db.dialect());
            }
            try (LkrCrypt crypt = LkrCrypt.openFromEnvironment(doc)) {
                describeKeystore(doc, where, crypt);
                describeRecovery(crypt);
                out.println(
                        "Encryption scheme: "
                                + (scheme == null
                                        ? "not recorded (legacy AES-128-CBC until "
                                                + "migrate_encryption has run)"
                                        : scheme));
                out.println("Live nodes: " + live.size() + (live.isEmpty() ? "" : " " + live));
                if (c != null) {
                    counts(c, db.dialect(), crypt);
                }
            }
            return OK;
        } catch (GeneralSecurityException e) {
            log.error(e.getMessage());
            return FAILED;
        } catch (SQLException e) {
            log.error(TaskSupport.describe(e, db));
            return FAILED;
        }
    }

    private void describeKeystore(byte[] doc, String where, LkrCrypt crypt) {
        int[] ids = crypt.kekIds();
        out.println("CMK: " + TaskSupport.cmkKind(doc));
        out.println(
                "FIPS mode: "
                        + (LkrCrypt.isFipsMode()
                                ? "yes (AWS-LC's FIPS 140-3 module, docs/fips.md)"
                                : "no (not the FIPS build)"));
        out.println("Keystore: " + where);
        out.println(
                "Active KEK: "
                        + crypt.activeKekId()
                        + " ("
                        + ids.length
                        + " KEK"
                        + (ids.length == 1 ? "" : "s")
                        + " in the keystore: "
                        + KeystoreTasks.Base.ids(ids)
                        + ")");
    }

    /**
     * The recovery key (docs/keystore.md): its key_sha256 and the KEKs it covers; a KEK it does not
     * cover is a warning (a lost CMK would lose it).
     */
    private void describeRecovery(LkrCrypt crypt) {
        String sha = crypt.recoveryKeySha256();
        if (sha == null) {
            out.println("Recovery key: none (add_recovery_key sets one)");
            return;
        }
        int[] covered = crypt.recoveryKekIds(true);
        out.println(
                "Recovery key: key_sha256 "
                        + sha
                        + ", covers KEK(s) "
                        + (covered.length == 0 ? "none" : KeystoreTasks.Base.ids(covered)));
        int[] uncovered = crypt.recoveryKekIds(false);
        if (uncovered.length > 0) {
            log.warn(
                    "KEK(s) "
                            + KeystoreTasks.Base.ids(uncovered)
                            + " are not covered by the recovery key: a lost CMK would lose them. "
                            + "Run add_recovery_key with "
                            + RecoveryTasks.PUBLIC_KEY_VARIABLE
                            + " set.");
        }
    }

    private void counts(Connection c, Dialect d, LkrCrypt crypt) throws SQLException {
        List<EncryptedColumn> manifest;
        try {
            manifest = YamlConfig.manifest(columns);
        } catch (IOException e) {
            log.warn("No value counts: " + e.getMessage());
            return;
        }
        KekUsage usage = KekUsage.scan(c, d, manifest, crypt);
        String fmt = "  %-40s %12s %12s %8s  %s";
        out.println(
                String.format(
                        Locale.ROOT,
                        fmt,
                        "column",
                        "GCM",
                        "legacy",
                        "empty",
                        "GCM values per KEK"));
        for (KekUsage.Column col : usage.columns()) {
            if (!col.exists) {
                out.println(
                        String.format(Locale.ROOT, "  %-40s (no such table)", col.column.name()));
                continue;
            }
            out.println(
                    String.format(
                            Locale.ROOT,
                            fmt,
                            col.column.name(),
                            col.v1(),
                            col.other,
                            col.empty,
                            perKek(col.byKek)));
        }
        long gcm = usage.totalByKek().values().stream().mapToLong(Long::longValue).sum();
        out.println("Values: " + gcm + " GCM, " + usage.other() + " legacy (or not authentic)");
        out.println(
                "GCM values per KEK: "
                        + (usage.totalByKek().isEmpty() ? "none" : perKek(usage.totalByKek()))
                        + (usage.totalByKek().keySet().stream()
                                        .anyMatch(k -> k != crypt.activeKekId())
                                ? " (migrate_encryption --reencrypt moves them to the active KEK "
                                        + crypt.activeKekId()
                                        + ")"
                                : ""));
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
