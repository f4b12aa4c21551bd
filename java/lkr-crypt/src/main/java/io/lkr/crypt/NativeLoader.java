package io.lkr.crypt;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Properties;

/**
 * Loads {@code liblkr_crypt} and checks that it is this jar's (docs/native-interfaces.md). The
 * order:
 *
 * <ol>
 *   <li>the system property {@code lkr.crypt.library}: that file;
 *   <li>an installed library: the first {@code System.mapLibraryName("lkr_crypt")} in the
 *       <em>absolute</em> entries of {@code java.library.path}, in order. This is what {@code
 *       System.loadLibrary("lkr_crypt")} does, except that empty and relative entries are skipped:
 *       the working directory is never searched implicitly;
 *   <li>the copy bundled in the jar at {@code /native/<os>-<arch>/liblkr_crypt.so}, written to a
 *       file in a new private (0700) temporary directory, checked against the bundled bytes,
 *       loaded, and deleted again (the mapping stays valid). A JVM killed between extracting and
 *       deleting leaves its directory behind; the next extraction removes such leftovers of the
 *       same user once they are an hour old (an extraction takes milliseconds). {@code
 *       lkr.crypt.tmpdir} names the directory to extract into (default {@code java.io.tmpdir}).
 * </ol>
 *
 * Whichever is loaded, its version is checked before any other native method is called: the
 * library's crate version and JNI ABI ({@code Native.abiVersion()}) must be the jar's ({@code
 * version.properties}, the Maven version, and {@link Native#ABI}). A library that reports another
 * version, or has no version export at all (an older library), is refused with an {@link
 * UnsatisfiedLinkError} naming the file, the platform, both versions and what to do — never used,
 * and never replaced by another copy (its symbols are loaded in this JVM by then).
 */
public final class NativeLoader {
    private static volatile String loadedFrom;
    private static final String PREFIX = "lkr-crypt-";
    private static final String FILE = System.mapLibraryName("lkr_crypt");

    /** Extraction directories older than this are leftovers of a killed JVM. */
    private static final Duration STALE = Duration.ofHours(1);

    private NativeLoader() {}

    /**
     * Where the library was loaded from: "system", "bundled", or a file path; null before.
     *
     * @return "system", "bundled", a path, or null
     */
    public static String loadedFrom() {
        return loadedFrom;
    }

