//! docs/keys.md, docs/keystore.md with AWS KMS as the CMK, against a real KMS-API server (moto, started by CI on
//! 127.0.0.1; see `tests/kms_server.sh`). The server's address comes from
//! `LKR_TEST_KMS_ENDPOINT` (e.g. `http://127.0.0.1:45123`). Without it the tests say so loudly
//! and pass — except under `CI=true`, where a missing server fails the run.
//!
//! Every test creates its own KMS key and alias (the tests run in parallel on one server).
//! The SDK reads its endpoint, region and credentials from the process environment: they are
//! set once, the same for every test; tests needing another environment (no region, a server
//! that is down or hangs, the C and environment entry points) run this test binary again as a
//! child process: the test target `kms_child` (tests/kms_child.rs), run by [`run_child`].
#![cfg(feature = "aws-kms")]

mod common;
use common::{bytes, vars};
use lkr_crypt::keys::{aws_kms, master_key_from, MasterKey};
use lkr_crypt::secret::Key256;
use lkr_crypt::{Crypt, ErrorKind, OpenMode};
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

const MISMATCH: &str = "Master Key does not match the keystore";
const CTX: &[u8] = b"CONNECTION.PASSWORD:42";
/// A failing open must end within this (default LKR_AWS_TIMEOUT_MS is 4 s): it is a
/// correctness bound (no hang), not a benchmark.
const FAIL_BOUND: Duration = Duration::from_secs(6);

/// The KMS server's address, after setting the SDK's environment once; `None` (and a loud
/// message) when no server is configured outside CI.
fn server() -> Option<String> {
    static SETUP: Once = Once::new();
    let endpoint = std::env::var("LKR_TEST_KMS_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty());
    let Some(endpoint) = endpoint else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("LKR_TEST_KMS_ENDPOINT is not set, but CI=true: the KMS tests need the KMS-API server (moto) that CI starts");
        }
        // Straight to stderr, past the test harness's capture, once per run.
        static LOUD: Once = Once::new();
        LOUD.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!!!!! SKIPPED: LKR_TEST_KMS_ENDPOINT is not set: no KMS-API server, the AWS KMS tests did not run (bash tests/kms_server.sh runs them; under CI=true this fails) !!!!!!!!\n"
            );
        });
        return None;
    };
    SETUP.call_once(|| {
        std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/lkr-test/aws-config");
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/lkr-test/aws-credentials",
        );
        for v in [
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL_KMS",
            "AWS_MAX_ATTEMPTS",
            "AWS_RETRY_MODE",
            "LKR_AWS_TIMEOUT_MS",
        ] {
            std::env::remove_var(v);
        }
    });
    Some(endpoint)
}

macro_rules! require_server {
    () => {
        match server() {
            Some(e) => e,
            None => return,
        }
    };
}

/// A test-side KMS client (the administrator's, not the library's), on its own runtime.
/// The SDK's defaults with a plain-HTTP client (the library builds its own HTTPS client, so the
/// crate does not enable the SDK's default one): moto answers on loopback.
fn sdk_defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
}

fn admin<T>(f: impl AsyncFnOnce(aws_sdk_kms::Client) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let conf = sdk_defaults().load().await;
        f(aws_sdk_kms::Client::new(&conf)).await
    })
}

/// A new KMS key with a new alias: returns (`alias/...`, key ARN).
fn new_key() -> (String, String) {
    static N: AtomicU32 = AtomicU32::new(0);
    let alias = format!(
        "alias/lkr-test-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let arn = admin(async |c| {
        let k = c
            .create_key()
            .description("lkr-crypt test")
            .send()
            .await
            .expect("CreateKey");
        let meta = k.key_metadata.expect("key metadata");
        c.create_alias()
            .alias_name(&alias)
            .target_key_id(meta.key_id())
            .send()
            .await
            .expect("CreateAlias");
        meta.arn.expect("key ARN")
    });
    (alias, arn)
}

/// The CMK configuration a process would read (docs/keys.md), without touching the environment.
fn kms_cmk(key: &str, context: Option<&str>) -> MasterKey {
    let mut pairs = vec![("LKR_AWS_CMK", key)];
    if let Some(c) = context {
        pairs.push(("LKR_AWS_CMK_EC", c));
    }
    master_key_from(&vars(&pairs), "").unwrap()
}

