//! Other environments, in the `kms_child` process (tests/kms_child.rs): the entry points that
//! read the environment (one KMS call each), a missing region or credentials, an invalid
//! timeout, and a KMS server that is down or never answers.

use super::new_key;
use crate::common;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

/// A failing open must end within this (default LKR_AWS_TIMEOUT_MS is 4 s): it is a
/// correctness bound (no hang), not a benchmark.
const FAIL_BOUND: Duration = Duration::from_secs(6);

/// One step the child reports.
#[derive(Debug)]
struct Step {
    ok: bool,
    kind: String,
    message: String,
    ms: f64,
    requests: u64,
}

/// Runs the `kms_child` binary in a child with the parent's (test) environment changed by
/// `set` and `unset`; returns its steps and its wall time.
fn run_child(mode: &str, set: &[(&str, &str)], unset: &[&str]) -> (Vec<(String, Step)>, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(common::child_exe("kms_child"));
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
    let stdout = common::child_stdout(&mut cmd, mode);
    let wall = t.elapsed();
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

/// A failing open of a new key (by its alias) in a child without the variables `unset`: an
/// error of `kind` whose message names `named`.
fn failure_without(unset: &[&str], kind: &str, named: &str) -> Step {
    let (alias, _) = new_key();
    let s = child_failure(&[("LKR_AWS_CMK", &alias)], unset);
    assert_eq!(s.kind, kind, "{s:?}");
    assert!(s.message.contains(named), "{s:?}");
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
    let s = failure_without(
        &["AWS_REGION", "AWS_DEFAULT_REGION"],
        "MASTER_KEY",
        "AWS_REGION is not set",
    );
    assert_eq!(s.requests, 0);
}

#[test]
fn missing_credentials_are_named_without_a_secret() {
    require_server!();
    let s = failure_without(
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        "KMS",
        "credentials",
    );
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
    let s = failure_at(&endpoint, "alias/lkr-down", &[]);
    assert_eq!(s.kind, "KMS", "{s:?}");
    assert!(s.message.contains("unreachable"), "{s:?}");
    assert!(s.message.contains(&endpoint), "{s:?}");
    eprintln!(
        "KMS figures: down server failed in {:.0} ms after {} request(s): {}",
        s.ms, s.requests, s.message
    );
}

/// A failing open of `key` in a child whose KMS endpoint is `endpoint`, with the variables
/// `more` set too.
fn failure_at(endpoint: &str, key: &str, more: &[(&str, &str)]) -> Step {
    let mut set = vec![("LKR_AWS_CMK", key), ("AWS_ENDPOINT_URL", endpoint)];
    set.extend_from_slice(more);
    child_failure(&set, &[])
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
    let s = failure_at(&endpoint, "alias/lkr-hang", &[]);
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
    let s = failure_at(
        &endpoint,
        "alias/lkr-hang",
        &[("LKR_AWS_TIMEOUT_MS", "1000")],
    );
    assert!(s.message.contains("did not answer"), "{s:?}");
    // Below the 4 s default by a margin for the child's SDK set-up on a busy machine.
    assert!(s.ms < 3000.0, "LKR_AWS_TIMEOUT_MS=1000 took {} ms", s.ms);
    eprintln!(
        "KMS figures: hanging server (LKR_AWS_TIMEOUT_MS=1000) failed in {:.0} ms",
        s.ms
    );
}
