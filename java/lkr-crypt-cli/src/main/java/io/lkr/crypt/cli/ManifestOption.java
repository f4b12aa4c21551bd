package io.lkr.crypt.cli;

import io.lkr.crypt.db.EncryptedColumn;
import io.lkr.crypt.db.Manifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The {@code --columns FILE} option of the tasks that read the manifest of encrypted columns
 * (docs/native-interfaces.md), a picocli mixin: {@code @Mixin ManifestOption columns}.
 */
final class ManifestOption {
    @Option(
            names = "--columns",
            paramLabel = "FILE",
            defaultValue = Manifest.DEFAULT_FILE,
            description = "Manifest of encrypted columns (default: ${DEFAULT-VALUE})")
    Path file;

    /** The manifest's columns; throws with an operator's message when it cannot be read. */
    List<EncryptedColumn> read() throws IOException {
        return YamlConfig.manifest(file);
    }
}
