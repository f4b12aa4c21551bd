package io.lkr.crypt.cli;

import io.lkr.crypt.KeystoreAdmin;
import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.KekUsage;
import io.lkr.crypt.db.KeystoreStore;
import io.lkr.crypt.db.MaintenanceLock;
import io.lkr.crypt.db.Schema;
import io.lkr.crypt.db.Settings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The tasks that change the keystore itself (docs/native-interfaces.md) — {@code rekey}, {@code
 * rotate_kek} and {@code retire_kek} — on the internal database's keystore ({@code SETTING}) or,
 * with {@code --keystore FILE}, on a keystore file. No value, cached file or backup is touched.
 *
 * <p>Each one: validates the CMK configuration first (docs/keys.md; for {@code rekey} the {@code
 * _SOURCE} and {@code _DESTINATION} variables), refuses while nodes are live (database keystore),
 * takes the database's {@link MaintenanceLock} (refused at once while another task holds it; a
 * keystore file needs no database lock: its replacement is a compare-and-set on the file's
 * content), builds the new keystore natively and checks it, then replaces the old one atomically —
 * a compare-and-set UPDATE committed in one transaction, or a synced temporary file renamed over
 * the old one. A crash at any moment leaves the old or the new keystore, and both open to the same
 * KEKs, so every value decrypts either way.
 */
public final class KeystoreTasks {
    private KeystoreTasks() {}

    /**
     * What the keystore tasks share (these three and {@link RecoveryTasks}'): where the keystore
     * is, the checks, the atomic replacement, the options in the order they are declared.
     */
    @Command(sortOptions = false)
    abstract static class Base extends LoggedDbTaskCommand {
        @Option(
                names = "--keystore",
                paramLabel = "FILE",
                description =
                        "Change this keystore file instead of the internal database's keystore")
        Path keystore;

        /**
         * Test support only, not an option: runs (with the task's stdout) after the new keystore is
         * checked, before it replaces the old. Nothing by default; the tests' launcher ({@code
         * io.lkr.crypt.cli.TestHooksMain}, in the test sources) sets a pause here to hold a task at
         * that point.
         */
        static volatile Consumer<PrintStream> beforeReplace = out -> {};

        @Override
        boolean usesDatabase() {
            return keystore == null;
        }

        /**
         * docs/keys.md's checks of the CMK variables this task uses; throws with the documented
         * message.
         */
        @Override
        void checkMasterKey() throws GeneralSecurityException {
            LkrCrypt.checkMasterKeyConfiguration("");
        }

        /**
         * The new keystore built from {@code doc} (checked natively); null after logging why not.
         * {@code db} is the open database connection, or null for a keystore file.
         */
        abstract LkrCrypt transform(byte[] doc, Connection db, InternalDb where)
                throws GeneralSecurityException, SQLException, IOException;

        /** Reports what was done, once the new keystore is in place. */
        abstract void done(LkrCrypt next, String where);

        @Override
        int work() {
            return keystore != null ? onFile() : onDatabase();
        }

        private int onFile() {
            byte[] doc;
            try {
                doc = Files.readAllBytes(keystore);
            } catch (NoSuchFileException e) {
                log.error("Missing keystore: no file " + keystore + ". Nothing was changed.");
                return FAILED;
            } catch (IOException e) {
                log.error("Could not read the keystore file " + keystore + ": " + e.getMessage());
                return FAILED;
            }
            try (LkrCrypt next = build(doc, null, null)) {
                if (next == null) {
                    return FAILED;
                }
                byte[] replacement = next.exportKeystore();
                pause();
                // Compare-and-set on the file: nothing is lost if another process changed it
                // meanwhile.
                if (!Arrays.equals(doc, Files.readAllBytes(keystore))) {
                    return changedMeanwhile("The keystore file " + keystore);
                }
                TaskSupport.writeKeystoreFile(keystore, replacement, OutputTarget.Existing.REPLACE);
                done(next, "file " + keystore);
                return OK;
            } catch (GeneralSecurityException e) {
                log.error(TaskSupport.sentence(e.getMessage()) + " Nothing was changed.");
                return FAILED;
            } catch (OutputTarget.OutputException e) {
                log.error(e.getMessage() + ". The old keystore is still in place.");
                return FAILED;
            } catch (IOException | SQLException e) {
                log.error(
                        "Could not write the keystore file "
                                + keystore
                                + ": "
                                + e.getMessage()
                                + ". The old keystore is still in place.");
                return FAILED;
            }
        }

