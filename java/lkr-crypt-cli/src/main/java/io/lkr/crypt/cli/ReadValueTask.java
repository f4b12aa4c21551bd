package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.StoredText;
import io.lkr.crypt.db.Dialect;
import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KeystoreStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code read_value TABLE.COLUMN KEY}: reads one encrypted value of the internal database back
 * through the library (the database's keystore, the manifest's context) and prints its plaintext —
 * a demonstration that a migrated value decrypts. Text columns print as text, binary ones as
 * base64. Prints a secret: for demonstrations and support only.
 */
@Command(
        name = "read_value",
        description =
                "Decrypts one value of the internal database (demonstration): TABLE.COLUMN KEY.")
public final class ReadValueTask extends DbTaskCommand {
    @Parameters(
            index = "0",
            paramLabel = "TABLE.COLUMN",
            description = "The encrypted column, as the manifest names it")
    String column;

    @Parameters(index = "1", paramLabel = "KEY", description = "The row's key value")
    String key;

    @Mixin ManifestOption columns;

    /** Reads a keystore the database already holds: opening it checks the CMK. */
    @Override
    void checkMasterKey() {}

    @Override
    int work() {
        EncryptedColumn col = null;
        InternalDb db;
        try {
            List<EncryptedColumn> manifest = columns.read();
            for (EncryptedColumn c : manifest) {
                if (c.name().equals(column)) {
                    col = c;
                }
            }
        } catch (IOException e) {
            err.println(e.getMessage());
            return FAILED;
        }
        if (col == null) {
            err.println(column + " is not in the manifest " + columns.file);
            return USAGE;
        }
        db = database();
        if (db == null) {
            return FAILED;
        }
        try (Connection c = db.connectForTask(false)) {
            Dialect d = db.dialect();
            String stored;
            String keyText;
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "SELECT "
                                    + d.q(col.key())
                                    + ", "
                                    + d.q(col.column())
                                    + " FROM "
                                    + d.q(col.table())
                                    + " WHERE "
                                    + d.q(col.key())
                                    + " = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        err.println("No row " + col.key() + " = " + key + " in " + col.table());
                        return FAILED;
                    }
                    keyText = rs.getString(1);
                    stored = rs.getString(2);
                }
            }
            try (LkrCrypt crypt =
                    KeystoreStore.openExisting(c, d, db.toString(), this::openKeystore)) {
                byte[] pt = crypt.decrypt(StoredText.decode(stored), col.contextFor(keyText));
                out.println(
                        col.isText()
                                ? new String(pt, StandardCharsets.UTF_8)
                                : Base64.getEncoder().encodeToString(pt));
                java.util.Arrays.fill(pt, (byte) 0);
            }
            return OK;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            err.println(
                    col.name()
                            + " of "
                            + col.key()
                            + " = "
                            + key
                            + " does not decrypt as AES-256-GCM: "
                            + e.getMessage());
            return FAILED;
        } catch (SQLException e) {
            err.println(TaskSupport.describe(e, db));
            return FAILED;
        }
    }
}
