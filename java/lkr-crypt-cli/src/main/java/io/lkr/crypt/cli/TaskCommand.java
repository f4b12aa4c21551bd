package io.lkr.crypt.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;

/**
 * What every task's picocli command shares: the streams it reports to. A task runs through {@link
 * TaskSupport#execute} (exit statuses 0/1/2/3, docs/native-interfaces.md); {@link Main#TASKS} lists
 * them.
 */
abstract class TaskCommand implements Callable<Integer> {
    final PrintStream out;
    final PrintStream err;

    TaskCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }
}
