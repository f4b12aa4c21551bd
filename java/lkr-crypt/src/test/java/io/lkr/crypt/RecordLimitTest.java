package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The maximum record size (LKR_MAX_RECORD_SIZE) through the Java API, in a forked JVM with its own
 * environment: a value over it is refused with IllegalArgumentException and the engine's message
 * before an output array is allocated for it; a value at the limit passes; a stream carries more.
 */
class RecordLimitTest {
    /** Run in the forked JVM: prints one line per check. */
    public static void main(String[] args) throws Exception {
        try (LkrCrypt c = LkrCrypt.openFromEnvironment((byte[]) null)) {
            System.out.println("max " + c.maxRecordSize());
            byte[] atLimit = c.encrypt(new byte[1000], new byte[0]);
            System.out.println("at limit " + c.decrypt(atLimit, new byte[0]).length);
            for (int size : new int[] {1001, 50_000_000}) {
                try {
                    c.encrypt(new byte[size], new byte[0]);
                    System.out.println("encrypt " + size + " passed");
                } catch (IllegalArgumentException e) {
                    System.out.println("encrypt " + size + " refused: " + e.getMessage());
                }
            }
            try {
                c.decrypt(new byte[1000 + LkrCrypt.OVERHEAD + 1], new byte[0]);
                System.out.println("decrypt passed");
            } catch (IllegalArgumentException e) {
                System.out.println("decrypt refused: " + e.getMessage());
            }
            java.io.ByteArrayOutputStream sink = new java.io.ByteArrayOutputStream();
            try (java.io.OutputStream o = c.encryptingStream(sink, new byte[0], 4096)) {
                o.write(new byte[100_000]);
            }
            System.out.println("stream " + sink.size());
        }
    }

    @Test
    void aValueOverTheMaximumIsRefusedBeforeAllocation() throws Exception {
        // -Xmx96m: the 50 MB value fits, its 50 MB output array would not; it must be refused
        // first.
        TestSupport.Run r =
                TestSupport.fork(
                        Map.of(
                                "LKR_MASTER_KEY_ENV",
                                TestSupport.TEST_CMK,
                                "LKR_MAX_RECORD_SIZE",
                                "1000"),
                        List.of(
                                "-Xmx96m",
                                "-cp",
                                System.getProperty("java.class.path"),
                                RecordLimitTest.class.getName()));
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.contains("max 1000"), r.toString());
        assertTrue(r.out.contains("at limit 1000"), r.toString());
        assertTrue(
                r.out.contains("encrypt 1001 refused: ") && r.out.contains("LKR_MAX_RECORD_SIZE"),
                r.toString());
        assertTrue(r.out.contains("encrypt 50000000 refused: "), r.toString());
        assertTrue(r.out.contains("decrypt refused: "), r.toString());
        assertTrue(r.out.contains("stream "), r.toString());
        // An invalid setting: every open fails, naming the variable.
        r =
                TestSupport.fork(
                        Map.of(
                                "LKR_MASTER_KEY_ENV",
                                TestSupport.TEST_CMK,
                                "LKR_MAX_RECORD_SIZE",
                                "ten"),
                        List.of(
                                "-cp",
                                System.getProperty("java.class.path"),
                                RecordLimitTest.class.getName()));
        assertTrue(
                r.exit != 0 && (r.err + r.out).contains("LKR_MAX_RECORD_SIZE=\"ten\" is invalid"),
                r.toString());
    }
}
