package io.lkr.crypt.cli;

import io.lkr.crypt.LkrCrypt;
import io.lkr.crypt.NativeLoader;
import picocli.CommandLine.Command;

/**
 * {@code version} (and {@code --version}): the jar's version and the native library's, as the
 * library reports it, on stdout. A library that cannot be loaded is an error on stderr (exit 1),
 * after the jar's version.
 */
@Command(
        name = VersionTask.NAME,
        description = "Shows the versions of the jar and of its native library.")
final class VersionTask extends TaskCommand {
    static final String NAME = "version";

    /** The version needs no CMK. */
    @Override
    void checkMasterKey() {}

    @Override
    int work() {
        out.println(jarLine());
        try {
            out.println(nativeLine());
            return OK;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            err.println("The native library cannot be used: " + e.getMessage());
            return FAILED;
        }
    }

    private static String jarLine() {
        return "lkr-crypt.jar " + LkrCrypt.version();
    }

    /** The library's crate version and JNI ABI, and where it was loaded from. */
    private static String nativeLine() {
        String v = LkrCrypt.nativeVersion();
        int slash = v.lastIndexOf('/');
        return "native library "
                + (slash < 0
                        ? v
                        : v.substring(0, slash) + " (JNI ABI " + v.substring(slash + 1) + ")")
                + ", "
                + where(NativeLoader.loadedFrom())
                + (LkrCrypt.isFipsMode()
                        ? ", FIPS mode (AWS-LC's FIPS 140-3 module, docs/fips.md)"
                        : ", not the FIPS build");
    }

    private static String where(String loadedFrom) {
        switch (String.valueOf(loadedFrom)) {
            case "bundled":
                return "bundled in the jar";
            case "system":
                return "from java.library.path";
            default:
                return "from " + loadedFrom;
        }
    }

    /** The lines of every task's {@code --version}. */
    static String[] lines() {
        try {
            return new String[] {jarLine(), nativeLine()};
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return new String[] {jarLine(), "native library cannot be used: " + e.getMessage()};
        }
    }
}
