package io.lkr.crypt.db;

import io.lkr.crypt.ErrorKind;
import io.lkr.crypt.KeystoreException;
import io.lkr.crypt.LkrCrypt;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The keystore kept in the internal database ({@code SETTING.encryption_keystore},
 * docs/keystore.md): every node of a cluster uses the same KEKs. A new installation creates one;
 * when two processes create one together, the INSERT of the loser fails on the existing row, and
 * the loser re-reads and uses the winner's.
 */
public final class KeystoreStore {
    private KeystoreStore() {}

    /**
     * How a keystore document is opened: by default {@link LkrCrypt#openFromEnvironment(byte[])}
     * (the caller may note a refusal, e.g. to explain a CMK mismatch).
     */
    @FunctionalInterface
    public interface Opener {
        /**
         * Opens {@code keystoreOrNull}, or a new keystore when it is null.
         *
         * @param keystoreOrNull a keystore document, or null
         * @return the engine, to close
         * @throws GeneralSecurityException when the keystore does not open with the CMK
         */
        LkrCrypt open(byte[] keystoreOrNull) throws GeneralSecurityException;
    }

    /**
     * The stored keystore document, or null on a new installation.
     *
     * @param c an open connection
     * @param d its dialect
     * @return the document, or null
     * @throws SQLException when the database fails
     */
    public static byte[] read(Connection c, Dialect d) throws SQLException {
        String v = Settings.get(c, d, Settings.KEYSTORE);
        return v == null ? null : v.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Opens the stored keystore for reading: a missing one is an error naming where it was looked
     * for.
     *
     * @param c an open connection
     * @param d its dialect
     * @param where the database's description, for the message
     * @return the engine, to close
     * @throws SQLException when the database fails
     * @throws GeneralSecurityException when the keystore does not open with the CMK
     */
    public static LkrCrypt openExisting(Connection c, Dialect d, String where)
            throws SQLException, GeneralSecurityException {
        return openExisting(c, d, where, LkrCrypt::openFromEnvironment);
    }

    /**
     * As {@link #openExisting(Connection, Dialect, String)}, opened by {@code opener}.
     *
     * @param c an open connection
     * @param d its dialect
     * @param where the database's description, for the message
     * @param opener how the document is opened
     * @return the engine, to close
     * @throws SQLException when the database fails
     * @throws GeneralSecurityException when the keystore does not open with the CMK
     */
    public static LkrCrypt openExisting(Connection c, Dialect d, String where, Opener opener)
            throws SQLException, GeneralSecurityException {
        byte[] ks = read(c, d);
        if (ks == null) {
            throw new KeystoreException(
                    ErrorKind.KEYSTORE,
                    "Missing keystore: no "
                            + Settings.KEYSTORE
                            + " in table "
                            + Schema.SETTING
                            + " of the internal database "
                            + where);
        }
        return opener.open(ks);
    }

    /**
     * Publishes {@code created} (a freshly created keystore) unless one is stored already, and
     * returns the engine to use: {@code created} when it won, else a new engine over the stored
     * keystore ({@code created} is then closed).
     *
     * @param c an open connection
     * @param d its dialect
     * @param created a new engine over a new keystore
     * @return the engine to use, to close
     * @throws SQLException when the database fails
     * @throws GeneralSecurityException when the keystore does not open with the CMK
     */
    public static LkrCrypt publishOrAdopt(Connection c, Dialect d, LkrCrypt created)
            throws SQLException, GeneralSecurityException {
        return publishOrAdopt(c, d, created, LkrCrypt::openFromEnvironment);
    }

    /**
     * As {@link #publishOrAdopt(Connection, Dialect, LkrCrypt)}, the stored keystore opened by
     * {@code opener}.
     *
     * @param c an open connection
     * @param d its dialect
     * @param created a new engine over a new keystore
     * @param opener how a stored document is opened
     * @return the engine to use, to close
     * @throws SQLException when the database fails
     * @throws GeneralSecurityException when the keystore does not open with the CMK
     */
    public static LkrCrypt publishOrAdopt(Connection c, Dialect d, LkrCrypt created, Opener opener)
            throws SQLException, GeneralSecurityException {
        String doc = new String(created.exportKeystore(), StandardCharsets.UTF_8);
        if (Settings.insertIfAbsent(c, d, Settings.KEYSTORE, doc)) {
            return created;
        }
        created.close();
        byte[] theirs = read(c, d);
        if (theirs == null) {
            throw new SQLException("The keystore row could neither be inserted nor read");
        }
        return opener.open(theirs);
    }

    /**
     * Replaces the stored keystore {@code expected} with {@code replacement} in one committed
     * compare-and-set UPDATE (rekey, KEK rotation): a crash leaves the old or the new document, and
     * nothing is changed when another writer replaced it first (returns false).
     *
     * @param c an open connection
     * @param d its dialect
     * @param expected the stored document
     * @param replacement the new document
     * @return whether it was replaced
     * @throws SQLException when the database fails
     */
    public static boolean replace(Connection c, Dialect d, byte[] expected, byte[] replacement)
            throws SQLException {
        return Settings.compareAndSet(
                c,
                d,
                Settings.KEYSTORE,
                new String(expected, StandardCharsets.UTF_8),
                new String(replacement, StandardCharsets.UTF_8));
    }

    /**
     * Opens the stored keystore, or creates and publishes one (an open for writing).
     *
     * @param c an open connection
     * @param d its dialect
     * @return the engine, to close
     * @throws SQLException when the database fails
     * @throws GeneralSecurityException when the keystore does not open with the CMK
     */
    public static LkrCrypt openForWriting(Connection c, Dialect d)
            throws SQLException, GeneralSecurityException {
        return openForWriting(c, d, LkrCrypt::openFromEnvironment);
    }

    /**
     * As {@link #openForWriting(Connection, Dialect)}, every keystore opened by {@code opener}.
     *
     * @param c an open connection
     * @param d its dialect
     * @param opener how a document (null: a new keystore) is opened
     * @return the engine, to close
     * @throws SQLException when the database fails
     * @throws GeneralSecurityException when the keystore does not open with the CMK
     */
    public static LkrCrypt openForWriting(Connection c, Dialect d, Opener opener)
            throws SQLException, GeneralSecurityException {
        byte[] ks = read(c, d);
        if (ks != null) {
            return opener.open(ks);
        }
        return publishOrAdopt(c, d, opener.open(null), opener);
    }
}
