//! The C ABI's messages (`lkr_last_error`), each case in a child process with its own
//! environment.

use crate::checker::{b64, CMK, CMK2, LEGACY};
use crate::{common, unwrap_keks, write_file};
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::Key256;
use lkr_crypt::{Crypt, OpenMode};
use std::process::Command;

/// The C ABI's messages (`lkr_last_error`), from the `secret_hygiene_child` process
/// (tests/secret_hygiene_child.rs) with the keys in its environment (docs/keys.md), so that
/// this test never changes its own environment.
#[test]
fn no_c_abi_message_shows_a_key() {
    let dir = tempfile::tempdir().unwrap();
    // A keystore under the second CMK: the child's CMK does not open it.
    let ks2 = dir.path().join("other.json");
    let c2 = Crypt::open_file(
        &ks2,
        MasterKey::Local(Key256::new(CMK2)),
        OpenMode::CreateIfMissing,
    )
    .unwrap();
    let mut secrets = vec![hex::encode(CMK), hex::encode(CMK2), hex::encode(LEGACY)];
    secrets.extend(
        unwrap_keks(&c2.keystore_json(), &CMK2)
            .iter()
            .map(hex::encode),
    );
    let key_file = dir.path().join("cmk.key");
    write_file(&key_file, &b64(&CMK), 0o644);

    let cmk_b64 = b64(&CMK);
    let legacy_b64 = b64(&LEGACY);
    let short_cmk = b64(&CMK[..31]);
    let short_legacy = b64(&LEGACY[..15]);
    let bad_cmk = format!("{cmk_b64}!");
    let key_path = key_file.to_str().unwrap().to_string();
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("LKR_MASTER_KEY_ENV", &cmk_b64),
            ("LKR_LEGACY_KEY_ENV", &legacy_b64),
        ],
        vec![("LKR_MASTER_KEY_ENV", &short_cmk)],
        vec![("LKR_MASTER_KEY_ENV", &bad_cmk)],
        vec![
            ("LKR_MASTER_KEY_ENV", &cmk_b64),
            ("LKR_LEGACY_KEY_ENV", &short_legacy),
        ],
        vec![
            ("LKR_MASTER_KEY_ENV", &cmk_b64),
            ("LKR_MASTER_KEY_FILE", &key_path),
        ],
        vec![("LKR_MASTER_KEY_FILE", &key_path)],
        vec![
            ("LKR_MASTER_KEY_ENV", &cmk_b64),
            ("LKR_MASTER_KEY_ENV_DESTINATION", &bad_cmk),
        ],
    ];
    let exe = common::child_exe("secret_hygiene_child");
    for (i, case) in cases.iter().enumerate() {
        let mut cmd = Command::new(&exe);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LKR_HYGIENE_CHILD", i.to_string())
            .env("LKR_HYGIENE_SECRETS", secrets.join(","))
            .env("LKR_HYGIENE_DIR", dir.path());
        for (k, v) in case {
            cmd.env(k, v);
        }
        common::child_stdout(&mut cmd, &format!("case {i} {case:?}"));
    }
}
