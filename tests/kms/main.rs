//! docs/keys.md, docs/keystore.md with AWS KMS as the CMK, against a real KMS-API server (moto,
//! started by CI on 127.0.0.1; see `tests/kms_server.sh`). The server's address comes from
//! `LKR_TEST_KMS_ENDPOINT` (e.g. `http://127.0.0.1:45123`). Without it the tests say so loudly
//! and pass — except under `CI=true`, where a missing server fails the run.
//!
//! Every test creates its own KMS key and alias (the tests run in parallel on one server).
//! The SDK reads its endpoint, region and credentials from the process environment: they are
//! set once, the same for every test; tests needing another environment (no region, a server
//! that is down or hangs, the C and environment entry points) run the test target `kms_child`
//! (tests/kms_child.rs) as a child process (`environments`).
//!
//! By topic: `keystore` (a keystore under a KMS CMK: made, reopened, used), `configured_key`
//! (the configured key, context and region against the keystore's), `environments` (the child
//! processes) and `rekey` (rekey, rotation and recovery to and from KMS).
#![cfg(feature = "aws-kms")]

#[path = "../common/mod.rs"]
mod common;
use common::vars;
use lkr_crypt::keys::{master_key_from, MasterKey};
use lkr_crypt::Crypt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

const MISMATCH: &str = "Master Key does not match the keystore";
const CTX: &[u8] = b"CONNECTION.PASSWORD:42";

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
        match $crate::server() {
            Some(e) => e,
            None => return,
        }
    };
}

mod configured_key;
mod environments;
mod keystore;
mod rekey;

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
