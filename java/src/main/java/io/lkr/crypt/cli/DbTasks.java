package io.lkr.crypt.cli;

import java.io.PrintStream;
import java.util.List;

/**
 * The database tasks of {@code lkr-crypt.jar} (SPEC §9) and two demonstration tasks, by name:
 * {@link io.lkr.crypt.cli.Main} dispatches to {@link #run}.
 */
public final class DbTasks {
    /** The tasks of SPEC §9 implemented here. */
    public static final List<String> SPEC_TASKS = List.of("generate_master_key", "migrate_encryption", "status", "export_keystore",
            "rekey", "rotate_kek");
    /** Extra tasks (not in SPEC §9's list): retiring a KEK, and tasks for demonstrations and tests. */
    public static final List<String> EXTRA_TASKS = List.of("retire_kek", "create_sample_db", "read_value");

    private DbTasks() {}

    /** Runs {@code task} with {@code args} (the task's own options); null when it is not one of these tasks. */
    public static Integer run(String task, String[] args, PrintStream out, PrintStream err) {
        switch (task) {
            case "generate_master_key":
                return GenerateMasterKeyTask.run(args, out, err);
            case "migrate_encryption":
                return MigrateEncryptionTask.run(args, out, err);
            case "status":
                return StatusTask.run(args, out, err);
            case "export_keystore":
                return ExportKeystoreTask.run(args, out, err);
            case "rekey":
                return KeystoreTasks.rekey(args, out, err);
            case "rotate_kek":
                return KeystoreTasks.rotateKek(args, out, err);
            case "retire_kek":
                return KeystoreTasks.retireKek(args, out, err);
            case "create_sample_db":
                return CreateSampleDbTask.run(args, out, err);
            case "read_value":
                return ReadValueTask.run(args, out, err);
            default:
                return null;
        }
    }
}
