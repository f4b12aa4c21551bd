package io.lkr.crypt.cli;

import io.lkr.crypt.db.Migration;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of a long run on stderr: a bar redrawn in place on a terminal (rows, rows/s, ETA), plain
 * lines every few seconds otherwise (also to the log).
 */
final class ProgressDisplay implements Migration.Progress {
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final boolean terminal;
    private final TaskLog log;
    private final long plainIntervalNanos;
    private String phase = "";
    private long total;
    private long done;
    private long start;
    private long lastShown;
    private boolean drawn;

    ProgressDisplay(PrintStream err, boolean terminal, TaskLog log, long plainIntervalMillis) {
        this.err = err;
        this.terminal = terminal;
        this.log = log;
        this.plainIntervalNanos = plainIntervalMillis * 1_000_000L;
    }

    /** True when stdout/stderr look like an interactive terminal. */
    static boolean isTerminal() {
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try { // JDK 22+: System.console() exists even when redirected; ask it.
            Object r = java.io.Console.class.getMethod("isTerminal").invoke(c);
            return Boolean.TRUE.equals(r);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    @Override
    public void begin(String phase, long totalRows) {
        this.phase = phase;
        this.total = totalRows;
        this.done = 0;
        this.start = System.nanoTime();
        this.lastShown = start;
        this.drawn = false;
    }

    @Override
    public void advance(long rows) {
        done += rows;
        long now = System.nanoTime();
        if (terminal) {
            if (now - lastShown >= 100_000_000L) {
                lastShown = now;
                draw(now);
            }
        } else if (now - lastShown >= plainIntervalNanos) {
            lastShown = now;
            String line =
                    phase
                            + ": "
                            + done
                            + "/"
                            + total
                            + " rows ("
                            + percent()
                            + "%), "
                            + rate(now)
                            + " rows/s, ETA "
                            + eta(now);
            err.println(line);
            log.fileOnly("INFO", line);
        }
    }

    @Override
    public void end() {
        if (terminal && (drawn || done > 0)) {
            draw(System.nanoTime());
            err.println();
        }
    }

    private void draw(long now) {
        int filled = total <= 0 ? WIDTH : (int) Math.min(WIDTH, done * WIDTH / total);
        StringBuilder b = new StringBuilder("\r").append(phase).append(" [");
        for (int i = 0; i < WIDTH; i++) {
            b.append(i < filled ? '#' : '-');
        }
        b.append("] ")
                .append(
                        String.format(
                                Locale.ROOT,
                                "%3d%% %,d/%,d rows  %,d rows/s  ETA %s   ",
                                percent(),
                                done,
                                total,
                                rate(now),
                                eta(now)));
        err.print(b);
        err.flush();
        drawn = true;
    }

    private long percent() {
        return total <= 0 ? 100 : Math.min(100, done * 100 / total);
    }

    private long rate(long now) {
        double s = (now - start) / 1e9;
        return s <= 0 ? 0 : (long) (done / s);
    }

    private String eta(long now) {
        long r = rate(now);
        if (r <= 0 || total <= done) {
            return "0 s";
        }
        long s = (total - done) / r;
        return s >= 60 ? (s / 60) + " min " + (s % 60) + " s" : s + " s";
    }
}
