//! Known-answer vectors for docs/derivations.md (derivations), §4 (envelope v1) and §6 (local KEK
//! wrapping), checked in under `tests/vectors/` so that any independent implementation can
//! check itself against them. This test recomputes every value with fixed salts and nonces
//! and compares; `LKR_REGEN_VECTORS=1 cargo test --test vectors` rewrites the files (review
//! the diff: a change here breaks every stored value). The HKDF values are also checked
//! against the `openssl kdf` command, an independent implementation.

mod common;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use lkr_crypt::format::envelope;
use lkr_crypt::kdf::{cmk_fingerprint, kek_wrap_key, KekDeriver};
use lkr_crypt::keys::MasterKey;
use lkr_crypt::keystore::wrap_local_with_nonce;
use lkr_crypt::secret::Key256;
use lkr_crypt::Crypt;
use serde_json::{json, Value};
use std::path::PathBuf;

fn pattern<const N: usize>(start: u8, step: u8) -> [u8; N] {
    let mut a = [0u8; N];
    for (i, b) in a.iter_mut().enumerate() {
        *b = start.wrapping_add(step.wrapping_mul(i as u8));
    }
    a
}

fn derivations() -> Value {
    let cmk = Key256::new(pattern(0x00, 1));
    let mut keks = Vec::new();
    for (kek_seed, kek_id, salt_seed) in [
        (0x40u8, 1u32, 0x80u8),
        (0x41, 0xdeadbeef, 0x81),
        (0xff, 7, 0x00),
    ] {
        let kek = Key256::new(pattern(kek_seed, 3));
        let salt: [u8; 32] = pattern(salt_seed, 5);
        let d = KekDeriver::new(kek_id, &kek);
        keks.push(json!({
            "kek": hex::encode(kek.expose()),
            "kek_id": kek_id,
            "salt": hex::encode(salt),
            "record_key": hex::encode(d.record_key(&salt).expose()),
            "stream_key": hex::encode(d.stream_key(&salt).expose()),
        }));
    }
    json!({
        "description": "docs/derivations.md. HKDF-Expand(SHA-256) with the 32-byte key as PRK. record_key = HKDF-Expand(KEK, \"LKRd\" || be32(kek_id) || salt, 32); stream_key uses \"LKRs\".",
        "cmk": hex::encode(cmk.expose()),
        "kek_wrap_key": hex::encode(kek_wrap_key(&cmk).expose()),
        "fingerprint": hex::encode(cmk_fingerprint(&cmk)),
        "kek_derivations": keks,
    })
}

fn envelopes() -> Value {
    let mut cases = Vec::new();
    let inputs: [(&[u8], &[u8]); 5] = [
        (b"", b""),
        (b"s3cret", b"CONNECTION.PASSWORD:42"),
        (b"", b"SETTING.VALUE:encryption"),
        (&[0u8; 16], b""),
        (
            b"The quick brown fox jumps over the lazy dog. 0123456789",
            b"USER.API_TOKEN:1",
        ),
    ];
    for (i, (pt, ctx)) in inputs.iter().enumerate() {
        let kek = Key256::new(pattern(0x40 + i as u8, 3));
        let kek_id = [1u32, 2, 0x01020304, 1, 4_000_000_000][i];
        let salt: [u8; 32] = pattern(0x80 + i as u8, 5);
        let nonce: [u8; 12] = pattern(0xc0 + i as u8, 7);
        let d = KekDeriver::new(kek_id, &kek);
        let mut out = vec![0u8; pt.len() + envelope::OVERHEAD];
        envelope::seal_with(&d, kek_id, &salt, &nonce, pt, ctx, &mut out);
        cases.push(json!({
            "kek": hex::encode(kek.expose()),
            "kek_id": kek_id,
            "salt": hex::encode(salt),
            "nonce": hex::encode(nonce),
            "context": hex::encode(ctx),
            "plaintext": hex::encode(pt),
            "data_key": hex::encode(d.record_key(&salt).expose()),
            "envelope": hex::encode(&out),
            "envelope_base64": B64.encode(&out),
        }));
    }
    json!({
        "description": "docs/envelope.md. envelope = \"LKR\" 01 01 be32(kek_id) salt(32) nonce(12) ciphertext tag(16); AES-256-GCM under data_key with additional data = the 53 header bytes || context.",
        "cases": cases,
    })
}

