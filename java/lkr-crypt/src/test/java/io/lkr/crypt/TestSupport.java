package io.lkr.crypt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Helpers shared by the tests: random bytes, forked JVMs with their own environment. */
public final class TestSupport {
    static final SecureRandom RANDOM = new SecureRandom();

    /** The CMK the pom gives the test JVM in LKR_MASTER_KEY_ENV. */
    static final String TEST_CMK = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

    private TestSupport() {}

    /** The environment variable that sets {@link #timingRandom}'s seed (to replay a run). */
    public static final String SEED_VARIABLE = "LKR_TEST_SEED";

    /**
     * A generator for a test's random delays (when to kill a child, how long to wait): seeded from
     * {@value #SEED_VARIABLE} when set, else at random; the seed is printed with {@code what}, so a
     * failing run can be replayed with {@code LKR_TEST_SEED=<seed>}.
     */
    public static java.util.Random timingRandom(String what) {
        String fixed = System.getenv(SEED_VARIABLE);
        long seed =
                fixed != null && !fixed.isEmpty()
                        ? Long.parseLong(fixed.trim())
                        : RANDOM.nextLong();
        System.out.println(what + ": random delays with " + SEED_VARIABLE + "=" + seed);
        return new java.util.Random(seed);
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A fresh handle on a new in-memory keystore under the test CMK. */
    static LkrCrypt openNew() throws Exception {
        return LkrCrypt.openFromEnvironment((byte[]) null);
    }

    /** The result of a forked JVM (also the CLI tests' children). */
    public static final class Run {
        public final int exit;
        public final String out;
        public final String err;

        public Run(int exit, String out, String err) {
            this.exit = exit;
            this.out = out;
            this.err = err;
        }

        @Override
        public String toString() {
            return "exit " + exit + "\nstdout: " + out + "\nstderr: " + err;
        }
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Runs {@code java <jvmArgs...>} with an environment holding no LKR_ variable except {@code
     * env}'s, and waits for it (60 s at most).
     */
    static Run fork(Map<String, String> env, List<String> jvmArgs)
            throws IOException, InterruptedException {
        return fork(env, jvmArgs, null);
    }

    /** As {@link #fork(Map, List)} in the working directory {@code dir} (null: this JVM's). */
    static Run fork(Map<String, String> env, List<String> jvmArgs, Path dir)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBin());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.environment().keySet().removeIf(k -> k.startsWith("LKR_") || k.startsWith("AWS_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("lkr-fork", ".out");
        Path err = Files.createTempFile("lkr-fork", ".err");
        try {
            pb.redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE);
            Process p = pb.start();
            p.getOutputStream().close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("forked JVM did not finish in 60 s: " + cmd);
            }
            return new Run(
                    p.exitValue(), Files.readString(out).trim(), Files.readString(err).trim());
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs {@link OpenProbe} on the test class path. */
    static Run probe(Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> a =
                new ArrayList<>(
                        List.of(
                                "-cp",
                                System.getProperty("java.class.path"),
                                OpenProbe.class.getName()));
        a.addAll(List.of(args));
        return fork(env, a);
    }

    /**
     * The KMS-API server of tests/kms_server.sh ({@code LKR_TEST_KMS_ENDPOINT}). Without it the
     * calling test is skipped with a message naming {@code what} — or fails under {@code CI=true},
     * where the server must run.
     */
    public static String kmsEndpointOrSkip(String what) {
        String endpoint = System.getenv("LKR_TEST_KMS_ENDPOINT");
        if (endpoint == null || endpoint.isEmpty()) {
            String msg =
                    "!!! "
                            + what
                            + " NOT RUN: LKR_TEST_KMS_ENDPOINT is not set (tests/kms_server.sh)";
            if ("true".equals(System.getenv("CI"))) {
                org.junit.jupiter.api.Assertions.fail(msg);
            }
            System.err.println(msg);
            org.junit.jupiter.api.Assumptions.abort(msg);
        }
        return endpoint;
    }

    /** Creates a symmetric key in {@code region} on the KMS-API server; its id. */
    public static String createKmsKey(String endpoint, String region) throws Exception {
        java.net.http.HttpRequest req =
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(endpoint + "/"))
                        .header("Content-Type", "application/x-amz-json-1.1")
                        .header("X-Amz-Target", "TrentService.CreateKey")
                        .header(
                                "Authorization",
                                "AWS4-HMAC-SHA256 Credential=testing/20260101/"
                                        + region
                                        + "/kms/aws4_request, SignedHeaders=host, Signature=0")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}"))
                        .timeout(java.time.Duration.ofSeconds(10))
                        .build();
        String body =
                java.net.http.HttpClient.newHttpClient()
                        .send(req, java.net.http.HttpResponse.BodyHandlers.ofString())
                        .body();
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("\"KeyId\":\\s*\"([^\"]+)\"").matcher(body);
        org.junit.jupiter.api.Assertions.assertTrue(m.find(), body);
        return m.group(1);
    }
}
