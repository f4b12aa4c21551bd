package io.lkr.crypt.cli;

import io.lkr.crypt.db.Dialect;
import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.Schema;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A sample internal database in the state of an installation before the migration: two tables whose
 * secrets are legacy AES-128-CBC values (docs/legacy.md) — for the README's main job, the tests and
 * the benchmark. This is the only AES in Java, and it only <em>produces</em> legacy values, as the
 * legacy application did (javax.crypto AES/CBC/PKCS5Padding, random IV).
 *
 * <ul>
 *   <li>{@code CONNECTION (ID INTEGER PRIMARY KEY, NAME VARCHAR(255), PASSWORD <long text>)},
 *       {@code context: row}, text;
 *   <li>{@code OAUTH_CLIENT_APP (ID VARCHAR(64) PRIMARY KEY, CLIENT_SECRET <long text>)}, {@code
 *       context: none}, binary; one row per 10 connections.
 * </ul>
 */
public final class SampleDb {
    /** The manifest of the sample tables. */
    public static final String MANIFEST =
            "# Encrypted columns of the internal database (docs/native-interfaces.md)\n"
                    + "- {table: CONNECTION, key: ID, column: PASSWORD, context: row, type: text}\n"
                    + "- {table: OAUTH_CLIENT_APP, key: ID, column: CLIENT_SECRET, context: none, type: binary}\n";

    private final SecureRandom random = new SecureRandom();
    private final Cipher cipher;
    private final SecretKeySpec key;

    /**
     * A sample database whose legacy values are encrypted with {@code legacyKey} (AES-128: 16
     * bytes).
     */
    public SampleDb(byte[] legacyKey) throws GeneralSecurityException {
        if (legacyKey == null || legacyKey.length != 16) {
            throw new IllegalArgumentException("The legacy key has 16 bytes");
        }
        this.key = new SecretKeySpec(legacyKey, "AES");
        this.cipher = Cipher.getInstance("AES/CBC/PKCS5Padding");
    }

