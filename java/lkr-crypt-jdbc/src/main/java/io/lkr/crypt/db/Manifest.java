package io.lkr.crypt.db;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The manifest of encrypted columns (docs/native-interfaces.md), a YAML list:
 *
 * <pre>
 * - {table: CONNECTION, key: ID, column: PASSWORD, context: row}
 * - {table: OAUTH_CLIENT, key: ID, column: SECRET, context: none, type: binary}
 * </pre>
 */
public final class Manifest {
    /** The default manifest, relative to the working directory. */
    public static final String DEFAULT_FILE = "encrypted_columns.yaml";

    private Manifest() {}

    /**
     * The columns of a manifest as a YAML or JSON parser returns it (a list of mappings); {@code
     * where} (e.g. the file's name) starts every message. Reading the file is the caller's (the
     * command line's {@code YamlConfig}): this artifact depends on no parser.
     *
     * @param doc the parsed manifest: null (no columns) or a list of mappings
     * @param where what the manifest came from, for the messages
     * @return the columns, in the manifest's order
     * @throws IOException when an entry is missing a field or has a wrong one, or a column is
     *     listed twice; the message says which
     */
    public static List<EncryptedColumn> fromDocument(Object doc, String where) throws IOException {
        List<EncryptedColumn> out = new ArrayList<>();
        if (doc == null) {
            return out;
        }
        if (!(doc instanceof List)) {
            throw new IOException(
                    where
                            + ": the manifest must be a YAML list of "
                            + "{table, key, column, context: row|none, type: text|binary}");
        }
        Set<String> seen = new HashSet<>();
        int i = 0;
        for (Object item : (List<?>) doc) {
            i++;
            if (!(item instanceof Map)) {
                throw new IOException(where + ": entry " + i + " is not a mapping");
            }
            Map<?, ?> m = (Map<?, ?>) item;
            String table = req(m, "table", where, i);
            String key = req(m, "key", where, i);
            String column = req(m, "column", where, i);
            String ctx = opt(m, "context", "row").toLowerCase(Locale.ROOT);
            EncryptedColumn.Context context;
            if (ctx.equals("row")) {
                context = EncryptedColumn.Context.ROW;
            } else if (ctx.equals("none")) {
                context = EncryptedColumn.Context.NONE;
            } else {
                throw new IOException(
                        where + ": entry " + i + ": context must be row or none, not " + ctx);
            }
            String type = opt(m, "type", "text").toLowerCase(Locale.ROOT);
            if (!type.equals("text") && !type.equals("binary")) {
                throw new IOException(
                        where + ": entry " + i + ": type must be text or binary, not " + type);
            }
            if (!seen.add(table + "." + column)) {
                throw new IOException(where + ": " + table + "." + column + " is listed twice");
            }
            out.add(new EncryptedColumn(table, key, column, context, type.equals("text")));
        }
        return out;
    }

    private static String req(Map<?, ?> m, String k, String where, int i) throws IOException {
        Object v = m.get(k);
        if (v == null || String.valueOf(v).isEmpty()) {
            throw new IOException(where + ": entry " + i + " has no " + k);
        }
        return String.valueOf(v);
    }

    private static String opt(Map<?, ?> m, String k, String dflt) {
        Object v = m.get(k);
        return v == null ? dflt : String.valueOf(v);
    }
}
