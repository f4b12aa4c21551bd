package io.lkr.crypt.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;

/**
 * {@code java -jar lkr-crypt.jar <task> [options]} (docs/native-interfaces.md): dispatches to the
 * task classes. No task prints the list, an unknown task prints {@code Could not find task
 * "<name>"} and the list (exit status 2).
 */
public final class Main {
    /** How a task runs: parses its own options (picocli) and returns the exit status. */
    @FunctionalInterface
    interface Runner {
        int run(String[] args, PrintStream out, PrintStream err);
    }

    /** One task: its picocli command's name, whether the usage lists it, how it runs. */
    static final class Task {
        final String name;
        final boolean listed;

        /** A task on files only ({@link FileTasks}), not one of {@link DbTasks}. */
        final boolean fileTask;

        final Runner runner;

        Task(Class<?> command, boolean listed, boolean fileTask, Runner runner) {
            this.name = command.getAnnotation(Command.class).name();
            this.listed = listed;
            this.fileTask = fileTask;
            this.runner = runner;
        }
    }

    /**
     * Every task, in the order of the usage: docs/native-interfaces.md's, retire_kek and the
     * recovery key's listed, then two unlisted ones for demonstrations and tests. The names are
     * those of the tasks' picocli commands.
     */
    static final List<Task> TASKS =
            List.of(
                    new Task(GenerateMasterKeyTask.class, true, false, GenerateMasterKeyTask::run),
                    new Task(MigrateEncryptionTask.class, true, false, MigrateEncryptionTask::run),
                    new Task(FileTasks.Encrypt.class, true, true, FileTasks::encryptFile),
                    new Task(FileTasks.Decrypt.class, true, true, FileTasks::decryptFile),
                    new Task(KeystoreTasks.Rekey.class, true, false, KeystoreTasks::rekey),
                    new Task(KeystoreTasks.RotateKek.class, true, false, KeystoreTasks::rotateKek),
                    new Task(ExportKeystoreTask.class, true, false, ExportKeystoreTask::run),
                    new Task(StatusTask.class, true, false, StatusTask::run),
                    new Task(KeystoreTasks.RetireKek.class, true, false, KeystoreTasks::retireKek),
                    new Task(
                            RecoveryTasks.AddRecoveryKey.class,
                            true,
                            false,
                            RecoveryTasks::addRecoveryKey),
                    new Task(
                            RecoveryTasks.RemoveRecoveryKey.class,
                            true,
                            false,
                            RecoveryTasks::removeRecoveryKey),
                    new Task(RecoveryTasks.Recover.class, true, false, RecoveryTasks::recover),
                    new Task(CreateSampleDbTask.class, false, false, CreateSampleDbTask::run),
                    new Task(ReadValueTask.class, false, false, ReadValueTask::run));

    private Main() {}

    /** The task named {@code name}, or null. */
    static Task task(String name) {
        for (Task t : TASKS) {
            if (t.name.equals(name)) {
                return t;
            }
        }
        return null;
    }

    /**
     * How long the JVM's own shutdown may take once a task is done, before the process is halted.
     */
    static final long EXIT_GRACE_MILLIS = 10_000;

    public static void main(String[] args) {
        exit(run(args, System.out, System.err));
    }

    /**
     * Ends the process with {@code status} once a task is done (its database shut down, its files
     * closed): {@link System#exit}, and should anything in the JVM's shutdown hold the process (a
     * shutdown hook of a library), a halt with the same status after {@link #EXIT_GRACE_MILLIS} — a
     * task never lingers after its summary.
     */
    static void exit(int status) {
        System.out.flush();
        System.err.flush();
        Thread halt =
                new Thread(
                        () -> {
                            try {
                                Thread.sleep(EXIT_GRACE_MILLIS);
                            } catch (InterruptedException e) {
                                return;
                            }
                            Runtime.getRuntime().halt(status);
                        },
                        "lkr-exit");
        halt.setDaemon(true);
        halt.start();
        System.exit(status);
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage(args.length == 0 ? err : out);
            return args.length == 0 ? 2 : 0;
        }
        Task task = task(args[0]);
        if (task == null) {
            err.println("Could not find task \"" + args[0] + "\"");
            usage(err);
            return 2;
        }
        return task.runner.run(Arrays.copyOfRange(args, 1, args.length), out, err);
    }

    private static void usage(PrintStream s) {
        s.println("Usage: java -jar lkr-crypt.jar <task> [options]");
        s.println("Tasks:");
        for (Task t : TASKS) {
            if (t.listed) {
                s.println("  " + t.name);
            }
        }
    }
}