        private int onDatabase() {
            InternalDb db = database();
            if (db == null) {
                return FAILED;
            }
            try (Connection c = db.connectForTask(true)) {
                c.setAutoCommit(false);
                try (MaintenanceLock lock = MaintenanceLock.begin(db, c, name(), true)) {
                    return underLock(c, db, lock);
                }
            } catch (MaintenanceLock.RefusedException e) {
                log.error(e.getMessage());
                return FAILED;
            } catch (GeneralSecurityException e) {
                log.error(TaskSupport.sentence(e.getMessage()) + " Nothing was changed.");
                return FAILED;
            } catch (InternalDb.UncleanShutdownException e) {
                log.error(e.getMessage());
                return FAILED;
            } catch (SQLException | IOException e) {
                log.error(
                        (e instanceof SQLException
                                        ? TaskSupport.describe((SQLException) e, db)
                                        : e.getMessage())
                                + ". The old keystore is still in place.");
                return FAILED;
            }
        }

        /**
         * The work, under the maintenance lock: the keystore and (retire_kek) the values are read
         * only now, so no other task can change them until the replacement is committed.
         */
        private int underLock(Connection c, InternalDb db, MaintenanceLock lock)
                throws SQLException, GeneralSecurityException, IOException {
            byte[] doc = KeystoreStore.read(c, db.dialect());
            c.commit();
            if (doc == null) {
                log.error(
                        "Missing keystore: no "
                                + Settings.KEYSTORE
                                + " in table "
                                + Schema.SETTING
                                + " of the internal database "
                                + db
                                + " (a new installation has none until the "
                                + "application or migrate_encryption creates it). Nothing was changed.");
                return FAILED;
            }
            try (LkrCrypt next = build(doc, c, db)) {
                if (next == null) {
                    return FAILED;
                }
                byte[] replacement = next.exportKeystore();
                pause();
                lock.ensureHeld();
                if (!KeystoreStore.replace(c, db.dialect(), doc, replacement)) {
                    return changedMeanwhile("The keystore in the internal database");
                }
                done(next, "internal database " + db);
                return OK;
            }
        }

        /** The refusal when {@code keystore} was replaced by another process meanwhile. */
        private int changedMeanwhile(String keystore) {
            log.error(
                    keystore
                            + " changed while "
                            + name()
                            + " ran (another rekey or rotation?). Nothing was changed: run "
                            + name()
                            + " again.");
            return FAILED;
        }

        /** {@link #transform}, a CMK mismatch noted for the line after the error. */
        private LkrCrypt build(byte[] doc, Connection db, InternalDb where)
                throws GeneralSecurityException, SQLException, IOException {
            try {
                return transform(doc, db, where);
            } catch (GeneralSecurityException e) {
                noteMismatch(e, doc);
                throw e;
            }
        }

        private void pause() {
            beforeReplace.accept(out);
        }

