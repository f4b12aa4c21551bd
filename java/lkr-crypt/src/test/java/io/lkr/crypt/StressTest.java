package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short version of tests/stress.sh: 8 threads × 20,000 mixed operations, then close while busy.
 */
class StressTest {
    @Test
    @Timeout(300)
    void eightThreadsMixedOperationsThenCloseWhileBusy() throws Exception {
        Stress.Result r = Stress.run(8, 20_000);
        assertTrue(r.errors.isEmpty(), () -> "errors: " + r.errors);
        assertEquals(8L * 20_000, r.operations);
        assertTrue(
                r.expectedFailures >= 8L * 20_000 / 8 * 2 - 16,
                "tampered/wrong-context checks ran: " + r.expectedFailures);
        assertEquals(8, r.closedSeen, "every thread saw IllegalStateException after close");
    }
}
