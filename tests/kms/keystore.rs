//! A keystore under a KMS CMK: created on first open and reopened (file and document), its
//! wrapped KEK a KMS blob under docs/keystore.md's context, records round-tripping, key ARNs and
//! ids as well as aliases, concurrent first opens, and opening from inside tokio runtimes.

use super::{admin, b64, doc, kms_cmk, new_key, CTX};
use crate::common::{self, bytes};
use lkr_crypt::{Crypt, ErrorKind, OpenMode};

#[test]
fn first_open_creates_a_kms_keystore_then_reopens() {
    require_server!();
    let (alias, _) = new_key();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keystore.json");
    let a = Crypt::open_file(&path, kms_cmk(&alias, None), OpenMode::CreateIfMissing).unwrap();
    assert_eq!(a.kek_ids(), vec![1]);
    let v = doc(&a);
    assert_eq!(v["format"], "lkr-keystore");
    assert_eq!(v["master_key"]["kind"], "aws-kms");
    assert_eq!(v["master_key"]["key_id"], alias.as_str());
    assert_eq!(v["master_key"]["context"], "Looker_Encryption_Context");
    assert!(b64(v["keks"][0]["wrapped"].as_str().unwrap()).len() > 32);
    let env = a.encrypt(b"v", CTX).unwrap();
    let b = Crypt::open_file(&path, kms_cmk(&alias, None), OpenMode::MustExist).unwrap();
    assert_eq!(b.decrypt(&env, CTX).unwrap(), b"v");
    assert_eq!(a.keystore_json(), b.keystore_json());
    // And as bytes, for applications keeping the keystore in their database.
    let c = Crypt::open_bytes(a.keystore_json().as_bytes(), kms_cmk(&alias, None)).unwrap();
    assert_eq!(c.decrypt(&env, CTX).unwrap(), b"v");
}

#[test]
fn the_wrapped_kek_is_a_kms_blob_under_the_spec_context() {
    require_server!();
    let (alias, arn) = new_key();
    let c = Crypt::create(kms_cmk(&arn, Some("my-app"))).unwrap();
    let v = doc(&c);
    assert_eq!(v["master_key"]["key_id"], arn.as_str());
    assert_eq!(v["master_key"]["context"], "my-app");
    let blob = b64(v["keks"][0]["wrapped"].as_str().unwrap());
    // Any other implementation unwraps it with KMS Decrypt and exactly this context (docs/keystore.md).
    let decrypt = |ctx: &[(&str, &str)]| {
        let blob = blob.clone();
        let ctx: Vec<(String, String)> = ctx
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let alias = alias.clone();
        admin(async move |c| {
            let mut r = c
                .decrypt()
                .key_id(alias)
                .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob));
            for (k, v) in ctx {
                r = r.encryption_context(k, v);
            }
            r.send()
                .await
                .map(|o| o.plaintext.unwrap().into_inner().len())
                .map_err(|e| aws_sdk_kms::error::ProvideErrorMetadata::code(&e).map(str::to_string))
        })
    };
    assert_eq!(
        decrypt(&[("lkr-context", "my-app"), ("lkr-kek-id", "1")]),
        Ok(32)
    );
    assert_eq!(
        decrypt(&[("lkr-context", "my-app"), ("lkr-kek-id", "2")]),
        Err(Some("InvalidCiphertextException".to_string()))
    );
    assert_eq!(
        decrypt(&[("lkr-context", "my-app")]),
        Err(Some("InvalidCiphertextException".to_string()))
    );
}

#[test]
fn round_trip_tamper_and_context_with_a_kms_cmk() {
    require_server!();
    let (alias, _) = new_key();
    let c = Crypt::create(kms_cmk(&alias, None)).unwrap();
    for n in [0usize, 1, 17, 4096, 1 << 20] {
        let pt = bytes(n, n as u8);
        let env = c.encrypt(&pt, CTX).unwrap();
        assert_eq!(c.decrypt(&env, CTX).unwrap(), pt, "size {n}");
    }
    let env = c.encrypt(&bytes(40, 3), CTX).unwrap();
    common::assert_bit_flips_refused(&c, &env, CTX);
    for len in 0..env.len() {
        assert_eq!(
            c.decrypt(&env[..len], CTX).unwrap_err().kind(),
            ErrorKind::NotAuthentic
        );
    }
    let e = c.decrypt(&env, b"CONNECTION.PASSWORD:43").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthentic);
    assert!(e.message().contains("could not be authenticated"), "{e}");
    // Another keystore under the same KMS key has another KEK.
    let other = Crypt::create(kms_cmk(&alias, None)).unwrap();
    assert_eq!(
        other.decrypt(&env, CTX).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
}

#[test]
fn key_arn_and_key_id_work_as_well_as_aliases() {
    require_server!();
    let (_, arn) = new_key();
    let key_id = arn.rsplit('/').next().unwrap().to_string();
    for k in [&arn, &key_id] {
        let a = Crypt::create(kms_cmk(k, None)).unwrap();
        let env = a.encrypt(b"x", b"").unwrap();
        let b = Crypt::open_bytes(a.keystore_json().as_bytes(), kms_cmk(k, None)).unwrap();
        assert_eq!(b.decrypt(&env, b"").unwrap(), b"x");
    }
}

#[test]
fn processes_starting_together_all_use_one_kms_keystore() {
    require_server!();
    let (alias, _) = new_key();
    common::assert_first_opens_agree(6, &kms_cmk(&alias, None));
}

#[test]
fn opening_works_from_inside_other_tokio_runtimes() {
    require_server!();
    let (alias, _) = new_key();
    let ks = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let cmk = kms_cmk(&alias, None);
        rt.block_on(async move { Crypt::create(cmk).unwrap().keystore_json() })
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ks2, cmk) = (ks.clone(), kms_cmk(&alias, None));
    let c = rt
        .block_on(rt.spawn(async move { Crypt::open_bytes(ks2.as_bytes(), cmk).unwrap() }))
        .unwrap();
    let env = c.encrypt(b"y", b"").unwrap();
    let d = Crypt::open_bytes(ks.as_bytes(), kms_cmk(&alias, None)).unwrap();
    assert_eq!(d.decrypt(&env, b"").unwrap(), b"y");
}
