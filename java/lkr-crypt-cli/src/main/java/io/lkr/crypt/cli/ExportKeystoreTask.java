package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KeystoreStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code export_keystore FILE} (docs/native-interfaces.md): writes the internal database's keystore
 * to FILE with mode 0600. It holds only wrapped keys — safe beside backups, useless without the CMK
 * — and it is what decrypts a backup of the internal database itself. Reads only: the keystore is
 * opened with the configured CMK first, so a file that could not be used is never written.
 *
 * <p>An existing FILE is refused (it may be the only copy of a keystore that decrypts an old
 * backup) unless {@code --force} is given; then it is replaced by the rule of {@link OutputTarget}
 * (a symbolic link stays and its target receives the keystore).
 */
@Command(
        name = "export_keystore",
        description = {
            "Writes the internal database's keystore to FILE (mode 0600).",
            "An existing FILE is never overwritten unless --force is given (a symbolic link is then followed: "
                    + "the link stays, its target is replaced)."
        })
public final class ExportKeystoreTask extends DbTaskCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "The keystore file to write")
    Path file;

    @Option(names = "--force", description = "Replace FILE if it exists")
    boolean force;

    @Override
    int work() {
        if (!force && Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            err.println(refusal());
            return FAILED;
        }
        InternalDb db = database();
        if (db == null) {
            return FAILED;
        }
        byte[] doc;
        int activeKek;
        try (Connection c = db.connectForTask(false);
                LkrCrypt crypt =
                        KeystoreStore.openExisting(
                                c, db.dialect(), db.toString(), this::openKeystore)) {
            doc = crypt.exportKeystore();
            activeKek = crypt.activeKekId();
        } catch (SQLException e) {
            err.println(
                    (e instanceof InternalDb.UncleanShutdownException ? "" : "Missing keystore: ")
                            + TaskSupport.describe(e, db));
            return FAILED;
        } catch (GeneralSecurityException e) {
            err.println(e.getMessage());
            return FAILED;
        }
        try {
            TaskSupport.writeKeystoreFile(
                    file,
                    doc,
                    force ? OutputTarget.Existing.REPLACE : OutputTarget.Existing.REFUSE);
        } catch (IOException e) {
            // Another process created FILE meanwhile: still refused.
            err.println(
                    !force && Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                            ? refusal()
                            : e.getMessage());
            return FAILED;
        }
        out.println(
                "Wrote the keystore of "
                        + db
                        + " (active KEK "
                        + activeKek
                        + ") to "
                        + file
                        + " (mode 0600)");
        return OK;
    }

    private String refusal() {
        return OutputTarget.existsMessage(file.toString())
                + ": it may be the only copy of a keystore that "
                + "decrypts older backups. Choose another FILE, or give --force to replace it. Nothing was written.";
    }
}
