package io.lkr.crypt.db;

import java.nio.file.Path;

/**
 * rotate_kek, re-encryption, retire_kek and rekey on a real MariaDB server
 * (tests/mariadb_server.sh; skipped with a loud message when it is not running, a failure under
 * CI=true).
 */
class MariaDbKeystoreTasksTest extends KeystoreTasksTestBase {
    @Override
    TestDb create(Path dir) throws Exception {
        return TestDb.mysql(dir);
    }

    @Override
    int killRows() {
        return 20_000;
    }
}
