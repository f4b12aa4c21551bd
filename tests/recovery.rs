//! The recovery key (docs/keystore.md, "Recovery key"): the section read, kept and written,
//! wrapping at creation and rotation, the refusals, `add`/`remove`, and `recover` of a keystore
//! document and file — with RSA keys made by `openssl genpkey`, and a recovery wrapping
//! unwrapped by `openssl pkeyutl` independently of this crate.
#![cfg(feature = "rsa-recovery")]

mod common;
use common::openssl::{genpkey, openssl, rsa_pair, PemPair};
use common::{bytes, local_cmk, stream, unstream};
use lkr_crypt::keys::{MasterKey, RecoveryPrivateKey, RecoveryPublicKey};
use lkr_crypt::keystore::Keystore;
use lkr_crypt::{Crypt, ErrorKind, OpenMode};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Two 3072-bit keys (A and B) and one 4096-bit key, made once per test process.
fn keys() -> &'static [PemPair; 3] {
    static KEYS: OnceLock<[PemPair; 3]> = OnceLock::new();
    KEYS.get_or_init(|| [rsa_pair(3072), rsa_pair(3072), rsa_pair(4096)])
}

fn public(i: usize) -> RecoveryPublicKey {
    RecoveryPublicKey::from_pem(&keys()[i].public, "test").unwrap()
}

/// Writes the private half of key `i` to `dir` with `mode`.
fn private_file(dir: &Path, i: usize, mode: u32) -> PathBuf {
    let path = dir.join(format!("recovery-{i}.pem"));
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, &keys()[i].private).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn private(i: usize) -> RecoveryPrivateKey {
    RecoveryPrivateKey::from_pem(&keys()[i].private, "test").unwrap()
}

fn section_ids(c: &Crypt) -> Vec<u32> {
    c.recovery_status().unwrap().covered
}

#[test]
fn the_section_is_written_at_creation_kept_unchanged_and_by_rekey() {
    let c = Crypt::create_with_recovery(local_cmk(), Some(&public(0))).unwrap();
    let status = c.recovery_status().unwrap();
    assert_eq!(status.kind, "rsa-oaep-sha256");
    assert_eq!(status.key_sha256, public(0).key_sha256());
    assert_eq!((status.covered, status.uncovered), (vec![1], vec![]));
    // Read and written again: the same text.
    let json = c.keystore_json();
    assert_eq!(Keystore::parse(json.as_bytes()).unwrap().to_json(), json);
    let section = Keystore::parse(json.as_bytes()).unwrap().recovery.unwrap();
    assert_eq!(section.keks.len(), 1);
    // rekey keeps the section as it is (it does not depend on the CMK).
    let rekeyed = c.rekey(local_cmk()).unwrap();
    assert_eq!(rekeyed.keystore().recovery, Some(section));
    // Without a recovery key there is no section, and the JSON has no "recovery" field.
    let plain = Crypt::create_with_recovery(local_cmk(), None).unwrap();
    assert!(plain.recovery_status().is_none());
    assert!(!plain.keystore_json().contains("recovery"));
}

#[test]
fn key_sha256_is_the_sha256_of_the_der_subject_public_key_info() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pub.pem"), &keys()[0].public).unwrap();
    let der = openssl(
        &["pkey", "-pubin", "-in", "pub.pem", "-outform", "DER"],
        dir.path(),
    );
    std::fs::write(dir.path().join("pub.der"), der).unwrap();
    let digest = openssl(&["dgst", "-sha256", "-binary", "pub.der"], dir.path());
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode(digest);
    assert_eq!(public(0).key_sha256(), expected);
    assert_eq!(private(0).key_sha256(), expected);
    assert_eq!(public(2).bits(), 4096);
}

