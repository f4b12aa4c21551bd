package io.lkr.crypt.cli;

import io.lkr.crypt.db.InternalDb;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;

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

    /**
     * The kind of CMK that wraps a keystore document (docs/keystore.md {@code master_key}):
     * "local", or "aws-kms (key id)"; "unknown" when the document cannot be read.
     */
    static String cmkKind(byte[] doc) {
        Object parsed;
        try {
            parsed =
                    new org.yaml.snakeyaml.Yaml(
                                    new org.yaml.snakeyaml.constructor.SafeConstructor(
                                            new org.yaml.snakeyaml.LoaderOptions()))
                            .load(new String(doc, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return "unknown";
        }
        if (parsed instanceof java.util.Map) {
            Object mk = ((java.util.Map<?, ?>) parsed).get("master_key");
            if (mk instanceof java.util.Map) {
                java.util.Map<?, ?> m = (java.util.Map<?, ?>) mk;
                String kind = String.valueOf(m.get("kind"));
                return "aws-kms".equals(kind) && m.get("key_id") != null
                        ? kind + " (" + m.get("key_id") + ")"
                        : kind;
            }
        }
        return "unknown";
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
