package io.lkr.crypt.cli;

import java.io.PrintStream;

/**
 * The database tasks of {@code lkr-crypt.jar} (docs/native-interfaces.md) and two demonstration
 * tasks, by name: every task of {@link Main#TASKS} but the file tasks.
 */
public final class DbTasks {
    private DbTasks() {}

    /**
     * Runs {@code task} with {@code args} (the task's own options); null when it is not one of
     * these tasks.
     */
    public static Integer run(String task, String[] args, PrintStream out, PrintStream err) {
        Main.Task t = Main.task(task);
        return t == null || t.fileTask ? null : t.runner.run(args, out, err);
    }
}
