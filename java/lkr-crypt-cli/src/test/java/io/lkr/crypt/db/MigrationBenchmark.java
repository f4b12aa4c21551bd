package io.lkr.crypt.db;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.cli.SampleDb;
import io.lkr.crypt.cli.YamlConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Issue #6, item 8: the migration of {@code rows} values of {@code size} bytes (default 1,000,000 ×
 * 200) on the embedded HyperSQL file database — rows per second and the share of the time spent
 * inside {@link LkrCrypt} calls. Not a unit test; run after {@code mvn verify}:
 *
 * <pre>
 * LKR_MASTER_KEY_ENV=$(openssl rand -base64 32) java --enable-native-access=ALL-UNNAMED \
 *   -cp java/target/lkr-crypt.jar:java/target/test-classes io.lkr.crypt.db.MigrationBenchmark [rows] [size] [dir]
 * </pre>
 *
 * Targets: ≥ 50,000 rows/s for 1 M rows, crypto ≤ 10 % of the time. Without {@code dir} the
 * database goes to a new temporary directory, deleted at the end (~420 MB for 1 M rows).
 */
public final class MigrationBenchmark {
    private MigrationBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path dir =
                args.length > 2
                        ? Path.of(args[2])
                        : Files.createTempDirectory("lkr-migration-bench");
        try {
            run(rows, size, dir);
        } finally {
            if (args.length <= 2) {
                deleteTree(dir);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void run(int rows, int size, Path dir) throws Exception {
        byte[] legacyKey = Base64.getDecoder().decode("AAECAwQFBgcICQoLDA0ODw==");
        InternalDb db = InternalDb.hsqldb(dir.resolve("db").resolve("lkr").toString());
        List<EncryptedColumn> columns =
                YamlConfig.manifest(
                        "- {table: CONNECTION, key: ID, column: PASSWORD, context: row}\n");

        long t = System.nanoTime();
        try (Connection c = db.connect()) {
            new SampleDb(legacyKey).create(c, db.dialect(), rows, size, false);
        }
        System.out.printf(
                Locale.ROOT,
                "sample: %,d legacy rows of %d bytes in %.1f s (%s)%n",
                rows,
                size,
                (System.nanoTime() - t) / 1e9,
                dir);

        long open = System.nanoTime();
        Connection c = db.connect();
        try (LkrCrypt crypt = LkrCrypt.openFromEnvironment((byte[]) null)) {
            c.setAutoCommit(false);
            Schema.ensure(c, db.dialect());
            KeystoreStore.publishOrAdopt(c, db.dialect(), crypt);
            long opened = System.nanoTime();
            Migration.Options o = new Migration.Options();
            o.legacyKey = legacyKey;
            Migration m = new Migration(c, db.dialect(), columns, o, null);
            long t0 = System.nanoTime();
            Migration.Report check = m.check(crypt);
            long t1 = System.nanoTime();
            Migration.Report write = m.write(crypt, rows);
            long t2 = System.nanoTime();
            long migrated = write.total(s -> s.migrated);
            if (migrated != rows) {
                throw new IllegalStateException("migrated " + migrated + " of " + rows);
            }
            double secs = (t2 - t0) / 1e9;
            long crypto = check.cryptoNanos + write.cryptoNanos;
            System.out.printf(
                    Locale.ROOT,
                    "migration: %,d rows in %.2f s = %,.0f rows/s (check %.2f s, write %.2f s)%n",
                    rows,
                    secs,
                    rows / secs,
                    (t1 - t0) / 1e9,
                    (t2 - t1) / 1e9);
            System.out.printf(
                    Locale.ROOT,
                    "crypto: %.2f s inside LkrCrypt = %.1f %% of the migration (%.0f ns/row)%n",
                    crypto / 1e9,
                    100.0 * crypto / (t2 - t0),
                    (double) crypto / rows);
            System.out.printf(Locale.ROOT, "(database opened in %.1f s)%n", (opened - open) / 1e9);
            long close = System.nanoTime();
            c.close();
            System.out.printf(
                    Locale.ROOT,
                    "(database closed, i.e. HyperSQL's shutdown checkpoint, in %.1f s)%n",
                    (System.nanoTime() - close) / 1e9);
        } finally {
            if (!c.isClosed()) {
                c.close();
            }
        }
    }
}
