package io.lkr.crypt.db;

import java.nio.file.Path;

/** rotate_kek, re-encryption, retire_kek and rekey on the embedded HyperSQL file database. */
class HsqldbKeystoreTasksTest extends KeystoreTasksTestBase {
    @Override
    TestDb create(Path dir) throws Exception {
        return TestDb.hsqldb(dir);
    }

    @Override
    int killRows() {
        return 30_000;
    }
}
