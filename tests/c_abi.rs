//! The C ABI as a C program sees it (docs/native-interfaces.md): compiles `tests/c/lkr_c_test.c` with `cc`
//! against `include/lkr_crypt.h` and the `liblkr_crypt` cdylib that cargo built for this
//! test run, makes legacy values with the real `openssl enc -aes-128-cbc` (docs/legacy.md), and runs
//! the program in a controlled environment. The program asserts the behaviour itself and ends
//! its output with `N passed, 0 failed`.
//!
//! Needs a C compiler (`cc`) and the `openssl` command: when either is missing the test
//! fails and says what to install.
//!
//! Cross builds (docs/platforms.md): `LKR_TEST_CC` names the C compiler for the library's
//! target (default `cc`) and `LKR_TEST_RUNNER` a command that runs the target's programs
//! (words split on spaces, e.g. `qemu-aarch64-static -L /usr/aarch64-linux-gnu`); the C
//! program re-executes itself through it too. `LKR_TEST_EMULATED=qemu-user` tells the C program
//! that it runs under qemu-user, which ignores `MADV_WIPEONFORK` (tests/c/lkr_c_test.c).

mod common;

use base64::Engine;
use common::cdylib_dir;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the C program may run (8 threads x 2000 round trips against a debug build).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Fails the test when `tool` cannot be run, saying what to install.
fn require_tool(tool: &str, args: &[&str], install: &str) {
    match Command::new(tool)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => {}
        Err(e) => panic!(
            "the C ABI test needs `{tool}`, which cannot be run ({e}): install {install}, \
             then run the test again"
        ),
    }
}

/// A directory in `tmp` where the library is found by its link name and by its soname
/// (`liblkr_crypt.so.1`, set by build.rs), which a program linked against it needs at run
/// time; cargo writes only `liblkr_crypt.so`. Elsewhere (no soname) the library's own directory.
fn soname_links(lib_dir: &Path, lib_name: &str, tmp: &Path) -> PathBuf {
    if !cfg!(target_os = "linux") {
        return lib_dir.to_path_buf();
    }
    let dir = tmp.join("lib");
    std::fs::create_dir(&dir).expect("create the library directory");
    for link in [lib_name.to_string(), format!("{lib_name}.1")] {
        std::os::unix::fs::symlink(lib_dir.join(lib_name), dir.join(link))
            .expect("link the library");
    }
    dir
}

