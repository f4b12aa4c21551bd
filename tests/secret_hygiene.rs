//! Secret hygiene (docs/keys.md: no key byte ever appears in an error message or a `Debug`
//! output). Drives every error path reachable from Rust and from the C ABI with known keys
//! — a local CMK, a second CMK, the legacy key, the KEKs (unwrapped here from the keystores
//! with the known CMKs) and the KEK-wrapping keys — and checks that no message and no `Debug`
//! output contains any of them: raw, standard or URL-safe base64 (padded or not, at every
//! alignment), lower- or upper-case hex, in whole or in any 8-byte piece.

mod common;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use common::vars;
use lkr_crypt::aead::Aes256Gcm;
use lkr_crypt::format::stream::StreamDecryptor;
use lkr_crypt::keys::{self, MasterKey};
use lkr_crypt::keystore::Keystore;
use lkr_crypt::secret::{Key128, Key256};
use lkr_crypt::{kdf, Crypt, MigrateOptions, OpenMode};
use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const CMK: [u8; 32] = [
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
];
const CMK2: [u8; 32] = [0x5c; 32];
const LEGACY: [u8; 16] = [
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
];
const CTX: &[u8] = b"CONNECTION.PASSWORD:42";

fn b64(k: &[u8]) -> String {
    STANDARD.encode(k)
}

/// Every string that would give away (a piece of) `key`.
fn forbidden(key: &[u8]) -> Vec<Vec<u8>> {
    const PIECE: usize = 8;
    let mut out = Vec::new();
    for w in key.windows(PIECE.min(key.len())) {
        out.push(w.to_vec());
        out.push(hex::encode(w).into_bytes());
        out.push(hex::encode_upper(w).into_bytes());
    }
    for shift in 0..3 {
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let text = engine.encode(&key[shift..]);
            // Drop the last character (it mixes in bits that depend on what follows).
            let body = &text.as_bytes()[..text.len() - 1];
            for w in body.windows(12.min(body.len())) {
                out.push(w.to_vec());
            }
        }
    }
    for engine in [&STANDARD, &URL_SAFE] {
        out.push(engine.encode(key).into_bytes());
    }
    out
}

/// Collects messages and checks each one against every secret.
struct Checker {
    secrets: Vec<(String, Vec<Vec<u8>>)>,
    checked: usize,
}

impl Checker {
    fn new(secrets: &[(&str, &[u8])]) -> Checker {
        Checker {
            secrets: secrets
                .iter()
                .map(|(name, k)| (name.to_string(), forbidden(k)))
                .collect(),
            checked: 0,
        }
    }

    fn add_secret(&mut self, name: &str, key: &[u8]) {
        self.secrets.push((name.to_string(), forbidden(key)));
    }

    fn check(&mut self, what: &str, text: &str) {
        assert!(!text.is_empty(), "{what}: empty message");
        let hay = text.as_bytes();
        for (name, pieces) in &self.secrets {
            for p in pieces {
                assert!(
                    !hay.windows(p.len()).any(|w| w == &p[..]),
                    "{what}: the message shows (a piece of) the {name}: {text:?}"
                );
            }
        }
        self.checked += 1;
    }

    fn err<T>(&mut self, what: &str, r: lkr_crypt::Result<T>) {
        let e = r
            .err()
            .unwrap_or_else(|| panic!("{what}: expected an error"));
        self.check(what, e.message());
        self.check(what, &format!("{e:?}"));
        self.check(what, &e.to_string());
    }
}

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

#[test]
fn debug_of_key_types_is_redacted() {
    let k = Key256::new(CMK);
    let l = Key128::new(LEGACY);
    let m = MasterKey::Local(k.clone());
    let c = Crypt::create(m.clone()).unwrap();
    let keks = c.keystore().unlock(&m).unwrap();
    let mut chk = Checker::new(&[("CMK", &CMK), ("legacy key", &LEGACY)]);
    for kek in unwrap_keks(&c.keystore_json(), &CMK) {
        chk.add_secret("KEK", &kek);
    }
    chk.add_secret("KEK-wrapping key", kdf::kek_wrap_key(&k).expose());
    for (what, text) in [
        ("Key256", format!("{k:?}")),
        ("Key128", format!("{l:?}")),
        ("MasterKey", format!("{m:?}")),
        ("Kek", format!("{:?}", keks[0])),
        ("KekDeriver", format!("{:?}", kdf::KekDeriver::new(1, &k))),
        ("Crypt", format!("{c:?}")),
        ("Crypt {:#?}", format!("{c:#?}")),
        ("Keystore", format!("{:?}", c.keystore())),
        (
            "with legacy key",
            format!("{:?}", c.with_legacy_key(Some(l.clone()))),
        ),
    ] {
        chk.check(what, &text);
    }
    assert_eq!(format!("{k:?}"), "[REDACTED]");
    assert_eq!(format!("{l:?}"), "[REDACTED]");
    assert!(format!("{m:?}").contains("REDACTED"));
    assert!(format!("{:?}", keks[0]).contains("REDACTED"));
}

