package io.lkr.crypt.db;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One encrypted column of the manifest (docs/native-interfaces.md): {@code - {table: CONNECTION,
 * key: ID, column: PASSWORD, context: row, type: text}}.
 */
public final class EncryptedColumn {
    /** What a value is bound to. */
    public enum Context {
        /** {@code TABLE.COLUMN:<key value>}. */
        ROW,
        /** The empty context. */
        NONE
    }

    private final String table;
    private final String key;
    private final String column;
    private final Context context;
    private final boolean text;

    /**
     * A column of the manifest.
     *
     * @param table the table
     * @param key the table's key column
     * @param column the encrypted column
     * @param context how a value's context is made
     * @param text whether the plaintext is UTF-8 text ({@code type: text})
     */
    public EncryptedColumn(String table, String key, String column, Context context, boolean text) {
        this.table = Objects.requireNonNull(table, "table");
        this.key = Objects.requireNonNull(key, "key");
        this.column = Objects.requireNonNull(column, "column");
        this.context = Objects.requireNonNull(context, "context");
        this.text = text;
    }

    /**
     * The table.
     *
     * @return its name
     */
    public String table() {
        return table;
    }

    /**
     * The table's key column (the row's key is part of a {@code row} context).
     *
     * @return its name
     */
    public String key() {
        return key;
    }

    /**
     * The encrypted column.
     *
     * @return its name
     */
    public String column() {
        return column;
    }

    /**
     * How a value's context is made.
     *
     * @return {@code ROW} or {@code NONE}
     */
    public Context context() {
        return context;
    }

    /**
     * True for {@code type: text}: the plaintext must be valid UTF-8.
     *
     * @return whether the column holds text
     */
    public boolean isText() {
        return text;
    }

    /**
     * {@code TABLE.COLUMN}.
     *
     * @return the column's qualified name
     */
    public String name() {
        return table + "." + column;
    }

    /**
     * The context bytes of the value in the row whose key is {@code keyValue}.
     *
     * @param keyValue the row's key
     * @return the context's bytes
     */
    public byte[] contextFor(String keyValue) {
        if (context == Context.NONE) {
            return new byte[0];
        }
        return (table + "." + column + ":" + keyValue).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return name();
    }
}
