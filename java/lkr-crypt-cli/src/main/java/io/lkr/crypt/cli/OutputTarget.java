package io.lkr.crypt.cli;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * An output a task writes, by one rule for every task (issue #14: nothing is lost):
 *
 * <ul>
 *   <li>{@code -} is standard output, written directly (not through {@link System#out}, which
 *       swallows write errors): a full disk or a closed pipe is an error.
 *   <li>A regular file, or a path that does not exist yet, is written to a temporary file of mode
 *       0600 beside it, synced, and renamed into place by {@link #commit()} only: on any failure an
 *       existing file stays as it was and nothing is left behind.
 *   <li>An existing path that is not a regular file (a device such as {@code /dev/null}, a FIFO) is
 *       written directly: it is never replaced.
 *   <li>A symbolic link is followed: the link stays, and the rule above applies to its target.
 * </ul>
 *
 * Every failure, opening or writing, is an {@link OutputException} whose message names the output
 * ({@code standard output} for {@code -}).
 */
final class OutputTarget implements AutoCloseable {
    /** What to do when the output path exists. */
    enum Existing {
        /** Replace it (by the rule above). */
        REPLACE,
        /** Refuse: {@link #open} and {@link #commit()} fail, and the existing path stays. */
        REFUSE
    }

    /** A failure to open or write an output; the message names it and says what went wrong. */
    static final class OutputException extends IOException {
        private static final long serialVersionUID = 1L;

        OutputException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final int MAX_LINKS = 40;

    private final String name;
    private final Path target;
    private final Path tmp;
    private final FileChannel channel;
    private final Existing existing;
    private final Named stream;
    private boolean done;

    private OutputTarget(
            String name,
            Path target,
            Path tmp,
            FileChannel channel,
            OutputStream raw,
            Existing existing) {
        this.name = name;
        this.target = target;
        this.tmp = tmp;
        this.channel = channel;
        this.existing = existing;
        this.stream = new Named(new BufferedOutputStream(raw, 1 << 16));
    }

    /** Opens {@code path} ({@code -} for standard output) for writing by the rule of this class. */
    static OutputTarget open(String path, Existing existing) throws OutputException {
        if (path.equals("-")) {
            System.out.flush();
            return new OutputTarget(
                    "standard output",
                    null,
                    null,
                    null,
                    new FileOutputStream(FileDescriptor.out) {
                        @Override
                        public void close() {
                            // standard output stays open for the rest of the process
                        }
                    },
                    existing);
        }
        Path given = Path.of(path);
        if (existing == Existing.REFUSE && Files.exists(given, LinkOption.NOFOLLOW_LINKS)) {
            throw new OutputException(existsMessage(path), null);
        }
        try {
            BasicFileAttributes attrs = attributes(given);
            if (attrs != null && attrs.isDirectory()) {
                throw new OutputException("Could not write " + path + ": it is a directory", null);
            }
            if (attrs != null && !attrs.isRegularFile()) {
                // A device or a FIFO, maybe behind links (/dev/stdout): written directly through
                // the given path, never replaced (and never truncated).
                FileChannel ch = FileChannel.open(given, StandardOpenOption.WRITE);
                return new OutputTarget(
                        path, given, null, ch, Channels.newOutputStream(ch), existing);
            }
            // A regular file (its real path, links resolved), or a new path (at the end of a
            // dangling link, if any): a temporary file beside it, renamed into place.
            Path target = attrs != null ? given.toRealPath() : endOfLinks(path, given);
            Path dir = target.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                throw new OutputException(
                        "Could not write " + path + ": the directory " + dir + " does not exist",
                        null);
            }
            Path tmp =
                    Files.createTempFile(
                            dir,
                            "." + target.getFileName() + ".",
                            ".tmp",
                            PosixFilePermissions.asFileAttribute(
                                    PosixFilePermissions.fromString("rw-------")));
            FileChannel ch;
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
            } catch (IOException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
            return new OutputTarget(path, target, tmp, ch, Channels.newOutputStream(ch), existing);
        } catch (OutputException e) {
            throw e;
        } catch (IOException e) {
            throw failure(path, e);
        }
    }

    /** The message of a refused existing output. */
    static String existsMessage(String path) {
        return "Refusing to overwrite the existing " + path;
    }

    /** The stream to write; its failures are {@link OutputException}s naming the output. */
    OutputStream stream() {
        return stream;
    }

    /** What the output is, for messages: the path as given, or "standard output". */
    String name() {
        return name;
    }

    /**
     * Finishes the output: flushes it; a temporary file is synced, renamed into place (or, with
     * {@link Existing#REFUSE}, linked into place only if the path is still free) and its directory
     * synced. Until this returns, an existing file is untouched.
     */
    void commit() throws OutputException {
        stream.flush();
        if (tmp == null) {
            done = true;
            return;
        }
        try {
            channel.force(true);
            channel.close();
            if (existing == Existing.REFUSE) {
                linkIntoPlace();
            } else {
                moveIntoPlace();
            }
            done = true;
            syncDirectory(target.toAbsolutePath().getParent());
        } catch (FileAlreadyExistsException e) {
            throw new OutputException(existsMessage(name), e);
        } catch (IOException e) {
            throw failure(name, e);
        } finally {
            deleteTmp();
        }
    }

    /** Discards an output that was not committed: its temporary file is deleted. */
    @Override
    public void close() {
        if (channel != null && channel.isOpen()) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the file is deleted below, or is a device
            }
        }
        if (!done) {
            deleteTmp();
        }
    }

    private void moveIntoPlace() throws IOException {
        try {
            Files.move(
                    tmp,
                    target,
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A hard link fails if the path exists, atomically; a rename would replace it. */
    private void linkIntoPlace() throws IOException {
        try {
            Files.createLink(target, tmp);
        } catch (UnsupportedOperationException e) {
            Files.move(tmp, target);
        }
    }

    private void deleteTmp() {
        if (tmp != null) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort: a leftover hidden temporary file beside the output
            }
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // a file system that cannot sync a directory: the rename itself is still atomic
        }
    }

    /** The path a chain of links ending nowhere (or no link) leads to: where a new file goes. */
    private static Path endOfLinks(String path, Path given) throws IOException {
        Path p = given;
        for (int hops = 0; Files.isSymbolicLink(p); hops++) {
            if (hops == MAX_LINKS) {
                throw new OutputException(
                        "Could not write " + path + ": too many levels of symbolic links", null);
            }
            Path parent = p.toAbsolutePath().getParent();
            Path link = Files.readSymbolicLink(p);
            p = parent == null ? link : parent.resolve(link);
        }
        return p;
    }

    /** The attributes of what {@code p} leads to (links followed), or null if nothing is there. */
    private static BasicFileAttributes attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static OutputException failure(String name, IOException e) {
        String why =
                e instanceof NoSuchFileException
                        ? "no such file or directory"
                        : e.getMessage() != null && e instanceof java.nio.file.FileSystemException
                                ? ((java.nio.file.FileSystemException) e).getReason()
                                : e.getMessage();
        return new OutputException(
                "Could not write " + name + ": " + (why == null ? e.toString() : why), e);
    }

    /** Turns every write failure into an {@link OutputException} naming the output. */
    private final class Named extends FilterOutputStream {
        Named(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws OutputException {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw failure(name, e);
            }
        }

        @Override
        public void write(int b) throws OutputException {
            try {
                out.write(b);
            } catch (IOException e) {
                throw failure(name, e);
            }
        }

        @Override
        public void flush() throws OutputException {
            try {
                out.flush();
            } catch (IOException e) {
                throw failure(name, e);
            }
        }

        @Override
        public void close() throws OutputException {
            flush();
        }
    }
}