#[test]
fn no_error_message_shows_a_key() {
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

    // Records: tampered, truncated, wrong context, other keystore, unknown KEK, version.
    let env = c.encrypt(b"hunter2", CTX).unwrap();
    for i in 0..env.len() {
        let mut t = env.clone();
        t[i] ^= 0x40;
        chk.err("tampered envelope", c.decrypt(&t, CTX));
    }
    for n in [0, 3, 4, 52, 53, 68, env.len() - 1] {
        chk.err("truncated envelope", c.decrypt(&env[..n], CTX));
    }
    chk.err("wrong context", c.decrypt(&env, b"CONNECTION.PASSWORD:43"));
    chk.err("other keystore", c2.decrypt(&env, CTX));
    chk.err(
        "text: not base64",
        c.decrypt_text(&format!("{cmk_b64}!"), CTX),
    );
    chk.err("text: wrong context", c.decrypt_text(&b64(&env), b"x"));
    chk.err(
        "encrypt_into: small buffer",
        c.encrypt_into(b"x", CTX, &mut [0u8; 10]),
    );
    chk.err(
        "decrypt_into: small buffer",
        c.decrypt_into(&env, CTX, &mut [0u8; 2]),
    );
    chk.err("retire the active KEK", c.retire_kek(c.active_kek_id()));
    chk.err("retire an unknown KEK", c.retire_kek(77));

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
    let wrong_legacy = Key128::new([0x11; 16]);
    for value in [
        vec![0u8; 31],
        vec![0u8; 32],
        [&LEGACY[..], &LEGACY[..], &LEGACY[..]].concat(),
        env.clone(),
    ] {
        chk.err("legacy value", c.migrate(&value, b"other"));
        chk.err(
            "legacy value, wrong key",
            c.migrate_into(
                &value,
                b"other",
                Some(&wrong_legacy),
                MigrateOptions {
                    require_utf8: true,
                    ..Default::default()
                },
                &mut vec![0u8; value.len() + 53],
            ),
        );
        chk.err(
            "legacy value, no key",
            Crypt::create(master.clone()).unwrap().migrate(&value, CTX),
        );
        chk.err("migrate_text", c.migrate_text(&b64(&value), b"other"));
    }

    // Streams.
    let mut w = c.encrypting_writer(Vec::new(), CTX, 4096).unwrap();
    std::io::Write::write_all(&mut w, &[7u8; 10000]).unwrap();
    let sealed = w.finish().unwrap();
    chk.err(
        "stream: segment size",
        c.encrypting_writer(Vec::new(), CTX, 5).map(|_| ()),
    );
    for i in [0, 3, 4, 5, 9, 12, 20, 50, 60, 5000, sealed.len() - 1] {
        let mut t = sealed.clone();
        t[i] ^= 1;
        let mut d = match StreamDecryptor::new(&c, &t[..52], CTX) {
            Ok(d) => d,
            Err(e) => {
                chk.err("stream header", Err::<(), _>(e));
                continue;
            }
        };
        let mut out = vec![0u8; d.update_max_len(t.len())];
        let r = d.update(&t[52..], &mut out).and_then(|_| {
            let mut o = vec![0u8; d.finish_len()];
            d.finish(&mut o)
        });
        chk.err("stream body", r);
        let mut r = c
            .decrypting_reader(&t[..], CTX)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let e = std::io::Read::read_to_end(&mut r, &mut Vec::new()).unwrap_err();
        chk.check("stream reader io::Error", &format!("{e} / {e:?}"));
    }
    chk.err(
        "stream: other keystore",
        c2.decrypting_reader(&sealed[..], CTX).map(|_| ()),
    );

    assert!(chk.checked > 500, "only {} messages checked", chk.checked);
}

