package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The jar's entry point: task names and usage (docs/native-interfaces.md conventions). */
class CliMainTest {
    static TestSupport.Run main(String... args) throws Exception {
        List<String> a =
                new java.util.ArrayList<>(
                        List.of(
                                "-cp",
                                System.getProperty("java.class.path"),
                                "io.lkr.crypt.cli.Main"));
        a.addAll(List.of(args));
        return TestSupport.fork(Map.of(), a);
    }

    @Test
    void unknownTask() throws Exception {
        TestSupport.Run r = main("frobnicate");
        assertEquals(2, r.exit, r.toString());
        assertTrue(r.err.contains("Could not find task \"frobnicate\""), r.toString());
        assertTrue(
                r.err.contains("migrate_encryption") && r.err.contains("rotate_kek"), r.toString());
    }

    @Test
    void noTaskPrintsTheList() throws Exception {
        TestSupport.Run r = main();
        assertEquals(2, r.exit, r.toString());
        for (String t :
                List.of(
                        "generate_master_key",
                        "migrate_encryption",
                        "encrypt_file",
                        "decrypt_file",
                        "rekey",
                        "rotate_kek",
                        "export_keystore",
                        "status")) {
            assertTrue(r.err.contains(t), t + " in " + r);
        }
        assertTrue(Path.of(TestSupport.javaBin()).isAbsolute());
    }
}
