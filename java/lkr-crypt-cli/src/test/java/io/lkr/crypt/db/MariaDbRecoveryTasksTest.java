package io.lkr.crypt.db;

import java.nio.file.Path;

/**
 * The recovery key's tasks on a real MariaDB server (tests/mariadb_server.sh; skipped with a loud
 * message when it is not running, a failure under CI=true).
 */
class MariaDbRecoveryTasksTest extends RecoveryTasksTestBase {
    @Override
    TestDb create(Path dir) throws Exception {
        return TestDb.mysql(dir);
    }

    /** Not used: the recovery tests kill tasks that touch only the keystore. */
    @Override
    int killRows() {
        return 0;
    }
}
