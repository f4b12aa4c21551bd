package io.lkr.crypt.db;

import java.nio.file.Path;

/** The recovery key's tasks on the embedded HyperSQL file database. */
class HsqldbRecoveryTasksTest extends RecoveryTasksTestBase {
    @Override
    TestDb create(Path dir) throws Exception {
        return TestDb.hsqldb(dir);
    }

    /** Not used: the recovery tests kill tasks that touch only the keystore. */
    @Override
    int killRows() {
        return 0;
    }
}
