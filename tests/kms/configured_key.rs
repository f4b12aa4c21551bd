//! The configured KMS key against the keystore's: another key or a local CMK, a changed
//! encryption context, a key in another region, an alias that does not exist.

use super::{admin, b64, doc, kms_cmk, new_key, sdk_defaults, CTX, MISMATCH};
use crate::common;
use lkr_crypt::{Crypt, ErrorKind};

#[test]
fn a_keystore_of_key_a_is_refused_with_key_b() {
    require_server!();
    let (a, _) = new_key();
    let (b, _) = new_key();
    let ks = Crypt::create(kms_cmk(&a, None)).unwrap().keystore_json();
    let e = Crypt::open_bytes(ks.as_bytes(), kms_cmk(&b, None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey, "{e}");
    assert!(e.message().contains(MISMATCH), "{e}");
    assert!(e.message().contains(&a) && e.message().contains(&b), "{e}");
    // A keystore whose key_id was edited to B: KMS itself refuses B for A's blob, because
    // the library passes the configured KeyId to Decrypt. (Real KMS answers
    // IncorrectKeyException, reported as the mismatch; moto answers AccessDeniedException.)
    let edited = ks.replace(&format!("\"{a}\""), &format!("\"{b}\""));
    assert_ne!(edited, ks);
    let e = Crypt::open_bytes(edited.as_bytes(), kms_cmk(&b, None)).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::MasterKey | ErrorKind::Kms),
        "{e}"
    );
    assert!(
        e.message().contains(MISMATCH) || e.message().contains("AccessDeniedException"),
        "{e}"
    );
    assert!(e.message().contains(&b), "{e}");
    // A local CMK against a KMS keystore, and the reverse.
    let e = Crypt::open_bytes(ks.as_bytes(), common::local_cmk()).unwrap_err();
    assert!(
        e.message().contains(MISMATCH) && e.message().contains(&a),
        "{e}"
    );
    let local = common::new_crypt().keystore_json();
    let e = Crypt::open_bytes(local.as_bytes(), kms_cmk(&a, None)).unwrap_err();
    assert!(
        e.message().contains(MISMATCH) && e.message().contains(&a),
        "{e}"
    );
}

#[test]
fn a_changed_encryption_context_is_refused() {
    require_server!();
    let (alias, _) = new_key();
    let ks = Crypt::create(kms_cmk(&alias, Some("ctx-one")))
        .unwrap()
        .keystore_json();
    // LKR_AWS_CMK_EC changed since the keystore was made.
    let e = Crypt::open_bytes(ks.as_bytes(), kms_cmk(&alias, Some("ctx-two"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey, "{e}");
    assert!(e.message().contains(MISMATCH), "{e}");
    assert!(e.message().contains("LKR_AWS_CMK_EC"), "{e}");
    assert!(e.message().contains("ctx-one"), "{e}");
    // Unset (the default context) is another context too.
    let e = Crypt::open_bytes(ks.as_bytes(), kms_cmk(&alias, None)).unwrap_err();
    assert!(e.message().contains("LKR_AWS_CMK_EC"), "{e}");
    // The keystore's context edited to match: KMS enforces the context it was made with.
    let edited = ks.replace("\"ctx-one\"", "\"ctx-two\"");
    let e = Crypt::open_bytes(edited.as_bytes(), kms_cmk(&alias, Some("ctx-two"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey, "{e}");
    assert!(e.message().contains(MISMATCH), "{e}");
    assert!(e.message().contains("LKR_AWS_CMK_EC"), "{e}");
    assert!(e.message().contains("InvalidCiphertextException"), "{e}");
    // A wrapped KEK changed by one byte.
    let mut v: serde_json::Value = serde_json::from_str(&ks).unwrap();
    let mut blob = b64(v["keks"][0]["wrapped"].as_str().unwrap());
    let last = blob.len() - 1;
    blob[last] ^= 1;
    use base64::Engine;
    v["keks"][0]["wrapped"] = base64::engine::general_purpose::STANDARD
        .encode(&blob)
        .into();
    let e =
        Crypt::open_bytes(v.to_string().as_bytes(), kms_cmk(&alias, Some("ctx-one"))).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::MasterKey | ErrorKind::Kms),
        "{e}"
    );
}

/// Keys as data (docs/native-interfaces.md): a `MasterKey::AwsKms` naming its own region is
/// opened in that region, not in the SDK chain's `AWS_REGION` (us-east-1 here); the keystore
/// records the key id and context only. moto keeps keys per region, so the key made in
/// eu-west-1 is found only there.
#[test]
fn an_explicit_region_is_honoured() {
    require_server!();
    let region = "eu-west-1";
    let alias = format!("alias/lkr-test-region-{}", std::process::id());
    admin(async |_| {
        let conf = sdk_defaults()
            .region(aws_config::Region::new(region))
            .load()
            .await;
        let c = aws_sdk_kms::Client::new(&conf);
        let k = c.create_key().send().await.expect("CreateKey in eu-west-1");
        c.create_alias()
            .alias_name(&alias)
            .target_key_id(k.key_metadata.expect("key metadata").key_id())
            .send()
            .await
            .expect("CreateAlias in eu-west-1");
    });
    let key = |r: Option<&str>| lkr_crypt::keys::aws_kms_master_key(&alias, r, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keystore.json");
    let a = Crypt::open_with_key(&path, key(Some(region))).unwrap();
    let v = doc(&a);
    assert_eq!(v["master_key"]["key_id"], alias.as_str());
    assert_eq!(v["master_key"]["context"], "Looker_Encryption_Context");
    assert!(v["master_key"].get("region").is_none(), "{v}");
    let env = a.encrypt(b"v", CTX).unwrap();
    let b = Crypt::open_with_key(&path, key(Some(region))).unwrap();
    assert_eq!(b.decrypt(&env, CTX).unwrap(), b"v");
    let c =
        Crypt::open_bytes_with_key(Some(a.keystore_json().as_bytes()), key(Some(region))).unwrap();
    assert_eq!(c.decrypt(&env, CTX).unwrap(), b"v");
    // Without the region, the SDK chain's us-east-1 has no such key.
    let e = Crypt::open_with_key(&path, key(None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms, "{e}");
    assert!(e.message().contains("not found"), "{e}");
    assert!(e.message().contains("us-east-1"), "{e}");
}

#[test]
fn an_unknown_alias_is_named() {
    require_server!();
    let alias = "alias/lkr-test-does-not-exist";
    let e = Crypt::create(kms_cmk(alias, None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms, "{e}");
    assert!(e.message().contains(alias), "{e}");
    assert!(e.message().contains("not found"), "{e}");
    assert!(e.message().contains("NotFoundException"), "{e}");
    // Opening an existing keystore whose key was deleted from the configuration's account.
    let (real, _) = new_key();
    let ks = Crypt::create(kms_cmk(&real, None)).unwrap().keystore_json();
    let edited = ks.replace(&real, alias);
    let e = Crypt::open_bytes(edited.as_bytes(), kms_cmk(alias, None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms, "{e}");
    assert!(e.message().contains("not found"), "{e}");
}
