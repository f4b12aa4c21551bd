package io.lkr.crypt.cli;

import java.io.PrintStream;
import java.util.List;

/**
 * {@code java -jar lkr-crypt.jar <task> [options]} (SPEC §9): dispatches to the task classes.
 * No task prints the list, an unknown task prints {@code Could not find task "<name>"} and the
 * list (exit status 2).
 */
public final class Main {
    static final List<String> TASKS = List.of("generate_master_key", "migrate_encryption", "encrypt_file",
            "decrypt_file", "rekey", "rotate_kek", "export_keystore", "status", "retire_kek");

    private Main() {}

    /** How long the JVM's own shutdown may take once a task is done, before the process is halted. */
    static final long EXIT_GRACE_MILLIS = 10_000;

    public static void main(String[] args) {
        exit(run(args, System.out, System.err));
    }

    /**
     * Ends the process with {@code status} once a task is done (its database shut down, its
     * files closed): {@link System#exit}, and should anything in the JVM's shutdown hold the
     * process (a shutdown hook of a library), a halt with the same status after
     * {@link #EXIT_GRACE_MILLIS} — a task never lingers after its summary.
     */
    static void exit(int status) {
        System.out.flush();
        System.err.flush();
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(EXIT_GRACE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            Runtime.getRuntime().halt(status);
        }, "lkr-exit");
        halt.setDaemon(true);
        halt.start();
        System.exit(status);
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage(args.length == 0 ? err : out);
            return args.length == 0 ? 2 : 0;
        }
        String task = args[0];
        Integer dbTask = DbTasks.run(task, java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
        if (dbTask != null) {
            return dbTask;
        }
        if (!TASKS.contains(task)) {
            err.println("Could not find task \"" + task + "\"");
            usage(err);
            return 2;
        }
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        switch (task) {
            case "encrypt_file":
                return FileTasks.encryptFile(rest, out, err);
            case "decrypt_file":
                return FileTasks.decryptFile(rest, out, err);
            default:
                throw new IllegalStateException("Task " + task + " has no implementation");
        }
    }

    private static void usage(PrintStream s) {
        s.println("Usage: java -jar lkr-crypt.jar <task> [options]");
        s.println("Tasks:");
        for (String t : TASKS) {
            s.println("  " + t);
        }
    }
}
