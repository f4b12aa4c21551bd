//! Keystores: the wrong CMK, a missing keystore, and damaged documents — a key pasted where
//! the keystore belongs, fields holding a key, wrapped KEKs changed or swapped.

use crate::checker::{b64, CMK, LEGACY};
use lkr_crypt::keystore::Keystore;
use lkr_crypt::{Crypt, OpenMode};
use std::fs;

#[test]
fn no_keystore_error_shows_a_key() {
    let crate::Known {
        dir,
        ks_path,
        master,
        master2,
        c,
        c2,
        mut chk,
    } = crate::known();
    let cmk_b64 = b64(&CMK);
    // The wrong CMK for a keystore.
    chk.err(
        "wrong CMK (file)",
        Crypt::open_file(&ks_path, master2.clone(), OpenMode::MustExist),
    );
    chk.err(
        "wrong CMK (bytes)",
        Crypt::open_bytes(c.keystore_json().as_bytes(), master2.clone()),
    );
    chk.err("wrong CMK (unlock)", c2.keystore().unlock(&master));
    chk.err(
        "missing keystore",
        Crypt::open_file(
            &dir.path().join("none.json"),
            master.clone(),
            OpenMode::MustExist,
        ),
    );
    chk.err("rekey check with the wrong destination", {
        let ks = Keystore::parse(c.keystore_json().as_bytes()).unwrap();
        ks.unlock(&master2)
    });

    // Bad keystore documents, including a key pasted where the keystore belongs.
    let good: serde_json::Value = serde_json::from_str(&c.keystore_json()).unwrap();
    let mut docs: Vec<Vec<u8>> = vec![
        cmk_b64.clone().into_bytes(),
        format!("{cmk_b64}\n").into_bytes(),
        CMK.to_vec(),
        serde_json::to_vec(&cmk_b64).unwrap(),
        format!("[\"{cmk_b64}\"]").into_bytes(),
        format!("{{\"{cmk_b64}\": 1}}").into_bytes(),
        b64(&LEGACY).into_bytes(),
        b"{}".to_vec(),
        b"{\"format\": \"lkr-keystore\"".to_vec(),
    ];
    for (field, value) in [
        ("format", serde_json::json!(cmk_b64)),
        ("version", serde_json::json!(cmk_b64)),
        ("active_kek", serde_json::json!(cmk_b64)),
        ("keks", serde_json::json!(cmk_b64)),
        ("master_key", serde_json::json!(cmk_b64)),
        ("master_key", serde_json::json!({"kind": cmk_b64})),
        (
            "master_key",
            serde_json::json!({"kind": "local", "fingerprint": cmk_b64}),
        ),
        (
            "keks",
            serde_json::json!([{"id": 1, "created": "x", "wrapped": cmk_b64}]),
        ),
        (
            "keks",
            serde_json::json!([{"id": cmk_b64, "created": "x", "wrapped": "AA=="}]),
        ),
        (
            "keks",
            serde_json::json!([{"id": 1, "created": "x", "wrapped": hex::encode(CMK)}]),
        ),
        (
            "keks",
            serde_json::json!([{"id": 1, "created": "x", "wrapped": 5}]),
        ),
    ] {
        let mut d = good.clone();
        d[field] = value;
        docs.push(serde_json::to_vec(&d).unwrap());
    }
    // Every wrapped KEK damaged or swapped.
    let mut d = good.clone();
    let w0 = d["keks"][0]["wrapped"].clone();
    d["keks"][0]["wrapped"] = d["keks"][1]["wrapped"].clone();
    d["keks"][1]["wrapped"] = w0;
    docs.push(serde_json::to_vec(&d).unwrap());
    for doc in &docs {
        let what = format!("keystore document {:?}", String::from_utf8_lossy(doc));
        let r = Keystore::parse(doc).and_then(|ks| ks.unlock(&master).map(|_| ks));
        chk.err(&what, r);
        chk.err(&what, Crypt::open_bytes(doc, master.clone()));
        fs::write(dir.path().join("bad.json"), doc).unwrap();
        chk.err(
            &what,
            Crypt::open_file(
                &dir.path().join("bad.json"),
                master.clone(),
                OpenMode::MustExist,
            ),
        );
    }
    chk.done(204);
}