        static String ids(int[] ids) {
            return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(", "));
        }
    }

    /**
     * A task that opens the keystore with the CMK of the environment and derives the new one from
     * it ({@link #change}).
     */
    abstract static class WithCmk extends Base {
        /** The new keystore, from the current one (opened with the environment's CMK). */
        abstract LkrCrypt change(LkrCrypt current) throws GeneralSecurityException;

        @Override
        LkrCrypt transform(byte[] doc, Connection db, InternalDb where)
                throws GeneralSecurityException {
            try (LkrCrypt current = LkrCrypt.openFromEnvironment(doc)) {
                return change(current);
            }
        }
    }

    /**
     * {@code rekey}: every KEK re-wrapped from the {@code _SOURCE} CMK to the {@code _DESTINATION}
     * CMK.
     */
    @Command(
            name = "rekey",
            description = {
                "Re-wraps every KEK from the source CMK to the destination CMK; no value, cached "
                        + "file or backup changes.",
                "Source and destination: the CMK variables with the suffix _SOURCE / _DESTINATION, e.g. "
                        + "LKR_MASTER_KEY_FILE_SOURCE and LKR_AWS_CMK_DESTINATION."
            })
    static final class Rekey extends Base {
        @Override
        String cmkSuffix() {
            return "_SOURCE";
        }

        @Override
        void checkMasterKey() throws GeneralSecurityException {
            LkrCrypt.checkMasterKeyConfiguration("_SOURCE");
            LkrCrypt.checkMasterKeyConfiguration("_DESTINATION");
        }

        @Override
        LkrCrypt transform(byte[] doc, Connection db, InternalDb where)
                throws GeneralSecurityException {
            return KeystoreAdmin.rekeyDocument(doc);
        }

        @Override
        void done(LkrCrypt next, String where) {
            int[] ids = next.keystoreAdmin().kekIds();
            log.info(
                    "Rekeyed the keystore of the "
                            + where
                            + ": its "
                            + ids.length
                            + " KEK(s) ("
                            + ids(ids)
                            + ") are now wrapped by the destination CMK ("
                            + TaskSupport.cmkKind(next.exportKeystore())
                            + "). No value changed.");
            log.info(
                    "Start every node with the destination CMK, set in the variables without the _DESTINATION "
                            + "suffix; the source CMK no longer opens this keystore.");
        }
    }

    /** {@code rotate_kek}: a new active KEK; the older ones keep decrypting. */
    @Command(
            name = "rotate_kek",
            description = "Adds a new active KEK; the older KEKs keep decrypting.")
    static final class RotateKek extends WithCmk {
        @Override
        LkrCrypt change(LkrCrypt current) throws GeneralSecurityException {
            return current.keystoreAdmin().rotateKek();
        }

        @Override
        void done(LkrCrypt next, String where) {
            log.info(
                    "Rotated the keystore of the "
                            + where
                            + ": KEK "
                            + next.activeKekId()
                            + " is now active (KEKs "
                            + ids(next.keystoreAdmin().kekIds())
                            + "). Values and files encrypted before keep decrypting.");
            log.info(
                    "To re-encrypt the internal database's values under KEK "
                            + next.activeKekId()
                            + ": migrate_encryption --reencrypt (nodes restarted with the new keystore encrypt new values "
                            + "under it).");
        }
    }

    /**
     * {@code retire_kek --kek-id N}: removes a KEK that no value of the internal database uses any
     * more (after {@code migrate_encryption --reencrypt}); refuses while any value still does.
     */
    @Command(
            name = "retire_kek",
            description = {
                "Removes KEK N from the internal database's keystore, once no value uses it "
                        + "(after migrate_encryption --reencrypt).",
                "Backups and files encrypted under KEK N need the old keystore: a copy is written to the log "
                        + "directory first."
            })
    static final class RetireKek extends Base {
        @Option(
                names = "--kek-id",
                paramLabel = "N",
                required = true,
                description = "The KEK to retire (an id of the keystore, 1 or more)")
        int kekId;

        @Mixin ManifestOption columns;

        @Override
        String optionError() {
            return outside("--kek-id", kekId, 1, Integer.MAX_VALUE);
        }

        @Override
        LkrCrypt transform(byte[] doc, Connection db, InternalDb where)
                throws GeneralSecurityException, SQLException, IOException {
            if (db == null) {
                log.error(
                        "retire_kek works on the internal database's keystore, whose values it can check are "
                                + "no longer under the KEK; it does not take --keystore. Nothing was changed.");
                return null;
            }
            List<EncryptedColumn> manifest = columns.read();
            try (LkrCrypt current = LkrCrypt.openFromEnvironment(doc)) {
                if (Arrays.stream(current.keystoreAdmin().kekIds()).noneMatch(id -> id == kekId)) {
                    log.error(
                            "The keystore holds no KEK "
                                    + kekId
                                    + " (it holds "
                                    + ids(current.keystoreAdmin().kekIds())
                                    + "). Nothing was changed.");
                    return null;
                }
                if (kekId == current.activeKekId()) {
                    log.error(
                            "KEK "
                                    + kekId
                                    + " is the active KEK and cannot be retired: run rotate_kek first. "
                                    + "Nothing was changed.");
                    return null;
                }
                KekUsage usage = KekUsage.scan(db, where.dialect(), manifest, current);
                long using = usage.valuesUnder(kekId);
                if (using > 0) {
                    String perColumn =
                            usage.columns().stream()
                                    .filter(c -> c.byKek.getOrDefault(kekId, 0L) > 0)
                                    .map(c -> c.column.name() + ": " + c.byKek.get(kekId))
                                    .collect(Collectors.joining(", "));
                    log.error(
                            using
                                    + " value(s) are still encrypted under KEK "
                                    + kekId
                                    + " ("
                                    + perColumn
                                    + "). "
                                    + "Run migrate_encryption --reencrypt first. Nothing was changed.");
                    return null;
                }
                Path copy =
                        logDir.resolve(
                                "keystore-before-retiring-kek-"
                                        + kekId
                                        + "-"
                                        + LocalDateTime.now()
                                                .format(
                                                        DateTimeFormatter.ofPattern(
                                                                "yyyyMMdd-HHmmss"))
                                        + ".json");
                Files.createDirectories(logDir);
                TaskSupport.writeKeystoreFile(copy, doc, OutputTarget.Existing.REFUSE);
                log.info(
                        "No value of the internal database uses KEK "
                                + kekId
                                + ". The keystore as it was (needed "
                                + "for backups and files encrypted under KEK "
                                + kekId
                                + "): "
                                + copy
                                + " (mode 0600)");
                return current.keystoreAdmin().retireKek(kekId);
            }
        }

        @Override
        void done(LkrCrypt next, String where) {
            log.info(
                    "Retired KEK "
                            + kekId
                            + " from the keystore of the "
                            + where
                            + " (KEKs now "
                            + ids(next.keystoreAdmin().kekIds())
                            + ", active "
                            + next.activeKekId()
                            + ").");
        }
    }
}
