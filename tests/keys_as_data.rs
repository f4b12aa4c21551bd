//! Keys as data (docs/native-interfaces.md): the engine-level constructors that the C ABI and
//! JNI only translate, with docs/keys.md's checks and messages.

use lkr_crypt::keys::{
    self, aws_kms_master_key, master_key_from_bytes, master_key_from_file, master_key_from_text,
    MasterKey, DEFAULT_AWS_CMK_EC,
};
use lkr_crypt::{Crypt, ErrorKind};
use std::os::unix::fs::PermissionsExt;

const KEY32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32

fn bytes32() -> Vec<u8> {
    (0u8..32).collect()
}

#[test]
fn bytes_must_be_32() {
    assert!(matches!(
        master_key_from_bytes(&bytes32()),
        Ok(MasterKey::Local(_))
    ));
    for len in [0, 16, 31, 33] {
        let e = master_key_from_bytes(&vec![7u8; len]).expect_err("wrong size");
        assert_eq!(e.kind(), ErrorKind::MasterKey);
        assert!(
            e.message().contains(&format!(
                "Size of the Master Key is invalid it must be 32 bytes however is {len}"
            )),
            "{}",
            e.message()
        );
    }
}

#[test]
fn text_is_checked_like_the_environment() {
    let k = master_key_from_text(&format!(" {KEY32}\n")).unwrap();
    let MasterKey::Local(k) = k else {
        panic!("expected a local key")
    };
    assert_eq!(k.expose()[..], bytes32()[..]);
    let e = master_key_from_text("not base64!").expect_err("not base64");
    assert_eq!(e.kind(), ErrorKind::MasterKey);
    assert!(e.message().contains("Master Key is not valid base64"));
    let e = master_key_from_text("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==").unwrap_err();
    assert!(e
        .message()
        .contains("Size of the Master Key is invalid it must be 32 bytes however is 31"));
}

#[test]
fn file_needs_mode_0400() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cmk");
    std::fs::write(&path, format!("{KEY32}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = master_key_from_file(&path, "the test").expect_err("0644");
    assert_eq!(e.kind(), ErrorKind::MasterKey);
    assert!(
        e.message()
            .contains("Permission for backing key file must be 0400, but is 0644"),
        "{}",
        e.message()
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(matches!(
        master_key_from_file(&path, "the test"),
        Ok(MasterKey::Local(_))
    ));
    let e = master_key_from_file(&dir.path().join("missing"), "the test").unwrap_err();
    assert!(e.message().contains("Missing backing keystore"));
}

#[test]
fn kms_key_defaults_and_region() {
    let MasterKey::AwsKms(k) = aws_kms_master_key(" alias/app ", None, None).unwrap() else {
        panic!("expected a KMS key")
    };
    assert_eq!(
        (k.key_id.as_str(), k.context.as_str(), k.region),
        ("alias/app", DEFAULT_AWS_CMK_EC, None)
    );
    let MasterKey::AwsKms(k) =
        aws_kms_master_key("alias/app", Some("eu-west-1"), Some("ctx")).unwrap()
    else {
        panic!("expected a KMS key")
    };
    assert_eq!(k.region.as_deref(), Some("eu-west-1"));
    assert_eq!(k.context, "ctx");
    let MasterKey::AwsKms(k) = aws_kms_master_key("alias/app", Some(""), Some("")).unwrap() else {
        panic!("expected a KMS key")
    };
    assert_eq!((k.region, k.context.as_str()), (None, DEFAULT_AWS_CMK_EC));
    let e = aws_kms_master_key("  ", None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn suffixes() {
    for s in ["", "_SOURCE", "_DESTINATION"] {
        keys::check_suffix(s).unwrap();
    }
    assert_eq!(
        keys::check_suffix("_OTHER").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn debug_never_shows_the_key() {
    let k = master_key_from_bytes(&[0xAB; 32]).unwrap();
    let shown = format!("{k:?}");
    assert!(!shown.to_lowercase().contains("ab, ") && !shown.contains("171"));
    assert!(shown.contains("REDACTED"), "{shown}");
}

#[test]
fn open_with_key_creates_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let key = || master_key_from_bytes(&bytes32()).unwrap();
    let c = Crypt::open_with_key(&path, key()).unwrap();
    assert!(path.exists());
    let env = c.encrypt(b"secret", b"ctx").unwrap();
    let again = Crypt::open_with_key(&path, key()).unwrap();
    assert_eq!(again.decrypt(&env, b"ctx").unwrap(), b"secret");
    let doc = c.keystore_json();
    let from_doc = Crypt::open_bytes_with_key(Some(doc.as_bytes()), key()).unwrap();
    assert_eq!(from_doc.decrypt(&env, b"ctx").unwrap(), b"secret");
    let fresh = Crypt::open_bytes_with_key(None, key()).unwrap();
    assert!(fresh.decrypt(&env, b"ctx").is_err());
    let other = master_key_from_bytes(&[9u8; 32]).unwrap();
    let e = Crypt::open_with_key(&path, other.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey);
    assert!(e
        .message()
        .contains("Master Key does not match the keystore"));
    let e = Crypt::open_bytes_with_key(Some(doc.as_bytes()), other).unwrap_err();
    assert!(e
        .message()
        .contains("Master Key does not match the keystore"));
}
