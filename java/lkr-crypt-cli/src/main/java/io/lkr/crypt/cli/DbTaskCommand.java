package io.lkr.crypt.cli;

import java.io.PrintStream;
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

    DbTaskCommand(PrintStream out, PrintStream err) {
        super(out, err);
    }
}
