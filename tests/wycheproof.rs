//! Wycheproof AES-GCM vectors (256-bit keys, 96-bit nonces, 128-bit tags: what lkr-crypt
//! uses) through every AEAD backend compiled in: aws-lc-rs and ring by default, RustCrypto with
//! `--no-default-features --features rustcrypto` (CI runs both builds).

use lkr_crypt::aead::{backend, Aes256Gcm, Backend};
use lkr_crypt::secret::Key256;
use wycheproof::aead::{TestName, TestSet};
use wycheproof::TestResult;

#[test]
fn wycheproof_aes_gcm_256_on_every_backend() {
    let available = Backend::available();
    assert!(
        available.contains(&backend()),
        "the chosen backend is compiled in"
    );
    for b in available {
        check(b);
    }
}

fn check(b: Backend) {
    let name = b.name();
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for t in group.tests {
            let key = Aes256Gcm::with_backend(b, &Key256::from_slice(&t.key).unwrap());
            let nonce: [u8; 12] = t.nonce[..].try_into().unwrap();
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            let mut out = vec![0u8; t.ct.len()];
            let opened = key.open_into(&nonce, &t.aad, &sealed, &mut out);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert!(
                        opened.is_ok(),
                        "{name}: tc {} ({}) must open",
                        t.tc_id,
                        t.comment
                    );
                    assert_eq!(out, &t.pt[..], "{name}: tc {} plaintext", t.tc_id);
                    let mut ct = vec![0u8; t.pt.len() + 16];
                    key.seal_into(&nonce, &t.aad, &t.pt, &mut ct);
                    assert_eq!(ct, sealed, "{name}: tc {} ciphertext", t.tc_id);
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        opened.is_err(),
                        "{name}: tc {} ({}) must be rejected",
                        t.tc_id,
                        t.comment
                    );
                    assert!(
                        out.iter().all(|&x| x == 0),
                        "{name}: tc {} output zeroed",
                        t.tc_id
                    );
                    invalid += 1;
                }
            }
        }
    }
    println!("{name}: {valid} valid and {invalid} invalid Wycheproof AES-256-GCM vectors checked");
    assert!(
        valid > 20 && invalid > 20,
        "{name}: too few vectors: {valid} valid, {invalid} invalid"
    );
}

/// Large inputs (several AES-GCM code paths: 1, 15, 16, 17 blocks, the wide loops of 8 and 16
/// blocks, 1 MiB) give the same bytes on every backend, and each opens the others' output.
#[test]
fn every_backend_agrees_on_large_inputs() {
    let key = Key256::new([0x5a; 32]);
    let nonce = [7u8; 12];
    let available = Backend::available();
    for len in [
        0usize,
        1,
        15,
        16,
        17,
        255,
        256,
        257,
        4095,
        65536 + 3,
        1 << 20,
    ] {
        let pt: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let mut reference: Option<Vec<u8>> = None;
        for &b in &available {
            let k = Aes256Gcm::with_backend(b, &key);
            let mut ct = vec![0u8; len + 16];
            k.seal_into(&nonce, b"aad", &pt, &mut ct);
            match &reference {
                None => reference = Some(ct.clone()),
                Some(r) => assert_eq!(&ct, r, "{} differs at {len} bytes", b.name()),
            }
            for &other in &available {
                let mut out = vec![0u8; len];
                Aes256Gcm::with_backend(other, &key)
                    .open_into(&nonce, b"aad", &ct, &mut out)
                    .unwrap();
                assert_eq!(out, pt, "{} opens {} at {len}", other.name(), b.name());
            }
        }
    }
}
