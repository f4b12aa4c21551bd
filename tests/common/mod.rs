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
