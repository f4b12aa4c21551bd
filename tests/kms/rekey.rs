//! Rekey and recovery with KMS: the rekey helpers, rekey in every direction that involves KMS
//! and rotation under a KMS CMK, and recovery of a KMS keystore to a local CMK and to another
//! KMS key.

use super::{doc, kms_cmk, new_key, CTX, MISMATCH};
use crate::common::{self, bytes};
use lkr_crypt::keys::{aws_kms, MasterKey};
use lkr_crypt::secret::Key256;
use lkr_crypt::Crypt;

#[test]
fn rekey_helpers_wrap_an_existing_kek() {
    require_server!();
    let (alias, _) = new_key();
    let MasterKey::AwsKms(k) = kms_cmk(&alias, Some("rk")) else {
        unreachable!()
    };
    let kek = Key256::random();
    let wrapped = aws_kms::encrypt_kek(&k, 7, &kek).unwrap();
    let back = aws_kms::decrypt_keks(&k, vec![(7, wrapped.clone())]).unwrap();
    assert_eq!(back, vec![kek]);
    // The KEK id is part of the context: a blob moved to another id does not unwrap.
    let e = aws_kms::decrypt_keks(&k, vec![(8, wrapped)]).unwrap_err();
    assert!(e.message().contains(MISMATCH), "{e}");
    assert!(e.message().contains("KEK 8"), "{e}");
}

/// Rekey in every direction that involves KMS, and rotation under a KMS CMK: records and
/// streams written before still decrypt, the new keystore opens only with the destination.
#[test]
fn rekey_local_to_kms_kms_to_kms_and_kms_to_local() {
    require_server!();
    use std::io::{Read, Write};
    let local_a = MasterKey::Local(Key256::random());
    let (alias_b, _) = new_key();
    let (alias_c, _) = new_key();
    let kms_b = kms_cmk(&alias_b, Some("rekey-b"));
    let kms_c = kms_cmk(&alias_c, None);
    let local_d = MasterKey::Local(Key256::random());

    let c = Crypt::create(local_a.clone())
        .unwrap()
        .rotate_kek()
        .unwrap();
    let env = c.encrypt(b"value", CTX).unwrap();
    let mut w = c.encrypting_writer(Vec::new(), b"backup", 4096).unwrap();
    w.write_all(&[7u8; 10_000]).unwrap();
    let sealed = w.finish().unwrap();
    let check = |c: &Crypt| {
        assert_eq!(c.decrypt(&env, CTX).unwrap(), b"value");
        let mut out = Vec::new();
        c.decrypting_reader(&sealed[..], b"backup")
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, vec![7u8; 10_000]);
    };
    let mut current = c;
    let mut previous = local_a;
    for dest in [kms_b, kms_c, local_d] {
        let next = current.rekey(dest.clone()).unwrap();
        let json = next.keystore_json();
        let reopened = Crypt::open_bytes(json.as_bytes(), dest.clone()).unwrap();
        assert_eq!(reopened.kek_ids(), vec![1, 2]);
        check(&reopened);
        let e = Crypt::open_bytes(json.as_bytes(), previous.clone()).unwrap_err();
        assert!(e.message().contains(MISMATCH), "{e}");
        current = reopened;
        previous = dest;
    }
    // Rotation under a KMS CMK: the new KEK comes from GenerateDataKey with its own id.
    let kms_e = kms_cmk(&new_key().0, None);
    let under_kms = current.rekey(kms_e.clone()).unwrap().rotate_kek().unwrap();
    let reopened = Crypt::open_bytes(under_kms.keystore_json().as_bytes(), kms_e).unwrap();
    assert_eq!(reopened.kek_ids(), vec![1, 2, 3]);
    assert_eq!(reopened.active_kek_id(), 3);
    check(&reopened);
}

/// docs/keystore.md "Recovery key": a keystore under a KMS CMK, with a recovery key, recovered
/// (the KMS key lost) to a local CMK with the private key alone — and back to another KMS key.
#[test]
fn recover_a_kms_keystore_to_a_local_cmk_and_to_another_kms_key() {
    require_server!();
    use lkr_crypt::keys::{RecoveryPrivateKey, RecoveryPublicKey};
    // A recovery key pair made by openssl.
    let pair = common::openssl::rsa_pair(3072);
    let public = RecoveryPublicKey::from_pem(&pair.public, "test").unwrap();
    let private = RecoveryPrivateKey::from_pem(&pair.private, "test").unwrap();

    let lost = kms_cmk(&new_key().0, Some("recovery"));
    let c = Crypt::create_with_recovery(lost.clone(), Some(&public))
        .unwrap()
        .rotate_kek_with_recovery(Some(&public))
        .unwrap();
    assert_eq!(c.recovery_status().unwrap().covered, vec![1, 2]);
    let env = c.encrypt(b"kms value", CTX).unwrap();
    let sealed = common::stream(&c, &bytes(9_000, 9));
    let check = |c: &Crypt| {
        assert_eq!(c.decrypt(&env, CTX).unwrap(), b"kms value");
        assert_eq!(common::unstream(c, &sealed), bytes(9_000, 9));
    };
    let local = MasterKey::Local(Key256::random());
    let recovered = Crypt::recover(c.keystore_json().as_bytes(), &private, local.clone()).unwrap();
    assert_eq!(doc(&recovered)["master_key"]["kind"], "local");
    let reopened = Crypt::open_bytes(recovered.keystore_json().as_bytes(), local).unwrap();
    assert_eq!(
        (reopened.kek_ids(), reopened.active_kek_id()),
        (vec![1, 2], 2)
    );
    check(&reopened);
    assert_eq!(reopened.keystore().recovery, c.keystore().recovery);
    // The same keystore recovered to another KMS key: wrapped there with GenerateDataKey's
    // context, opened with KMS Decrypt.
    let other = kms_cmk(&new_key().0, None);
    let to_kms = Crypt::recover(c.keystore_json().as_bytes(), &private, other.clone()).unwrap();
    let reopened = Crypt::open_bytes(to_kms.keystore_json().as_bytes(), other).unwrap();
    check(&reopened);
    let e = Crypt::open_bytes(to_kms.keystore_json().as_bytes(), lost).unwrap_err();
    assert!(e.message().contains(MISMATCH), "{e}");
}
