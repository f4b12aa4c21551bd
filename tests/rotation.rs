//! KEK rotation, rekey (local → local here; the KMS directions are in tests/kms/rekey.rs) and
//! retiring a KEK: records and streams written before keep decrypting.

mod common;
use common::{bytes, local_cmk, stream, unstream};
use lkr_crypt::{Crypt, ErrorKind, MigrateOptions, Migrated, OpenMode};

#[test]
fn rotation_adds_an_active_kek_and_old_values_still_decrypt() {
    let c1 = Crypt::create(local_cmk()).unwrap();
    let old_env = c1.encrypt(b"before", b"T.C:1").unwrap();
    let old_stream = stream(&c1, &bytes(10_000, 1));
    let c2 = c1.rotate_kek().unwrap();
    assert_eq!(c2.active_kek_id(), 2);
    assert_eq!(c2.kek_ids(), vec![1, 2]);
    assert_eq!(c1.active_kek_id(), 1, "the old handle is unchanged");
    let new_env = c2.encrypt(b"after", b"T.C:1").unwrap();
    assert_eq!(&new_env[5..9], &2u32.to_be_bytes());
    assert_eq!(&stream(&c2, b"x")[5..9], &2u32.to_be_bytes());
    assert_eq!(c2.decrypt(&old_env, b"T.C:1").unwrap(), b"before");
    assert_eq!(unstream(&c2, &old_stream), bytes(10_000, 1));
    // The old handle does not know KEK 2.
    assert_eq!(
        c1.decrypt(&new_env, b"T.C:1").unwrap_err().kind(),
        ErrorKind::UnknownKek
    );
    let c3 = c2.rotate_kek().unwrap();
    assert_eq!(c3.kek_ids(), vec![1, 2, 3]);
}

#[test]
fn rotating_a_keystore_file_persists_the_new_kek() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let cmk = local_cmk();
    let c1 = Crypt::open_file(&path, cmk.clone(), OpenMode::CreateIfMissing).unwrap();
    let env = c1.encrypt(b"v", b"").unwrap();
    Crypt::rotate_kek_file(&path, cmk.clone()).unwrap();
    let reopened = Crypt::open_file(&path, cmk, OpenMode::MustExist).unwrap();
    assert_eq!(reopened.active_kek_id(), 2);
    assert_eq!(reopened.decrypt(&env, b"").unwrap(), b"v");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn rekey_local_to_local_changes_only_the_wrapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let (old_cmk, new_cmk) = (local_cmk(), local_cmk());
    let c = Crypt::open_file(&path, old_cmk.clone(), OpenMode::CreateIfMissing)
        .unwrap()
        .rotate_kek()
        .unwrap();
    c.keystore().replace_file(&path).unwrap();
    let env1 = c.encrypt(b"one", b"ctx").unwrap();
    let sealed = stream(&c, &bytes(9000, 2));
    let before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();

    let rekeyed = Crypt::rekey_file(&path, old_cmk.clone(), new_cmk.clone()).unwrap();
    assert_eq!(rekeyed.kek_ids(), vec![1, 2]);
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(after["active_kek"], before["active_kek"]);
    assert_ne!(after["master_key"], before["master_key"]);
    for i in 0..2 {
        assert_eq!(after["keks"][i]["id"], before["keks"][i]["id"]);
        assert_eq!(after["keks"][i]["created"], before["keks"][i]["created"]);
        assert_ne!(after["keks"][i]["wrapped"], before["keks"][i]["wrapped"]);
    }
    let e = Crypt::open_file(&path, old_cmk, OpenMode::MustExist).unwrap_err();
    assert!(
        e.message()
            .contains("Master Key does not match the keystore"),
        "{e}"
    );
    let reopened = Crypt::open_file(&path, new_cmk, OpenMode::MustExist).unwrap();
    assert_eq!(reopened.decrypt(&env1, b"ctx").unwrap(), b"one");
    assert_eq!(unstream(&reopened, &sealed), bytes(9000, 2));
}

#[test]
fn rekey_with_the_wrong_source_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let cmk = local_cmk();
    Crypt::open_file(&path, cmk.clone(), OpenMode::CreateIfMissing).unwrap();
    let before = std::fs::read(&path).unwrap();
    let e = Crypt::rekey_file(&path, local_cmk(), local_cmk()).unwrap_err();
    assert!(
        e.message()
            .contains("Master Key does not match the keystore"),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn retiring_a_kek() {
    let c1 = Crypt::create(local_cmk()).unwrap();
    let env1 = c1.encrypt(b"old", b"").unwrap();
    let c2 = c1.rotate_kek().unwrap();
    let e = c2.retire_kek(2).unwrap_err();
    assert!(e.message().contains("active KEK"), "{e}");
    assert!(c2.retire_kek(9).is_err());
    let c3 = c2.retire_kek(1).unwrap();
    assert_eq!(c3.kek_ids(), vec![2]);
    let e = c3.decrypt(&env1, b"").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownKek);
    let env2 = c3.encrypt(b"new", b"").unwrap();
    assert_eq!(c3.decrypt(&env2, b"").unwrap(), b"new");
}

