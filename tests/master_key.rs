//! docs/keys.md: choosing the CMK, each error message word for word.

mod common;
use common::vars;
use lkr_crypt::keys::{legacy_key_from, master_key_from, MasterKey};
use lkr_crypt::ErrorKind;
use std::os::unix::fs::PermissionsExt;

const KEY32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32
const KEY31: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="; // bytes 0..31

fn err(pairs: &[(&str, &str)]) -> lkr_crypt::Error {
    master_key_from(&vars(pairs), "").expect_err("must be refused")
}

fn key_file(text: &str, mode: u32) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cmk");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    let p = path.to_str().unwrap().to_string();
    (dir, p)
}

#[test]
fn env_key_is_accepted_with_surrounding_whitespace() {
    let mk = master_key_from(
        &vars(&[("LKR_MASTER_KEY_ENV", &format!("  {KEY32}\n"))]),
        "",
    )
    .unwrap();
    match mk {
        MasterKey::Local(k) => assert_eq!(k.expose()[31], 31),
        other => panic!("expected a local key, got {other:?}"),
    }
}

#[test]
fn wrong_size_names_the_decoded_length() {
    let e = err(&[("LKR_MASTER_KEY_ENV", KEY31)]);
    assert_eq!(e.kind(), ErrorKind::MasterKey);
    assert!(
        e.message()
            .contains("Size of the Master Key is invalid it must be 32 bytes however is 31"),
        "{e}"
    );
}

#[test]
fn not_base64_is_refused() {
    let e = err(&[("LKR_MASTER_KEY_ENV", "not base64 at all!")]);
    assert!(
        e.message().contains("Master Key is not valid base64"),
        "{e}"
    );
}

#[test]
fn missing_file() {
    let e = err(&[("LKR_MASTER_KEY_FILE", "/nonexistent/lkr/cmk")]);
    assert!(e.message().contains("Missing backing keystore"), "{e}");
    assert!(e.message().contains("/nonexistent/lkr/cmk"), "{e}");
}

#[test]
fn file_mode_must_be_0400() {
    let (_d, path) = key_file(KEY32, 0o644);
    let e = err(&[("LKR_MASTER_KEY_FILE", &path)]);
    assert!(
        e.message()
            .contains("Permission for backing key file must be 0400, but is 0644"),
        "{e}"
    );
    let (_d, path) = key_file(KEY32, 0o600);
    let e = err(&[("LKR_MASTER_KEY_FILE", &path)]);
    assert!(
        e.message()
            .contains("Permission for backing key file must be 0400, but is 0600"),
        "{e}"
    );
}

#[test]
fn file_as_openssl_writes_it_is_accepted() {
    // `openssl rand -base64 32 > file`: the text and a trailing newline.
    let (_d, path) = key_file(&format!("{KEY32}\n"), 0o400);
    let mk = master_key_from(&vars(&[("LKR_MASTER_KEY_FILE", &path)]), "").unwrap();
    assert!(matches!(mk, MasterKey::Local(_)));
}

#[test]
fn file_with_wrong_size_or_garbage() {
    let (_d, path) = key_file(KEY31, 0o400);
    let e = err(&[("LKR_MASTER_KEY_FILE", &path)]);
    assert!(
        e.message()
            .contains("Size of the Master Key is invalid it must be 32 bytes however is 31"),
        "{e}"
    );
    let (_d, path) = key_file("%%%%", 0o400);
    let e = err(&[("LKR_MASTER_KEY_FILE", &path)]);
    assert!(
        e.message().contains("Master Key is not valid base64"),
        "{e}"
    );
}

#[test]
fn empty_file_is_a_clear_error() {
    let (_d, path) = key_file("\n", 0o400);
    let e = err(&[("LKR_MASTER_KEY_FILE", &path)]);
    assert!(e.message().contains("is empty"), "{e}");
    assert!(e.message().contains("however is 0"), "{e}");
}

#[test]
fn directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = err(&[("LKR_MASTER_KEY_FILE", dir.path().to_str().unwrap())]);
    assert!(e.message().contains("is a directory"), "{e}");
}

#[test]
fn no_source_names_the_variables() {
    let e = err(&[]);
    for v in ["LKR_MASTER_KEY_ENV", "LKR_MASTER_KEY_FILE", "LKR_AWS_CMK"] {
        assert!(e.message().contains(v), "{e}");
    }
    // The empty string counts as unset.
    let e = err(&[("LKR_MASTER_KEY_ENV", ""), ("LKR_MASTER_KEY_FILE", "")]);
    assert!(e.message().contains("No Customer Master Key"), "{e}");
}

#[test]
fn several_sources_are_refused_by_name() {
    let e = err(&[("LKR_MASTER_KEY_ENV", KEY32), ("LKR_AWS_CMK", "alias/x")]);
    assert!(e.message().contains("Several"), "{e}");
    assert!(
        e.message().contains("LKR_MASTER_KEY_ENV, LKR_AWS_CMK"),
        "{e}"
    );
}

