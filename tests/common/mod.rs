//! Helpers shared by the integration tests.
#![allow(dead_code)]

mod child;
pub mod openssl;
// Not every suite runs a child.
#[allow(unused_imports)]
pub use child::{child_exe, child_stdout, CHILD_DONE};

use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::Key256;
use lkr_crypt::Crypt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A fresh local CMK.
pub fn local_cmk() -> MasterKey {
    MasterKey::Local(Key256::random())
}

/// A new in-memory keystore under a fresh local CMK.
pub fn new_crypt() -> Crypt {
    Crypt::create(local_cmk()).expect("create a keystore")
}

/// A variable lookup over fixed values (the tests never touch the process environment).
pub fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

/// Deterministic pseudo-random bytes for test inputs.
pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Migrates `values` (each with the empty context) as one packed batch with the default
/// options; returns the output, where each result ends, and the outcomes.
pub fn migrate_packed(
    c: &Crypt,
    values: &[Vec<u8>],
) -> (Vec<u8>, Vec<usize>, Vec<lkr_crypt::PackedOutcome>) {
    let mut packed = Vec::new();
    let mut ends = Vec::new();
    for v in values {
        packed.extend_from_slice(v);
        ends.push(packed.len());
    }
    let ctx_ends = vec![0usize; values.len()];
    let mut out = vec![0u8; packed.len() + values.len() * 53];
    let mut out_ends = vec![0usize; values.len()];
    let mut outcomes = Vec::new();
    c.migrate_packed(
        lkr_crypt::PackedItems {
            values: &packed,
            value_ends: &ends,
            contexts: &[],
            context_ends: &ctx_ends,
        },
        None,
        lkr_crypt::MigrateOptions::default(),
        &mut out,
        &mut out_ends,
        &mut outcomes,
    )
    .expect("the batch as a whole migrates");
    (out, out_ends, outcomes)
}

/// The directory holding the `liblkr_crypt` cdylib of this build: the test executable is
/// `target/<profile>/deps/<test>-<hash>`; the library is in `deps/` (written by the build of
/// this test) and, after a `cargo build`, also in `target/<profile>/`.
pub fn cdylib_dir() -> (PathBuf, String) {
    let name = format!(
        "{}lkr_crypt{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the test executable's directory");
    let candidates: Vec<PathBuf> = deps
        .parent()
        .into_iter()
        .chain(std::iter::once(deps))
        .map(Path::to_path_buf)
        .collect();
    // `cargo test` writes the library into deps/ only; target/<profile>/ holds the copy of the
    // last `cargo build`, which may be older. Take the most recently written one.
    let newest = candidates
        .iter()
        .filter_map(|dir| {
            let modified = std::fs::metadata(dir.join(&name)).ok()?.modified().ok()?;
            Some((modified, dir))
        })
        .max_by_key(|(modified, _)| *modified);
    if let Some((_, dir)) = newest {
        return (dir.clone(), name);
    }
    panic!(
        "{name} was not found in {:?}: the crate must be built with crate-type \"cdylib\" \
         (cargo builds it for `cargo test`)",
        candidates
    );
}

/// A stream v1 of `pt` under `c` (context `backup`, 4096-byte segments).
pub fn stream(c: &Crypt, pt: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut w = c.encrypting_writer(Vec::new(), b"backup", 4096).unwrap();
    w.write_all(pt).unwrap();
    w.finish().unwrap()
}

/// The plaintext of a stream made by [`stream`].
pub fn unstream(c: &Crypt, sealed: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    c.decrypting_reader(sealed, b"backup")
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Checks that `e` refuses a value over the maximum record size (`LKR_MAX_RECORD_SIZE`).
pub fn assert_too_large(e: &lkr_crypt::Error) {
    assert_eq!(e.kind(), lkr_crypt::ErrorKind::InvalidArgument, "{e:?}");
    assert!(
        e.message().contains("too large")
            && e.message().contains(lkr_crypt::limits::ENV_MAX_RECORD_SIZE),
        "{e:?}"
    );
}

/// `n` threads, as processes starting together, open the missing keystore file at once with
/// `cmk` (`OpenMode::CreateIfMissing`): every one ends up with the one keystore on disk (none
/// keeps a keystore that lost the race), the values each encrypts decrypt with it, and no
/// temporary file is left behind.
pub fn assert_first_opens_agree(n: usize, cmk: &MasterKey) {
    use lkr_crypt::OpenMode;
    use std::sync::{Arc, Barrier};
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("ks.json"));
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (path, cmk, barrier) = (path.clone(), cmk.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let c = Crypt::open_file(&path, cmk, OpenMode::CreateIfMissing).unwrap();
                (c.keystore_json(), c.encrypt(b"x", b"").unwrap())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let on_disk = std::fs::read_to_string(&*path).unwrap();
    let reader = Crypt::open_file(&path, cmk.clone(), OpenMode::MustExist).unwrap();
    for (json, env) in results {
        assert_eq!(
            json, on_disk,
            "a process kept a keystore that lost the race"
        );
        assert_eq!(reader.decrypt(&env, b"").unwrap(), b"x");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary files left behind"
    );
}

/// Every single-bit change of the envelope `env` (under `ctx`) is refused by `c` with the kind
/// its byte calls for (docs/envelope.md): version and algorithm `UNSUPPORTED_FORMAT`, the KEK id
/// `UNKNOWN_KEK`, anything else `NOT_AUTHENTIC`.
pub fn assert_bit_flips_refused(c: &Crypt, env: &[u8], ctx: &[u8]) {
    use lkr_crypt::ErrorKind;
    for i in 0..env.len() * 8 {
        let mut t = env.to_vec();
        t[i / 8] ^= 1 << (i % 8);
        let e = c
            .decrypt(&t, ctx)
            .expect_err("a flipped bit must be rejected");
        let expected = match i / 8 {
            3 => ErrorKind::UnsupportedFormat, // version
            4 => ErrorKind::UnsupportedFormat, // algorithm
            5..=8 => ErrorKind::UnknownKek,    // kek_id
            _ => ErrorKind::NotAuthentic,
        };
        assert_eq!(
            e.kind(),
            expected,
            "{}-byte envelope, bit {i}: {e}",
            env.len()
        );
    }
}
