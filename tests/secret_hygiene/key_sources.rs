//! Key sources: CMK and legacy key texts (variables) and key files with bad modes, bad
//! contents, missing or directories (docs/keys.md, docs/legacy.md).

use crate::checker::{b64, CMK, LEGACY};
use crate::common::vars;
use crate::write_file;
use lkr_crypt::keys;
use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;

#[test]
fn no_cmk_text_or_key_file_error_shows_a_key() {
    let crate::Known { dir, mut chk, .. } = crate::known();
    // CMK texts (docs/keys.md).
    let cmk_b64 = b64(&CMK);
    let bad_texts = [
        format!("{cmk_b64}!"),
        format!("!{cmk_b64}"),
        cmk_b64.replace('=', ""),
        format!("{cmk_b64}{cmk_b64}"),
        b64(&CMK[..31]),
        b64(&[&CMK[..], &CMK[..]].concat()),
        hex::encode(CMK),
        format!("{}-{}", &cmk_b64[..20], &cmk_b64[21..]),
        format!("{} {}", &cmk_b64[..20], &cmk_b64[20..]),
    ];
    for text in &bad_texts {
        chk.err(
            "LKR_MASTER_KEY_ENV",
            keys::master_key_from(&vars(&[("LKR_MASTER_KEY_ENV", text)]), ""),
        );
        chk.err(
            "LKR_MASTER_KEY_ENV_DESTINATION",
            keys::master_key_from(
                &vars(&[("LKR_MASTER_KEY_ENV_DESTINATION", text)]),
                "_DESTINATION",
            ),
        );
        chk.err(
            "decode_key_text",
            keys::decode_key_text::<32>(text, "Master Key"),
        );
    }
    chk.err(
        "two CMK sources",
        keys::master_key_from(
            &vars(&[
                ("LKR_MASTER_KEY_ENV", &cmk_b64),
                ("LKR_MASTER_KEY_FILE", "/nonexistent"),
            ]),
            "",
        ),
    );

    // Key files: bad mode, bad contents, missing, a directory.
    let key_file = dir.path().join("cmk.key");
    let key_path = key_file.to_str().unwrap();
    let file_var = [("LKR_MASTER_KEY_FILE", key_path)];
    for mode in [0o644, 0o600, 0o440, 0o444, 0o4400] {
        write_file(&key_file, &format!("{cmk_b64}\n"), mode);
        chk.err("key file mode", keys::master_key_from(&vars(&file_var), ""));
    }
    for text in &bad_texts {
        write_file(&key_file, text, 0o400);
        chk.err(
            "key file contents",
            keys::master_key_from(&vars(&file_var), ""),
        );
    }
    write_file(&key_file, "", 0o400);
    chk.err(
        "empty key file",
        keys::master_key_from(&vars(&file_var), ""),
    );
    fs::set_permissions(&key_file, Permissions::from_mode(0o600)).unwrap();
    fs::write(&key_file, CMK).unwrap(); // raw bytes instead of base64
    fs::set_permissions(&key_file, Permissions::from_mode(0o400)).unwrap();
    chk.err("raw key file", keys::master_key_from(&vars(&file_var), ""));
    let missing = dir.path().join("missing.key");
    chk.err(
        "missing key file",
        keys::master_key_from(
            &vars(&[("LKR_MASTER_KEY_FILE", missing.to_str().unwrap())]),
            "",
        ),
    );
    chk.err(
        "key file is a directory",
        keys::master_key_from(
            &vars(&[("LKR_MASTER_KEY_FILE", dir.path().to_str().unwrap())]),
            "",
        ),
    );
    chk.done(138);
}

#[test]
fn no_legacy_key_error_shows_a_key() {
    let crate::Known { dir, mut chk, .. } = crate::known();
    // Legacy key and values (docs/legacy.md).
    let legacy_b64 = b64(&LEGACY);
    for text in [
        format!("{legacy_b64}!"),
        b64(&LEGACY[..15]),
        b64(&CMK),
        hex::encode(LEGACY),
        format!("{legacy_b64}{legacy_b64}"),
    ] {
        chk.err(
            "LKR_LEGACY_KEY_ENV",
            keys::legacy_key_from(&vars(&[("LKR_LEGACY_KEY_ENV", &text)])),
        );
        let f = dir.path().join("legacy.key");
        write_file(&f, &text, 0o400);
        chk.err(
            "LKR_LEGACY_KEY_FILE",
            keys::legacy_key_from(&vars(&[("LKR_LEGACY_KEY_FILE", f.to_str().unwrap())])),
        );
    }
    let f = dir.path().join("legacy.key");
    write_file(&f, &legacy_b64, 0o644);
    chk.err(
        "legacy key file mode",
        keys::legacy_key_from(&vars(&[("LKR_LEGACY_KEY_FILE", f.to_str().unwrap())])),
    );
    chk.err(
        "both legacy sources",
        keys::legacy_key_from(&vars(&[
            ("LKR_LEGACY_KEY_ENV", &legacy_b64),
            ("LKR_LEGACY_KEY_FILE", f.to_str().unwrap()),
        ])),
    );
    chk.err(
        "legacy key bytes",
        keys::legacy_key_from_bytes(&LEGACY[..15]),
    );
    chk.err("legacy key bytes", keys::legacy_key_from_bytes(&CMK));
    chk.done(42);
}
