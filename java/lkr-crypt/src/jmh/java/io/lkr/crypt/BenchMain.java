package io.lkr.crypt;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link LkrCryptBenchmark} (JMH options from the command line, e.g. {@code -f 1 -wi 2 -i 3})
 * and prints, per size, the speed ratios against SunJCE (higher is faster), the direct path against
 * Rust alone, and the JNI overhead per call (LkrCrypt time minus Rust-only time; for the byte[]
 * path also minus the JVM's allocation of the result array, measured alone, which SunJCE's {@code
 * doFinal} pays as well).
 */
public final class BenchMain {
    private BenchMain() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli);
        if (cli.getIncludes().isEmpty()) { // a regex on the command line selects benchmarks
            builder.include(LkrCryptBenchmark.class.getName());
        }
        Options opts = builder.build();
        Collection<RunResult> results = new Runner(opts).run();
        Map<String, Map<Integer, Double>> ns = new TreeMap<>();
        for (RunResult r : results) {
            String label = r.getParams().getBenchmark();
            String method = label.substring(label.lastIndexOf('.') + 1);
            int size = Integer.parseInt(r.getParams().getParam("size"));
            ns.computeIfAbsent(method, m -> new TreeMap<>())
                    .put(size, r.getPrimaryResult().getScore());
        }
        System.out.println();
        System.out.println(
                "lkr-crypt vs SunJCE AES/GCM/NoPadding (fresh random nonce per call); ns/op, ratio = SunJCE time / lkr time");
        for (String op : new String[] {"Encrypt", "Decrypt"}) {
            System.out.printf(
                    "%n%-8s %8s %10s %10s %10s %10s %8s %8s %9s %10s %8s %12s %12s%n",
                    op.toLowerCase(),
                    "size",
                    "SunJCE",
                    "byte[]",
                    "direct",
                    "Rust-only",
                    "byte[]x",
                    "directx",
                    "dir/Rust",
                    "new byte[]",
                    "refx",
                    "JNI byte[]",
                    "JNI direct");
            for (int size : ns.getOrDefault("jce" + op, Map.of()).keySet()) {
                if (!ns.containsKey("lkr" + op + "Bytes")
                        || !ns.containsKey("lkr" + op + "Direct")
                        || !ns.containsKey("rustOnly" + op)) {
                    continue; // a partial run (benchmarks selected by regex): JMH's table above
                }
                double jce = ns.get("jce" + op).get(size);
                double bytes = ns.get("lkr" + op + "Bytes").get(size);
                double direct = ns.get("lkr" + op + "Direct").get(size);
                double rust = ns.get("rustOnly" + op).get(size);
                double alloc =
                        ns.getOrDefault("alloc" + op + "Result", Map.of()).getOrDefault(size, 0.0);
                System.out.printf(
                        "%-8s %8d %10.0f %10.0f %10.0f %10.0f %7.2fx %7.2fx %8.2fx %10.0f %7.2fx %10.0fns %10.0fns%n",
                        op.toLowerCase(),
                        size,
                        jce,
                        bytes,
                        direct,
                        rust,
                        jce / bytes,
                        jce / direct,
                        rust / direct,
                        alloc,
                        jce / (rust + alloc),
                        bytes - rust - alloc,
                        direct - rust);
            }
        }
        System.out.println();
        System.out.println(
                "new byte[]: the JVM allocating the result array alone; JNI byte[] = byte[] - Rust-only - new byte[].");
        System.out.println(
                "refx = SunJCE / (new byte[] + Rust-only): the byte[] ratio with no JNI cost at all (a fresh result");
        System.out.println(
                "array and the Rust work are what any binding pays), so byte[]x close to refx means JNI adds ~nothing.");
        System.out.println(
                "Targets: byte[] >= 1x SunJCE at 64 B, >= 2x at 16 KiB, >= 3x at 1 MiB; direct >= 0.9x Rust-only at >= 16 KiB.");
    }
}
