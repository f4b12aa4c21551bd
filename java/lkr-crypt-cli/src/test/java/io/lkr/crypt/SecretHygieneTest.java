package io.lkr.crypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secret hygiene (issue #8): every task of the jar, and their error paths, run in child JVMs with
 * known keys — the CMK, a second CMK (rekey), a wrong CMK, the legacy key, the CMK that {@code
 * generate_master_key} writes — and afterwards the KEKs themselves (unwrapped here with
 * javax.crypto per docs/keystore.md). No key may appear in any output, log file or exception
 * message: raw, standard/URL base64 (padded or not) or hex. The same holds, in this JVM, for {@link
 * MasterKey}: its {@code toString}, its factories' refusals and a mismatched open.
 */
class SecretHygieneTest {
    @TempDir Path dir;

    private final SecureRandom rnd = new SecureRandom();
    private final StringBuilder everything = new StringBuilder();
    private final List<String> transcript = new ArrayList<>();

    private byte[] key(int n) {
        byte[] k = new byte[n];
        rnd.nextBytes(k);
        return k;
    }

    private static String b64(byte[] k) {
        return Base64.getEncoder().encodeToString(k);
    }

    /**
     * Runs {@code java ... Main task args} in {@link #dir} with these variables; returns the exit
     * status.
     */
    private int jar(Map<String, String> env, String... args) throws Exception {
        List<String> cmd =
                new ArrayList<>(
                        List.of(
                                TestSupport.javaBin(),
                                "--enable-native-access=ALL-UNNAMED",
                                "-cp",
                                System.getProperty("java.class.path"),
                                "io.lkr.crypt.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb =
                new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("LKR_") || k.startsWith("AWS_"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        everything.append(out).append('\n');
        transcript.add(String.join(" ", args) + " -> " + p.exitValue());
        return p.exitValue();
    }

    private static Map<String, String> env(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** Every spelling of {@code key} that must never be printed. */
    static List<String> spellings(byte[] key) {
        Base64.Encoder std = Base64.getEncoder();
        Base64.Encoder url = Base64.getUrlEncoder();
        return List.of(
                std.encodeToString(key),
                std.withoutPadding().encodeToString(key),
                url.encodeToString(key),
                url.withoutPadding().encodeToString(key),
                HexFormat.of().formatHex(key),
                HexFormat.of().withUpperCase().formatHex(key),
                new String(key, StandardCharsets.ISO_8859_1));
    }

    static void assertNoKey(String text, Map<String, byte[]> keys, String where) {
        for (Map.Entry<String, byte[]> k : keys.entrySet()) {
            for (String s : spellings(k.getValue())) {
                assertFalse(text.contains(s), k.getKey() + " appears in " + where);
            }
        }
    }

    @Test
    void noKeyAppearsInAnyOutputLogOrException() throws Exception {
        byte[] cmk = key(32);
        byte[] cmk2 = key(32);
        byte[] wrongCmk = key(32);
        byte[] legacy = key(16);
        Map<String, String> ok =
                env("LKR_MASTER_KEY_ENV", b64(cmk), "LKR_LEGACY_KEY_ENV", b64(legacy));
        Files.writeString(dir.resolve("plain.txt"), "a cached file");

        // Every task, on the embedded default database.
        assertEquals(0, jar(ok, "generate_master_key", "--file", "new-cmk.key"));
        assertEquals(1, jar(ok, "generate_master_key", "--file", "new-cmk.key"));
        assertEquals(0, jar(ok, "create_sample_db", "--rows", "50"));
        assertEquals(0, jar(ok, "migrate_encryption", "--dry-run"));
        assertEquals(0, jar(ok, "migrate_encryption"));
        assertEquals(0, jar(ok, "migrate_encryption"));
        assertEquals(0, jar(ok, "status"));
        assertEquals(0, jar(ok, "read_value", "CONNECTION.PASSWORD", "7"));
        assertEquals(0, jar(ok, "export_keystore", "exported.json"));
        assertEquals(0, jar(ok, "encrypt_file", "plain.txt", "plain.lks"));
        assertEquals(0, jar(ok, "decrypt_file", "plain.lks", "back.txt"));
        assertEquals(0, jar(ok, "rotate_kek"));
        assertEquals(1, jar(ok, "retire_kek", "--kek-id", "1"));
        assertEquals(0, jar(ok, "migrate_encryption", "--reencrypt"));
        assertEquals(0, jar(ok, "retire_kek", "--kek-id", "1"));
        assertEquals(
                0,
                jar(
                        env(
                                "LKR_MASTER_KEY_ENV_SOURCE",
                                b64(cmk),
                                "LKR_MASTER_KEY_ENV_DESTINATION",
                                b64(cmk2)),
                        "rekey"));
        assertEquals(
                0,
                jar(
                        env(
                                "LKR_MASTER_KEY_ENV_SOURCE",
                                b64(cmk2),
                                "LKR_MASTER_KEY_ENV_DESTINATION",
                                b64(cmk)),
                        "rekey"));
        // The recovery key: added, rotated under, a wrong private key refused, recovered to the
        // second CMK and back, removed.
        byte[] recoveryDer = rsaKeyPair("recovery");
        rsaKeyPair("other");
        Map<String, String> withRecovery = new LinkedHashMap<>(ok);
        withRecovery.put(
                "LKR_RECOVERY_PUBLIC_KEY_FILE", dir.resolve("recovery.pub.pem").toString());
        assertEquals(0, jar(withRecovery, "add_recovery_key"));
        assertEquals(0, jar(withRecovery, "rotate_kek"));
        assertEquals(1, jar(ok, "rotate_kek"));
        Map<String, String> toCmk2 = env("LKR_MASTER_KEY_ENV_DESTINATION", b64(cmk2));
        assertEquals(1, jar(toCmk2, "recover", "--private-key", "other.pem"));
        assertEquals(0, jar(toCmk2, "recover", "--private-key", "recovery.pem"));
        Map<String, String> toCmk = env("LKR_MASTER_KEY_ENV_DESTINATION", b64(cmk));
        assertEquals(0, jar(toCmk, "recover", "--private-key", "recovery.pem"));
        assertEquals(0, jar(ok, "status"));
        assertEquals(0, jar(ok, "remove_recovery_key"));

        // Error paths.
        assertEquals(1, jar(env("LKR_MASTER_KEY_ENV", b64(wrongCmk)), "status"));
        assertEquals(1, jar(env("LKR_MASTER_KEY_ENV", b64(wrongCmk)), "migrate_encryption"));
        assertEquals(
                1,
                jar(
                        env(
                                "LKR_MASTER_KEY_ENV_SOURCE",
                                b64(wrongCmk),
                                "LKR_MASTER_KEY_ENV_DESTINATION",
                                b64(cmk2)),
                        "rekey"));
        byte[] shortKey = java.util.Arrays.copyOf(cmk, 31);
        assertEquals(1, jar(env("LKR_MASTER_KEY_ENV", b64(shortKey)), "status"));
        assertEquals(1, jar(env("LKR_MASTER_KEY_ENV", b64(cmk) + "!"), "status"));
        assertEquals(
                1,
                jar(
                        env("LKR_MASTER_KEY_ENV", b64(cmk), "LKR_MASTER_KEY_FILE", "new-cmk.key"),
                        "status"));
        Path loose = dir.resolve("loose.key");
        Files.writeString(loose, b64(cmk));
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(1, jar(env("LKR_MASTER_KEY_FILE", loose.toString()), "status"));
        assertEquals(
                1,
                jar(
                        env(
                                "LKR_MASTER_KEY_ENV",
                                b64(cmk),
                                "LKR_LEGACY_KEY_ENV",
                                b64(java.util.Arrays.copyOf(legacy, 15))),
                        "migrate_encryption"));
        byte[] sealed = Files.readAllBytes(dir.resolve("plain.lks"));
        sealed[sealed.length - 1] ^= 1;
        Files.write(dir.resolve("tampered.lks"), sealed);
        assertEquals(1, jar(ok, "decrypt_file", "tampered.lks", "never.txt"));
        assertEquals(2, jar(ok, "no_such_task"));
        // A wrong legacy key on a fresh legacy sample: the undecryptable list names rows, never
        // values.
        Files.createDirectories(dir.resolve("other"));
        assertEquals(0, jar(ok, "create_sample_db", "--rows", "20", "-d", writeYaml("other")));
        assertEquals(
                1,
                jar(
                        env("LKR_MASTER_KEY_ENV", b64(cmk), "LKR_LEGACY_KEY_ENV", b64(key(16))),
                        "migrate_encryption",
                        "-d",
                        writeYaml("other")));

        // The KEKs, unwrapped from the keystores with the CMK, and the generated CMK.
        Map<String, byte[]> keys = new LinkedHashMap<>();
        keys.put("the CMK", cmk);
        keys.put("the rekey destination CMK", cmk2);
        keys.put("the wrong CMK", wrongCmk);
        keys.put("the legacy key", legacy);
        keys.put("the recovery private key (PKCS#8 DER)", recoveryDer);
        keys.put(
                "the generated CMK",
                Base64.getDecoder().decode(Files.readString(dir.resolve("new-cmk.key")).trim()));
        String exported = Files.readString(dir.resolve("exported.json"));
        keys.put("KEK 1", IndependentFormatTest.unwrapKek(cmk, exported, 1));
        String retiredCopy;
        try (Stream<Path> s = Files.list(dir.resolve("log"))) {
            retiredCopy =
                    Files.readString(
                            s.filter(
                                            f ->
                                                    f.getFileName()
                                                            .toString()
                                                            .startsWith("keystore-before-retiring"))
                                    .findFirst()
                                    .orElseThrow());
        }
        keys.put("KEK 2", IndependentFormatTest.unwrapKek(cmk, retiredCopy, 2));

        String log =
                Files.readString(
                        dir.resolve("log").resolve("lkr-crypt.log"), StandardCharsets.ISO_8859_1);
        assertTrue(log.contains("Starting migration from AES-128-CBC Legacy to AES-GCM-256"), log);
        assertTrue(
                everything.toString().contains("Master Key does not match the keystore"),
                everything.toString());
        assertTrue(
                everything
                        .toString()
                        .contains("Permission for backing key file must be 0400, but is 0644"));
        assertNoKey(everything.toString(), keys, "the output of " + transcript);
        assertNoKey(log, keys, "log/lkr-crypt.log");
        assertNoKey(exported + retiredCopy, keys, "the exported keystores");
        for (String line : Files.readAllLines(dir.resolve("recovery.pem"))) {
            if (!line.startsWith("-----")) {
                assertFalse(
                        everything.toString().contains(line) || log.contains(line),
                        "a line of the recovery private key's PEM appears in an output or the log");
            }
        }

        // The library's own exceptions and descriptions, in this JVM (the surefire CMK).
        byte[] testCmk = Base64.getDecoder().decode(TestSupport.TEST_CMK);
        Map<String, byte[]> mine = Map.of("the test CMK", testCmk, "the legacy key", legacy);
        StringBuilder seen = new StringBuilder();
        try (LkrCrypt c = LkrCrypt.openFromEnvironment((byte[]) null)) {
            seen.append(c).append('\n');
            byte[] env1 = c.encrypt(new byte[20], new byte[0]);
            env1[30] ^= 1;
            seen.append(
                            assertThrows(
                                    GeneralSecurityException.class,
                                    () -> c.decrypt(env1, new byte[0])))
                    .append('\n');
            seen.append(
                            assertThrows(
                                    GeneralSecurityException.class,
                                    () ->
                                            c.legacyMigrator()
                                                    .migrate(new byte[33], new byte[0], legacy)))
                    .append('\n');
            seen.append(
                            assertThrows(
                                    GeneralSecurityException.class,
                                    () ->
                                            c.legacyMigrator()
                                                    .migrate(
                                                            new byte[32],
                                                            new byte[0],
                                                            java.util.Arrays.copyOf(legacy, 15))))
                    .append('\n');
            keys.put(
                    "this JVM's KEK 1",
                    IndependentFormatTest.unwrapKek(
                            testCmk, new String(c.exportKeystore(), StandardCharsets.UTF_8), 1));
            mine =
                    Map.of(
                            "the test CMK",
                            testCmk,
                            "the legacy key",
                            legacy,
                            "this JVM's KEK 1",
                            keys.get("this JVM's KEK 1"));
        }
        seen.append(
                        assertThrows(
                                GeneralSecurityException.class,
                                () ->
                                        LkrCrypt.openFromEnvironment(
                                                exported.getBytes(StandardCharsets.UTF_8))))
                .append('\n');
        assertNoKey(seen.toString(), mine, "exceptions and toString: " + seen);
    }

    /**
     * Makes {@code <name>.pem} (RSA-3072, PKCS#8, mode 0400) and {@code <name>.pub.pem} with
     * openssl in {@link #dir}; returns the private key's DER.
     */
    private byte[] rsaKeyPair(String name) throws Exception {
        Path priv = dir.resolve(name + ".pem");
        for (List<String> cmd :
                List.of(
                        List.of(
                                "openssl",
                                "genpkey",
                                "-algorithm",
                                "RSA",
                                "-pkeyopt",
                                "rsa_keygen_bits:3072",
                                "-out",
                                priv.toString()),
                        List.of(
                                "openssl",
                                "pkey",
                                "-in",
                                priv.toString(),
                                "-pubout",
                                "-out",
                                dir.resolve(name + ".pub.pem").toString()))) {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), cmd.toString());
        }
        Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("r--------"));
        String body =
                Files.readString(priv).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return Base64.getDecoder().decode(body);
    }

    /** A refusal of {@code open} as everything a log would show: its trace and its causes. */
    private static String refusal(String expected, org.junit.jupiter.api.function.Executable open) {
        MasterKeyException e = assertThrows(MasterKeyException.class, open);
        assertTrue(e.getMessage().contains(expected), "expected «" + expected + "» in: " + e);
        java.io.StringWriter trace = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(trace));
        return trace.toString();
    }

    private Path cmkFile(String name, String content, String mode) throws Exception {
        Path f = Files.writeString(dir.resolve(name), content, StandardCharsets.ISO_8859_1);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    /**
     * Keys as data (docs/native-interfaces.md, "Keys as data"): {@link MasterKey#toString()}, every
     * refusal of the local factories (wrong length, bad base64, a key file not 0400, a missing key
     * file) and opening a keystore with another CMK never show a key's bytes, raw, base64 or hex.
     */
    @Test
    void noMasterKeyBytesInToStringOrMessages() throws Exception {
        byte[] cmk = key(32);
        byte[] other = key(32);
        byte[] short16 = key(16);
        byte[] long33 = key(33);
        Map<String, byte[]> keys = new LinkedHashMap<>();
        keys.put("the CMK", cmk);
        keys.put("the other CMK", other);
        keys.put("the 16-byte key", short16);
        keys.put("the 33-byte key", long33);
        String size = "Size of the Master Key is invalid it must be 32 bytes however is ";
        List<String> shown = new ArrayList<>();
        Path ks = dir.resolve("keystore.json");
        Path good = cmkFile("cmk.key", b64(cmk) + "\n", "r--------");
        try (MasterKey raw = MasterKey.local(cmk);
                MasterKey text = MasterKey.localBase64(b64(cmk));
                MasterKey file = MasterKey.localFile(good)) {
            shown.addAll(List.of(raw.toString(), text.toString(), file.toString()));
            try (LkrCrypt c = LkrCrypt.open(raw, ks)) {
                assertEquals(1, c.activeKekId());
            }
        }
        // The factories' refusals.
        shown.add(refusal(size + "16", () -> MasterKey.local(short16)));
        shown.add(refusal(size + "33", () -> MasterKey.local(long33)));
        shown.add(refusal(size + "16", () -> MasterKey.localBase64(b64(short16))));
        shown.add(refusal(size + "33", () -> MasterKey.localBase64(b64(long33))));
        // Hex text is valid base64 of 48 bytes.
        String hex = HexFormat.of().formatHex(cmk);
        shown.add(refusal(size + "48", () -> MasterKey.localBase64(hex)));
        String bad = "Master Key is not valid base64";
        String std = b64(cmk);
        shown.add(refusal(bad, () -> MasterKey.localBase64(std.substring(0, 43) + "!")));
        shown.add(refusal(bad, () -> MasterKey.localBase64(std + "!" + std)));
        shown.add(
                refusal(
                        bad,
                        () -> MasterKey.localBase64(new String(cmk, StandardCharsets.ISO_8859_1))));
        Path loose = cmkFile("loose.key", std, "rw-r--r--");
        shown.add(
                refusal(
                        "Permission for backing key file must be 0400, but is 0644",
                        () -> MasterKey.localFile(loose)));
        Path short16File = cmkFile("short.key", b64(short16), "r--------");
        shown.add(refusal(size + "16", () -> MasterKey.localFile(short16File)));
        Path notBase64File = cmkFile("bad.key", "!" + std, "r--------");
        shown.add(refusal(bad, () -> MasterKey.localFile(notBase64File)));
        Path rawFile =
                cmkFile("raw.key", new String(cmk, StandardCharsets.ISO_8859_1), "r--------");
        shown.add(refusal(bad, () -> MasterKey.localFile(rawFile)));
        shown.add(
                refusal(
                        "Missing backing keystore",
                        () -> MasterKey.localFile(dir.resolve("no-such.key"))));
        // Opening with another CMK: a file and the same keystore as bytes.
        byte[] doc = Files.readAllBytes(ks);
        try (MasterKey k = MasterKey.local(other)) {
            String mismatch = "Master Key does not match the keystore";
            shown.add(k.toString());
            shown.add(refusal(mismatch, () -> LkrCrypt.open(k, ks)));
            shown.add(refusal(mismatch, () -> LkrCrypt.open(k, doc)));
        }
        assertEquals(19, shown.size());
        assertNoKey(String.join("\n", shown), keys, "a MasterKey's toString or a refusal");
    }

    private String writeYaml(String sub) throws Exception {
        Path yaml = dir.resolve(sub + ".yaml");
        Files.writeString(
                yaml,
                "dialect: hsqldb\ndatabase: " + dir.resolve(sub).resolve("db").toString() + "\n");
        return yaml.toString();
    }
}
