//! docs/keystore.md: keystore v1 — creation, reopening, the CMK check, atomic no-replace publication,
//! malformed documents, bytes for applications that keep it in their database.

mod common;
use common::local_cmk;
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::Key256;
use lkr_crypt::{Crypt, ErrorKind, OpenMode};
use std::os::unix::fs::PermissionsExt;

#[test]
fn first_open_creates_kek_1_then_reopens_with_the_same_cmk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keystore.json");
    let cmk = local_cmk();
    let a = Crypt::open_file(&path, cmk.clone(), OpenMode::CreateIfMissing).unwrap();
    assert_eq!(a.active_kek_id(), 1);
    assert_eq!(a.kek_ids(), vec![1]);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let env = a.encrypt(b"v", b"ctx").unwrap();
    let b = Crypt::open_file(&path, cmk, OpenMode::MustExist).unwrap();
    assert_eq!(b.decrypt(&env, b"ctx").unwrap(), b"v");
    // Nothing but the keystore was left in the directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn the_document_is_spec_shaped() {
    let c = Crypt::create(local_cmk()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&c.keystore_json()).unwrap();
    assert_eq!(v["format"], "lkr-keystore");
    assert_eq!(v["version"], 1);
    assert_eq!(v["master_key"]["kind"], "local");
    assert_eq!(v["active_kek"], 1);
    assert_eq!(v["keks"][0]["id"], 1);
    let created = v["keks"][0]["created"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 20, "{created}");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        b64.decode(v["keks"][0]["wrapped"].as_str().unwrap())
            .unwrap()
            .len(),
        60
    );
    assert_eq!(
        b64.decode(v["master_key"]["fingerprint"].as_str().unwrap())
            .unwrap()
            .len(),
        16
    );
}

#[test]
fn a_wrong_cmk_is_refused_with_spec_text() {
    let c = Crypt::create(local_cmk()).unwrap();
    let e = Crypt::open_bytes(c.keystore_json().as_bytes(), local_cmk()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey);
    assert!(
        e.message()
            .contains("Master Key does not match the keystore"),
        "{e}"
    );
}

#[test]
fn a_read_only_open_of_a_missing_keystore_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.json");
    let e = Crypt::open_file(&path, local_cmk(), OpenMode::MustExist).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Keystore);
    assert!(e.message().contains(path.to_str().unwrap()), "{e}");
    assert!(!path.exists());
}

#[test]
fn bytes_round_trip_for_applications() {
    let cmk = MasterKey::Local(Key256::random());
    let a = Crypt::create(cmk.clone()).unwrap();
    let env = a.encrypt(b"in the db", b"").unwrap();
    let b = Crypt::open_bytes(a.keystore_json().as_bytes(), cmk).unwrap();
    assert_eq!(b.decrypt(&env, b"").unwrap(), b"in the db");
    assert_eq!(a.keystore_json(), b.keystore_json());
}

#[test]
fn malformed_documents_get_clear_errors() {
    let cmk = local_cmk();
    let good: serde_json::Value =
        serde_json::from_str(&Crypt::create(cmk.clone()).unwrap().keystore_json()).unwrap();
    let check = |doc: String, needle: &str| {
        let e = Crypt::open_bytes(doc.as_bytes(), cmk.clone()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Keystore, "{e}");
        assert!(e.message().contains(needle), "wanted {needle:?} in {e}");
    };
    check("{not json".into(), "malformed");
    check("".into(), "malformed");
    let mut v = good.clone();
    v["version"] = 2.into();
    check(v.to_string(), "version 2");
    let mut v = good.clone();
    v.as_object_mut().unwrap().remove("keks");
    check(v.to_string(), "missing field `keks`");
    let mut v = good.clone();
    v["format"] = "other".into();
    check(v.to_string(), "format");
    let mut v = good.clone();
    v["active_kek"] = 9.into();
    check(v.to_string(), "active KEK 9");
    let mut v = good.clone();
    v["keks"] = serde_json::json!([]);
    check(v.to_string(), "no KEK");
    // A wrapped KEK changed by one character no longer unwraps.
    let mut v = good.clone();
    let w = v["keks"][0]["wrapped"].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if w.starts_with('A') { 'B' } else { 'A' }, &w[1..]);
    v["keks"][0]["wrapped"] = flipped.into();
    let e = Crypt::open_bytes(v.to_string().as_bytes(), cmk.clone()).unwrap_err();
    assert!(e.message().contains("KEK 1 could not be unwrapped"), "{e}");
}

#[test]
fn processes_starting_together_all_use_one_keystore() {
    common::assert_first_opens_agree(8, &local_cmk());
}

#[test]
fn replace_is_atomic_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let cmk = local_cmk();
    let c = Crypt::open_file(&path, cmk.clone(), OpenMode::CreateIfMissing).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    c.keystore().replace_file(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    Crypt::open_file(&path, cmk, OpenMode::MustExist).unwrap();
}
