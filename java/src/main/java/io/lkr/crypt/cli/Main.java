package io.lkr.crypt.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar lkr-crypt.jar <task> [options]} (docs/native-interfaces.md): the top command,
 * whose picocli subcommands are the tasks. No task prints the list, an unknown task prints {@code
 * Could not find task "<name>"} and the list (exit status 2). Every task reports with the exit
 * statuses of {@link TaskCommand}; a usage error is status 2 with the task's usage.
 */
@Command(
        name = Main.COMMAND,
        subcommands = {
            // docs/native-interfaces.md's tasks and retire_kek, in the order of the usage ...
            GenerateMasterKeyTask.class,
            MigrateEncryptionTask.class,
            FileTasks.Encrypt.class,
            FileTasks.Decrypt.class,
            KeystoreTasks.Rekey.class,
            KeystoreTasks.RotateKek.class,
            ExportKeystoreTask.class,
            StatusTask.class,
            KeystoreTasks.RetireKek.class,
            // ... then two hidden ones for demonstrations and tests.
            CreateSampleDbTask.class,
            ReadValueTask.class
        })
public final class Main {
    /** How the jar is run: the top command's name in every usage. */
    static final String COMMAND = "java -jar lkr-crypt.jar";

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
        if (!cl.getSubcommands().containsKey(args[0])) {
            err.println("Could not find task \"" + args[0] + "\"");
            usage(cl, err);
            return TaskCommand.USAGE;
        }
        return cl.execute(args);
    }

    /** The top command and its tasks, each task reporting to {@code out} and {@code err}. */
    private static CommandLine commandLine(PrintStream out, PrintStream err, byte[] legacyKey) {
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
                    c.getErr().println("Failed: " + ex);
                    return TaskCommand.FAILED;
                });
        return cl;
    }

    private static void usage(CommandLine cl, PrintStream s) {
        s.println("Usage: " + COMMAND + " <task> [options]");
        s.println("Tasks:");
        cl.getSubcommands()
                .forEach(
                        (name, task) -> {
                            if (!task.getCommandSpec().usageMessage().hidden()) {
                                s.println("  " + name);
                            }
                        });
    }
}
