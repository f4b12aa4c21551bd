package io.lkr.crypt;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Keystore administration (docs/keystore.md, docs/native-interfaces.md): KEK rotation and
 * retirement, rekey to another CMK, the recovery key, recovery after a lost CMK, and moving values
 * to the active KEK. What an application does every day is on {@link LkrCrypt}; this is for
 * operators' tasks and the tools that run them.
 *
 * <p>An instance is a view of an open {@link LkrCrypt} ({@link LkrCrypt#keystoreAdmin()}) on the
 * same native handle: it keeps that handle reachable, and once the handle is closed its calls throw
 * {@link IllegalStateException}. Thread-safe, like the handle. A keystore is never changed in
 * place: each change returns a new {@link LkrCrypt} on a changed copy (to close when done), whose
 * {@link LkrCrypt#exportKeystore()} the application stores; the static methods do the same for a
 * keystore document or file without an open handle, replacing a file atomically.
 *
 * <p>Failures: {@link MasterKeyException} for a CMK, {@link KeystoreException} for a keystore (both
 * {@link GeneralSecurityException}s, with the engine's messages), {@link NotAuthenticException} for
 * a value; {@link NullPointerException} / {@link IllegalArgumentException} for bad arguments.
 */
public final class KeystoreAdmin {
    private final LkrCrypt crypt;

    KeystoreAdmin(LkrCrypt crypt) {
        this.crypt = crypt;
    }

    /**
     * Every KEK id of the keystore, ascending.
     *
     * @return the ids
     */
    public int[] kekIds() {
        return crypt.handle.call(Native::kekIds);
    }

    /**
     * KEK rotation: a new handle on a copy of the keystore with a new active KEK (id = the largest
     * + 1); older KEKs keep decrypting. This handle is unchanged. Store the new handle's {@link
     * LkrCrypt#exportKeystore()} where the application keeps its keystore, then use it (and close
     * this one). For a keystore file, {@link #rotateKekFile(Path)} does both.
     *
     * @return a new handle, to close when done
     * @throws GeneralSecurityException when the engine refuses; the exception carries its message
     */
    public LkrCrypt rotateKek() throws GeneralSecurityException {
        return crypt.handle.call(p -> new LkrCrypt(Native.rotateKek(p)));
    }

    /**
     * A new handle on a copy of the keystore without KEK {@code kekId} (never the active one).
     * Values and streams that KEK encrypted no longer decrypt with it: move them to the active KEK
     * first ({@link #moveToActiveKek}) and keep an exported copy of the old keystore for older
     * backups.
     *
     * @param kekId the KEK to remove
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link KeystoreException} for the active or an unknown KEK
     */
    public LkrCrypt retireKek(int kekId) throws GeneralSecurityException {
        return crypt.handle.call(p -> new LkrCrypt(Native.retireKek(p, kekId)));
    }

    /**
     * Rekey of this handle's keystore: a new handle whose keystore holds the same KEKs re-wrapped
     * under the CMK of the {@code _DESTINATION} variables ({@code LKR_MASTER_KEY_ENV_DESTINATION},
     * {@code LKR_MASTER_KEY_FILE_DESTINATION} or {@code LKR_AWS_CMK_DESTINATION}), checked to open
     * with it. No value changes. Store its {@link LkrCrypt#exportKeystore()} in place of the old
     * keystore.
     *
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} when the destination CMK is
     *     missing, wrong or unreachable
     */
    public LkrCrypt rekeyFromEnvironment() throws GeneralSecurityException {
        return crypt.handle.call(p -> new LkrCrypt(Native.rekeyFromEnv(p)));
    }

    /**
     * Moves one value to the active KEK (after {@link #rotateKek()}): {@code envelope}, authentic
     * under {@code context}, encrypted again under the active KEK — or {@code envelope} itself (the
     * same array) when it already is under it, so {@code result != envelope} says whether to store
     * it. The plaintext never enters Java. Legacy values are not this method's: {@link
     * LegacyMigrator} migrates them.
     *
     * @param envelope an envelope v1 of this keystore
     * @param context the context it was encrypted under
     * @return the envelope under the active KEK, or {@code envelope} itself
     * @throws GeneralSecurityException {@link NotAuthenticException} when the value is not
     *     authentic
     */
    public byte[] moveToActiveKek(byte[] envelope, byte[] context) throws GeneralSecurityException {
        Objects.requireNonNull(envelope, "envelope");
        Objects.requireNonNull(context, "context");
        byte[] moved = crypt.handle.call(p -> Native.reencrypt(p, envelope, context));
        return moved == null ? envelope : moved;
    }

    /**
     * The id of the KEK that encrypted {@code value} when it is an envelope v1 authentic under
     * {@code context}; empty otherwise (a legacy value, a damaged one, another keystore's).
     *
     * @param value a stored value
     * @param context its context
     * @return the KEK id, or empty
     */
    public OptionalInt kekIdOf(byte[] value, byte[] context) {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(context, "context");
        int id = crypt.handle.callInt(p -> Native.kekIdOf(p, value, context));
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    // ---- The recovery key (docs/keystore.md, "Recovery key") ----------------------------------

    /**
     * {@code add_recovery_key}: a new handle on a copy of the keystore that also holds every KEK
     * wrapped under the recovery public key named by {@code LKR_RECOVERY_PUBLIC_KEY_FILE} (PEM, RSA
     * 3072 or 4096 bits; it must be set), replacing any earlier recovery section. This handle is
     * unchanged; store the new one's {@link LkrCrypt#exportKeystore()}. Later rotations wrap new
     * KEKs under the same key, and refuse while the variable is unset or names another key.
     *
     * @return a new handle, to close when done
     * @throws GeneralSecurityException when the variable is unset, its key is not RSA 3072/4096
     *     ({@link MasterKeyException}), or the engine refuses; the exception carries its message
     */
    public LkrCrypt addRecoveryKeyFromEnvironment() throws GeneralSecurityException {
        return crypt.handle.call(p -> new LkrCrypt(Native.addRecoveryKeyFromEnv(p)));
    }

    /**
     * {@code remove_recovery_key}: a new handle on a copy of the keystore without its recovery
     * section (refused when it has none).
     *
     * @return a new handle, to close when done
     * @throws GeneralSecurityException when the keystore has no recovery key
     */
    public LkrCrypt removeRecoveryKey() throws GeneralSecurityException {
        return crypt.handle.call(p -> new LkrCrypt(Native.removeRecoveryKey(p)));
    }

    /**
     * The keystore's recovery key as its {@code key_sha256} (base64 of the SHA-256 of the public
     * key's DER SubjectPublicKeyInfo), or null when the keystore has none.
     *
     * @return the recovery key's {@code key_sha256}, or null
     */
    public String recoveryKeySha256() {
        return crypt.handle.call(Native::recoveryKeySha256);
    }

    /**
     * The ids of the KEKs the recovery key covers ({@code covered}), or does not cover (KEKs a lost
     * CMK would lose), ascending. Without a recovery key no KEK is covered.
     *
     * @param covered true for the KEKs the recovery key covers, false for those it does not
     * @return KEK ids, ascending
     */
    public int[] recoveryKekIds(boolean covered) {
        return crypt.handle.call(p -> Native.recoveryKekIds(p, covered));
    }

    // ---- Without an open handle: keystore documents and files -----------------------------------

    /**
     * {@code rekey} (docs/native-interfaces.md) of a keystore document the application keeps (e.g.
     * in its database): opens it with the {@code _SOURCE} CMK and returns a handle on the KEKs
     * re-wrapped under the {@code _DESTINATION} CMK, checked to open with it. Replace the stored
     * document with its {@link LkrCrypt#exportKeystore()} (atomically, e.g. compare-and-set).
     *
     * @param keystore the keystore document under the source CMK
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     */
    public static LkrCrypt rekeyDocument(byte[] keystore) throws GeneralSecurityException {
        Objects.requireNonNull(keystore, "keystore");
        Native.ensureLoaded();
        return new LkrCrypt(Native.rekeyDocumentFromEnv(keystore));
    }

    /**
     * {@code rekey} (docs/native-interfaces.md) of the keystore file {@code keystore}, from the
     * {@code _SOURCE} CMK to the {@code _DESTINATION} CMK: checked, then replaced atomically (a
     * crash leaves the old or the new file). Returns a handle under the destination CMK.
     *
     * @param keystore the keystore file
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     */
    public static LkrCrypt rekeyFile(Path keystore) throws GeneralSecurityException {
        return LkrCrypt.openFile(keystore, Native::rekeyFileFromEnv);
    }

    /**
     * {@code rotate_kek} (docs/native-interfaces.md) of the keystore file {@code keystore} with the
     * CMK of the environment: a new active KEK, the file replaced atomically. Returns a handle on
     * it.
     *
     * @param keystore the keystore file
     * @return a new handle, to close when done
     * @throws GeneralSecurityException {@link MasterKeyException} for the CMK, {@link
     *     KeystoreException} for the keystore
     */
    public static LkrCrypt rotateKekFile(Path keystore) throws GeneralSecurityException {
        return LkrCrypt.openFile(keystore, Native::rotateKekFileFromEnv);
    }

    /**
     * {@code recover} of a keystore document whose CMK is lost (e.g. the database's): every KEK is
     * unwrapped from the recovery section with the private key in {@code privateKey} (PEM PKCS#8,
     * unencrypted, mode 0400) and wrapped under the CMK of the {@code _DESTINATION} variables —
     * same KEK ids and active KEK, the recovery section kept. The returned handle is checked to
     * open with the destination; replace the stored document with its {@link
     * LkrCrypt#exportKeystore()} (atomically, e.g. compare-and-set). Refused when the keystore has
     * no recovery section, the private key is not its recovery key, or a KEK is not covered.
     *
     * @param keystore the keystore document (UTF-8 JSON) whose CMK is lost
     * @param privateKey the recovery private key's file
     * @return a handle under the destination CMK, to close when done
     * @throws GeneralSecurityException when the destination CMK or the private key is wrong ({@link
     *     MasterKeyException}) or recovery is refused ({@link KeystoreException}); nothing is
     *     written
     */
    public static LkrCrypt recoverDocument(byte[] keystore, Path privateKey)
            throws GeneralSecurityException {
        Objects.requireNonNull(keystore, "keystore");
        Objects.requireNonNull(privateKey, "privateKey");
        Native.ensureLoaded();
        return new LkrCrypt(
                Native.recoverDocumentFromEnv(keystore, privateKey.toAbsolutePath().toString()));
    }

    /**
     * {@code recover} of the keystore file {@code keystore} (see {@link #recoverDocument}):
     * checked, then replaced atomically (a crash leaves the old or the new file). Returns a handle
     * under the destination CMK.
     *
     * @param keystore the keystore file whose CMK is lost
     * @param privateKey the recovery private key's file
     * @return a handle under the destination CMK, to close when done
     * @throws GeneralSecurityException as {@link #recoverDocument}; the file is then unchanged
     */
    public static LkrCrypt recoverFile(Path keystore, Path privateKey)
            throws GeneralSecurityException {
        Objects.requireNonNull(privateKey, "privateKey");
        String key = privateKey.toAbsolutePath().toString();
        return LkrCrypt.openFile(keystore, path -> Native.recoverFileFromEnv(path, key));
    }
}