/// openssl unwraps KEK 1's recovery wrapping; the KEK it yields decrypts a record, with the
/// derivation and AES-GCM done here from docs/ (not by lkr-crypt).
#[test]
fn openssl_pkeyutl_unwraps_a_recovery_wrapped_kek() {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    use base64::Engine;
    let c = Crypt::create_with_recovery(local_cmk(), Some(&public(0)))
        .unwrap()
        .rotate_kek_with_recovery(Some(&public(0)))
        .unwrap();
    let envelope = c.encrypt(b"independent", b"T.C:7").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key.pem"), &keys()[0].private).unwrap();
    let section = c.keystore().recovery.clone().unwrap();
    let entry = section.keks.iter().find(|k| k.id == 2).unwrap();
    let wrapped = base64::engine::general_purpose::STANDARD
        .decode(&entry.wrapped)
        .unwrap();
    assert_eq!(wrapped.len(), 384, "a 3072-bit RSA block");
    std::fs::write(dir.path().join("kek.bin"), &wrapped).unwrap();
    let plain = openssl(
        &[
            "pkeyutl",
            "-decrypt",
            "-inkey",
            "key.pem",
            "-in",
            "kek.bin",
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
        ],
        dir.path(),
    );
    assert_eq!(plain.len(), 52);
    assert_eq!(&plain[..16], b"lkr-crypt v1 kek");
    assert_eq!(&plain[16..20], &2u32.to_be_bytes());
    let kek = &plain[20..];
    // docs/records.md: data key = HKDF-Expand(KEK, "LKRd" ‖ be32(kek_id) ‖ salt, 32).
    assert_eq!(&envelope[5..9], &2u32.to_be_bytes());
    let mut info = b"LKRd".to_vec();
    info.extend_from_slice(&envelope[5..9]);
    info.extend_from_slice(&envelope[9..41]);
    let mut data_key = [0u8; 32];
    use aws_lc_rs::hkdf::{Prk, HKDF_SHA256};
    Prk::new_less_safe(HKDF_SHA256, kek)
        .expand(&[&info], HKDF_SHA256)
        .unwrap()
        .fill(&mut data_key)
        .unwrap();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &data_key).unwrap());
    let mut aad = envelope[..53].to_vec();
    aad.extend_from_slice(b"T.C:7");
    let mut sealed = envelope[53..].to_vec();
    let nonce = Nonce::try_assume_unique_for_key(&envelope[41..53]).unwrap();
    let opened = key
        .open_in_place(nonce, Aad::from(&aad), &mut sealed)
        .unwrap();
    assert_eq!(opened, b"independent");
}

#[test]
fn rotation_wraps_the_new_kek_and_every_uncovered_one() {
    let c = Crypt::create_with_recovery(local_cmk(), None).unwrap();
    let c = c.rotate_kek_with_recovery(None).unwrap();
    assert!(c.recovery_status().is_none());
    let c = c.rotate_kek_with_recovery(Some(&public(0))).unwrap();
    assert_eq!(section_ids(&c), vec![1, 2, 3]);
    let c = c.rotate_kek_with_recovery(Some(&public(0))).unwrap();
    assert_eq!(section_ids(&c), vec![1, 2, 3, 4]);
    // Retiring a KEK drops its recovery wrapping too.
    let c = c.retire_kek(2).unwrap();
    assert_eq!(section_ids(&c), vec![1, 3, 4]);
}

/// The KEK ids the C and JNI exports report (`lkr_recovery_kek_ids`, `recoveryKekIds`): those
/// the recovery key covers and those it does not; without a recovery key none is covered.
#[test]
fn recovery_kek_ids_are_the_covered_and_the_uncovered_keks() {
    let none: Vec<u32> = Vec::new();
    let plain = Crypt::create_with_recovery(local_cmk(), None)
        .unwrap()
        .rotate_kek_with_recovery(None)
        .unwrap();
    assert_eq!(plain.recovery_kek_ids(true), none);
    assert_eq!(plain.recovery_kek_ids(false), vec![1, 2]);
    assert_eq!(plain.recovery_key_sha256(), None);
    let cmk = local_cmk();
    let c = Crypt::create_with_recovery(cmk.clone(), Some(&public(0)))
        .unwrap()
        .rotate_kek_with_recovery(Some(&public(0)))
        .unwrap()
        .rotate_kek_with_recovery(Some(&public(0)))
        .unwrap();
    assert_eq!(c.recovery_kek_ids(true), vec![1, 2, 3]);
    assert_eq!(c.recovery_kek_ids(false), none);
    assert_eq!(
        c.recovery_key_sha256().as_deref(),
        Some(public(0).key_sha256())
    );
    // A section without KEK 2's wrapping (e.g. from a tool that did not wrap it): 2 is the one
    // a lost CMK would lose.
    let mut doc: serde_json::Value = serde_json::from_str(&c.keystore_json()).unwrap();
    let keks = doc["recovery"]["keks"].as_array_mut().unwrap();
    keks.retain(|k| k["id"] != 2);
    assert_eq!(keks.len(), 2);
    let partial = Crypt::open_bytes(doc.to_string().as_bytes(), cmk).unwrap();
    assert_eq!(partial.recovery_kek_ids(true), vec![1, 3]);
    assert_eq!(partial.recovery_kek_ids(false), vec![2]);
}

#[test]
fn rotation_without_the_variable_is_refused_when_the_keystore_has_a_section() {
    let c = Crypt::create_with_recovery(local_cmk(), Some(&public(0))).unwrap();
    let e = c.rotate_kek_with_recovery(None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Keystore);
    for part in [
        "LKR_RECOVERY_PUBLIC_KEY_FILE is not set",
        "remove_recovery_key",
        public(0).key_sha256(),
        "nothing was changed",
    ] {
        assert!(e.message().contains(part), "{e}");
    }
    // The environment's variable is unset in tests: rotate_kek reads it and refuses the same way.
    assert!(c.rotate_kek().unwrap_err().message().contains("is not set"));
}

