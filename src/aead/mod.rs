//! The AEAD backend seam. AES-256-GCM (records, streams, KEK wrapping) comes from aws-lc-rs
//! or ring (both built by default; `select.rs` picks one per process by CPU, and
//! `LKR_AEAD_BACKEND` overrides), or from RustCrypto's `aes-gcm` where neither can build
//! (`--no-default-features --features rustcrypto`). AES-128-CBC decryption (legacy values)
//! comes from aws-lc-rs when it is built, else from RustCrypto's `cbc`. The FIPS build
//! (`--no-default-features --features fips`, docs/fips.md) has one backend: aws-lc-rs on
//! AWS-LC's FIPS module, for both. Every backend passes the same test vectors (Wycheproof and
//! `tests/vectors/`) and produces the same bytes.
//!
//! One file per job: `select.rs` picks the backend for this CPU, `aws_lc.rs`, `ring.rs` and
//! `rustcrypto.rs` each drive one implementation, `cbc.rs` is the legacy AES-128-CBC primitive;
//! this file holds the key type that dispatches to them.
//!
//! `seal_into` / `open_into` read the caller's input once and write the result straight into
//! the caller's output buffer; `seal_in_place` / `open_in_place` work on one buffer (for
//! callers that copied the data already). No intermediate copy on the hot path either way.

#[cfg(any(feature = "aws-lc", feature = "fips"))]
mod aws_lc;
mod cbc;
#[cfg(feature = "ring")]
mod ring;
#[cfg(feature = "rustcrypto")]
mod rustcrypto;
mod select;

pub use cbc::{aes128_cbc_decrypt, Aes128CbcDecryptor, CbcFailure};
pub use select::{backend, Backend};

use crate::secret::Key256;

/// GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// GCM tag length.
pub const TAG_LEN: usize = 16;
/// Largest plaintext GCM may encrypt under one key and nonce (2^36 − 32 bytes).
pub const GCM_MAX_PLAINTEXT: u64 = (1 << 36) - 32;

#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto", feature = "fips")))]
compile_error!(
    "enable the `aws-lc` (default), `rustcrypto` or `fips` feature: an AEAD backend is required"
);

#[cfg(all(
    feature = "fips",
    any(feature = "aws-lc", feature = "ring", feature = "rustcrypto")
))]
compile_error!(
    "the `fips` feature builds on AWS-LC's FIPS module alone: build with \
     `--no-default-features --features fips` (add `aws-kms` for AWS KMS)"
);

/// The GCM tag did not verify (or the input is malformed for GCM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthentic;

// Inline on purpose: a data key is scheduled per record, and boxing ring's 544-byte key would
// add an allocation to every record.
#[allow(clippy::large_enum_variant)]
enum KeyImpl {
    #[cfg(any(feature = "aws-lc", feature = "fips"))]
    AwsLc(aws_lc::Key),
    #[cfg(feature = "ring")]
    Ring(ring::Key),
    #[cfg(feature = "rustcrypto")]
    RustCrypto(rustcrypto::Key),
}

/// An AES-256-GCM key, scheduled once, on the process's [`backend`].
pub struct Aes256Gcm {
    key: KeyImpl,
}

impl Aes256Gcm {
    /// Schedules `key` on the process's [`backend`].
    #[inline]
    pub fn new(key: &Key256) -> Aes256Gcm {
        Aes256Gcm::with_backend(backend(), key)
    }

    /// Schedules `key` on `backend` (tests run every compiled backend through the same vectors).
    ///
    /// # Panics
    /// When `backend` is not compiled in (see [`Backend::available`]).
    pub fn with_backend(backend: Backend, key: &Key256) -> Aes256Gcm {
        let key = match backend {
            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            Backend::AwsLc => KeyImpl::AwsLc(aws_lc::new(key)),
            #[cfg(feature = "ring")]
            Backend::Ring => KeyImpl::Ring(ring::new(key)),
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => KeyImpl::RustCrypto(rustcrypto::new(key)),
            #[allow(unreachable_patterns)]
            other => panic!("the AEAD backend {} is not compiled in", other.name()),
        };
        Aes256Gcm { key }
    }