/// The C ABI's messages (`lkr_last_error`), from a child process with the keys in its
/// environment (docs/keys.md), so that this test never changes its own environment.
#[test]
fn no_c_abi_message_shows_a_key() {
    if std::env::var_os("LKR_HYGIENE_CHILD").is_some() {
        return c_child();
    }
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
    let exe = std::env::current_exe().unwrap();
    for (i, case) in cases.iter().enumerate() {
        let mut cmd = Command::new(&exe);
        cmd.args([
            "--exact",
            "no_c_abi_message_shows_a_key",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LKR_HYGIENE_CHILD", i.to_string())
        .env("LKR_HYGIENE_SECRETS", secrets.join(","))
        .env("LKR_HYGIENE_DIR", dir.path());
        for (k, v) in case {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("HYGIENE_CHILD_OK"),
            "case {i} {case:?}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn last_error() -> String {
    use lkr_crypt::ffi::lkr_last_error;
    // SAFETY: NULL with cap 0, then a buffer of the reported size.
    let n = unsafe { lkr_last_error(std::ptr::null_mut(), 0) };
    let mut buf = vec![0u8; n + 1];
    // SAFETY: `buf` holds n + 1 bytes.
    unsafe { lkr_last_error(buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(n);
    String::from_utf8(buf).unwrap()
}

fn c_child() {
    use lkr_crypt::ffi::*;
    use std::ptr::{null, null_mut};
    let case: usize = std::env::var("LKR_HYGIENE_CHILD").unwrap().parse().unwrap();
    let dir = std::path::PathBuf::from(std::env::var("LKR_HYGIENE_DIR").unwrap());
    let mut chk = Checker::new(&[]);
    for s in std::env::var("LKR_HYGIENE_SECRETS").unwrap().split(',') {
        chk.add_secret("key", &hex::decode(s).unwrap());
    }
    let mut expect_fail = |what: &str, rc: i32| {
        assert_ne!(rc, LKR_OK, "{what}: expected a failure");
        chk.check(what, &last_error());
    };
    let ks = std::ffi::CString::new(dir.join(format!("ks{case}.json")).to_str().unwrap()).unwrap();
    let other = std::ffi::CString::new(dir.join("other.json").to_str().unwrap()).unwrap();
    let mut h: *mut LkrCrypt = null_mut();
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse (so are the calls below).
    let rc = unsafe { lkr_open_from_env(ks.as_ptr(), &mut h) };
    if case == 6 {
        assert_eq!(rc, LKR_OK, "{}", last_error());
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe { lkr_rekey_from_env(h, &mut null_mut()) };
        expect_fail("rekey to a bad destination CMK", rc);
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        unsafe { lkr_close(h) };
        println!("HYGIENE_CHILD_OK");
        return;
    }
    if case != 0 {
        expect_fail("lkr_open_from_env", rc);
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe { lkr_open_from_env_bytes(null(), 0, &mut h) };
        expect_fail("lkr_open_from_env_bytes", rc);
        println!("HYGIENE_CHILD_OK");
        return;
    }
    assert_eq!(rc, LKR_OK, "{}", last_error());
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_open_from_env(other.as_ptr(), &mut null_mut()) };
    expect_fail("wrong CMK for the keystore", rc);
    let cmk_text = b64(&CMK);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_open_from_env_bytes(cmk_text.as_ptr(), cmk_text.len(), &mut null_mut()) };
    expect_fail("the CMK given as the keystore", rc);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_rekey_from_env(h, &mut null_mut()) };
    expect_fail("rekey without a destination", rc);

    let pt = b"hunter2";
    let mut env = vec![0u8; pt.len() + 69];
    let mut n = 0usize;
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe {
        lkr_encrypt(
            h,
            pt.as_ptr(),
            pt.len(),
            CTX.as_ptr(),
            CTX.len(),
            env.as_mut_ptr(),
            env.len(),
            &mut n,
        )
    };
    assert_eq!(rc, LKR_OK);
    let mut out = vec![0u8; 100];
    for i in [0usize, 4, 5, 8, 20, 60, 70, 75] {
        let mut t = env.clone();
        t[i] ^= 1;
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe {
            lkr_decrypt(
                h,
                t.as_ptr(),
                t.len(),
                CTX.as_ptr(),
                CTX.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        };
        expect_fail("lkr_decrypt tampered", rc);
    }
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe {
        lkr_decrypt(
            h,
            env.as_ptr(),
            env.len(),
            null(),
            0,
            out.as_mut_ptr(),
            1,
            &mut n,
        )
    };
    expect_fail("lkr_decrypt small buffer", rc);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe {
        lkr_decrypt(
            h,
            env.as_ptr(),
            env.len(),
            null(),
            0,
            out.as_mut_ptr(),
            out.len(),
            &mut n,
        )
    };
    expect_fail("lkr_decrypt wrong context", rc);
    for value in [vec![0u8; 31], vec![0u8; 48], LEGACY.repeat(3), CMK.to_vec()] {
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe {
            lkr_migrate(
                h,
                value.as_ptr(),
                value.len(),
                null(),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        };
        expect_fail("lkr_migrate", rc);
    }
    for key in [&LEGACY[..15], &CMK[..], &[0x11u8; 16][..]] {
        let v = LEGACY.repeat(3);
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe {
            lkr_migrate_ex(
                h,
                key.as_ptr(),
                key.len(),
                LKR_MIGRATE_REQUIRE_UTF8,
                v.as_ptr(),
                v.len(),
                null(),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                null_mut(),
            )
        };
        expect_fail("lkr_migrate_ex", rc);
    }
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_encrypt(h, null(), 5, null(), 0, out.as_mut_ptr(), out.len(), &mut n) };
    expect_fail("lkr_encrypt NULL", rc);
    let mut dec: *mut LkrStreamDecryptor = null_mut();
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_stream_decrypt_init(h, CMK.as_ptr(), CMK.len(), null(), 0, &mut dec) };
    expect_fail("lkr_stream_decrypt_init", rc);
    let mut enc: *mut LkrStreamEncryptor = null_mut();
    let mut hdr = [0u8; 52];
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe {
        lkr_stream_encrypt_init(
            h,
            null(),
            0,
            7,
            hdr.as_mut_ptr(),
            hdr.len(),
            &mut n,
            &mut enc,
        )
    };
    expect_fail("lkr_stream_encrypt_init", rc);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_retire_kek(h, 1, &mut null_mut()) };
    expect_fail("lkr_retire_kek active", rc);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    unsafe { lkr_close(h) };
    println!("HYGIENE_CHILD_OK");
}
