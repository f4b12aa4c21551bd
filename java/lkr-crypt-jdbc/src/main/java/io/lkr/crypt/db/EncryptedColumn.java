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

    public EncryptedColumn(String table, String key, String column, Context context, boolean text) {
        this.table = Objects.requireNonNull(table, "table");
        this.key = Objects.requireNonNull(key, "key");
        this.column = Objects.requireNonNull(column, "column");
        this.context = Objects.requireNonNull(context, "context");
        this.text = text;
    }

    public String table() {
        return table;
    }

    public String key() {
        return key;
    }

    public String column() {
        return column;
    }

    public Context context() {
        return context;
    }

    /** True for {@code type: text}: the plaintext must be valid UTF-8. */
    public boolean isText() {
        return text;
    }

    /** {@code TABLE.COLUMN}. */
    public String name() {
        return table + "." + column;
    }

    /** The context bytes of the value in the row whose key is {@code keyValue}. */
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
