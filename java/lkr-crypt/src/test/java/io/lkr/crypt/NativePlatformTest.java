package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The jar directory the loader looks in ({@code /native/<os>-<arch>/}, docs/native-interfaces.md)
 * for the names JVMs give {@code os.name} and {@code os.arch}: both x86-64 spellings and both
 * 64-bit Arm spellings map to the two bundled platforms.
 */
class NativePlatformTest {
    @Test
    void bothX86SpellingsMapToLinuxX86_64() {
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "amd64"));
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "x86_64"));
    }

    @Test
    void arm64SpellingsMapToLinuxAarch64() {
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "aarch64"));
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "arm64"));
        assertEquals("linux-aarch64", NativeLoader.platform("LINUX", "AArch64"));
    }

    @Test
    void otherPlatformsKeepTheirNames() {
        assertEquals("macos-aarch64", NativeLoader.platform("Mac OS X", "aarch64"));
        assertEquals("windows-x86_64", NativeLoader.platform("Windows 11", "amd64"));
        assertEquals("linux-riscv64", NativeLoader.platform("Linux", "riscv64"));
        assertEquals("linux-arm", NativeLoader.platform("Linux", "arm"));
    }

    @Test
    void thisJvmIsOneOfThem() {
        assertEquals(
                NativeLoader.platform(System.getProperty("os.name"), System.getProperty("os.arch")),
                NativeLoader.platform());
    }
}
