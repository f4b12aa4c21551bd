//! Wycheproof AES-GCM vectors (256-bit keys, 96-bit nonces, 128-bit tags: what lkr-crypt
//! uses) through the crate's AEAD backend. CI runs this file with both backends: aws-lc-rs
//! (default) and RustCrypto (`--no-default-features --features rustcrypto`).

use lkr_crypt::aead::{Aes256Gcm, BACKEND};
use lkr_crypt::secret::Key256;
use wycheproof::aead::{TestName, TestSet};
use wycheproof::TestResult;

#[test]
fn wycheproof_aes_gcm_256() {
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for t in group.tests {
            let key = Aes256Gcm::new(&Key256::from_slice(&t.key).unwrap());
            let nonce: [u8; 12] = t.nonce[..].try_into().unwrap();
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            let mut out = vec![0u8; t.ct.len()];
            let opened = key.open_into(&nonce, &t.aad, &sealed, &mut out);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert!(
                        opened.is_ok(),
                        "{BACKEND}: tc {} ({}) must open",
                        t.tc_id,
                        t.comment
                    );
                    assert_eq!(out, &t.pt[..], "{BACKEND}: tc {} plaintext", t.tc_id);
                    let mut ct = vec![0u8; t.pt.len() + 16];
                    key.seal_into(&nonce, &t.aad, &t.pt, &mut ct);
                    assert_eq!(ct, sealed, "{BACKEND}: tc {} ciphertext", t.tc_id);
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        opened.is_err(),
                        "{BACKEND}: tc {} ({}) must be rejected",
                        t.tc_id,
                        t.comment
                    );
                    invalid += 1;
                }
            }
        }
    }
    println!(
        "{BACKEND}: {valid} valid and {invalid} invalid Wycheproof AES-256-GCM vectors checked"
    );
    assert!(
        valid > 20 && invalid > 20,
        "too few vectors: {valid} valid, {invalid} invalid"
    );
}