    /// Encrypts `plaintext` into `out`, which must be exactly `plaintext.len() + TAG_LEN`
    /// bytes: ciphertext, then tag.
    #[inline]
    pub fn seal_into(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8], out: &mut [u8]) {
        assert_eq!(
            out.len(),
            plaintext.len() + TAG_LEN,
            "seal_into: output length"
        );
        match &self.key {
            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            KeyImpl::AwsLc(k) => aws_lc::seal_into(k, nonce, aad, plaintext, out),
            #[cfg(feature = "ring")]
            KeyImpl::Ring(k) => ring::seal_into(k, nonce, aad, plaintext, out),
            #[cfg(feature = "rustcrypto")]
            KeyImpl::RustCrypto(k) => rustcrypto::seal_into(k, nonce, aad, plaintext, out),
        }
    }

    /// Verifies and decrypts `ciphertext ‖ tag` into `out`, which must be exactly
    /// `ciphertext_and_tag.len() - TAG_LEN` bytes. On failure `out` is zeroed.
    #[inline]
    pub fn open_into(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
        out: &mut [u8],
    ) -> Result<(), Unauthentic> {
        if ciphertext_and_tag.len() < TAG_LEN || out.len() != ciphertext_and_tag.len() - TAG_LEN {
            return Err(Unauthentic);
        }
        let (ct, tag) = ciphertext_and_tag.split_at(out.len());
        let result = match &self.key {
            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            KeyImpl::AwsLc(k) => aws_lc::open_into(k, nonce, aad, ct, tag, out),
            #[cfg(feature = "ring")]
            KeyImpl::Ring(k) => ring::open_into(k, nonce, aad, ct, tag, out),
            #[cfg(feature = "rustcrypto")]
            KeyImpl::RustCrypto(k) => rustcrypto::open_into(k, nonce, aad, ct, tag, out),
        };
        if result.is_err() {
            zeroize::Zeroize::zeroize(out);
        }
        result
    }

    /// Encrypts `in_out` in place and returns the tag.
    #[inline]
    pub fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> [u8; TAG_LEN] {
        match &self.key {
            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            KeyImpl::AwsLc(k) => aws_lc::seal_in_place(k, nonce, aad, in_out),
            #[cfg(feature = "ring")]
            KeyImpl::Ring(k) => ring::seal_in_place(k, nonce, aad, in_out),
            #[cfg(feature = "rustcrypto")]
            KeyImpl::RustCrypto(k) => rustcrypto::seal_in_place(k, nonce, aad, in_out),
        }
    }

    /// Verifies `in_out ‖ tag` and decrypts `in_out` in place. On failure `in_out` is zeroed.
    #[inline]
    pub fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Unauthentic> {
        let result = match &self.key {
            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            KeyImpl::AwsLc(k) => aws_lc::open_in_place(k, nonce, aad, in_out, tag),
            #[cfg(feature = "ring")]
            KeyImpl::Ring(k) => ring::open_in_place(k, nonce, aad, in_out, tag),
            #[cfg(feature = "rustcrypto")]
            KeyImpl::RustCrypto(k) => rustcrypto::open_in_place(k, nonce, aad, in_out, tag),
        };
        if result.is_err() {
            zeroize::Zeroize::zeroize(in_out);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let k = Aes256Gcm::new(&Key256::new([1; 32]));
        let nonce = [2u8; 12];
        let pt = b"hello world";
        let mut ct = vec![0u8; pt.len() + TAG_LEN];
        k.seal_into(&nonce, b"ad", pt, &mut ct);
        let mut out = vec![0u8; pt.len()];
        k.open_into(&nonce, b"ad", &ct, &mut out).unwrap();
        assert_eq!(&out, pt);
        assert_eq!(k.open_into(&nonce, b"ae", &ct, &mut out), Err(Unauthentic));
        assert_eq!(out, vec![0u8; pt.len()]);
    }
}