fn doc(c: &Crypt) -> serde_json::Value {
    serde_json::from_str(&c.keystore_json()).unwrap()
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The keystore with a KMS CMK

#[test]
fn first_open_creates_a_kms_keystore_then_reopens() {
    require_server!();
    let (alias, _) = new_key();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keystore.json");
    let a = Crypt::open_file(&path, kms_cmk(&alias, None), OpenMode::CreateIfMissing).unwrap();
    assert_eq!(a.kek_ids(), vec![1]);
    let v = doc(&a);
    assert_eq!(v["format"], "lkr-keystore");
    assert_eq!(v["master_key"]["kind"], "aws-kms");
    assert_eq!(v["master_key"]["key_id"], alias.as_str());
    assert_eq!(v["master_key"]["context"], "Looker_Encryption_Context");
    assert!(b64(v["keks"][0]["wrapped"].as_str().unwrap()).len() > 32);
    let env = a.encrypt(b"v", CTX).unwrap();
    let b = Crypt::open_file(&path, kms_cmk(&alias, None), OpenMode::MustExist).unwrap();
    assert_eq!(b.decrypt(&env, CTX).unwrap(), b"v");
    assert_eq!(a.keystore_json(), b.keystore_json());
    // And as bytes, for applications keeping the keystore in their database.
    let c = Crypt::open_bytes(a.keystore_json().as_bytes(), kms_cmk(&alias, None)).unwrap();
    assert_eq!(c.decrypt(&env, CTX).unwrap(), b"v");
}

#[test]
fn the_wrapped_kek_is_a_kms_blob_under_the_spec_context() {
    require_server!();
    let (alias, arn) = new_key();
    let c = Crypt::create(kms_cmk(&arn, Some("my-app"))).unwrap();
    let v = doc(&c);
    assert_eq!(v["master_key"]["key_id"], arn.as_str());
    assert_eq!(v["master_key"]["context"], "my-app");
    let blob = b64(v["keks"][0]["wrapped"].as_str().unwrap());
    // Any other implementation unwraps it with KMS Decrypt and exactly this context (docs/keystore.md).
    let decrypt = |ctx: &[(&str, &str)]| {
        let blob = blob.clone();
        let ctx: Vec<(String, String)> = ctx
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let alias = alias.clone();
        admin(async move |c| {
            let mut r = c
                .decrypt()
                .key_id(alias)
                .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob));
            for (k, v) in ctx {
                r = r.encryption_context(k, v);
            }
            r.send()
                .await
                .map(|o| o.plaintext.unwrap().into_inner().len())
                .map_err(|e| aws_sdk_kms::error::ProvideErrorMetadata::code(&e).map(str::to_string))
        })
    };
    assert_eq!(
        decrypt(&[("lkr-context", "my-app"), ("lkr-kek-id", "1")]),
        Ok(32)
    );
    assert_eq!(
        decrypt(&[("lkr-context", "my-app"), ("lkr-kek-id", "2")]),
        Err(Some("InvalidCiphertextException".to_string()))
    );
    assert_eq!(
        decrypt(&[("lkr-context", "my-app")]),
        Err(Some("InvalidCiphertextException".to_string()))
    );
}

#[test]
fn round_trip_tamper_and_context_with_a_kms_cmk() {
    require_server!();
    let (alias, _) = new_key();
    let c = Crypt::create(kms_cmk(&alias, None)).unwrap();
    for n in [0usize, 1, 17, 4096, 1 << 20] {
        let pt = bytes(n, n as u8);
        let env = c.encrypt(&pt, CTX).unwrap();
        assert_eq!(c.decrypt(&env, CTX).unwrap(), pt, "size {n}");
    }
    let env = c.encrypt(&bytes(40, 3), CTX).unwrap();
    common::assert_bit_flips_refused(&c, &env, CTX);
    for len in 0..env.len() {
        assert_eq!(
            c.decrypt(&env[..len], CTX).unwrap_err().kind(),
            ErrorKind::NotAuthentic
        );
    }
    let e = c.decrypt(&env, b"CONNECTION.PASSWORD:43").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthentic);
    assert!(e.message().contains("could not be authenticated"), "{e}");
    // Another keystore under the same KMS key has another KEK.
    let other = Crypt::create(kms_cmk(&alias, None)).unwrap();
    assert_eq!(
        other.decrypt(&env, CTX).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
}

