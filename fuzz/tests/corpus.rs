//! Replays the committed minimized corpora, `fuzz/corpus/<target>/`, through the fuzz targets'
//! own code (`lkr_crypt_fuzz::targets`, the functions the `fuzz_target!`s call) on the stable
//! toolchain and without libFuzzer: the short version of `fuzz/run.sh` in `tests/run_all.sh`.
//! Every input must pass the target's assertions; a missing or empty corpus fails. No
//! sanitizer here (the C ABI targets run under AddressSanitizer in `fuzz/run.sh`), but their
//! assertions run.
//!
//! `cargo test --manifest-path fuzz/Cargo.toml --test corpus -- --nocapture` prints the number
//! of inputs replayed and the time per target.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use lkr_crypt_fuzz::targets;

/// The fuzz targets: `fuzz_targets/<target>.rs`, `fuzz/corpus/<target>/`, one test each below.
const TARGETS: [&str; 7] = [
    "envelope_decrypt",
    "stream_decrypt",
    "keystore_parse",
    "legacy_migrate",
    "text_paths",
    "c_abi",
    "c_stream",
];

/// Runs every file of `fuzz/corpus/<target>/` through `run`; fails on an empty or missing
/// corpus, and lists the inputs that fail (after running all of them).
fn replay(target: &str, run: fn(&[u8])) {
    // The C handle sets its environment variables once, when first used: do it first in every
    // test, before the tests (threads) do anything else.
    lkr_crypt_fuzz::c_handle();

    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{}: no corpus to replay for {target}",
        dir.display()
    );

    let start = Instant::now();
    let mut bytes = 0;
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        bytes += data.len();
        if catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    let took = start.elapsed();
    println!(
        "{target:<18} {:>5} inputs ({:>7} bytes) replayed in {:>7.2} s",
        files.len(),
        bytes,
        took.as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "{target}: {} of {} corpus inputs fail the target's assertions:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn envelope_decrypt() {
    replay("envelope_decrypt", targets::envelope_decrypt);
}

#[test]
fn stream_decrypt() {
    replay("stream_decrypt", targets::stream_decrypt);
}

#[test]
fn keystore_parse() {
    replay("keystore_parse", targets::keystore_parse);
}

#[test]
fn legacy_migrate() {
    replay("legacy_migrate", targets::legacy_migrate);
}

#[test]
fn text_paths() {
    replay("text_paths", targets::text_paths);
}

#[test]
fn c_abi() {
    replay("c_abi", targets::c_abi);
}

#[test]
fn c_stream() {
    replay("c_stream", targets::c_stream);
}

/// A new target (or corpus) without a replay test above is noticed.
#[test]
fn every_target_is_replayed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let names = |dir: &str, ext: Option<&str>| {
        let mut v: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("fuzz/{dir}: {e}"))
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|p| ext.map_or(p.is_dir(), |x| p.extension().is_some_and(|e| e == x)))
            .map(|p| {
                p.file_stem()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    };
    let mut expected: Vec<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(names("fuzz_targets", Some("rs")), expected);
    assert_eq!(names("corpus", None), expected);
}
