package io.lkr.crypt;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link LkrCryptBenchmark} (JMH options from the command line, e.g. {@code -f 1 -wi 2 -i 3},
 * {@code -rf json -rff FILE} for the plot) with JMH's GC profiler, and prints per size and
 * direction: lkr / Rust-only and lkr / pure-Java envelope for both APIs (speed ratios, higher is
 * faster), the JVM's own allocation of a result array, the byte[] API's allocation per call and the
 * share of the run the GC took.
 */
public final class BenchMain {
    private BenchMain() {}

    /** Issue 20's targets: caller-owned and byte[] against Rust-only, both against pure Java. */
    static final double ARRAY_VS_RUST = 0.85;

    static final double BYTES_VS_RUST = 0.5;
    static final double VS_PURE = 1.5;

    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli);
        if (cli.getIncludes().isEmpty()) { // a regex on the command line selects benchmarks
            builder.include(LkrCryptBenchmark.class.getName());
        }
        if (cli.getProfilers().isEmpty()) {
            builder.addProfiler(GCProfiler.class);
        }
        Options opts = builder.build();
        Collection<RunResult> results = new Runner(opts).run();
        Map<String, Map<Integer, Double>> ns = new TreeMap<>();
        Map<String, Map<Integer, Double>> allocBytes = new TreeMap<>();
        Map<String, Map<Integer, Double>> gcShare = new TreeMap<>();
        for (RunResult r : results) {
            String label = r.getParams().getBenchmark();
            String method = label.substring(label.lastIndexOf('.') + 1);
            int size = Integer.parseInt(r.getParams().getParam("size"));
            ns.computeIfAbsent(method, m -> new TreeMap<>())
                    .put(size, r.getPrimaryResult().getScore());
            Result<?> norm = secondary(r, "gc.alloc.rate.norm");
            Result<?> gcTime = secondary(r, "gc.time");
            if (norm != null) {
                allocBytes.computeIfAbsent(method, m -> new TreeMap<>()).put(size, norm.getScore());
            }
            if (norm != null && gcTime == null) { // no collection in the run
                gcShare.computeIfAbsent(method, m -> new TreeMap<>()).put(size, 0.0);
            } else if (gcTime != null) {
                // gc.time: ms of GC summed over the measurement iterations.
                double measuredMs =
                        r.getParams().getMeasurement().getCount()
                                * (double)
                                        r.getParams()
                                                .getMeasurement()
                                                .getTime()
                                                .convertTo(TimeUnit.MILLISECONDS);
                gcShare.computeIfAbsent(method, m -> new TreeMap<>())
                        .put(size, gcTime.getScore() / measuredMs);
            }
        }
        System.out.println();
        System.out.println(
                "ns/op; ratios are speed ratios (reference time / lkr time, higher is faster).");
        System.out.println(
                "Rust = the engine alone (timed inside Rust); array = LkrCrypt's caller-owned API; byte[] = its allocating");
        System.out.println(
                "API; pure = the same envelope v1 in pure javax.crypto (same API shape); JCE = SunJCE's bare GCM call, one");
        System.out.println(
                "reused key, no derivation; new = the JVM allocating the result alone; alloc = byte[] API bytes allocated");
        System.out.println("per call; GC = the share of the byte[] API's run spent in GC.");
        for (String op : new String[] {"Encrypt", "Decrypt"}) {
            System.out.printf(
                    "%n%-7s %8s %9s %9s %9s %9s %9s %9s %8s %7s %7s %7s %7s %10s %6s%n",
                    op.toLowerCase(),
                    "size",
                    "Rust",
                    "array",
                    "byte[]",
                    "pure[]",
                    "pure-arr",
                    "JCE",
                    "new",
                    "arr/Rst",
                    "[]/Rst",
                    "arr/pur",
                    "[]/pur",
                    "alloc B",
                    "GC");
            for (int size : ns.getOrDefault("lkr" + op + "Bytes", Map.of()).keySet()) {
                double rust = get(ns, "rustOnly" + op, size);
                double array = get(ns, "lkr" + op + "Array", size);
                double bytes = get(ns, "lkr" + op + "Bytes", size);
                double pureBytes = get(ns, "pure" + op + "Bytes", size);
                double pureArray = get(ns, "pure" + op + "Array", size);
                System.out.printf(
                        "%-7s %8d %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %8.0f %6.2fx%s %6.2fx%s %6.2fx%s %6.2fx%s %10.0f %5.1f%%%n",
                        op.toLowerCase(),
                        size,
                        rust,
                        array,
                        bytes,
                        pureBytes,
                        pureArray,
                        get(ns, "jce" + op, size),
                        get(ns, "alloc" + op + "Result", size),
                        rust / array,
                        mark(rust / array, size >= 16384 ? ARRAY_VS_RUST : 0),
                        rust / bytes,
                        mark(rust / bytes, size >= 16384 ? BYTES_VS_RUST : 0),
                        pureArray / array,
                        mark(pureArray / array, VS_PURE),
                        pureBytes / bytes,
                        mark(pureBytes / bytes, VS_PURE),
                        get(allocBytes, "lkr" + op + "Bytes", size),
                        100 * get(gcShare, "lkr" + op + "Bytes", size));
            }
        }
        System.out.println();
        System.out.printf(
                "Targets (issue 20): arr/Rst >= %.2f and []/Rst >= %.2f at 16 KiB and 1 MiB; arr/pur and []/pur >= %.1f"
                        + " at every size. '!' marks a miss, NaN a column this run did not measure.%n",
                ARRAY_VS_RUST, BYTES_VS_RUST, VS_PURE);
    }

    /** The secondary result named {@code name} (JMH prefixes profiler results variously). */
    private static Result<?> secondary(RunResult r, String name) {
        for (String key : r.getSecondaryResults().keySet()) {
            if (key.equals(name) || key.endsWith("\u00b7" + name) || key.endsWith(":" + name)) {
                Result<?> v = r.getSecondaryResults().get(key);
                return v;
            }
        }
        return null;
    }

    private static double get(Map<String, Map<Integer, Double>> m, String key, int size) {
        return m.getOrDefault(key, Map.of()).getOrDefault(size, Double.NaN);
    }

    /** "!" when {@code ratio} misses {@code target} (0: no target at this size). */
    private static String mark(double ratio, double target) {
        return target > 0 && ratio < target ? "!" : " ";
    }
}
