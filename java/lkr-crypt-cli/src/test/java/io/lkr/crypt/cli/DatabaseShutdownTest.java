package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.TestSupport.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14 item 8: every database task, in a real JVM on the embedded default database ({@code
 * ./.db/lkr}), ends after its work and leaves the database shut down cleanly — and a shutdown that
 * HyperSQL could not complete (it swallows the failure) is reported, not exit 0.
 */
class DatabaseShutdownTest {
    static final String LEGACY_KEY = "AAECAwQFBgcICQoLDA0ODw==";

    @TempDir Path dir;

    @Test
    void everyDatabaseTaskEndsWithTheDatabaseShutDown() throws Exception {
        List<List<String>> tasks =
                List.of(
                        List.of("create_sample_db", "--rows", "300"),
                        List.of("migrate_encryption"),
                        List.of("migrate_encryption"),
                        List.of("status"),
                        List.of("read_value", "CONNECTION.PASSWORD", "7"),
                        List.of("export_keystore", "ks.json"),
                        List.of("encrypt_file", "encrypted_columns.yaml", "x.lks"),
                        List.of("decrypt_file", "x.lks", "y.yaml"),
                        List.of("rotate_kek"),
                        List.of("migrate_encryption", "--reencrypt"),
                        List.of("retire_kek", "--kek-id", "1"));
        for (List<String> task : tasks) {
            Run r = runTask("", task);
            assertEquals(0, r.exit, task + ": " + r.err);
            assertShutDown(task.toString());
        }
    }

    /**
     * A shutdown that cannot rewrite the database's script (here: a file size limit smaller than
     * the script; in the field, a full disk) used to leave .script.new and .log behind with exit
     * status 0. Now it is exit status 1 with a message, and the next open recovers.
     */
    @Test
    void aShutdownThatCannotCompleteIsReported() throws Exception {
        assertEquals(0, runTask("", List.of("create_sample_db", "--rows", "3000")).exit);
        Run m = runTask("", List.of("migrate_encryption"));
        assertEquals(0, m.exit, m.err);
        long script = Files.size(dir.resolve(".db").resolve("lkr.script"));
        assertTrue(script > 400_000, "script of " + script + " bytes");
        // rotate_kek logs one small change, then the shutdown rewrites the whole script.
        Run r = runTask("ulimit -f " + script / 1024 / 2 + "; ", List.of("rotate_kek"));
        assertEquals(1, r.exit, "exit status of a task whose database shutdown failed: " + r.err);
        assertTrue(
                r.err.contains("was not shut down cleanly") && r.err.contains("free disk space"),
                r.err);
        // The next open recovers the rotation from the log.
        Run s = runTask("", List.of("status"));
        assertEquals(0, s.exit, s.err);
        assertTrue(s.out.contains("Active KEK: 2"), s.out);
        assertShutDown("status after recovery");
    }

    private void assertShutDown(String after) {
        for (String f : List.of("lkr.script.new", "lkr.log", "lkr.lck")) {
            assertFalse(
                    Files.exists(dir.resolve(".db").resolve(f)),
                    ".db/" + f + " left after " + after);
        }
    }

    private Run runTask(String shellPrefix, List<String> task) throws Exception {
        return CliChild.run(dir, shellPrefix, Map.of("LKR_LEGACY_KEY_ENV", LEGACY_KEY), task);
    }
}