#[test]
fn a_keystore_naming_another_recovery_key_is_refused_with_both_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let cmk = local_cmk();
    // A writer of the keystore put its own key (B) in; the configured key is A.
    let c = Crypt::create_with_recovery(cmk.clone(), Some(&public(1))).unwrap();
    std::fs::write(&path, c.keystore_json()).unwrap();
    let before = std::fs::read(&path).unwrap();
    let opened = Crypt::open_file(&path, cmk, OpenMode::MustExist).unwrap();
    let e = opened
        .rotate_kek_with_recovery(Some(&public(0)))
        .unwrap_err();
    assert!(e.message().contains(public(0).key_sha256()), "{e}");
    assert!(e.message().contains(public(1).key_sha256()), "{e}");
    assert!(e.message().contains("add_recovery_key"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
    // add_recovery_key (whoever runs it holds the CMK) replaces the section.
    let added = opened.add_recovery_key(&public(0)).unwrap();
    assert_eq!(
        added.recovery_status().unwrap().key_sha256,
        public(0).key_sha256()
    );
    assert!(added.rotate_kek_with_recovery(Some(&public(0))).is_ok());
}

#[test]
fn add_and_remove_the_recovery_key() {
    let c = Crypt::create_with_recovery(local_cmk(), None)
        .unwrap()
        .rotate_kek_with_recovery(None)
        .unwrap();
    let added = c.add_recovery_key(&public(2)).unwrap();
    assert_eq!(section_ids(&added), vec![1, 2]);
    assert!(c.recovery_status().is_none(), "the old handle is unchanged");
    let removed = added.remove_recovery_key().unwrap();
    assert!(removed.recovery_status().is_none());
    assert!(!removed.keystore_json().contains("recovery"));
    assert!(removed.remove_recovery_key().is_err());
    assert_eq!(removed.kek_ids(), vec![1, 2]);
}

#[test]
fn recover_a_keystore_file_and_everything_written_before_decrypts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let lost = local_cmk();
    let first = Crypt::create_with_recovery(lost.clone(), Some(&public(0))).unwrap();
    let record1 = first.encrypt(b"also", b"T.C:2").unwrap();
    let c = first.rotate_kek_with_recovery(Some(&public(0))).unwrap();
    std::fs::write(&path, c.keystore_json()).unwrap();
    let old = Crypt::open_file(&path, lost.clone(), OpenMode::MustExist).unwrap();
    let record2 = old.encrypt(b"under KEK 2", b"T.C:1").unwrap();
    let backup = stream(&old, &bytes(20_000, 3));

    let destination = local_cmk();
    let key = private_file(dir.path(), 0, 0o400);
    let recovered = Crypt::recover_file(
        &path,
        &RecoveryPrivateKey::from_file(&key).unwrap(),
        destination.clone(),
    )
    .unwrap();
    assert_eq!(recovered.kek_ids(), vec![1, 2]);
    assert_eq!(recovered.active_kek_id(), 2);
    let reopened = Crypt::open_file(&path, destination, OpenMode::MustExist).unwrap();
    assert_eq!(
        reopened.decrypt(&record2, b"T.C:1").unwrap(),
        b"under KEK 2"
    );
    assert_eq!(reopened.decrypt(&record1, b"T.C:2").unwrap(), b"also");
    assert_eq!(unstream(&reopened, &backup), bytes(20_000, 3));
    assert_eq!(
        reopened.keystore().recovery,
        c.keystore().recovery,
        "the section is kept"
    );
    let e = Crypt::open_file(&path, lost, OpenMode::MustExist).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey);
}