fn keystore() -> Value {
    let cmk = Key256::new(pattern(0x10, 1));
    let kek = Key256::new(pattern(0x60, 9));
    let nonce: [u8; 12] = pattern(0x30, 1);
    let wrapped = wrap_local_with_nonce(&kek_wrap_key(&cmk), 1, &kek, &nonce);
    let doc = json!({
        "format": "lkr-keystore",
        "version": 1,
        "master_key": {"kind": "local", "fingerprint": B64.encode(cmk_fingerprint(&cmk))},
        "active_kek": 1,
        "keks": [{"id": 1, "created": "2026-11-28T21:00:00Z", "wrapped": B64.encode(wrapped)}],
    });
    let salt: [u8; 32] = pattern(0xa0, 1);
    let env_nonce: [u8; 12] = pattern(0xb0, 1);
    let ctx = b"CONNECTION.PASSWORD:42";
    let mut env = vec![0u8; 6 + envelope::OVERHEAD];
    envelope::seal_with(
        &KekDeriver::new(1, &kek),
        1,
        &salt,
        &env_nonce,
        b"hunter",
        ctx,
        &mut env,
    );
    json!({
        "description": "docs/keystore.md local CMK. wrapped = nonce(12) || AES-256-GCM(HKDF-Expand(CMK, \"lkr-crypt v1 kek-wrap\", 32), nonce, KEK, ad = \"lkr-crypt v1 kek\" || be32(id)) || tag. The keystore document opens with cmk_base64 and decrypts envelope_base64 under context to plaintext.",
        "cmk_base64": B64.encode(cmk.expose()),
        "kek": hex::encode(kek.expose()),
        "wrap_nonce": hex::encode(nonce),
        "wrapped": hex::encode(wrapped),
        "keystore": doc,
        "context": String::from_utf8(ctx.to_vec()).unwrap(),
        "envelope_base64": B64.encode(&env),
        "plaintext": "hunter",
    })
}

fn streams() -> Value {
    let ks = keystore();
    let cmk =
        lkr_crypt::keys::decode_key_text::<32>(ks["cmk_base64"].as_str().unwrap(), "Master Key")
            .unwrap();
    let crypt =
        Crypt::open_bytes(ks["keystore"].to_string().as_bytes(), MasterKey::Local(cmk)).unwrap();
    let mut cases = Vec::new();
    for (i, (n, ctx)) in [
        (0usize, &b""[..]),
        (4096, b"backup:x"),
        (2 * 4096 + 100, b"cache:report-7.csv"),
    ]
    .iter()
    .enumerate()
    {
        let pt: Vec<u8> = (0..*n).map(|j| (j * 7 + i) as u8).collect();
        let salt: [u8; 32] = pattern(0x20 + i as u8, 3);
        let prefix: [u8; 7] = pattern(0xe0 + i as u8, 1);
        let mut enc = lkr_crypt::format::stream::StreamEncryptor::with_salt(
            &crypt, ctx, 4096, &salt, &prefix,
        );
        let mut out = enc.header().to_vec();
        let mut buf = vec![0u8; enc.update_max_len(pt.len())];
        let k = enc.update(&pt, &mut buf).unwrap();
        out.extend_from_slice(&buf[..k]);
        let mut buf = vec![0u8; enc.finish_len()];
        let k = enc.finish(&mut buf).unwrap();
        out.extend_from_slice(&buf[..k]);
        cases.push(json!({
            "segment_size": 4096,
            "salt": hex::encode(salt),
            "nonce_prefix": hex::encode(prefix),
            "context": hex::encode(ctx),
            "stream_key": hex::encode(KekDeriver::new(1, &Key256::from_slice(&hex::decode(ks["kek"].as_str().unwrap()).unwrap()).unwrap()).stream_key(&salt).expose()),
            "plaintext": hex::encode(&pt),
            "stream": hex::encode(&out),
        }));
    }
    json!({
        "description": "docs/stream.md under the KEK of keystore_v1.json (id 1). header = \"LKS\" 01 01 be32(kek_id) be32(S) salt(32) nonce_prefix(7); segment i = AES-256-GCM(stream_key, nonce_prefix || be32(i) || last, ad = header || context) of S bytes (the last 0..S), ciphertext || tag.",
        "kek": ks["kek"],
        "kek_id": 1,
        "cases": cases,
    })
}

