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

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
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
