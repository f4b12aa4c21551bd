//! A build without the `aws-kms` feature refuses `LKR_AWS_CMK` with a clear error, and still
//! says so when a keystore made with KMS is opened.
#![cfg(not(feature = "aws-kms"))]

mod common;
use common::vars;
use lkr_crypt::keys::master_key_from;
use lkr_crypt::{Crypt, ErrorKind};

#[test]
fn lkr_aws_cmk_is_refused_without_kms_support() {
    let cmk = master_key_from(&vars(&[("LKR_AWS_CMK", "alias/app")]), "").unwrap();
    let e = Crypt::create(cmk.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms);
    assert!(e.message().contains("LKR_AWS_CMK=alias/app"), "{e}");
    assert!(e.message().contains("no AWS KMS support"), "{e}");
    let ks = r#"{"format":"lkr-keystore","version":1,
        "master_key":{"kind":"aws-kms","key_id":"alias/app","context":"Looker_Encryption_Context"},
        "active_kek":1,"keks":[{"id":1,"created":"2026-11-28T21:00:00Z","wrapped":"AAAA"}]}"#;
    let e = Crypt::open_bytes(ks.as_bytes(), cmk).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms);
    assert!(e.message().contains("no AWS KMS support"), "{e}");
}
