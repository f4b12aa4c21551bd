//! The known keys and the [`Checker`] that looks for them in every message (shared by the
//! tests and the `secret_hygiene_child` process, which uses a part of it).
#![allow(dead_code)]

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

pub const CMK: [u8; 32] = [
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
];
pub const CMK2: [u8; 32] = [0x5c; 32];
pub const LEGACY: [u8; 16] = [
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
];
pub const CTX: &[u8] = b"CONNECTION.PASSWORD:42";

pub fn b64(k: &[u8]) -> String {
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
pub struct Checker {
    secrets: Vec<(String, Vec<Vec<u8>>)>,
    checked: usize,
}

impl Checker {
    pub fn new(secrets: &[(&str, &[u8])]) -> Checker {
        Checker {
            secrets: secrets
                .iter()
                .map(|(name, k)| (name.to_string(), forbidden(k)))
                .collect(),
            checked: 0,
        }
    }

    pub fn add_secret(&mut self, name: &str, key: &[u8]) {
        self.secrets.push((name.to_string(), forbidden(key)));
    }

    pub fn check(&mut self, what: &str, text: &str) {
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

    pub fn err<T>(&mut self, what: &str, r: lkr_crypt::Result<T>) {
        let e = r
            .err()
            .unwrap_or_else(|| panic!("{what}: expected an error"));
        self.check(what, e.message());
        self.check(what, &format!("{e:?}"));
        self.check(what, &e.to_string());
    }

    /// Checks that at least `min` messages were checked (the paths were reached).
    pub fn done(&self, min: usize) {
        assert!(
            self.checked >= min,
            "only {} messages checked, expected at least {min}",
            self.checked
        );
    }
}