    /**
     * Called once, by {@link Native}'s static initializer (the check calls back into {@link
     * Native}).
     */
    static synchronized void load() {
        if (loadedFrom != null) {
            return;
        }
        String jarVersion = jarVersion();
        String explicit = System.getProperty("lkr.crypt.library");
        if (explicit != null && !explicit.isEmpty()) {
            String file = Paths.get(explicit).toAbsolutePath().toString();
            System.load(file);
            check(
                    jarVersion,
                    file + " (named by -Dlkr.crypt.library)",
                    "run with -Dlkr.crypt.library=PATH naming the "
                            + FILE
                            + " of lkr-crypt "
                            + jarVersion
                            + " for "
                            + platform()
                            + ", or without it to use the library bundled in the jar");
            loadedFrom = explicit;
            return;
        }
        Path installed = onLibraryPath();
        UnsatisfiedLinkError systemFailure = null;
        if (installed != null) {
            try {
                System.load(installed.toString());
            } catch (UnsatisfiedLinkError e) {
                systemFailure =
                        e; // not loadable at all (e.g. another architecture): nothing was loaded
            }
            if (systemFailure == null) {
                check(
                        jarVersion,
                        installed + " (found on java.library.path)",
                        "remove or replace that file with the "
                                + FILE
                                + " of lkr-crypt "
                                + jarVersion
                                + ", or run with -Dlkr.crypt.library=PATH naming the right one");
                loadedFrom = "system";
                return;
            }
        }
        String resource = "/native/" + platform() + "/" + FILE;
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                UnsatisfiedLinkError e =
                        new UnsatisfiedLinkError(
                                "No native library for "
                                        + platform()
                                        + ": this jar (lkr-crypt "
                                        + jarVersion
                                        + ") bundles none at "
                                        + resource
                                        + ", and "
                                        + (systemFailure == null
                                                ? "no absolute entry of java.library.path holds "
                                                        + FILE
                                                : installed
                                                        + " could not be loaded ("
                                                        + systemFailure.getMessage()
                                                        + ")")
                                        + ". Build the native library of lkr-crypt "
                                        + jarVersion
                                        + " for "
                                        + platform()
                                        + " and run with -Dlkr.crypt.library=PATH.");
                if (systemFailure != null) {
                    e.addSuppressed(systemFailure);
                }
                throw e;
            }
            loadBundled(in);
        } catch (IOException e) {
            UnsatisfiedLinkError err =
                    new UnsatisfiedLinkError("Could not extract the bundled " + FILE + ": " + e);
            err.initCause(e);
            throw err;
        }
        check(
                jarVersion,
                "the " + FILE + " bundled in this jar at " + resource,
                "the jar was built with another version's library: rebuild it (mvn -f java/pom.xml package), "
                        + "or run with -Dlkr.crypt.library=PATH naming the "
                        + FILE
                        + " of lkr-crypt "
                        + jarVersion);
        loadedFrom = "bundled";
    }

    /**
     * The first {@link #FILE} in an absolute entry of {@code java.library.path}, or null. Empty and
     * relative entries (which would search the working directory) are skipped.
     */
    static Path onLibraryPath() {
        String path = System.getProperty("java.library.path", "");
        for (String entry : path.split(java.util.regex.Pattern.quote(java.io.File.pathSeparator))) {
            if (entry.isEmpty()) {
                continue;
            }
            Path dir;
            try {
                dir = Paths.get(entry);
            } catch (java.nio.file.InvalidPathException e) {
                continue;
            }
            if (!dir.isAbsolute()) {
                continue;
            }
            Path file = dir.resolve(FILE);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        return null;
    }

    /**
     * Refuses the library just loaded from {@code where} unless it reports the jar's version and
     * JNI ABI; {@code remedy} says what to do.
     */
    private static void check(String jarVersion, String where, String remedy) {
        String expected = jarVersion + "/" + Native.ABI;
        String reported;
        try {
            reported = Native.abiVersion();
        } catch (UnsatisfiedLinkError e) {
            UnsatisfiedLinkError err =
                    new UnsatisfiedLinkError(
                            "The native library "
                                    + where
                                    + " on "
                                    + platform()
                                    + " is not this jar's: it has no version (no abiVersion export), so it is older than lkr-crypt "
                                    + jarVersion
                                    + " (JNI ABI "
                                    + Native.ABI
                                    + ") and calling it could corrupt memory. To proceed: "
                                    + remedy
                                    + ".");
            err.initCause(e);
            throw err;
        }
        if (!expected.equals(reported)) {
            int slash = reported == null ? -1 : reported.lastIndexOf('/');
            String theirs =
                    slash < 0
                            ? String.valueOf(reported)
                            : reported.substring(0, slash)
                                    + " (JNI ABI "
                                    + reported.substring(slash + 1)
                                    + ")";
            throw new UnsatisfiedLinkError(
                    "The native library "
                            + where
                            + " on "
                            + platform()
                            + " is lkr-crypt "
                            + theirs
                            + ", but this jar is lkr-crypt "
                            + jarVersion
                            + " (JNI ABI "
                            + Native.ABI
                            + "): a library of another version is not used. To proceed: "
                            + remedy
                            + ".");
        }
    }

    /**
     * The jar's version (the Maven project version, in the filtered {@code version.properties}).
     */
    static String jarVersion() {
        Properties p = new Properties();
        try (InputStream in = NativeLoader.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // reported below
        }
        String v = p.getProperty("version", "");
        if (v.isEmpty() || v.contains("${")) {
            throw new UnsatisfiedLinkError(
                    "This lkr-crypt jar has no version (io/lkr/crypt/version.properties is "
                            + "missing or unfiltered), so its native library cannot be checked: build it with Maven "
                            + "(mvn -f java/pom.xml package)");
        }
        return v;
    }

    /** Extracts the library streaming (the heap may be small), checks the copy, loads it. */
    private static void loadBundled(InputStream library) throws IOException {
        String base = System.getProperty("lkr.crypt.tmpdir", System.getProperty("java.io.tmpdir"));
        removeLeftovers(Paths.get(base));
        Path dir =
                Files.createTempDirectory(
                        Paths.get(base),
                        PREFIX,
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rwx------")));
        Path file = dir.resolve(FILE);
        try {
            MessageDigest bundled = sha256();
            try (OutputStream out =
                    Files.newOutputStream(
                            file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                new DigestInputStream(library, bundled).transferTo(out);
            }
            MessageDigest extracted = sha256();
            try (InputStream in = new DigestInputStream(Files.newInputStream(file), extracted)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            if (!MessageDigest.isEqual(bundled.digest(), extracted.digest())) {
                throw new IOException(
                        "the extracted copy at " + file + " differs from the bundled library");
            }
            System.load(file.toAbsolutePath().toString());
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * Best effort: deletes {@code lkr-crypt-<digits>/liblkr_crypt.so} and its directory where the
     * directory belongs to this user and was last modified more than {@link #STALE} ago. Anything
     * else in such a directory keeps it; errors are ignored (another JVM may be doing the same).
     */
    private static void removeLeftovers(Path base) {
        Instant cutoff = Instant.now().minus(STALE);
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base, PREFIX + "*")) {
            UserPrincipal me = null;
            for (Path dir : dirs) {
                try {
                    String suffix = dir.getFileName().toString().substring(PREFIX.length());
                    if (suffix.isEmpty()
                            || !suffix.chars().allMatch(Character::isDigit)
                            || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                            || Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS)
                                    .toInstant()
                                    .isAfter(cutoff)) {
                        continue;
                    }
                    if (me == null) {
                        me =
                                base.getFileSystem()
                                        .getUserPrincipalLookupService()
                                        .lookupPrincipalByName(System.getProperty("user.name"));
                    }
                    if (!me.equals(Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS))) {
                        continue;
                    }
                    Files.deleteIfExists(dir.resolve(FILE));
                    Files.deleteIfExists(dir);
                } catch (IOException | RuntimeException ignored) {
                    // not ours, not empty, or gone already: leave it
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // the directory cannot be listed: the extraction below reports what is wrong
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** This JVM's platform: {@code linux-x86_64}, {@code linux-aarch64}, ... */
    static String platform() {
        return platform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    /**
     * The jar's directory name ({@code /native/<os>-<arch>/}) for the values of {@code os.name} and
     * {@code os.arch}: {@code amd64} and {@code x86_64} are {@code x86_64}, {@code aarch64} and
     * {@code arm64} are {@code aarch64}; other names are kept (lower case).
     */
    static String platform(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac")) {
            os = "macos";
        } else if (os.startsWith("windows")) {
            os = "windows";
        }
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86_64";
        } else if (arch.equals("arm64")) {
            arch = "aarch64";
        }
        return os + "-" + arch;
    }
}