#[test]
fn reencryption_moves_values_to_the_active_kek() {
    let c1 = Crypt::create(local_cmk()).unwrap();
    let old = c1.encrypt(b"secret", b"T.C:1").unwrap();
    let c2 = c1.rotate_kek().unwrap();
    assert_eq!(c2.authentic_kek_id(&old, b"T.C:1"), Some(1));
    assert_eq!(c2.authentic_kek_id(&old, b"T.C:2"), None, "wrong context");
    let mut out = vec![0u8; old.len()];
    let m = c2.reencrypt_into(&old, b"T.C:1", &mut out).unwrap();
    assert_eq!(m, Migrated::Rotated(old.len()));
    assert_eq!(c2.authentic_kek_id(&out, b"T.C:1"), Some(2));
    assert_eq!(c2.decrypt(&out, b"T.C:1").unwrap(), b"secret");
    assert_ne!(out, old);
    // Already under the active KEK: unchanged, byte for byte.
    let again = c2.reencrypt(&out, b"T.C:1").unwrap();
    assert_eq!(again, out);
    // Not authentic (tampered, wrong context, a stranger's keystore): an error, nothing out.
    let mut bad = old.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        c2.reencrypt(&bad, b"T.C:1").unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    let mut bad_active = out.clone();
    bad_active[60] ^= 1;
    assert_eq!(
        c2.reencrypt(&bad_active, b"T.C:1").unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    assert!(c2.reencrypt(&old, b"T.C:2").is_err());
    let stranger = Crypt::create(local_cmk()).unwrap();
    assert!(stranger.reencrypt(&old, b"T.C:1").is_err());
    // Too small an output is reported with the size needed.
    let e = c2
        .reencrypt_into(&old, b"T.C:1", &mut vec![0u8; old.len() - 1])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BufferTooSmall);
    assert_eq!(e.needed(), Some(old.len()));
    // After re-encryption the old KEK can be retired and the value still decrypts.
    let c3 = c2.retire_kek(1).unwrap();
    assert_eq!(c3.decrypt(&out, b"T.C:1").unwrap(), b"secret");
}

#[test]
fn migration_with_reencrypt_moves_v1_values_and_still_migrates_legacy() {
    let legacy_key = lkr_crypt::keys::legacy_key_from_bytes(&[7u8; 16]).unwrap();
    let c1 = Crypt::create(local_cmk()).unwrap();
    let old = c1.encrypt(b"v1 value", b"ctx").unwrap();
    let c2 = c1.rotate_kek().unwrap();
    let current = c2.encrypt(b"current", b"ctx").unwrap();
    let reencrypt = MigrateOptions {
        reencrypt: true,
        ..Default::default()
    };
    let mut out = vec![0u8; 4096];
    // Without the option an older KEK's value is left alone.
    let m = c2
        .migrate_into(
            &old,
            b"ctx",
            Some(&legacy_key),
            MigrateOptions::default(),
            &mut out,
        )
        .unwrap();
    assert_eq!(m, Migrated::AlreadyV1(old.len()));
    let m = c2
        .migrate_into(&old, b"ctx", Some(&legacy_key), reencrypt, &mut out)
        .unwrap();
    assert_eq!(m, Migrated::Rotated(old.len()));
    assert_eq!(c2.authentic_kek_id(&out[..old.len()], b"ctx"), Some(2));
    let m = c2
        .migrate_into(&current, b"ctx", Some(&legacy_key), reencrypt, &mut out)
        .unwrap();
    assert_eq!(m, Migrated::AlreadyV1(current.len()));
    assert_eq!(&out[..current.len()], &current[..]);
    // A value of an older KEK under the wrong context is not authentic: it is never rotated; it
    // is tried as a legacy value, which fails — except that AES-CBC "decrypts" about 1 random
    // value in 256 with valid padding (docs/native-interfaces.md), which is then migrated from legacy.
    assert!(matches!(
        c2.migrate_into(&old, b"other", Some(&legacy_key), reencrypt, &mut out),
        Err(_) | Ok(Migrated::FromLegacy(_))
    ));
}

