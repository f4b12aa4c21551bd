package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader's order and checks (docs/native-interfaces.md), in child JVMs running {@link
 * OpenProbe}: a library on java.library.path is loaded only when it is this jar's version; a stale
 * library (no version export) or one of another version is refused with a message naming the file,
 * the platform, both versions and {@code -Dlkr.crypt.library}; empty and relative entries of
 * java.library.path (the working directory) are never searched.
 */
class NativeLoaderTest {
    private static final String FILE = System.mapLibraryName("lkr_crypt");

    /** The library Maven bundled into target/classes (what the jar ships). */
    private static final Path BUILT =
            Path.of("target", "classes", "native", NativeLoader.platform(), FILE).toAbsolutePath();

    @TempDir Path dir;

    /** The crate's version (Cargo.toml): what the library reports. */
    private static String crateVersion() throws Exception {
        Matcher m =
                Pattern.compile("(?m)^version\\s*=\\s*\"([^\"]+)\"")
                        .matcher(Files.readString(Path.of("..", "..", "Cargo.toml")));
        assertTrue(m.find(), "Cargo.toml has a version");
        return m.group(1);
    }

    @Test
    void cargoAndMavenVersionsAgree() throws Exception {
        Properties p = new Properties();
        try (InputStream in = NativeLoader.class.getResourceAsStream("version.properties")) {
            assertTrue(in != null, "io/lkr/crypt/version.properties is on the class path");
            p.load(in);
        }
        assertEquals(
                crateVersion(),
                p.getProperty("version"),
                "java/pom.xml's version must be Cargo.toml's: the loader refuses a library of another version");
    }

    @Test
    void theRightLibraryOnTheLibraryPathIsLoaded() throws Exception {
        Path lib = Files.createDirectory(dir.resolve("lib"));
        Files.copy(BUILT, lib.resolve(FILE));
        TestSupport.Run r = probe(List.of("-Djava.library.path=" + lib), null);
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.startsWith("OK kek=1") && r.out.contains("loaded=system"), r.toString());
    }

    @Test
    void aStaleLibraryWithoutAVersionIsRefused() throws Exception {
        Path lib = Files.createDirectory(dir.resolve("stale"));
        cc(lib.resolve(FILE), "int lkr_crypt_stale_marker(void) { return 1; }\n", false);
        TestSupport.Run r = probe(List.of("-Djava.library.path=/nonexistent:" + lib), null);
        assertRefused(r, lib.resolve(FILE) + " (found on java.library.path)");
        assertTrue(r.out.contains("it has no version"), r.toString());
        // Named explicitly: refused the same way.
        r = probe(List.of("-Dlkr.crypt.library=" + lib.resolve(FILE)), null);
        assertRefused(r, lib.resolve(FILE) + " (named by -Dlkr.crypt.library)");
        assertTrue(r.out.contains("it has no version"), r.toString());
    }

    @Test
    void aLibraryOfAnotherVersionIsRefused() throws Exception {
        Path include = Path.of(System.getProperty("java.home"), "include");
        Assumptions.assumeTrue(Files.isRegularFile(include.resolve("jni.h")), "a JDK with jni.h");
        Path lib = Files.createDirectory(dir.resolve("old"));
        cc(
                lib.resolve(FILE),
                "#include <jni.h>\n"
                        + "JNIEXPORT jstring JNICALL Java_io_lkr_crypt_Native_abiVersion(JNIEnv *env, jclass c) {\n"
                        + "    return (*env)->NewStringUTF(env, \"0.0.9/0\");\n"
                        + "}\n",
                true);
        TestSupport.Run r = probe(List.of("-Djava.library.path=" + lib), null);
        assertRefused(r, lib.resolve(FILE) + " (found on java.library.path)");
        assertTrue(r.out.contains("is lkr-crypt 0.0.9 (JNI ABI 0)"), r.toString());
    }

    @Test
    void emptyAndRelativeEntriesAreNotSearched() throws Exception {
        // A stale library in the working directory and in a relative entry: System.loadLibrary
        // would load it (an empty entry and "." mean the working directory).
        Path rel = Files.createDirectory(dir.resolve("rel"));
        cc(dir.resolve(FILE), "int lkr_crypt_stale_marker(void) { return 1; }\n", false);
        Files.copy(dir.resolve(FILE), rel.resolve(FILE));
        TestSupport.Run r = probe(List.of("-Djava.library.path=:.:rel:./rel"), dir);
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.startsWith("OK kek=1") && r.out.contains("loaded=bundled"), r.toString());
    }

    private static TestSupport.Run probe(List<String> jvmArgs, Path workDir) throws Exception {
        List<String> a = new ArrayList<>(jvmArgs);
        a.addAll(
                List.of(
                        "-cp",
                        System.getProperty("java.class.path"),
                        OpenProbe.class.getName(),
                        "bytes",
                        "-"));
        return TestSupport.fork(Map.of("LKR_MASTER_KEY_ENV", TestSupport.TEST_CMK), a, workDir);
    }

    /** Refused cleanly (no crash, nothing opened), with a message an operator can act on. */
    private static void assertRefused(TestSupport.Run r, String where) throws Exception {
        assertEquals(2, r.exit, "refused with an error, not a crash: " + r);
        assertFalse(r.out.contains("OK kek="), r.toString());
        assertTrue(
                r.out.startsWith("LINK java.lang.UnsatisfiedLinkError The native library " + where),
                r.toString());
        assertTrue(r.out.contains(" on " + NativeLoader.platform()), "names the platform: " + r);
        assertTrue(
                r.out.contains("this jar is lkr-crypt " + crateVersion())
                        || r.out.contains("older than lkr-crypt " + crateVersion()),
                "names the jar's version: " + r);
        assertTrue(r.out.contains("-Dlkr.crypt.library="), "says how to proceed: " + r);
    }

    /** Builds a shared object from C {@code source} with the system's cc. */
    static void cc(Path out, String source, boolean jni) throws Exception {
        Path src = out.resolveSibling("src-" + System.nanoTime() + ".c");
        Files.writeString(src, source, StandardCharsets.US_ASCII);
        List<String> cmd = new ArrayList<>(List.of("cc", "-shared", "-fPIC", "-o", out.toString()));
        if (jni) {
            Path include = Path.of(System.getProperty("java.home"), "include");
            cmd.addAll(List.of("-I" + include, "-I" + include.resolve("linux")));
        }
        cmd.add(src.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "cc failed: " + log);
        Files.delete(src);
    }
}
