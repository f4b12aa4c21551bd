package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.TestSupport.Run;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #19.6: what the tasks create is owner-only whatever the umask — the log, the embedded
 * database's directory and files, exported and new keystores, decrypted and encrypted outputs.
 */
class PrivateFilesTest {
    static final String LEGACY_KEY = "AAECAwQFBgcICQoLDA0ODw==";

    @TempDir Path dir;

    private Run task(String... args) throws Exception {
        Run r =
                CliChild.run(
                        dir,
                        "umask 000; ",
                        Map.of("LKR_LEGACY_KEY_ENV", LEGACY_KEY),
                        List.of(args));
        assertEquals(0, r.exit, List.of(args) + ": " + r);
        return r;
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(
                Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void everythingATaskCreatesIsOwnerOnlyWithUmask000() throws Exception {
        Files.writeString(dir.resolve("data.txt"), "a backup");
        // Under umask 000 a plain file of the child is world-writable: the umask is in force.
        CliChild.run(dir, "umask 000; touch umask-probe; ", Map.of(), List.of("help"));
        assertEquals("rw-rw-rw-", mode(dir.resolve("umask-probe")));

        task("create_sample_db", "--rows", "20");
        task("migrate_encryption");
        task("export_keystore", "exported.json");
        task("encrypt_file", "data.txt", "data.lks", "--keystore", "new-keystore.json");
        task("decrypt_file", "data.lks", "data.out", "--keystore", "new-keystore.json");
        assertEquals("a backup", Files.readString(dir.resolve("data.out")));

        Path db = dir.resolve(".db");
        assertEquals("rwx------", mode(db));
        int files = 0;
        try (Stream<Path> all = Files.walk(db)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (!p.equals(db)) {
                    assertEquals(
                            Files.isDirectory(p) ? "rwx------" : "rw-------",
                            mode(p),
                            p.toString());
                    files++;
                }
            }
        }
        assertTrue(files >= 2, "database files: " + files);
        assertEquals("rwx------", mode(dir.resolve("log")));
        for (String f :
                List.of(
                        "log/" + TaskLog.FILE,
                        "exported.json",
                        "new-keystore.json",
                        "data.lks",
                        "data.out")) {
            assertEquals("rw-------", mode(dir.resolve(f)), f);
        }
    }
}
