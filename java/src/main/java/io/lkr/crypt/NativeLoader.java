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

/**
 * Loads {@code liblkr_crypt}: {@code System.loadLibrary("lkr_crypt")} first (an installed
 * library on {@code java.library.path}); otherwise the copy bundled in the jar at
 * {@code /native/<os>-<arch>/liblkr_crypt.so}, written to a file in a new private (0700)
 * temporary directory, checked against the bundled bytes, loaded, and deleted again (the
 * mapping stays valid). A JVM killed between extracting and deleting leaves its directory
 * behind; the next extraction removes such leftovers of the same user once they are an hour old
 * (an extraction takes milliseconds). The system property {@code lkr.crypt.library} names a
 * library file to load instead; {@code lkr.crypt.tmpdir} the directory to extract into (default
 * {@code java.io.tmpdir}).
 */
public final class NativeLoader {
    private static volatile String loadedFrom;
    private static final String PREFIX = "lkr-crypt-";
    private static final String FILE = "liblkr_crypt.so";
    /** Extraction directories older than this are leftovers of a killed JVM. */
    private static final Duration STALE = Duration.ofHours(1);

    private NativeLoader() {}

    /** Where the library was loaded from: "system", "bundled", or a file path; null before. */
    public static String loadedFrom() {
        return loadedFrom;
    }

    static synchronized void load() {
        if (loadedFrom != null) {
            return;
        }
        String explicit = System.getProperty("lkr.crypt.library");
        if (explicit != null && !explicit.isEmpty()) {
            System.load(Paths.get(explicit).toAbsolutePath().toString());
            loadedFrom = explicit;
            return;
        }
        UnsatisfiedLinkError systemFailure;
        try {
            System.loadLibrary("lkr_crypt");
            loadedFrom = "system";
            return;
        } catch (UnsatisfiedLinkError e) {
            systemFailure = e;
        }
        String resource = "/native/" + platform() + "/liblkr_crypt.so";
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                UnsatisfiedLinkError e = new UnsatisfiedLinkError("liblkr_crypt is neither on java.library.path ("
                        + systemFailure.getMessage() + ") nor bundled at " + resource);
                e.addSuppressed(systemFailure);
                throw e;
            }
            loadBundled(in);
            loadedFrom = "bundled";
        } catch (IOException e) {
            UnsatisfiedLinkError err = new UnsatisfiedLinkError("Could not extract the bundled liblkr_crypt: " + e);
            err.initCause(e);
            throw err;
        }
    }

    /** Extracts the library streaming (the heap may be small), checks the copy, loads it. */
    private static void loadBundled(InputStream library) throws IOException {
        String base = System.getProperty("lkr.crypt.tmpdir", System.getProperty("java.io.tmpdir"));
        removeLeftovers(Paths.get(base));
        Path dir = Files.createTempDirectory(Paths.get(base), PREFIX,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path file = dir.resolve(FILE);
        try {
            MessageDigest bundled = sha256();
            try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                new DigestInputStream(library, bundled).transferTo(out);
            }
            MessageDigest extracted = sha256();
            try (InputStream in = new DigestInputStream(Files.newInputStream(file), extracted)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            if (!MessageDigest.isEqual(bundled.digest(), extracted.digest())) {
                throw new IOException("the extracted copy at " + file + " differs from the bundled library");
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
                    if (suffix.isEmpty() || !suffix.chars().allMatch(Character::isDigit)
                            || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                            || Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS)
                                    .toInstant().isAfter(cutoff)) {
                        continue;
                    }
                    if (me == null) {
                        me = base.getFileSystem().getUserPrincipalLookupService()
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

    /** {@code linux-x86_64}, {@code linux-aarch64}, ... */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
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