#[test]
fn a_keystore_of_key_a_is_refused_with_key_b() {
    require_server!();
    let (a, _) = new_key();
    let (b, _) = new_key();
    let ks = Crypt::create(kms_cmk(&a, None)).unwrap().keystore_json();
    let e = Crypt::open_bytes(ks.as_bytes(), kms_cmk(&b, None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey, "{e}");
    assert!(e.message().contains(MISMATCH), "{e}");
    assert!(e.message().contains(&a) && e.message().contains(&b), "{e}");
    // A keystore whose key_id was edited to B: KMS itself refuses B for A's blob, because
    // the library passes the configured KeyId to Decrypt. (Real KMS answers
    // IncorrectKeyException, reported as the mismatch; moto answers AccessDeniedException.)
    let edited = ks.replace(&format!("\"{a}\""), &format!("\"{b}\""));
    assert_ne!(edited, ks);
    let e = Crypt::open_bytes(edited.as_bytes(), kms_cmk(&b, None)).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::MasterKey | ErrorKind::Kms),
        "{e}"
    );
    assert!(
        e.message().contains(MISMATCH) || e.message().contains("AccessDeniedException"),
        "{e}"
    );
    assert!(e.message().contains(&b), "{e}");
    // A local CMK against a KMS keystore, and the reverse.
    let e = Crypt::open_bytes(ks.as_bytes(), common::local_cmk()).unwrap_err();
    assert!(
        e.message().contains(MISMATCH) && e.message().contains(&a),
        "{e}"
    );
    let local = common::new_crypt().keystore_json();
    let e = Crypt::open_bytes(local.as_bytes(), kms_cmk(&a, None)).unwrap_err();
    assert!(
        e.message().contains(MISMATCH) && e.message().contains(&a),
        "{e}"
    );
}

