//! Secret hygiene (docs/keys.md: no key byte ever appears in an error message or a `Debug`
//! output). Drives every error path reachable from Rust and from the C ABI with known keys
//! — a local CMK, a second CMK, the legacy key, the KEKs (unwrapped here from the keystores
//! with the known CMKs) and the KEK-wrapping keys — and checks that no message and no `Debug`
//! output contains any of them: raw, standard or URL-safe base64 (padded or not, at every
//! alignment), lower- or upper-case hex, in whole or in any 8-byte piece.
//!
//! By topic: `debug` (the key types' `Debug`), `key_sources` (CMK and legacy key texts and
//! files), `keystores` (wrong CMKs, damaged documents), `values` (records, legacy values,
//! streams) and `c_abi` (`lkr_last_error`, from the `secret_hygiene_child` process).

#[path = "../common/mod.rs"]
mod common;

mod c_abi;
mod checker;
mod debug;
mod key_sources;
mod keystores;
mod values;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use checker::{Checker, CMK, CMK2, LEGACY};
use lkr_crypt::aead::Aes256Gcm;
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::{Key128, Key256};
use lkr_crypt::{kdf, Crypt, OpenMode};
use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The KEKs of a local-CMK keystore, unwrapped here (docs/keystore.md) with the known CMK.
fn unwrap_keks(keystore_json: &str, cmk: &[u8; 32]) -> Vec<[u8; 32]> {
    let doc: serde_json::Value = serde_json::from_str(keystore_json).unwrap();
    let wrap_key = kdf::kek_wrap_key(&Key256::new(*cmk));
    let aead = Aes256Gcm::new(&wrap_key);
    doc["keks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let id = k["id"].as_u64().unwrap() as u32;
            let wrapped = STANDARD.decode(k["wrapped"].as_str().unwrap()).unwrap();
            let mut ad = b"lkr-crypt v1 kek".to_vec();
            ad.extend_from_slice(&id.to_be_bytes());
            let mut kek = [0u8; 32];
            aead.open_into(
                wrapped[..12].try_into().unwrap(),
                &ad,
                &wrapped[12..],
                &mut kek,
            )
            .expect("the KEK unwraps with the known CMK");
            kek
        })
        .collect()
}

fn write_file(path: &Path, text: &str, mode: u32) {
    let _ = fs::set_permissions(path, Permissions::from_mode(0o600));
    fs::write(path, text).unwrap();
    fs::set_permissions(path, Permissions::from_mode(mode)).unwrap();
}

/// The keys every error-path test knows: a keystore file under the known CMK (two KEKs, the
/// legacy key), a keystore under the second CMK, and a [`Checker`] for all their keys.
struct Known {
    dir: tempfile::TempDir,
    ks_path: PathBuf,
    master: MasterKey,
    master2: MasterKey,
    c: Crypt,
    c2: Crypt,
    chk: Checker,
}

fn known() -> Known {
    let dir = tempfile::tempdir().unwrap();
    let cmk = Key256::new(CMK);
    let master = MasterKey::Local(cmk.clone());
    let master2 = MasterKey::Local(Key256::new(CMK2));
    let ks_path = dir.path().join("keystore.json");
    let c = Crypt::open_file(&ks_path, master.clone(), OpenMode::CreateIfMissing)
        .unwrap()
        .with_legacy_key(Some(Key128::new(LEGACY)));
    let c = c.rotate_kek().unwrap(); // two KEKs
    let c2 = Crypt::create(master2.clone()).unwrap();
    let mut chk = Checker::new(&[
        ("CMK", &CMK),
        ("second CMK", &CMK2),
        ("legacy key", &LEGACY),
    ]);
    for kek in unwrap_keks(&c.keystore_json(), &CMK) {
        chk.add_secret("KEK", &kek);
    }
    for kek in unwrap_keks(&c2.keystore_json(), &CMK2) {
        chk.add_secret("KEK of the second keystore", &kek);
    }
    chk.add_secret("KEK-wrapping key", kdf::kek_wrap_key(&cmk).expose());
    Known {
        dir,
        ks_path,
        master,
        master2,
        c,
        c2,
        chk,
    }
}
