package io.lkr.crypt.cli;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.lkr.crypt.TestSupport.Run;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The CLI in a child JVM: a real process, with its own stdout, exit status, umask and limits. */
final class CliChild {
    /** Generous: a bound on hanging, not on speed. */
    static final long EXIT_BOUND_SECONDS = 60;

    private CliChild() {}

    /**
     * {@code java ... io.lkr.crypt.cli.Main <args>} on the test class path and its native library
     * (lkr-crypt's target/classes copy, or a copy of the one in lkr-crypt's jar: the children never
     * extract it themselves, some run under a {@code ulimit}).
     */
    static List<String> command(List<String> args) throws Exception {
        URL lib = CliChild.class.getResource("/native/linux-x86_64/liblkr_crypt.so");
        assertNotNull(lib, "the native library in the test class path");
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-XX:-UsePerfData",
                                "--enable-native-access=ALL-UNNAMED",
                                "-cp",
                                System.getProperty("java.class.path"),
                                "-Dlkr.crypt.library=" + library(lib),
                                "io.lkr.crypt.cli.Main"));
        cmd.addAll(args);
        return cmd;
    }

    private static Path extracted;

    /** The native library as a file: {@code lib} itself, or one copy for the whole test JVM. */
    private static synchronized Path library(URL lib) throws Exception {
        if ("file".equals(lib.getProtocol())) {
            return Path.of(lib.toURI());
        }
        if (extracted == null) {
            Path dir = Files.createTempDirectory("lkr-cli-test");
            dir.toFile().deleteOnExit();
            Path copy = dir.resolve("liblkr_crypt.so");
            try (InputStream in = lib.openStream()) {
                Files.copy(in, copy);
            }
            copy.toFile().deleteOnExit();
            extracted = copy;
        }
        return extracted;
    }

    /**
     * Runs the CLI with {@code args} in {@code dir} through {@code bash -c '<shellPrefix> exec java
     * ...'} (a prefix such as {@code umask 000;} or a {@code ulimit}), with {@code env} added;
     * fails the test if it does not end within {@link #EXIT_BOUND_SECONDS}.
     */
    static Run run(Path dir, String shellPrefix, Map<String, String> env, List<String> args)
            throws Exception {
        StringBuilder sh = new StringBuilder(shellPrefix).append("exec");
        for (String a : command(args)) {
            sh.append(" '").append(a.replace("'", "'\\''")).append('\'');
        }
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", sh.toString()).directory(dir.toFile());
        pb.environment().putAll(env);
        Path out = Files.createTempFile(dir, "child", ".out");
        Path err = Files.createTempFile(dir, "child", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(EXIT_BOUND_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(
                        args
                                + " did not end within "
                                + EXIT_BOUND_SECONDS
                                + " s; stdout: "
                                + Files.readString(out));
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
