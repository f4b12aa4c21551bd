package io.lkr.crypt.cli;

import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.InternalDb;
import io.lkr.crypt.db.Manifest;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The tasks' YAML files (docs/native-interfaces.md): a {@code db.yaml} naming the internal database
 * and the manifest of encrypted columns. SnakeYAML with its safe constructor reads them; the
 * internal database's artifact (lkr-crypt-jdbc) takes what it returns and depends on no parser.
 */
public final class YamlConfig {
    private YamlConfig() {}

    /**
     * The database named by {@code credsOrNull} (a db.yaml), or the default embedded one.
     *
     * @param credsOrNull the db.yaml, or null for {@link InternalDb#DEFAULT_HSQLDB_PATH}
     * @return where the database is
     * @throws IOException when the file is missing, not YAML or its settings are wrong
     */
    public static InternalDb internalDb(Path credsOrNull) throws IOException {
        if (credsOrNull == null) {
            return InternalDb.hsqldb(InternalDb.DEFAULT_HSQLDB_PATH);
        }
        Object doc;
        try {
            doc = load(credsOrNull);
        } catch (NoSuchFileException e) {
            throw new IOException("Database credentials file not found: " + credsOrNull, e);
        } catch (YAMLException e) {
            throw new IOException(
                    "Database credentials file "
                            + credsOrNull
                            + " is not valid YAML: "
                            + e.getMessage(),
                    e);
        }
        if (!(doc instanceof Map)) {
            throw new IOException(
                    "Database credentials file "
                            + credsOrNull
                            + " must be a YAML mapping "
                            + "(dialect, host, port, database, username, password)");
        }
        return InternalDb.fromSettings((Map<?, ?>) doc, credsOrNull.toString());
    }

    /**
     * The manifest of encrypted columns in {@code file}.
     *
     * @param file the manifest (e.g. {@link Manifest#DEFAULT_FILE})
     * @return its columns
     * @throws IOException when the file is missing, not YAML or not a valid manifest
     */
    public static List<EncryptedColumn> manifest(Path file) throws IOException {
        Object doc;
        try {
            doc = load(file);
        } catch (NoSuchFileException e) {
            throw new IOException(
                    "The manifest of encrypted columns was not found: "
                            + file
                            + " (give --columns FILE)",
                    e);
        } catch (YAMLException e) {
            throw new IOException(
                    "The manifest " + file + " is not valid YAML: " + e.getMessage(), e);
        }
        return Manifest.fromDocument(doc, file.toString());
    }

    /**
     * The manifest of encrypted columns in {@code yaml}.
     *
     * @param yaml the manifest's text
     * @return its columns
     * @throws IOException when the text is not YAML or not a valid manifest
     */
    public static List<EncryptedColumn> manifest(String yaml) throws IOException {
        try {
            return Manifest.fromDocument(yaml().load(yaml), "manifest");
        } catch (YAMLException e) {
            throw new IOException("The manifest is not valid YAML: " + e.getMessage(), e);
        }
    }

    private static Object load(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return yaml().load(r);
        }
    }

    /** Plain data only: SnakeYAML 2's safe constructor builds no arbitrary class. */
    private static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }
}