#[test]
fn a_changed_encryption_context_is_refused() {
    require_server!();
    let (alias, _) = new_key();
    let ks = Crypt::create(kms_cmk(&alias, Some("ctx-one")))
        .unwrap()
        .keystore_json();
    // LKR_AWS_CMK_EC changed since the keystore was made.
    let e = Crypt::open_bytes(ks.as_bytes(), kms_cmk(&alias, Some("ctx-two"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey, "{e}");
    assert!(e.message().contains(MISMATCH), "{e}");
    assert!(e.message().contains("LKR_AWS_CMK_EC"), "{e}");
    assert!(e.message().contains("ctx-one"), "{e}");
    // Unset (the default context) is another context too.
    let e = Crypt::open_bytes(ks.as_bytes(), kms_cmk(&alias, None)).unwrap_err();
    assert!(e.message().contains("LKR_AWS_CMK_EC"), "{e}");
    // The keystore's context edited to match: KMS enforces the context it was made with.
    let edited = ks.replace("\"ctx-one\"", "\"ctx-two\"");
    let e = Crypt::open_bytes(edited.as_bytes(), kms_cmk(&alias, Some("ctx-two"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MasterKey, "{e}");
    assert!(e.message().contains(MISMATCH), "{e}");
    assert!(e.message().contains("LKR_AWS_CMK_EC"), "{e}");
    assert!(e.message().contains("InvalidCiphertextException"), "{e}");
    // A wrapped KEK changed by one byte.
    let mut v: serde_json::Value = serde_json::from_str(&ks).unwrap();
    let mut blob = b64(v["keks"][0]["wrapped"].as_str().unwrap());
    let last = blob.len() - 1;
    blob[last] ^= 1;
    use base64::Engine;
    v["keks"][0]["wrapped"] = base64::engine::general_purpose::STANDARD
        .encode(&blob)
        .into();
    let e =
        Crypt::open_bytes(v.to_string().as_bytes(), kms_cmk(&alias, Some("ctx-one"))).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::MasterKey | ErrorKind::Kms),
        "{e}"
    );
}

/// Keys as data (docs/native-interfaces.md): a `MasterKey::AwsKms` naming its own region is
/// opened in that region, not in the SDK chain's `AWS_REGION` (us-east-1 here); the keystore
/// records the key id and context only. moto keeps keys per region, so the key made in
/// eu-west-1 is found only there.
#[test]
fn an_explicit_region_is_honoured() {
    require_server!();
    let region = "eu-west-1";
    let alias = format!("alias/lkr-test-region-{}", std::process::id());
    admin(async |_| {
        let conf = sdk_defaults()
            .region(aws_config::Region::new(region))
            .load()
            .await;
        let c = aws_sdk_kms::Client::new(&conf);
        let k = c.create_key().send().await.expect("CreateKey in eu-west-1");
        c.create_alias()
            .alias_name(&alias)
            .target_key_id(k.key_metadata.expect("key metadata").key_id())
            .send()
            .await
            .expect("CreateAlias in eu-west-1");
    });
    let key = |r: Option<&str>| lkr_crypt::keys::aws_kms_master_key(&alias, r, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keystore.json");
    let a = Crypt::open_with_key(&path, key(Some(region))).unwrap();
    let v = doc(&a);
    assert_eq!(v["master_key"]["key_id"], alias.as_str());
    assert_eq!(v["master_key"]["context"], "Looker_Encryption_Context");
    assert!(v["master_key"].get("region").is_none(), "{v}");
    let env = a.encrypt(b"v", CTX).unwrap();
    let b = Crypt::open_with_key(&path, key(Some(region))).unwrap();
    assert_eq!(b.decrypt(&env, CTX).unwrap(), b"v");
    let c =
        Crypt::open_bytes_with_key(Some(a.keystore_json().as_bytes()), key(Some(region))).unwrap();
    assert_eq!(c.decrypt(&env, CTX).unwrap(), b"v");
    // Without the region, the SDK chain's us-east-1 has no such key.
    let e = Crypt::open_with_key(&path, key(None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms, "{e}");
    assert!(e.message().contains("not found"), "{e}");
    assert!(e.message().contains("us-east-1"), "{e}");
}

#[test]
fn an_unknown_alias_is_named() {
    require_server!();
    let alias = "alias/lkr-test-does-not-exist";
    let e = Crypt::create(kms_cmk(alias, None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms, "{e}");
    assert!(e.message().contains(alias), "{e}");
    assert!(e.message().contains("not found"), "{e}");
    assert!(e.message().contains("NotFoundException"), "{e}");
    // Opening an existing keystore whose key was deleted from the configuration's account.
    let (real, _) = new_key();
    let ks = Crypt::create(kms_cmk(&real, None)).unwrap().keystore_json();
    let edited = ks.replace(&real, alias);
    let e = Crypt::open_bytes(edited.as_bytes(), kms_cmk(alias, None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Kms, "{e}");
    assert!(e.message().contains("not found"), "{e}");
}

#[test]
fn key_arn_and_key_id_work_as_well_as_aliases() {
    require_server!();
    let (_, arn) = new_key();
    let key_id = arn.rsplit('/').next().unwrap().to_string();
    for k in [&arn, &key_id] {
        let a = Crypt::create(kms_cmk(k, None)).unwrap();
        let env = a.encrypt(b"x", b"").unwrap();
        let b = Crypt::open_bytes(a.keystore_json().as_bytes(), kms_cmk(k, None)).unwrap();
        assert_eq!(b.decrypt(&env, b"").unwrap(), b"x");
    }
}

#[test]
fn processes_starting_together_all_use_one_kms_keystore() {
    require_server!();
    let (alias, _) = new_key();
    common::assert_first_opens_agree(6, &kms_cmk(&alias, None));
}

#[test]
fn opening_works_from_inside_other_tokio_runtimes() {
    require_server!();
    let (alias, _) = new_key();
    let ks = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let cmk = kms_cmk(&alias, None);
        rt.block_on(async move { Crypt::create(cmk).unwrap().keystore_json() })
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ks2, cmk) = (ks.clone(), kms_cmk(&alias, None));
    let c = rt
        .block_on(rt.spawn(async move { Crypt::open_bytes(ks2.as_bytes(), cmk).unwrap() }))
        .unwrap();
    let env = c.encrypt(b"y", b"").unwrap();
    let d = Crypt::open_bytes(ks.as_bytes(), kms_cmk(&alias, None)).unwrap();
    assert_eq!(d.decrypt(&env, b"").unwrap(), b"y");
}

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

// ---------------------------------------------------------------------------------------------
// Other environments, in a child process

/// One step the child reports.
#[derive(Debug)]
struct Step {
    ok: bool,
    kind: String,
    message: String,
    ms: f64,
    requests: u64,
}

/// The `kms_child` test binary (tests/kms_child.rs): cargo puts it beside this one
/// (`target/<profile>/deps/kms_child-<hash>`); the newest when several builds are there. Build
/// it with this one: `cargo test --test kms --test kms_child` (a whole `cargo test` does).
fn child_exe() -> std::path::PathBuf {
    let me = std::env::current_exe().unwrap();
    let dir = me.parent().unwrap();
    let newest = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.strip_prefix("kms_child-")
                .is_some_and(|hash| !hash.is_empty() && !hash.contains('.'))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max();
    match newest {
        Some((_, path)) => path,
        None => panic!(
            "no kms_child test binary beside {}: build it with this test (cargo test --test kms --test kms_child)",
            me.display()
        ),
    }
}

/// Runs the `kms_child` binary in a child with the parent's (test) environment changed by
/// `set` and `unset`; returns its steps and its wall time.
fn run_child(mode: &str, set: &[(&str, &str)], unset: &[&str]) -> (Vec<(String, Step)>, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(child_exe());
    cmd.env("LKR_KMS_CHILD", mode)
        .env("LKR_KMS_CHILD_KEYSTORE", dir.path().join("ks.json"));
    for v in [
        "LKR_MASTER_KEY_ENV",
        "LKR_MASTER_KEY_FILE",
        "LKR_AWS_CMK_EC",
        "LKR_LEGACY_KEY_ENV",
        "LKR_LEGACY_KEY_FILE",
    ] {
        cmd.env_remove(v);
    }
    for v in unset {
        cmd.env_remove(v);
    }
    cmd.envs(set.iter().copied());
    let t = Instant::now();
    let out = cmd.output().unwrap();
    let wall = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let steps = stdout
        .lines()
        .filter_map(|l| l.split_once("LKR-CHILD ").map(|(_, j)| j))
        .map(|j| {
            let v: serde_json::Value = serde_json::from_str(j).unwrap();
            (
                v["step"].as_str().unwrap().to_string(),
                Step {
                    ok: v["ok"].as_bool().unwrap(),
                    kind: v["kind"].as_str().unwrap().to_string(),
                    message: v["message"].as_str().unwrap().to_string(),
                    ms: v["ms"].as_f64().unwrap(),
                    requests: v["requests"].as_u64().unwrap(),
                },
            )
        })
        .collect::<Vec<_>>();
    assert!(!steps.is_empty(), "the child reported nothing:\n{stdout}");
    (steps, wall)
}

/// A failing open in a child: its one step, checked to have failed within [`FAIL_BOUND`].
fn child_failure(set: &[(&str, &str)], unset: &[&str]) -> Step {
    let (mut steps, wall) = run_child("fail", set, unset);
    let (_, s) = steps.remove(0);
    assert!(!s.ok, "the open should have failed: {s:?}");
    assert!(
        Duration::from_secs_f64(s.ms / 1000.0) < FAIL_BOUND,
        "took {} ms to fail (bound {FAIL_BOUND:?}): {s:?}",
        s.ms
    );
    assert!(
        wall < FAIL_BOUND + Duration::from_secs(5),
        "child wall time {wall:?}"
    );
    assert!(
        !s.message.contains("testing-secret"),
        "a credential leaked: {s:?}"
    );
    s
}

#[test]
fn the_entry_points_open_from_the_environment_with_one_kms_call() {
    require_server!();
    let (alias, _) = new_key();
    let (steps, _) = run_child("entry-points", &[("LKR_AWS_CMK", &alias)], &[]);
    let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["create", "reopen", "reopen-warm", "c-abi", "in-runtime"]
    );
    for (name, s) in &steps {
        assert!(s.ok, "{name}: {s:?}");
        // GenerateDataKey to create, one Decrypt (one KEK) to open; nothing else.
        assert_eq!(s.requests, 1, "{name}: {s:?}");
        eprintln!(
            "KMS figures: {name:<12} {:>8.1} ms, {} KMS request(s)",
            s.ms, s.requests
        );
    }
}

#[test]
fn a_missing_region_is_named() {
    require_server!();
    let (alias, _) = new_key();
    let s = child_failure(
        &[("LKR_AWS_CMK", &alias)],
        &["AWS_REGION", "AWS_DEFAULT_REGION"],
    );
    assert_eq!(s.kind, "MASTER_KEY", "{s:?}");
    assert!(s.message.contains("AWS_REGION is not set"), "{s:?}");
    assert_eq!(s.requests, 0);
}

#[test]
fn missing_credentials_are_named_without_a_secret() {
    require_server!();
    let (alias, _) = new_key();
    let s = child_failure(
        &[("LKR_AWS_CMK", &alias)],
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    );
    assert_eq!(s.kind, "KMS", "{s:?}");
    assert!(s.message.contains("credentials"), "{s:?}");
    eprintln!("no credentials: {}", s.message);
    // Credentials that are there never appear in a message.
    let s = child_failure(
        &[
            ("LKR_AWS_CMK", "alias/lkr-test-does-not-exist"),
            ("AWS_SECRET_ACCESS_KEY", "testing-secret"),
            ("AWS_ACCESS_KEY_ID", "testing-secret-id"),
        ],
        &[],
    );
    assert!(s.message.contains("not found"), "{s:?}");
}

#[test]
fn an_invalid_timeout_setting_is_named() {
    require_server!();
    let s = child_failure(
        &[("LKR_AWS_CMK", "alias/x"), ("LKR_AWS_TIMEOUT_MS", "soon")],
        &[],
    );
    assert!(s.message.contains("LKR_AWS_TIMEOUT_MS"), "{s:?}");
}

#[test]
fn a_kms_that_is_down_fails_fast_and_clearly() {
    require_server!();
    // A port nothing listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let s = child_failure(
        &[
            ("LKR_AWS_CMK", "alias/lkr-down"),
            ("AWS_ENDPOINT_URL", &endpoint),
        ],
        &[],
    );
    assert_eq!(s.kind, "KMS", "{s:?}");
    assert!(s.message.contains("unreachable"), "{s:?}");
    assert!(s.message.contains(&endpoint), "{s:?}");
    eprintln!(
        "KMS figures: down server failed in {:.0} ms after {} request(s): {}",
        s.ms, s.requests, s.message
    );
}

/// A server that accepts connections and never answers.
fn hanging_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    endpoint
}

#[test]
fn a_kms_that_hangs_fails_within_the_timeout() {
    require_server!();
    let endpoint = hanging_server();
    let s = child_failure(
        &[
            ("LKR_AWS_CMK", "alias/lkr-hang"),
            ("AWS_ENDPOINT_URL", &endpoint),
        ],
        &[],
    );
    assert_eq!(s.kind, "KMS", "{s:?}");
    assert!(s.message.contains("did not answer"), "{s:?}");
    assert!(s.message.contains("LKR_AWS_TIMEOUT_MS"), "{s:?}");
    assert!(
        s.ms >= 1000.0,
        "failed before any timeout could fire: {s:?}"
    );
    eprintln!(
        "KMS figures: hanging server (default limit) failed in {:.0} ms after {} request(s): {}",
        s.ms, s.requests, s.message
    );
    // The limit is configurable.
    let s = child_failure(
        &[
            ("LKR_AWS_CMK", "alias/lkr-hang"),
            ("AWS_ENDPOINT_URL", &endpoint),
            ("LKR_AWS_TIMEOUT_MS", "1000"),
        ],
        &[],
    );
    assert!(s.message.contains("did not answer"), "{s:?}");
    // Below the 4 s default by a margin for the child's SDK set-up on a busy machine.
    assert!(s.ms < 3000.0, "LKR_AWS_TIMEOUT_MS=1000 took {} ms", s.ms);
    eprintln!(
        "KMS figures: hanging server (LKR_AWS_TIMEOUT_MS=1000) failed in {:.0} ms",
        s.ms
    );
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
