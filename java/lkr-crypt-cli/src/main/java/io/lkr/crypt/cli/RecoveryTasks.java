package io.lkr.crypt.cli;

import io.lkr.crypt.KeystoreAdmin;
import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.db.InternalDb;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The recovery key (docs/keystore.md, "Recovery key"): {@code add_recovery_key}, {@code
 * remove_recovery_key} and {@code recover --private-key FILE}, on the internal database's keystore
 * or, with {@code --keystore FILE}, on a keystore file. They share {@link KeystoreTasks.Base}: the
 * configuration checked first, refused while nodes are live, the maintenance lock, the new keystore
 * built and checked natively, then an atomic replacement (compare-and-set of {@code SETTING}, or a
 * synced file renamed over the old one), so a crash leaves the old or the new keystore.
 */
public final class RecoveryTasks {
    private RecoveryTasks() {}

    /** The variable naming the recovery public key (PEM). */
    static final String PUBLIC_KEY_VARIABLE = "LKR_RECOVERY_PUBLIC_KEY_FILE";

    /** {@code add_recovery_key}: every KEK wrapped under the configured recovery public key. */
    @Command(
            name = "add_recovery_key",
            description = {
                "Wraps every KEK of the keystore under the recovery public key named by "
                        + PUBLIC_KEY_VARIABLE
                        + " (PEM, RSA 3072 or 4096 bits), replacing any earlier recovery key.",
                "Keep the private key offline; set "
                        + PUBLIC_KEY_VARIABLE
                        + " on every node (rotate_kek refuses without it)."
            })
    static final class AddRecoveryKey extends KeystoreTasks.WithCmk {
        @Override
        LkrCrypt change(LkrCrypt current) throws GeneralSecurityException {
            return current.keystoreAdmin().addRecoveryKeyFromEnvironment();
        }

        @Override
        void done(LkrCrypt next, String where) {
            log.info(
                    "Added the recovery key (key_sha256 "
                            + next.keystoreAdmin().recoveryKeySha256()
                            + ") to the keystore of the "
                            + where
                            + ": it covers KEK(s) "
                            + KeystoreTasks.Base.ids(next.keystoreAdmin().recoveryKekIds(true))
                            + ".");
            log.info(
                    "Keep the private key offline. Set "
                            + PUBLIC_KEY_VARIABLE
                            + " on every node: rotate_kek wraps new KEKs under it, and refuses "
                            + "without it.");
        }
    }

    /** {@code remove_recovery_key}: the recovery section dropped. */
    @Command(
            name = "remove_recovery_key",
            description =
                    "Drops the keystore's recovery key: a lost CMK then loses every KEK again.")
    static final class RemoveRecoveryKey extends KeystoreTasks.WithCmk {
        @Override
        LkrCrypt change(LkrCrypt current) throws GeneralSecurityException {
            return current.keystoreAdmin().removeRecoveryKey();
        }

        @Override
        void done(LkrCrypt next, String where) {
            log.info(
                    "Removed the recovery key from the keystore of the "
                            + where
                            + ": KEK(s) "
                            + KeystoreTasks.Base.ids(next.keystoreAdmin().kekIds())
                            + " are now wrapped only by the CMK. Unset "
                            + PUBLIC_KEY_VARIABLE
                            + " on the nodes.");
        }
    }

    /**
     * {@code recover --private-key FILE}: the keystore rebuilt under the {@code _DESTINATION} CMK
     * from the recovery private key alone (the CMK is lost).
     */
    @Command(
            name = "recover",
            description = {
                "When the CMK is lost: unwraps every KEK with the recovery private key and wraps it "
                        + "under the destination CMK (the CMK variables with the suffix _DESTINATION, "
                        + "e.g. LKR_MASTER_KEY_FILE_DESTINATION). Same KEK ids and active KEK; no value, "
                        + "cached file or backup changes."
            })
    static final class Recover extends KeystoreTasks.Base {
        @Option(
                names = "--private-key",
                paramLabel = "FILE",
                required = true,
                description =
                        "The recovery private key: PEM PKCS#8 (BEGIN PRIVATE KEY), unencrypted, "
                                + "mode 0400")
        Path privateKey;

        @Override
        void checkMasterKey() throws GeneralSecurityException {
            LkrCrypt.checkMasterKeyConfiguration("_DESTINATION");
        }

        @Override
        LkrCrypt transform(byte[] doc, Connection db, InternalDb where)
                throws GeneralSecurityException {
            return KeystoreAdmin.recoverDocument(doc, privateKey);
        }

        @Override
        void done(LkrCrypt next, String where) {
            int[] ids = next.keystoreAdmin().kekIds();
            log.info(
                    "Recovered the keystore of the "
                            + where
                            + ": its "
                            + ids.length
                            + " KEK(s) ("
                            + KeystoreTasks.Base.ids(ids)
                            + ", active "
                            + next.activeKekId()
                            + ") are now wrapped by the destination CMK ("
                            + TaskSupport.cmkKind(next.exportKeystore())
                            + "); the recovery key (key_sha256 "
                            + next.keystoreAdmin().recoveryKeySha256()
                            + ") still covers them. No value changed.");
            log.info(
                    "Start every node with the destination CMK, set in the variables without the "
                            + "_DESTINATION suffix.");
        }
    }
}
