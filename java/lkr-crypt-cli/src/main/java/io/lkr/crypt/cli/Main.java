package io.lkr.crypt.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar lkr-crypt.jar <task> [options]} (docs/native-interfaces.md): the top command,
 * whose picocli subcommands are the tasks of {@link #GROUPS}. No task prints the list, an unknown
 * task prints {@code Could not find task "<name>"} and the list (exit status 2). Every task reports
 * with the exit statuses of {@link TaskCommand}; a usage error is status 2 with the task's usage.
 */
@Command(name = Main.COMMAND)
public final class Main {
    /** How the jar is run: the top command's name in every usage. */
    static final String COMMAND = "java -jar lkr-crypt.jar";

    /** A heading of the task list and its tasks, in the order of the list. */
    private static final class Group {
        final String heading;
        final List<Class<? extends TaskCommand>> tasks;

        Group(String heading, List<Class<? extends TaskCommand>> tasks) {
            this.heading = heading;
            this.tasks = tasks;
        }
    }

    /** Every task, grouped as the list shows them (the one list of tasks). */
    private static final List<Group> GROUPS =
            List.of(
                    new Group("Migration", List.of(MigrateEncryptionTask.class)),
                    new Group(
                            "Keys",
                            List.of(
                                    GenerateMasterKeyTask.class,
                                    KeystoreTasks.Rekey.class,
                                    KeystoreTasks.RotateKek.class,
                                    KeystoreTasks.RetireKek.class,
                                    ExportKeystoreTask.class,
                                    RecoveryTasks.AddRecoveryKey.class,
                                    RecoveryTasks.RemoveRecoveryKey.class,
                                    RecoveryTasks.Recover.class)),
                    new Group("Files", List.of(FileTasks.Encrypt.class, FileTasks.Decrypt.class)),
                    new Group("Inspection", List.of(StatusTask.class)),
                    new Group(
                            "Development (demonstrations and tests; not for production data)",
                            List.of(CreateSampleDbTask.class, ReadValueTask.class)),
                    new Group("This tool", List.of(HelpTask.class, VersionTask.class)));

    private Main() {}

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

    /**
     * Runs the task {@code args[0]} with the options that follow, reporting to {@code out} and
     * {@code err}; returns the exit status (0, 1, 2 or 3).
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, null);
    }

    /**
     * As {@link #run(String[], PrintStream, PrintStream)}, with the caller's 16-byte legacy key for
     * {@code migrate_encryption} (docs/legacy.md: the key may come from the caller) instead of the
     * environment's (null).
     */
    public static int run(String[] args, PrintStream out, PrintStream err, byte[] legacyKey) {
        // The CLI reports database failures itself; MariaDB Connector/J would also print them raw.
        if (System.getProperty("mariadb.logging.disable") == null) {
            System.setProperty("mariadb.logging.disable", "true");
        }
        CommandLine cl = commandLine(out, err, legacyKey);
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage(cl, args.length == 0 ? err : out);
            return args.length == 0 ? TaskCommand.USAGE : TaskCommand.OK;
        }
        if (args[0].equals("--version") || args[0].equals("-V")) {
            args = args.clone();
            args[0] = VersionTask.NAME;
        }
        if (!cl.getSubcommands().containsKey(args[0])) {
            err.println("Could not find task \"" + args[0] + "\"");
            usage(cl, err);
            return TaskCommand.USAGE;
        }
        return cl.execute(args);
    }

    /** The top command and its tasks, each task reporting to {@code out} and {@code err}. */
    static CommandLine commandLine(PrintStream out, PrintStream err, byte[] legacyKey) {
        CommandLine.IFactory factory =
                new CommandLine.IFactory() {
                    @Override
                    public <K> K create(Class<K> cls) throws Exception {
                        K made = CommandLine.defaultFactory().create(cls);
                        if (made instanceof TaskCommand) {
                            ((TaskCommand) made).init(out, err, legacyKey);
                        }
                        return made;
                    }
                };
        CommandLine cl = new CommandLine(Main.class, factory);
        for (Group g : GROUPS) {
            for (Class<? extends TaskCommand> task : g.tasks) {
                try {
                    cl.addSubcommand(factory.create(task));
                } catch (Exception e) {
                    throw new IllegalStateException("Cannot make the task " + task, e);
                }
            }
        }
        cl.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cl.setExitCodeExceptionMapper(t -> TaskCommand.FAILED);
        cl.setParameterExceptionHandler(
                (ex, a) -> {
                    CommandLine c = ex.getCommandLine();
                    c.getErr().println(ex.getMessage());
                    c.usage(c.getErr());
                    return TaskCommand.USAGE;
                });
        // Each task's usage names the task alone (as before the tasks were subcommands).
        for (CommandLine task : cl.getSubcommands().values()) {
            task.getCommandSpec().versionProvider(VersionTask::lines);
            task.getHelpSectionMap()
                    .put(
                            CommandLine.Model.UsageMessageSpec.SECTION_KEY_SYNOPSIS,
                            help ->
                                    new CommandLine.Help(
                                                    CommandLine.Model.CommandSpec
                                                            .forAnnotatedObject(
                                                                    help.commandSpec()
                                                                            .userObject()),
                                                    help.colorScheme())
                                            .synopsis(help.synopsisHeadingLength()));
        }
        cl.setExecutionExceptionHandler(
                (ex, c, parsed) -> {
                    // An unexpected failure: its message, not a stack trace.
                    c.getErr()
                            .println(
                                    "Failed: "
                                            + (ex.getMessage() != null
                                                    ? ex.getMessage()
                                                    : ex.toString()));
                    return TaskCommand.FAILED;
                });
        return cl;
    }

    /**
     * The list of tasks, grouped, with the first line of each task's description, and how to get a
     * task's options.
     */
    static void usage(CommandLine cl, PrintStream s) {
        s.println("Usage: " + COMMAND + " <task> [options]");
        s.println("Tasks:");
        for (Group g : GROUPS) {
            s.println("  " + g.heading + ":");
            for (Class<? extends TaskCommand> task : g.tasks) {
                String name = task.getAnnotation(Command.class).name();
                String[] description =
                        cl.getSubcommands().get(name).getCommandSpec().usageMessage().description();
                s.println(
                        String.format(
                                Locale.ROOT,
                                "    %-21s %s",
                                name,
                                description.length == 0 ? "" : description[0]));
            }
        }
        s.println(
                "Options of a task: "
                        + COMMAND
                        + " help <task> (or <task> --help). Versions: "
                        + COMMAND
                        + " --version.");
    }
}
