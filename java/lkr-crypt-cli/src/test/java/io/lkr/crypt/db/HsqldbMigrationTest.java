package io.lkr.crypt.db;

import java.nio.file.Path;

/** The migration's contract on the embedded HyperSQL file database. */
class HsqldbMigrationTest extends MigrationTestBase {
    @Override
    TestDb create(Path dir) throws Exception {
        return TestDb.hsqldb(dir);
    }

    @Override
    int killRows() {
        return 30_000;
    }
}
