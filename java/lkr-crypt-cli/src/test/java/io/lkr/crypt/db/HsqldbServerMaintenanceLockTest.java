package io.lkr.crypt.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The maintenance lock on a HyperSQL server (issue #14.1), which several processes use at once and
 * which has no lock that dies with its holder: the row's lease. A task of another process is
 * refused while the holder runs and, once the holder is killed, until its lease runs out; then the
 * next task proceeds.
 */
class HsqldbServerMaintenanceLockTest extends DbTaskTestBase {
    /** The killed holder's lease, short for the test (refreshed every 2 s). */
    static final int LEASE_SECONDS = 6;

    @Override
    TestDb create(Path dir) throws Exception {
        return TestDb.hsqldbServer(dir);
    }

    @Override
    int killRows() {
        return 1000;
    }

    @Test
    void aKilledHoldersLeaseExpiresThenTheNextTaskProceeds() throws Exception {
        migratedSample(20);
        String before = storedKeystore();
        Process rekey =
                pausedRekey(List.of("-D" + MaintenanceLock.LEASE_PROPERTY + "=" + LEASE_SECONDS));
        assertEquals(1, task("rotate_kek", db()), out + err);
        assertRefusedNaming("rekey", rekey.pid());
        assertTrue(
                err.contains(
                        "If that task was killed, its lock expires when its lease runs out, at "),
                err);
        kill(rekey);
        assertEquals(before, storedKeystore(), "the killed rekey changed nothing");
        // Its lease, last renewed at most 2 s before the kill, still holds for a few seconds.
        assertEquals(1, task("rotate_kek", db()), out + err);
        assertRefusedNaming("rekey", rekey.pid());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int rc;
        while ((rc = task("rotate_kek", db())) == 1) {
            assertRefusedNaming("rekey", rekey.pid());
            assertTrue(
                    System.nanoTime() < deadline,
                    "the killed holder's lease never ran out: " + err);
            Thread.sleep(250);
        }
        assertEquals(0, rc, err);
        assertTrue(out.contains("KEK 2 is now active"), out);
        assertAllMigratedToOriginals(20);
    }
}
