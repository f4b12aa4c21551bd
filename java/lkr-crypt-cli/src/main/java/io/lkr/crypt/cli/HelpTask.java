package io.lkr.crypt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code help [TASK]}: the list of tasks, or the usage of TASK, on stdout (exit 0); an unknown TASK
 * is {@code Could not find task "<name>"} and the list on stderr (exit 2), as for the jar itself.
 */
@Command(name = "help", description = "Lists the tasks, or shows the options of TASK.")
final class HelpTask extends TaskCommand {
    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "TASK",
            description = "The task whose options to show")
    String task;

    /** Help needs no CMK. */
    @Override
    void checkMasterKey() {}

    @Override
    int work() {
        CommandLine top = spec.parent().commandLine();
        if (task == null) {
            Main.usage(top, out);
            return OK;
        }
        CommandLine t = top.getSubcommands().get(task);
        if (t == null) {
            err.println("Could not find task \"" + task + "\"");
            Main.usage(top, err);
            return USAGE;
        }
        t.usage(out);
        return OK;
    }
}
