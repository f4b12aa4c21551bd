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

    /** The internal database of {@code -d}, or null after logging why not. */
    InternalDb database() {
        try {
            return InternalDb.fromCreds(creds);
        } catch (IOException e) {
            log.error(e.getMessage());
            return null;
        }
    }
}
