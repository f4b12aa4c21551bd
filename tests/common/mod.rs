//! Helpers shared by the integration tests.
#![allow(dead_code)]

use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::Key256;
use lkr_crypt::Crypt;
use std::collections::HashMap;

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