#[test]
fn suffix_selects_the_rekey_variables() {
    let lookup = vars(&[
        ("LKR_MASTER_KEY_ENV_SOURCE", KEY32),
        ("LKR_AWS_CMK_DESTINATION", "alias/new"),
    ]);
    assert!(matches!(
        master_key_from(&lookup, "_SOURCE").unwrap(),
        MasterKey::Local(_)
    ));
    match master_key_from(&lookup, "_DESTINATION").unwrap() {
        MasterKey::AwsKms(k) => {
            assert_eq!(k.key_id, "alias/new");
            assert_eq!(k.context, "Looker_Encryption_Context");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn debug_output_never_shows_key_bytes() {
    let mk = master_key_from(&vars(&[("LKR_MASTER_KEY_ENV", KEY32)]), "").unwrap();
    let shown = format!("{mk:?}");
    assert!(shown.contains("REDACTED"), "{shown}");
    let crypt = lkr_crypt::Crypt::create(mk).unwrap();
    let shown = format!("{crypt:?}");
    assert!(
        !shown.contains(KEY32) && shown.contains("REDACTED"),
        "{shown}"
    );
}

#[test]
fn legacy_key_sources() {
    let legacy_b64 = "AAECAwQFBgcICQoLDA0ODw==";
    assert!(legacy_key_from(&vars(&[])).unwrap().is_none());
    assert_eq!(
        legacy_key_from(&vars(&[("LKR_LEGACY_KEY_ENV", legacy_b64)]))
            .unwrap()
            .unwrap()
            .expose()[15],
        15
    );
    let e = legacy_key_from(&vars(&[
        ("LKR_LEGACY_KEY_ENV", legacy_b64),
        ("LKR_LEGACY_KEY_FILE", "/x"),
    ]))
    .unwrap_err();
    assert!(e.message().contains("Both"), "{e}");
    let e = legacy_key_from(&vars(&[("LKR_LEGACY_KEY_ENV", KEY32)])).unwrap_err();
    assert!(
        e.message().contains("must be 16 bytes however is 32"),
        "{e}"
    );
    let (_d, path) = key_file(legacy_b64, 0o644);
    let e = legacy_key_from(&vars(&[("LKR_LEGACY_KEY_FILE", &path)])).unwrap_err();
    assert!(e.message().contains("must be 0400, but is 0644"), "{e}");
}

/// Runs `f` on another thread and fails the test when it has not returned within 20 s (a key
/// file read that blocks, e.g. on a FIFO without a writer, must not hang the caller).
fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("reading the key file hung (it must be refused at once)")
}

fn mkfifo(path: &std::path::Path, mode: u32) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_fifo_key_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("cmk.fifo");
    mkfifo(&fifo, 0o400);
    let p = fifo.to_str().unwrap().to_string();
    let e = within_20s(move || {
        master_key_from(&vars(&[("LKR_MASTER_KEY_FILE", &p)]), "")
            .expect_err("a FIFO must be refused")
    });
    assert_eq!(e.kind(), ErrorKind::MasterKey);
    assert!(e.message().contains("not a regular file"), "{e}");
    let p = fifo.to_str().unwrap().to_string();
    let e = within_20s(move || {
        legacy_key_from(&vars(&[("LKR_LEGACY_KEY_FILE", &p)])).expect_err("a FIFO must be refused")
    });
    assert!(e.message().contains("not a regular file"), "{e}");
}

#[test]
fn a_character_device_key_file_is_refused_at_once() {
    // A 0400 copy of /dev/zero where we may make one (root, as in CI), else /dev/zero itself:
    // either would be read until memory runs out if it were read at all.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("zero");
    let c = std::ffi::CString::new(copy.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; makedev(1, 5) is /dev/zero.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o400, libc::makedev(1, 5)) } == 0;
    let p = if made {
        copy.to_str().unwrap().to_string()
    } else {
        "/dev/zero".to_string()
    };
    let e = within_20s(move || {
        master_key_from(&vars(&[("LKR_MASTER_KEY_FILE", &p)]), "")
            .expect_err("a device must be refused")
    });
    assert!(e.message().contains("not a regular file"), "{e}");
}

#[test]
fn an_oversized_key_file_is_refused_without_reading_it() {
    let (_d, p) = key_file(&format!("{KEY32}\n{}", " ".repeat(4000)), 0o400);
    let e = err(&[("LKR_MASTER_KEY_FILE", &p)]);
    assert!(e.message().contains("at most 1024 bytes"), "{e}");
}

#[test]
fn a_key_file_of_another_user_is_refused() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "not root: cannot give a file to another user here; the check is covered in CI (root)"
        );
        return;
    }
    let (_d, p) = key_file(KEY32, 0o400);
    let c = std::ffi::CString::new(p.as_str()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::chown(c.as_ptr(), 65534, 65534) }, 0);
    let e = err(&[("LKR_MASTER_KEY_FILE", &p)]);
    assert!(e.message().contains("owned by uid 65534"), "{e}");
}
