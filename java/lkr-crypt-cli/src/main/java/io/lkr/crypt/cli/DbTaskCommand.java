package io.lkr.crypt.cli;

import io.lkr.crypt.db.InternalDb;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * A task on the internal database: its {@code -d} option (the embedded HyperSQL database by
 * default).
 */
abstract class DbTaskCommand extends TaskCommand {
    @Option(
            names = {"-d", "--internal-db-creds"},
            paramLabel = "db.yaml",
            description =
                    "YAML file naming the internal database (default: embedded HyperSQL ./.db/lkr)")
    Path creds;

    /** Whether this run uses the internal database (not, e.g., with a keystore file). */
    boolean usesDatabase() {
        return true;
    }

    @Override
    void printLocations() {
        if (usesDatabase()) {
            try {
                err.println(
                        "Internal database: " + YamlConfig.internalDb(creds, home()).location());
            } catch (IOException e) {
                // reported when the task opens it
            }
        }
    }

    /** The internal database of {@code -d}, or null after logging why not. */
    InternalDb database() {
        try {
            return YamlConfig.internalDb(creds, home());
        } catch (IOException e) {
            log.error(e.getMessage());
            return null;
        }
    }
}