fn check(name: &str, computed: Value) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    if std::env::var_os("LKR_REGEN_VECTORS").is_some() {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&computed).unwrap() + "\n",
        )
        .unwrap();
    }
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        stored, computed,
        "{name} differs from what the library computes"
    );
    stored
}

fn openssl_hkdf_expand(key_hex: &str, info: &[u8], len: usize) -> String {
    let (len, key, info) = (
        len.to_string(),
        format!("hexkey:{key_hex}"),
        format!("hexinfo:{}", hex::encode(info)),
    );
    let out = common::openssl::openssl(
        &[
            "kdf",
            "-keylen",
            &len,
            "-kdfopt",
            "digest:SHA256",
            "-kdfopt",
            "mode:EXPAND_ONLY",
            "-kdfopt",
            &key,
            "-kdfopt",
            &info,
            "HKDF",
        ],
        std::path::Path::new("."),
    );
    String::from_utf8(out)
        .unwrap()
        .trim()
        .replace(':', "")
        .to_lowercase()
}

#[test]
fn derivation_vectors() {
    let v = check("derivations.json", derivations());
    let cmk = v["cmk"].as_str().unwrap();
    assert_eq!(
        openssl_hkdf_expand(cmk, b"lkr-crypt v1 kek-wrap", 32),
        v["kek_wrap_key"]
    );
    assert_eq!(
        openssl_hkdf_expand(cmk, b"lkr-crypt v1 fingerprint", 16),
        v["fingerprint"]
    );
    for k in v["kek_derivations"].as_array().unwrap() {
        let mut info = b"LKRd".to_vec();
        info.extend_from_slice(&(k["kek_id"].as_u64().unwrap() as u32).to_be_bytes());
        info.extend_from_slice(&hex::decode(k["salt"].as_str().unwrap()).unwrap());
        let kek = k["kek"].as_str().unwrap();
        assert_eq!(openssl_hkdf_expand(kek, &info, 32), k["record_key"]);
        info[..4].copy_from_slice(b"LKRs");
        assert_eq!(openssl_hkdf_expand(kek, &info, 32), k["stream_key"]);
    }
}

#[test]
fn envelope_vectors() {
    let v = check("envelope_v1.json", envelopes());
    // And each stored envelope opens with a fresh deriver, independently of sealing.
    for c in v["cases"].as_array().unwrap() {
        let h = |k: &str| hex::decode(c[k].as_str().unwrap()).unwrap();
        let kek = Key256::from_slice(&h("kek")).unwrap();
        let d = KekDeriver::new(c["kek_id"].as_u64().unwrap() as u32, &kek);
        let env = h("envelope");
        let (header, body) = envelope::parse(&env).unwrap();
        let mut out = vec![0u8; body.len() - 16];
        envelope::open_with(&d, &header, body, &h("context"), &mut out).unwrap();
        assert_eq!(out, h("plaintext"));
    }
}

#[test]
fn keystore_vectors() {
    let v = check("keystore_v1.json", keystore());
    let cmk =
        lkr_crypt::keys::decode_key_text::<32>(v["cmk_base64"].as_str().unwrap(), "Master Key")
            .unwrap();
    let c = Crypt::open_bytes(v["keystore"].to_string().as_bytes(), MasterKey::Local(cmk)).unwrap();
    let env = B64.decode(v["envelope_base64"].as_str().unwrap()).unwrap();
    let pt = c
        .decrypt(&env, v["context"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(pt, v["plaintext"].as_str().unwrap().as_bytes());
}

#[test]
fn stream_vectors() {
    let v = check("stream_v1.json", streams());
    let ks = keystore();
    let cmk =
        lkr_crypt::keys::decode_key_text::<32>(ks["cmk_base64"].as_str().unwrap(), "Master Key")
            .unwrap();
    let crypt =
        Crypt::open_bytes(ks["keystore"].to_string().as_bytes(), MasterKey::Local(cmk)).unwrap();
    for c in v["cases"].as_array().unwrap() {
        let h = |k: &str| hex::decode(c[k].as_str().unwrap()).unwrap();
        let mut out = Vec::new();
        use std::io::Read;
        crypt
            .decrypting_reader(&h("stream")[..], &h("context"))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, h("plaintext"));
    }
}
