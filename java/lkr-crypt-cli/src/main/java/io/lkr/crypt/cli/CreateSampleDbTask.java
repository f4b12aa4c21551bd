package io.lkr.crypt.cli;

import io.lkr.crypt.db.InternalDb;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.SQLException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code create_sample_db}: builds a sample internal database in its pre-migration state — the
 * tables of {@link SampleDb} with legacy AES-128-CBC values under the legacy key of the environment
 * ({@code LKR_LEGACY_KEY_ENV} / {@code LKR_LEGACY_KEY_FILE}) — and its manifest (unless one
 * exists). For demonstrations and tests: it replaces earlier sample tables.
 */
@Command(
        name = "create_sample_db",
        description =
                "Creates a sample "
                        + "internal database with legacy AES-128-CBC values (demonstration and tests).")
public final class CreateSampleDbTask extends DbTaskCommand {
    @Option(
            names = "--rows",
            defaultValue = "1000",
            description = "CONNECTION rows (default: ${DEFAULT-VALUE})")
    int rows;

    @Option(
            names = "--value-size",
            defaultValue = "64",
            description = "Bytes of each CONNECTION.PASSWORD plaintext (default: ${DEFAULT-VALUE})")
    int valueSize;

    @Option(
            names = "--columns",
            paramLabel = "FILE",
            defaultValue = "encrypted_columns.yaml",
            description =
                    "Where to write the manifest, unless it exists (default: ${DEFAULT-VALUE})")
    Path columns;

    @Option(
            names = "--cached",
            description = "HyperSQL CACHED tables (on disk) instead of MEMORY tables")
    boolean cached;

    @Override
    String optionError() {
        String rowsError = outside("--rows", rows, 0, Integer.MAX_VALUE);
        return rowsError != null
                ? rowsError
                : outside("--value-size", valueSize, 1, Integer.MAX_VALUE);
    }

    /** Writes no keystore: needs no CMK. */
    @Override
    void checkMasterKey() {}

    @Override
    int work() {
        byte[] key;
        try {
            key = SampleDb.legacyKeyFromEnvironment();
        } catch (IOException e) {
            err.println(e.getMessage());
            return FAILED;
        }
        if (key == null) {
            err.println(
                    "No legacy key: set LKR_LEGACY_KEY_ENV to the legacy AES-128 key in base64, "
                            + "e.g. export LKR_LEGACY_KEY_ENV=$(openssl rand -base64 16)");
            return FAILED;
        }
        InternalDb db = database();
        if (db == null) {
            java.util.Arrays.fill(key, (byte) 0);
            return FAILED;
        }
        long t0 = System.nanoTime();
        try (Connection c = db.connectForTask(true)) {
            new SampleDb(key).create(c, db.dialect(), rows, valueSize, cached);
            boolean wrote = SampleDb.writeManifest(columns);
            out.printf(
                    "Created the sample internal database %s: CONNECTION (%d rows, PASSWORD of %d bytes) and "
                            + "OAUTH_CLIENT_APP (%d rows), all legacy AES-128-CBC, in %.1f s%n",
                    db, rows, valueSize, rows / 10 + 1, (System.nanoTime() - t0) / 1e9);
            out.println(
                    wrote
                            ? "Wrote the manifest " + columns
                            : "Kept the existing manifest " + columns);
            return OK;
        } catch (SQLException e) {
            err.println(TaskSupport.describe(e, db));
            return FAILED;
        } catch (GeneralSecurityException | IOException e) {
            err.println(e.getMessage());
            return FAILED;
        } finally {
            java.util.Arrays.fill(key, (byte) 0);
        }
    }
}
