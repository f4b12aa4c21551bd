package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.TestSupport.Run;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;

/** Issue #19.1: versions, help as a task, a described and grouped task list, described options. */
class DiscoverableTest {
    @TempDir Path dir;

    private Run cli(String... args) throws Exception {
        return CliChild.run(dir, "", Map.of(), List.of(args));
    }

    @Test
    void versionAndDashDashVersionPrintTheJarsAndTheLibrarysVersions() throws Exception {
        String jar = "lkr-crypt.jar " + LkrCrypt.version();
        String lib = LkrCrypt.nativeVersion();
        String crate = lib.substring(0, lib.lastIndexOf('/'));
        String abi = lib.substring(lib.lastIndexOf('/') + 1);
        for (String[] args :
                List.of(
                        new String[] {"--version"},
                        new String[] {"version"},
                        new String[] {"-V"},
                        new String[] {"status", "--version"})) {
            Run r = cli(args);
            assertEquals(0, r.exit, r.toString());
            List<String> lines = r.out.lines().toList();
            assertEquals(jar, lines.get(0), r.toString());
            assertTrue(
                    lines.get(1).startsWith("native library " + crate + " (JNI ABI " + abi + ")"),
                    r.toString());
            // Issue #22: the FIPS mode is said too (the default build is not the FIPS build).
            assertTrue(
                    lines.get(1)
                            .endsWith(
                                    LkrCrypt.isFipsMode()
                                            ? ", FIPS mode (AWS-LC's FIPS 140-3 module, docs/fips.md)"
                                            : ", not the FIPS build"),
                    r.toString());
            assertEquals("", r.err, r.toString());
        }
    }

    @Test
    void helpListsEveryTaskGroupedWithADescription() throws Exception {
        Run r = cli("help");
        assertEquals(0, r.exit, r.toString());
        assertEquals("", r.err);
        String[] groups = {"Migration:", "Keys:", "Files:", "Inspection:", "Development"};
        int at = -1;
        for (String g : groups) {
            int i = r.out.indexOf("\n  " + g);
            assertTrue(i > at, g + " after the group before it in " + r.out);
            at = i;
        }
        int development = r.out.indexOf("\n  Development");
        for (String dev : List.of("create_sample_db", "read_value")) {
            assertTrue(r.out.indexOf("\n    " + dev + " ") > development, dev + " in " + r.out);
        }
        CommandLine cl = Main.commandLine(quiet(), quiet(), null);
        for (Map.Entry<String, CommandLine> t : cl.getSubcommands().entrySet()) {
            String first = t.getValue().getCommandSpec().usageMessage().description()[0];
            assertTrue(
                    r.out.matches("(?s).*\n    " + t.getKey() + " +\\Q" + first + "\\E\n.*"),
                    t.getKey() + " with its description in " + r.out);
        }
        // No task: the same list on stderr, exit 2; an unknown task also names it.
        Run none = cli();
        assertEquals(2, none.exit);
        assertEquals(r.out, none.err);
        Run unknown = cli("help", "frobnicate");
        assertEquals(2, unknown.exit, unknown.toString());
        assertTrue(unknown.err.startsWith("Could not find task \"frobnicate\"\n" + r.out));
    }

    @Test
    void helpOfATaskIsItsUsage() throws Exception {
        Run help = cli("help", "migrate_encryption");
        Run dashDash = cli("migrate_encryption", "--help");
        assertEquals(0, help.exit, help.toString());
        assertTrue(help.out.startsWith("Usage: migrate_encryption "), help.out);
        assertTrue(help.out.contains("--skip-undecryptable"), help.out);
        assertEquals(dashDash.out, help.out);
    }

    @Test
    void everyOptionAndParameterHasADescription() {
        CommandLine cl = Main.commandLine(quiet(), quiet(), null);
        int checked = 0;
        for (Map.Entry<String, CommandLine> t : cl.getSubcommands().entrySet()) {
            List<ArgSpec> args = t.getValue().getCommandSpec().args();
            for (ArgSpec a : args) {
                String d = String.join(" ", a.description()).trim();
                assertFalse(d.isEmpty(), t.getKey() + " " + a + " has no description");
                checked++;
            }
        }
        assertTrue(checked > 40, "options checked: " + checked);
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