/// Runs a command to completion, panicking with its stderr when it fails.
fn run(cmd: &mut Command, stdin: &[u8], what: &str) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&data));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    writer
        .join()
        .expect("stdin writer")
        .unwrap_or_else(|e| panic!("{what}: writing stdin: {e}"));
    assert!(
        out.status.success(),
        "{what}: {cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A legacy value (docs/legacy.md): IV ‖ AES-128-CBC(key, IV, plaintext), made by `openssl enc`.
fn openssl_legacy(key: &[u8; 16], iv: &[u8; 16], plaintext: &[u8], nopad: bool) -> Vec<u8> {
    let mut cmd = Command::new("openssl");
    cmd.args(["enc", "-aes-128-cbc", "-K"])
        .arg(hex::encode(key))
        .arg("-iv")
        .arg(hex::encode(iv))
        .arg("-nosalt");
    if nopad {
        cmd.arg("-nopad");
    }
    let ct = run(&mut cmd, plaintext, "openssl enc -aes-128-cbc");
    let expected = if nopad {
        plaintext.len()
    } else {
        (plaintext.len() / 16 + 1) * 16
    };
    assert_eq!(
        ct.len(),
        expected,
        "openssl enc -aes-128-cbc wrote {} bytes, expected {expected}",
        ct.len()
    );
    let mut value = iv.to_vec();
    value.extend_from_slice(&ct);
    value
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    lkr_crypt::rng::fill(&mut b);
    b
}

#[test]
fn c_program_passes() {
    require_tool(
        "cc",
        &["--version"],
        "a C compiler that provides `cc` (e.g. `apt-get install gcc` or `apt-get install clang`)",
    );
    require_tool(
        "openssl",
        &["version"],
        "the OpenSSL command-line tool (e.g. `apt-get install openssl`)",
    );

    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (lib_dir, lib_name) = cdylib_dir();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).expect("create the work directory");
    let exe = tmp.path().join("lkr_c_test");
    let lib_dir = soname_links(&lib_dir, &lib_name, tmp.path());
    let compiler = std::env::var("LKR_TEST_CC").unwrap_or_else(|_| "cc".into());
    let runner = std::env::var("LKR_TEST_RUNNER").unwrap_or_default();
    let mut runner_words = runner.split_whitespace();

    // Compile against the checked-in header and the cdylib of this build.
    let cc = Command::new(&compiler)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pthread", "-g"])
        .arg("-I")
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("tests/c/lkr_c_test.c"))
        .arg("-L")
        .arg(&lib_dir)
        .arg("-llkr_crypt")
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{compiler}`: {e}"));
    assert!(
        cc.status.success(),
        "{compiler} could not compile tests/c/lkr_c_test.c against include/lkr_crypt.h and {}:\n{}{}",
        lib_dir.join(&lib_name).display(),
        String::from_utf8_lossy(&cc.stdout),
        String::from_utf8_lossy(&cc.stderr)
    );

    // The CMK as an operator makes it (docs/keys.md).
    let cmk = run(
        Command::new("openssl").args(["rand", "-base64", "32"]),
        b"",
        "openssl rand -base64 32",
    );
    let cmk = String::from_utf8(cmk)
        .expect("base64 is ASCII")
        .trim()
        .to_string();

    // Legacy values from an independent AES-128-CBC implementation (docs/legacy.md).
    let legacy_key: [u8; 16] = random();
    let text_plain = "legacy password: hunter2 — pässwörd ✓ (CONNECTION 42)".as_bytes();
    let bin_plain: &[u8] = &[0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x01, 0xa0, 0xa1, 0xed];
    // 16 bytes ending in 0x00 encrypted without padding: PKCS#7 padding can never end in 0.
    let badpad_plain: &[u8] = b"no valid pad...\x00";
    let text = openssl_legacy(&legacy_key, &random(), text_plain, false);
    let bin = openssl_legacy(&legacy_key, &random(), bin_plain, false);
    let badpad = openssl_legacy(&legacy_key, &random(), badpad_plain, true);

    // The recovery key pair, as docs/keystore.md's drill makes it.
    let (recovery_pub, recovery_key) = (tmp.path().join("rec.pub.pem"), tmp.path().join("rec.pem"));
    run(
        Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:3072",
            ])
            .arg("-out")
            .arg(&recovery_key),
        b"",
        "openssl genpkey",
    );
    run(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&recovery_key)
            .arg("-out")
            .arg(&recovery_pub),
        b"",
        "openssl pkey -pubout",
    );
    std::fs::set_permissions(
        &recovery_key,
        std::os::unix::fs::PermissionsExt::from_mode(0o400),
    )
    .unwrap();

    let mut cmd = match runner_words.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(runner_words).arg(&exe);
            cmd
        }
        None => Command::new(&exe),
    };
    cmd.arg(&work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LD_LIBRARY_PATH", &lib_dir)
        .env("DYLD_LIBRARY_PATH", &lib_dir)
        .env("LKR_MASTER_KEY_ENV", &cmk)
        .env(
            "LKR_LEGACY_KEY_ENV",
            base64::engine::general_purpose::STANDARD.encode(legacy_key),
        )
        .env("LKR_TEST_RECOVERY_PUBLIC_PEM", &recovery_pub)
        .env("LKR_TEST_RECOVERY_PRIVATE_PEM", &recovery_key)
        .env("LKR_TEST_LEGACY_KEY_HEX", hex::encode(legacy_key))
        .env("LKR_TEST_LEGACY_TEXT_HEX", hex::encode(&text))
        .env("LKR_TEST_LEGACY_TEXT_PLAIN_HEX", hex::encode(text_plain))
        .env("LKR_TEST_LEGACY_BIN_HEX", hex::encode(&bin))
        .env("LKR_TEST_LEGACY_BIN_PLAIN_HEX", hex::encode(bin_plain))
        .env("LKR_TEST_LEGACY_BADPAD_HEX", hex::encode(&badpad))
        .env("LKR_TEST_SELF", &exe)
        .env("LKR_TEST_RUNNER", &runner)
        .env(
            "LKR_TEST_EMULATED",
            std::env::var_os("LKR_TEST_EMULATED").unwrap_or_default(),
        )
        .env(
            "LKR_TEST_FIPS",
            if cfg!(feature = "fips") { "1" } else { "0" },
        )
        .current_dir(tmp.path());
    if cfg!(not(feature = "rsa-recovery")) {
        // No RSA in this build: the C program checks that a recovery key is refused.
        cmd.env("LKR_TEST_NO_RSA", "1");
    }

    // Output to files (no pipe to drain), with a deadline in case of a hang.
    let stdout_path = tmp.path().join("stdout.txt");
    let stderr_path = tmp.path().join("stderr.txt");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the C program") {
            break Some(status);
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let report = format!(
        "--- stdout of lkr_c_test ---\n{stdout}\n--- stderr of lkr_c_test ---\n{stderr}\n---"
    );
    let status = status.unwrap_or_else(|| {
        panic!("lkr_c_test did not finish within {RUN_TIMEOUT:?} (a deadlock?); killed.\n{report}")
    });
    println!("{stdout}");
    if !stderr.is_empty() {
        eprintln!("{stderr}");
    }

    assert!(status.success(), "lkr_c_test failed ({status}).\n{report}");
    let last = stdout.lines().last().unwrap_or("");
    let passed: usize = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| {
            panic!("the last line of lkr_c_test's output is not `N passed, 0 failed`: {last:?}\n{report}")
        });
    let ok_lines = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    let fail_lines = stdout.lines().filter(|l| l.starts_with("FAIL ")).count();
    assert!(
        passed > 0 && passed == ok_lines && fail_lines == 0,
        "lkr_c_test reports {passed} passed but printed {ok_lines} `ok` and {fail_lines} `FAIL` lines.\n{report}"
    );
}
