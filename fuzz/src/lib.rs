//! Shared fixtures of the fuzz targets: one fixed keystore (`tests/vectors/keystore_v1.json`,
//! so the known-answer envelope and stream vectors are authentic under it), a fixed legacy
//! key, and a reader that splits a fuzz input into fields.
//!
//! The targets' code is in [`targets`], one function per target, so that `tests/corpus.rs`
//! can replay the committed corpora through it on stable. Input layouts are documented with
//! each function and mirrored by `fuzz/seeds.py`, which turns `tests/vectors/*.json` into seeds.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use lkr_crypt::ffi::LkrCrypt;
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::{Key128, Key256};
use lkr_crypt::Crypt;
use std::sync::OnceLock;

pub mod targets;

/// The known-answer keystore: its CMK, its JSON document.
const KEYSTORE_V1: &str = include_str!("../../tests/vectors/keystore_v1.json");

/// The legacy AES-128 key of every fuzz target (`fuzz/seeds.py` encrypts legacy seeds with it).
pub const LEGACY_KEY: [u8; 16] = [
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
];

struct Fixture {
    cmk_base64: String,
    keystore: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let v: serde_json::Value = serde_json::from_str(KEYSTORE_V1).expect("keystore_v1.json");
        Fixture {
            cmk_base64: v["cmk_base64"].as_str().expect("cmk_base64").to_string(),
            keystore: serde_json::to_vec(&v["keystore"]).expect("keystore"),
        }
    })
}

/// The fixed local CMK.
pub fn master() -> MasterKey {
    let bytes = B64.decode(&fixture().cmk_base64).expect("cmk base64");
    MasterKey::Local(Key256::from_slice(&bytes).expect("32 bytes"))
}

/// Another local CMK (all zero bytes): does not open the fixed keystore.
pub fn other_master() -> MasterKey {
    MasterKey::Local(Key256::new([0u8; 32]))
}

/// The fixed keystore document.
pub fn keystore_json() -> &'static [u8] {
    &fixture().keystore
}

/// The fixed legacy key.
pub fn legacy_key() -> Key128 {
    Key128::new(LEGACY_KEY)
}

/// The handle on the fixed keystore, with the fixed legacy key.
pub fn crypt() -> &'static Crypt {
    static C: OnceLock<Crypt> = OnceLock::new();
    C.get_or_init(|| {
        Crypt::open_bytes(keystore_json(), master())
            .expect("the fixed keystore opens")
            .with_legacy_key(Some(legacy_key()))
    })
}

/// The handle on the fixed keystore without a legacy key.
pub fn crypt_without_legacy() -> &'static Crypt {
    static C: OnceLock<Crypt> = OnceLock::new();
    C.get_or_init(|| {
        Crypt::open_bytes(keystore_json(), master()).expect("the fixed keystore opens")
    })
}

/// A C handle on the fixed keystore, opened through `lkr_open_from_env_bytes` with the CMK
/// and the legacy key in the environment (set once, before any other use).
pub fn c_handle() -> *const LkrCrypt {
    static H: OnceLock<usize> = OnceLock::new();
    *H.get_or_init(|| {
        std::env::set_var("LKR_MASTER_KEY_ENV", &fixture().cmk_base64);
        std::env::set_var("LKR_LEGACY_KEY_ENV", B64.encode(LEGACY_KEY));
        let ks = keystore_json();
        let mut h: *mut LkrCrypt = std::ptr::null_mut();
        // SAFETY: valid pointer and length; `h` is writable.
        let rc = unsafe { lkr_crypt::ffi::lkr_open_from_env_bytes(ks.as_ptr(), ks.len(), &mut h) };
        assert_eq!(rc, 0, "lkr_open_from_env_bytes on the fixed keystore");
        assert!(!h.is_null());
        h as usize
    }) as *const LkrCrypt
}

/// Splits a fuzz input into fields; reading past the end yields zeros / empty slices.
pub struct Input<'a>(pub &'a [u8]);

impl<'a> Input<'a> {
    /// One byte (0 at the end).
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    /// Two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }

    /// A field with a one-byte length prefix.
    pub fn short(&mut self) -> &'a [u8] {
        let n = self.u8() as usize;
        self.bytes(n)
    }

    /// A field with a two-byte (little-endian) length prefix.
    pub fn long(&mut self) -> &'a [u8] {
        let n = self.u16() as usize;
        self.bytes(n)
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Everything left.
    pub fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// Splits `data` into chunks whose sizes cycle through `sizes` (each taken modulo `modulo`;
/// a size of 0 gives an empty chunk, at most a few). At most 48 chunks: the last one takes
/// the rest (feeding 64 KiB byte by byte would only slow the fuzzer down).
pub fn chunks<'a>(data: &'a [u8], sizes: &[u16], modulo: usize) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    let mut empties = 0;
    while !rest.is_empty() {
        if out.len() == 47 {
            out.push(rest);
            break;
        }
        let n = if sizes.is_empty() {
            rest.len()
        } else {
            sizes[i % sizes.len()] as usize % modulo
        };
        i += 1;
        if n == 0 {
            empties += 1;
            if empties > 4 {
                out.push(rest);
                break;
            }
        }
        let n = n.min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

/// `n` chunk sizes read from the input.
pub fn sizes(input: &mut Input<'_>, n: usize) -> Vec<u16> {
    (0..n).map(|_| input.u16()).collect()
}
