package io.lkr.crypt.cli;

import io.lkr.crypt.db.InternalDb;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/** What several tasks use: keystore files, the CMK kind of a keystore, database messages. */
final class TaskSupport {
    private TaskSupport() {}

    /**
     * Writes a keystore document to {@code file} by the rule of {@link OutputTarget}: a regular
     * file (or a new path, or a symbolic link's regular target) through a synced temporary file of
     * mode 0600 renamed into place, so a crash leaves the old file or the new one, never a mix (the
     * document holds only wrapped keys, so a leftover temporary file reveals nothing); a device
     * written directly. With {@link OutputTarget.Existing#REFUSE} an existing path stays.
     */
    static void writeKeystoreFile(Path file, byte[] doc, OutputTarget.Existing existing)
            throws IOException {
        try (OutputTarget t = OutputTarget.open(file.toString(), existing)) {
            t.stream().write(doc);
            t.commit();
        }
    }

    /** {@code message} ending as a sentence does (a full stop added where it has none). */
    static String sentence(String message) {
        return message.matches("(?s).*[.!?]\\s*") ? message.strip() : message.strip() + ".";
    }

    /**
     * The kind of CMK that wraps a keystore document (docs/keystore.md {@code master_key}):
     * "local", or "aws-kms (key id)"; "unknown" when the document cannot be read.
     */
    static String cmkKind(byte[] doc) {
        Map<String, Object> m = masterKey(doc);
        Object kind = m.get("kind");
        return "aws-kms".equals(kind) && m.get("key_id") != null
                ? kind + " (" + m.get("key_id") + ")"
                : String.valueOf(kind);
    }

    /**
     * The CMK a keystore document expects (docs/keystore.md {@code master_key}; nothing in it is
     * secret): {@code kind} ("unknown" when the document cannot be read), and {@code fingerprint}
     * (local) or {@code key_id} (aws-kms) when the document has them.
     */
    static Map<String, Object> masterKey(byte[] doc) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kind", "unknown");
        Object parsed;
        try {
            parsed =
                    new org.yaml.snakeyaml.Yaml(
                                    new org.yaml.snakeyaml.constructor.SafeConstructor(
                                            new org.yaml.snakeyaml.LoaderOptions()))
                            .load(new String(doc, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return out;
        }
        if (parsed instanceof Map && ((Map<?, ?>) parsed).get("master_key") instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) ((Map<?, ?>) parsed).get("master_key");
            out.put("kind", String.valueOf(m.get("kind")));
            for (String field : new String[] {"fingerprint", "key_id"}) {
                if (m.get(field) != null) {
                    out.put(field, String.valueOf(m.get(field)));
                }
            }
        }
        return out;
    }

    /** {@link #masterKey} for people: "local, fingerprint F" or "aws-kms, key id K". */
    static String describeCmk(Map<String, Object> cmk) {
        StringBuilder b = new StringBuilder(String.valueOf(cmk.get("kind")));
        if (cmk.get("fingerprint") != null) {
            b.append(", fingerprint ").append(cmk.get("fingerprint"));
        }
        if (cmk.get("key_id") != null) {
            b.append(", key id ").append(cmk.get("key_id"));
        }
        return b.toString();
    }

    /** An operator's message for a database failure (no value, no password). */
    static String describe(SQLException e, InternalDb db) {
        if (e instanceof InternalDb.UncleanShutdownException) {
            return e.getMessage();
        }
        String m = e.getMessage();
        return "Internal database " + db + ": " + (m == null ? e.getClass().getSimpleName() : m);
    }

    /** Closes quietly. */
    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // nothing to do
            }
        }
    }
}
