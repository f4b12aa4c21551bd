package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shaded jar (after `package`): runnable with java -jar, the native library inside. */
class JarIT {
    static final Path JAR = Path.of("target", "lkr-crypt.jar").toAbsolutePath();

    @Test
    void jarHoldsTheNativeLibrary() throws Exception {
        assertTrue(Files.exists(JAR), JAR.toString());
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertTrue(jar.getEntry("native/linux-x86_64/liblkr_crypt.so") != null);
            assertEquals("io.lkr.crypt.cli.Main", jar.getManifest().getMainAttributes().getValue("Main-Class"));
        }
    }

    @Test
    void javaDashJar() throws Exception {
        TestSupport.Run r = TestSupport.fork(Map.of(), List.of("-jar", JAR.toString(), "nope"));
        assertEquals(2, r.exit, r.toString());
        assertTrue(r.err.contains("Could not find task \"nope\""), r.toString());
    }

    @Test
    void theBundledLibraryLoadsFromTheJarAlone(@TempDir Path dir) throws Exception {
        // Only the jar and the probe class on the class path: no target/classes.
        String cp = JAR + java.io.File.pathSeparator + Path.of("target", "test-classes").toAbsolutePath();
        TestSupport.Run r = TestSupport.fork(Map.of("LKR_MASTER_KEY_ENV", TestSupport.TEST_CMK),
                List.of("-Djava.io.tmpdir=" + dir, "-cp", cp, OpenProbe.class.getName(), "bytes", "-"));
        assertTrue(r.out.startsWith("OK kek=1"), r.toString());
        assertTrue(r.out.contains("loaded=bundled"), r.toString());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "the extracted copy is removed after loading");
        }
    }
}
