package io.lkr.crypt.cli;

import java.io.PrintStream;

/**
 * {@link Main} with the tests' hooks, for child JVMs on the test class path. The hooks are system
 * properties read only here (the jar has neither this class nor an option for them):
 *
 * <ul>
 *   <li>{@value #PAUSE_BEFORE_REPLACE_MS}{@code =N}: {@code rekey}, {@code rotate_kek} and {@code
 *       retire_kek} print "Checked the new keystore; replacing the old one in N ms" once the new
 *       keystore is checked, then wait N ms before replacing the old one (a test holds or kills a
 *       task at that point).
 * </ul>
 *
 * Without them it is {@link Main} itself.
 */
public final class TestHooksMain {
    /** The system property of the pause before a keystore is replaced, in milliseconds. */
    public static final String PAUSE_BEFORE_REPLACE_MS = "lkr.crypt.test.pauseBeforeReplaceMs";

    private TestHooksMain() {}

    /** {@code -D}{@value #PAUSE_BEFORE_REPLACE_MS}{@code =ms}, a JVM option for a child. */
    public static String pauseBeforeReplace(long ms) {
        return "-D" + PAUSE_BEFORE_REPLACE_MS + "=" + ms;
    }

    public static void main(String[] args) {
        long pause = Long.getLong(PAUSE_BEFORE_REPLACE_MS, 0);
        if (pause > 0) {
            KeystoreTasks.Base.beforeReplace =
                    (PrintStream out) -> {
                        out.println(
                                "Checked the new keystore; replacing the old one in "
                                        + pause
                                        + " ms");
                        out.flush();
                        try {
                            Thread.sleep(pause);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    };
        }
        Main.main(args);
    }
}
