package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.TestSupport.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #19.4: a wrong legacy key lists at most {@value MigrateEncryptionTask#LISTED} values on
 * stderr, after the total and the hint; the log lists every one.
 */
class UndecryptableReportTest {
    static final String RIGHT_KEY = "AAECAwQFBgcICQoLDA0ODw==";
    static final String WRONG_KEY = "Dw4NDAsKCQgHBgUEAwIBAA==";

    @TempDir Path dir;

    @Test
    void aWrongKeyGivesABoundedListWithTheHintFirst() throws Exception {
        Run made =
                CliChild.run(
                        dir,
                        "",
                        Map.of("LKR_LEGACY_KEY_ENV", RIGHT_KEY),
                        List.of("create_sample_db", "--rows", "200"));
        assertEquals(0, made.exit, made.toString());
        // CONNECTION 200 rows + OAUTH_CLIENT_APP 21 rows, all legacy.
        int total = 200 + 200 / 10 + 1;
        Run r =
                CliChild.run(
                        dir,
                        "",
                        Map.of("LKR_LEGACY_KEY_ENV", WRONG_KEY),
                        List.of("migrate_encryption"));
        assertEquals(1, r.exit, r.toString());
        List<String> err =
                r.err.lines()
                        .filter(l -> !l.startsWith("Internal database: ") && !l.startsWith("Log: "))
                        .toList();
        assertTrue(err.get(0).contains("the legacy key is almost certainly wrong"), r.err);
        assertTrue(err.get(0).contains("LKR_LEGACY_KEY_ENV"), r.err);
        // Under a wrong key about one binary value in 256 still has valid padding (the sample's
        // IVs are random): all 221 fail, or all but a few.
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("(\\d+) value\\(s\\) do not decrypt.*")
                        .matcher(err.get(1));
        assertTrue(m.matches(), r.err);
        int failed = Integer.parseInt(m.group(1));
        assertTrue(failed <= total && total - failed <= 3, r.err);
        long listed =
                err.stream()
                        .filter(l -> l.matches("  (CONNECTION|OAUTH_CLIENT_APP) ID=.*"))
                        .count();
        assertEquals(MigrateEncryptionTask.LISTED, listed, r.err);
        assertTrue(
                r.err.contains(
                        "... and "
                                + (failed - MigrateEncryptionTask.LISTED)
                                + " more, every one listed in log/lkr-crypt.log"),
                r.err);
        assertTrue(err.size() < 60, "stderr stays short: " + err.size() + " lines");
        String log = Files.readString(dir.resolve("log").resolve(TaskLog.FILE));
        long logged =
                log.lines()
                        .filter(l -> l.matches(".*:: +(CONNECTION|OAUTH_CLIENT_APP) ID=.*"))
                        .count();
        assertEquals(failed, logged, "the log lists every value");
    }
}
