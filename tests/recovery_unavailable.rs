//! A build without aws-lc-rs (RustCrypto only) has no RSA: a configured recovery key is refused
//! with a clear error, and a keystore with a recovery section still opens, decrypts and rekeys
//! (its section kept), while a rotation that would have to wrap under it is refused.
#![cfg(not(feature = "rsa-recovery"))]

mod common;
use common::{local_cmk, vars};
use lkr_crypt::keystore::Keystore;
use lkr_crypt::Crypt;

#[test]
fn a_recovery_key_is_refused_without_rsa() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recovery.pub.pem");
    std::fs::write(
        &file,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let lookup = vars(&[("LKR_RECOVERY_PUBLIC_KEY_FILE", file.to_str().unwrap())]);
    let e = lkr_crypt::keys::recovery_key_from(&lookup).unwrap_err();
    assert!(e.message().contains("no RSA"), "{e}");
    assert!(e.message().contains("aws-lc"), "{e}");
}

#[test]
fn a_keystore_with_a_section_opens_rekeys_and_refuses_rotation() {
    let cmk = local_cmk();
    let c = Crypt::create(cmk.clone()).unwrap();
    let env = c.encrypt(b"v", b"").unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&c.keystore_json()).unwrap();
    doc["recovery"] = serde_json::json!({"kind": "rsa-oaep-sha256", "key_sha256": "AAAA",
        "keks": [{"id": 1, "wrapped": "BBBB"}]});
    let doc = serde_json::to_vec(&doc).unwrap();
    let opened = Crypt::open_bytes(&doc, cmk).unwrap();
    assert_eq!(opened.decrypt(&env, b"").unwrap(), b"v");
    let section = Keystore::parse(&doc).unwrap().recovery;
    assert_eq!(
        opened.rekey(local_cmk()).unwrap().keystore().recovery,
        section
    );
    let e = opened.rotate_kek().unwrap_err();
    assert!(
        e.message()
            .contains("LKR_RECOVERY_PUBLIC_KEY_FILE is not set"),
        "{e}"
    );
}
