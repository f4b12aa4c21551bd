package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shaded jar (after `package`): runnable with java -jar, the native library inside. */
class JarIT {
    /** java/target/lkr-crypt.jar (the pom passes it; the tests run in java/lkr-crypt-cli/). */
    static final Path JAR =
            Path.of(System.getProperty("lkr.jar", "../target/lkr-crypt.jar")).toAbsolutePath();

    /**
     * Only the jar and the probe class on the class path (lkr-crypt's test classes, where {@link
     * OpenProbe} is): no target/classes.
     */
    static final String JAR_AND_PROBE = JAR + java.io.File.pathSeparator + probeLocation();

    private static Path probeLocation() {
        try {
            return Path.of(
                    OpenProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** ELF e_machine of each bundled platform's library. */
    private static final Map<String, Integer> ELF_MACHINE =
            Map.of("linux-x86_64", 62, "linux-aarch64", 183);

    /**
     * Every platform the build bundles ({@code lkr.native.platforms}, set by the pom: linux-x86_64,
     * and linux-aarch64 with -Paarch64) has its library in the jar, built for that machine.
     */
    @Test
    void jarHoldsTheNativeLibraries() throws Exception {
        assertTrue(Files.exists(JAR), JAR.toString());
        String platforms = System.getProperty("lkr.native.platforms", "linux-x86_64");
        try (JarFile jar = new JarFile(JAR.toFile())) {
            for (String platform : platforms.split(",")) {
                JarEntry entry = jar.getJarEntry("native/" + platform + "/liblkr_crypt.so");
                assertTrue(entry != null, "the jar bundles no library for " + platform);
                byte[] head = new byte[20];
                try (InputStream in = jar.getInputStream(entry)) {
                    assertEquals(head.length, in.readNBytes(head, 0, head.length));
                }
                int machine = (head[18] & 0xff) | (head[19] & 0xff) << 8;
                assertEquals(
                        ELF_MACHINE.get(platform),
                        machine,
                        "ELF machine of the library bundled for " + platform);
            }
            assertEquals(
                    "io.lkr.crypt.cli.Main",
                    jar.getManifest().getMainAttributes().getValue("Main-Class"));
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
        TestSupport.Run r = probe("-Djava.io.tmpdir=" + dir);
        assertTrue(r.out.startsWith("OK kek=1"), r.toString());
        assertTrue(r.out.contains("loaded=bundled"), r.toString());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "the extracted copy is removed after loading");
        }
    }

    @Test
    void theJarRefusesAStaleLibraryOnTheLibraryPath(@TempDir Path dir) throws Exception {
        Path lib = dir.resolve(System.mapLibraryName("lkr_crypt"));
        NativeLoaderTest.cc(lib, "int lkr_crypt_stale_marker(void) { return 1; }\n", false);
        TestSupport.Run r = probe("-Djava.library.path=" + dir);
        assertEquals(2, r.exit, r.toString());
        assertTrue(
                r.out.startsWith("LINK java.lang.UnsatisfiedLinkError The native library " + lib),
                r.toString());
        assertTrue(r.out.contains("-Dlkr.crypt.library=PATH"), r.toString());
        // The jar's own library, named explicitly, loads.
        Path good = Files.createDirectory(dir.resolve("good")).resolve(lib.getFileName());
        try (JarFile jar = new JarFile(JAR.toFile())) {
            Files.copy(
                    jar.getInputStream(jar.getEntry("native/linux-x86_64/liblkr_crypt.so")), good);
        }
        r = probe("-Djava.library.path=" + dir, "-Dlkr.crypt.library=" + good);
        assertTrue(r.out.startsWith("OK kek=1") && r.out.contains("loaded=" + good), r.toString());
    }

    @Test
    void leftoversOfAKilledJvmAreRemovedOnceStale(@TempDir Path dir) throws Exception {
        // What a JVM killed between extracting and deleting leaves:
        // lkr-crypt-<digits>/liblkr_crypt.so.
        FileTime old = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        Path stale = leftover(dir, "lkr-crypt-123", old);
        Path fresh = leftover(dir, "lkr-crypt-456", FileTime.from(Instant.now()));
        Path foreign = leftover(dir, "lkr-crypt-789", old);
        Files.writeString(foreign.resolve("notes.txt"), "not the loader's");
        Files.setLastModifiedTime(foreign, old);
        Path other = leftover(dir, "lkr-cryptic", old);

        TestSupport.Run r = probe("-Djava.io.tmpdir=" + dir);
        assertTrue(r.out.contains("loaded=bundled"), r.toString());
        assertTrue(Files.notExists(stale), "an hour-old leftover is removed");
        assertTrue(
                Files.exists(fresh.resolve("liblkr_crypt.so")),
                "a recent one may be another JVM's extraction");
        assertTrue(
                Files.exists(foreign.resolve("notes.txt"))
                        && Files.notExists(foreign.resolve("liblkr_crypt.so")),
                "only the library file is deleted; a directory holding anything else stays");
        assertTrue(
                Files.exists(other.resolve("liblkr_crypt.so")),
                "names other than lkr-crypt-<digits> are not touched");
    }

    /**
     * {@link OpenProbe} opening a new keystore with the test CMK, in a child JVM with these options
     * and only {@link #JAR_AND_PROBE} on its class path.
     */
    private static TestSupport.Run probe(String... jvmOptions) throws Exception {
        List<String> args = new ArrayList<>(List.of(jvmOptions));
        args.addAll(List.of("-cp", JAR_AND_PROBE, OpenProbe.class.getName(), "bytes", "-"));
        return TestSupport.fork(Map.of("LKR_MASTER_KEY_ENV", TestSupport.TEST_CMK), args);
    }

    private static Path leftover(Path base, String name, FileTime mtime) throws Exception {
        Path d = Files.createDirectory(base.resolve(name));
        Files.write(d.resolve("liblkr_crypt.so"), new byte[] {0x7f, 'E', 'L', 'F'});
        Files.setLastModifiedTime(d, mtime);
        return d;
    }
}