/// Adds fields this version does not know to a keystore document, as a newer version would.
fn with_unknown_fields(doc: &[u8], top: bool, kek: bool, master: bool) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(doc).unwrap();
    if top {
        // A section of a newer version (the recovery section is known: tests/recovery.rs).
        v["escrow"] = serde_json::json!({"kind": "shamir", "keks": [{"id": 1, "share": "BBBB"}]});
    }
    if kek {
        v["keks"][0]["origin"] = serde_json::json!("hsm-7");
    }
    if master {
        v["master_key"]["label"] = serde_json::json!("prod");
    }
    serde_json::to_vec_pretty(&v).unwrap()
}

#[test]
fn rekey_and_retire_keep_fields_this_version_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let cmk = local_cmk();
    let c = Crypt::open_file(&path, cmk.clone(), OpenMode::CreateIfMissing).unwrap();
    let env = c.encrypt(b"v", b"ctx").unwrap();
    let doc = with_unknown_fields(&std::fs::read(&path).unwrap(), true, true, false);
    std::fs::write(&path, &doc).unwrap();
    let new_cmk = local_cmk();
    let rekeyed = Crypt::rekey_file(&path, cmk, new_cmk.clone()).unwrap();
    assert_eq!(rekeyed.decrypt(&env, b"ctx").unwrap(), b"v");
    let after: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let before: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    assert_eq!(
        after["escrow"], before["escrow"],
        "rekey dropped a section it does not know"
    );
    assert_eq!(
        after["keks"][0]["origin"], "hsm-7",
        "rekey dropped a KEK's field"
    );
    // Rotation (without a top-level field it does not know) and retirement keep a KEK's.
    let ks = lkr_crypt::keystore::Keystore::parse(&with_unknown_fields(
        Crypt::create(new_cmk.clone())
            .unwrap()
            .keystore_json()
            .as_bytes(),
        false,
        true,
        false,
    ))
    .unwrap();
    let (ks, _) = ks.rotate(&new_cmk, &[], None).unwrap();
    let (ks, _) = ks.rotate(&new_cmk, &[], None).unwrap();
    let ks = ks.retire(2).unwrap();
    assert_eq!(ks.keks[0].unknown["origin"], "hsm-7", "{}", ks.to_json());
}

#[test]
fn rotate_refuses_a_keystore_with_unknown_sections_and_rekey_one_with_unknown_cmk_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let cmk = local_cmk();
    Crypt::open_file(&path, cmk.clone(), OpenMode::CreateIfMissing).unwrap();
    let doc = with_unknown_fields(&std::fs::read(&path).unwrap(), true, false, false);
    std::fs::write(&path, &doc).unwrap();
    let e = Crypt::rotate_kek_file(&path, cmk.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Keystore);
    assert!(
        e.message().contains("escrow") && e.message().contains("newer lkr-crypt"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        doc,
        "a refused rotation changed the keystore"
    );

    let doc = with_unknown_fields(&doc, false, false, true);
    std::fs::write(&path, &doc).unwrap();
    let e = Crypt::rekey_file(&path, cmk, local_cmk()).unwrap_err();
    assert!(
        e.message().contains("label") && e.message().contains("newer lkr-crypt"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        doc,
        "a refused rekey changed the keystore"
    );
}

#[test]
fn an_envelope_of_a_kek_the_keystore_does_not_hold_is_never_tried_as_legacy() {
    // Envelopes of another keystore, of block-aligned lengths (16 bytes of plaintext + 69 is
    // not, 27 + 69 = 96 is): CBC would "decrypt" about 1 in 256 of them into garbage.
    let other = Crypt::create(local_cmk())
        .unwrap()
        .rotate_kek()
        .unwrap()
        .rotate_kek()
        .unwrap();
    let c = Crypt::create(local_cmk())
        .unwrap()
        .with_legacy_key(Some(lkr_crypt::secret::Key128::random()));
    let values: Vec<Vec<u8>> = (0..3000u32)
        .map(|i| other.encrypt(&bytes(27, i as u8), b"").unwrap())
        .collect();
    assert!(values.iter().all(|v| v.len() % 16 == 0));
    for options in [
        MigrateOptions::default(),
        MigrateOptions {
            reencrypt: true,
            ..Default::default()
        },
        MigrateOptions {
            strict_v1: true,
            ..Default::default()
        },
    ] {
        let mut out = vec![0u8; 200];
        for v in &values {
            let e = c.migrate_into(v, b"", None, options, &mut out).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::UnknownKek, "{e}");
            assert!(
                e.message().contains("KEK 3")
                    && e.message().contains("not tried as a legacy value"),
                "{e}"
            );
        }
    }
    // The packed batch reports each as refused, and the batch goes on.
    let (_, out_ends, outcomes) = common::migrate_packed(&c, &values[..100]);
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, lkr_crypt::PackedOutcome::Refused(m) if m.contains("KEK 3"))),
        "{outcomes:?}"
    );
    assert!(out_ends.iter().all(|&e| e == 0));
}