    /** The manifest's columns. */
    public static List<EncryptedColumn> columns() {
        try {
            return YamlConfig.manifest(MANIFEST);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@link #MANIFEST} to {@code file} unless it exists; true when written. */
    public static boolean writeManifest(Path file) throws java.io.IOException {
        if (Files.exists(file)) {
            return false;
        }
        Files.writeString(file, MANIFEST, StandardCharsets.UTF_8);
        return true;
    }

    /** The sample plaintext of CONNECTION.PASSWORD in row {@code id}: {@code size} UTF-8 bytes. */
    public static String connectionPassword(int id, int size) {
        String prefix = "pw-" + id + "-\u00e9";
        int prefixBytes = prefix.getBytes(StandardCharsets.UTF_8).length;
        if (prefixBytes > size) {
            return ("pw-" + id).substring(0, Math.min(size, ("pw-" + id).length()));
        }
        StringBuilder b = new StringBuilder(size).append(prefix);
        for (int i = 0; i < size - prefixBytes; i++) {
            b.append((char) ('a' + (id * 31 + i) % 26));
        }
        return b.toString();
    }

    /**
     * The sample plaintext of OAUTH_CLIENT_APP.CLIENT_SECRET of app {@code id} (binary, not UTF-8).
     */
    public static byte[] clientSecret(int id) {
        byte[] b = new byte[40];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (0x80 | ((id * 7 + i * 13) & 0x7f));
        }
        return b;
    }

    /** The id of the n-th OAUTH_CLIENT_APP row. */
    public static String appId(int n) {
        return String.format("app-%08d", n);
    }

    /** A legacy value (IV ‖ AES-128-CBC, base64), as the legacy application stored it. */
    public String legacyEncrypt(byte[] plaintext) throws GeneralSecurityException {
        byte[] iv = new byte[16];
        random.nextBytes(iv);
        cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
        byte[] ct = cipher.doFinal(plaintext);
        byte[] out = new byte[16 + ct.length];
        System.arraycopy(iv, 0, out, 0, 16);
        System.arraycopy(ct, 0, out, 16, ct.length);
        return Base64.getEncoder().encodeToString(out);
    }

    /**
     * Creates the sample tables (dropping earlier ones) with {@code rows} connections whose
     * passwords are {@code valueSize} bytes, and {@code rows / 10 + 1} OAuth apps, all legacy.
     * {@code cached}: HyperSQL CACHED tables (on disk) instead of the default MEMORY tables.
     */
    public void create(Connection c, Dialect d, int rows, int valueSize, boolean cached)
            throws SQLException, GeneralSecurityException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            Schema.ensure(c, d);
            String tt = d == Dialect.HSQLDB && cached ? "CACHED " : "";
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + d.q("CONNECTION"));
                s.execute("DROP TABLE IF EXISTS " + d.q("OAUTH_CLIENT_APP"));
                s.execute(
                        "CREATE "
                                + tt
                                + "TABLE "
                                + d.q("CONNECTION")
                                + " ("
                                + d.q("ID")
                                + " INTEGER PRIMARY KEY, "
                                + d.q("NAME")
                                + " VARCHAR(255), "
                                + d.q("PASSWORD")
                                + " "
                                + d.longText()
                                + ")");
                s.execute(
                        "CREATE "
                                + tt
                                + "TABLE "
                                + d.q("OAUTH_CLIENT_APP")
                                + " ("
                                + d.q("ID")
                                + " VARCHAR(64) PRIMARY KEY, "
                                + d.q("CLIENT_SECRET")
                                + " "
                                + d.longText()
                                + ")");
            }
            c.commit();
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "INSERT INTO "
                                    + d.q("CONNECTION")
                                    + " ("
                                    + d.q("ID")
                                    + ", "
                                    + d.q("NAME")
                                    + ", "
                                    + d.q("PASSWORD")
                                    + ") VALUES (?, ?, ?)")) {
                for (int id = 1; id <= rows; id++) {
                    ps.setInt(1, id);
                    ps.setString(2, "connection " + id);
                    ps.setString(
                            3,
                            legacyEncrypt(
                                    connectionPassword(id, valueSize)
                                            .getBytes(StandardCharsets.UTF_8)));
                    ps.addBatch();
                    if (id % 1000 == 0 || id == rows) {
                        ps.executeBatch();
                        c.commit();
                    }
                }
            }
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "INSERT INTO "
                                    + d.q("OAUTH_CLIENT_APP")
                                    + " ("
                                    + d.q("ID")
                                    + ", "
                                    + d.q("CLIENT_SECRET")
                                    + ") VALUES (?, ?)")) {
                int apps = rows / 10 + 1;
                for (int n = 1; n <= apps; n++) {
                    ps.setString(1, appId(n));
                    ps.setString(2, legacyEncrypt(clientSecret(n)));
                    ps.addBatch();
                    if (n % 1000 == 0 || n == apps) {
                        ps.executeBatch();
                        c.commit();
                    }
                }
            }
            c.commit();
        } catch (SQLException | GeneralSecurityException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /**
     * The legacy key of the environment (LKR_LEGACY_KEY_ENV, else LKR_LEGACY_KEY_FILE), or null.
     * The caller wipes the returned array when done. The key file is read and decoded as bytes
     * (wiped here), never as a String.
     */
    public static byte[] legacyKeyFromEnvironment() throws java.io.IOException {
        String env = System.getenv("LKR_LEGACY_KEY_ENV");
        byte[] text;
        if (env != null && !env.isBlank()) {
            text = env.getBytes(StandardCharsets.ISO_8859_1);
        } else {
            String file = System.getenv("LKR_LEGACY_KEY_FILE");
            if (file == null || file.isBlank()) {
                return null;
            }
            text = Files.readAllBytes(Path.of(file));
        }
        try {
            return decodeLegacyKey(text);
        } finally {
            Arrays.fill(text, (byte) 0);
        }
    }

    /**
     * The 16-byte key in {@code base64} (surrounding whitespace allowed); {@code base64} is left as
     * it is.
     */
    static byte[] decodeLegacyKey(byte[] base64) throws java.io.IOException {
        int from = 0;
        int to = base64.length;
        while (from < to && Character.isWhitespace(base64[from])) {
            from++;
        }
        while (to > from && Character.isWhitespace(base64[to - 1])) {
            to--;
        }
        byte[] trimmed = Arrays.copyOfRange(base64, from, to);
        byte[] k;
        try {
            k = Base64.getDecoder().decode(trimmed);
        } catch (IllegalArgumentException e) {
            throw new java.io.IOException("The legacy key is not valid base64");
        } finally {
            Arrays.fill(trimmed, (byte) 0);
        }
        if (k.length != 16) {
            int n = k.length;
            Arrays.fill(k, (byte) 0);
            throw new java.io.IOException("The legacy key must be 16 bytes, but is " + n);
        }
        return k;
    }
}