#[test]
fn recover_refusals_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.json");
    let c = Crypt::create_with_recovery(local_cmk(), Some(&public(0)))
        .unwrap()
        .rotate_kek_with_recovery(Some(&public(0)))
        .unwrap();
    let refused = |doc: &str, key: &Path| {
        std::fs::write(&path, doc).unwrap();
        let e = RecoveryPrivateKey::from_file(key)
            .and_then(|k| Crypt::recover_file(&path, &k, local_cmk()))
            .unwrap_err();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            doc,
            "nothing written"
        );
        e
    };
    let json = c.keystore_json();
    // A private key that is not the keystore's: both hashes.
    let e = refused(&json, &private_file(dir.path(), 1, 0o400));
    assert!(e.message().contains(public(0).key_sha256()), "{e}");
    assert!(e.message().contains(public(1).key_sha256()), "{e}");
    // A private key file whose mode is not 0400.
    let e = refused(&json, &private_file(dir.path(), 0, 0o600));
    assert!(
        e.message()
            .contains("Permission for backing key file must be 0400, but is 0600"),
        "{e}"
    );
    // A private key file that is not there.
    let e = refused(&json, &dir.path().join("missing.pem"));
    assert!(e.message().starts_with("--private-key names "), "{e}");
    assert!(
        e.message().contains("missing.pem, which cannot be read"),
        "{e}"
    );
    // A keystore without a section.
    let plain = c.remove_recovery_key().unwrap().keystore_json();
    let e = refused(&plain, &private_file(dir.path(), 0, 0o400));
    assert!(e.message().contains("no recovery section"), "{e}");
    // A KEK the section does not cover.
    let mut ks = Keystore::parse(json.as_bytes()).unwrap();
    ks.recovery.as_mut().unwrap().keks.retain(|k| k.id != 1);
    let e = refused(&ks.to_json(), &private_file(dir.path(), 0, 0o400));
    assert!(
        e.message()
            .contains("KEK(s) 1 of the keystore are not covered"),
        "{e}"
    );
    // A wrapping moved to another KEK's entry: it decrypts, but not to that KEK.
    let mut ks = Keystore::parse(json.as_bytes()).unwrap();
    let keks = &mut ks.recovery.as_mut().unwrap().keks;
    keks[0].wrapped = keks[1].wrapped.clone();
    let e = refused(&ks.to_json(), &private_file(dir.path(), 0, 0o400));
    assert!(e.message().contains("not to KEK 1"), "{e}");
}

#[test]
fn keys_other_than_rsa_3072_or_4096_are_refused() {
    let small = rsa_pair(2048);
    let e = RecoveryPublicKey::from_pem(&small.public, "pub.pem").unwrap_err();
    assert!(e.message().contains("is RSA-2048"), "{e}");
    assert!(e.message().contains("3072 or 4096"), "{e}");
    let e = RecoveryPrivateKey::from_pem(&small.private, "key.pem").unwrap_err();
    assert!(e.message().contains("is RSA-2048"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let ec = genpkey(
        dir.path(),
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let e = RecoveryPublicKey::from_pem(&ec.public, "ec.pem").unwrap_err();
    assert!(e.message().contains("not an RSA key"), "{e}");
    // A private key where the public one belongs, PKCS#1 and garbage: each said plainly.
    let e = RecoveryPublicKey::from_pem(&keys()[0].private, "x").unwrap_err();
    assert!(e.message().contains("not a \"PUBLIC KEY\""), "{e}");
    std::fs::write(dir.path().join("k.pem"), &keys()[0].private).unwrap();
    let pkcs1 = openssl(&["rsa", "-in", "k.pem", "-RSAPublicKey_out"], dir.path());
    let e = RecoveryPublicKey::from_pem(&pkcs1, "x").unwrap_err();
    assert!(e.message().contains("PKCS#1"), "{e}");
    let e = RecoveryPublicKey::from_pem(b"not a key", "x").unwrap_err();
    assert!(e.message().contains("does not hold a PEM key"), "{e}");
    // Debug shows the hash, never key material.
    let shown = format!("{:?} {:?}", private(0), public(0));
    assert!(shown.contains("[REDACTED]") && shown.contains(public(0).key_sha256()));
}

#[test]
fn the_variable_names_the_public_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recovery.pub.pem");
    std::fs::write(&file, &keys()[0].public).unwrap();
    let lookup = common::vars(&[("LKR_RECOVERY_PUBLIC_KEY_FILE", file.to_str().unwrap())]);
    let key = lkr_crypt::keys::recovery_key_from(&lookup)
        .unwrap()
        .unwrap();
    assert_eq!(key.key_sha256(), public(0).key_sha256());
    let empty = common::vars(&[("LKR_RECOVERY_PUBLIC_KEY_FILE", "")]);
    assert!(lkr_crypt::keys::recovery_key_from(&empty)
        .unwrap()
        .is_none());
    let missing = common::vars(&[("LKR_RECOVERY_PUBLIC_KEY_FILE", "/nonexistent/x.pem")]);
    let e = lkr_crypt::keys::recovery_key_from(&missing).unwrap_err();
    assert!(e.message().contains("/nonexistent/x.pem"), "{e}");
}

#[test]
fn recover_to_another_kind_of_cmk_document() {
    // Document form (the database's SETTING): the result is checked to open with the
    // destination; the source CMK is never asked for.
    let lost = local_cmk();
    let c = Crypt::create_with_recovery(lost, Some(&public(2))).unwrap();
    let record = c.encrypt(b"v", b"").unwrap();
    let dest = MasterKey::Local(lkr_crypt::secret::Key256::random());
    let r = Crypt::recover(c.keystore_json().as_bytes(), &private(2), dest.clone()).unwrap();
    let reopened = Crypt::open_bytes(r.keystore_json().as_bytes(), dest).unwrap();
    assert_eq!(reopened.decrypt(&record, b"").unwrap(), b"v");
}
