//! The AEAD backend seam. AES-256-GCM (records, streams, KEK wrapping) and AES-128-CBC
//! decryption (legacy values) come from aws-lc-rs by default (cargo feature `aws-lc`), or
//! from RustCrypto's `aes-gcm` / `cbc` where aws-lc cannot build (`--no-default-features
//! --features rustcrypto`). Both pass the same test vectors (Wycheproof and `tests/vectors/`).
//!
//! Every operation is out-of-place: the caller's input is read once and the result written
//! straight into the caller's output buffer (no intermediate copy on the hot path).

use crate::secret::{Key128, Key256};

/// GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// GCM tag length.
pub const TAG_LEN: usize = 16;
/// Largest plaintext GCM may encrypt under one key and nonce (2^36 − 32 bytes).
pub const GCM_MAX_PLAINTEXT: u64 = (1 << 36) - 32;

/// The backend's name, for diagnostics and benchmarks.
#[cfg(feature = "aws-lc")]
pub const BACKEND: &str = "aws-lc-rs";
/// The backend's name, for diagnostics and benchmarks.
#[cfg(not(feature = "aws-lc"))]
pub const BACKEND: &str = "rustcrypto";

#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto")))]
compile_error!(
    "enable the `aws-lc` (default) or the `rustcrypto` feature: an AEAD backend is required"
);

/// The GCM tag did not verify (or the input is malformed for GCM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthentic;

/// An AES-256-GCM key, scheduled once.
pub struct Aes256Gcm {
    #[cfg(feature = "aws-lc")]
    key: aws_lc_rs::aead::LessSafeKey,
    #[cfg(not(feature = "aws-lc"))]
    key: aes_gcm::Aes256Gcm,
}

impl Aes256Gcm {
    /// Schedules `key`.
    #[inline]
    pub fn new(key: &Key256) -> Aes256Gcm {
        #[cfg(feature = "aws-lc")]
        {
            use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
            let unbound =
                UnboundKey::new(&AES_256_GCM, key.expose()).expect("32 bytes is an AES-256 key");
            Aes256Gcm {
                key: LessSafeKey::new(unbound),
            }
        }
        #[cfg(not(feature = "aws-lc"))]
        {
            use aes_gcm::KeyInit;
            Aes256Gcm {
                key: aes_gcm::Aes256Gcm::new(key.expose().into()),
            }
        }
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
        #[cfg(feature = "aws-lc")]
        {
            use aws_lc_rs::aead::{Aad, Nonce};
            self.key
                .seal_in_place_scatter(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    &mut [],
                    plaintext,
                    out,
                )
                .expect("GCM seal within the length limits cannot fail");
        }
        #[cfg(not(feature = "aws-lc"))]
        {
            use aes_gcm::aead::{inout::InOutBuf, AeadInOut};
            let (ct, tag) = out.split_at_mut(plaintext.len());
            let buf = InOutBuf::new(plaintext, ct).expect("equal lengths");
            let t = self
                .key
                .encrypt_inout_detached(nonce.into(), aad, buf)
                .expect("GCM seal within the length limits cannot fail");
            tag.copy_from_slice(&t);
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
        #[cfg(feature = "aws-lc")]
        let result = {
            use aws_lc_rs::aead::{Aad, Nonce};
            self.key
                .open_separate_gather(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    ct,
                    tag,
                    out,
                )
                .map_err(|_| Unauthentic)
        };
        #[cfg(not(feature = "aws-lc"))]
        let result = {
            use aes_gcm::aead::{inout::InOutBuf, AeadInOut};
            let buf = InOutBuf::new(ct, out).expect("equal lengths");
            let tag = aes_gcm::Tag::try_from(tag).expect("16-byte tag");
            self.key
                .decrypt_inout_detached(nonce.into(), aad, buf, &tag)
                .map_err(|_| Unauthentic)
        };
        if result.is_err() {
            zeroize::Zeroize::zeroize(out);
        }
        result
    }
}

/// The legacy value did not decrypt: bad length or bad padding (deliberately not saying which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CbcFailure;

/// An AES-128-CBC (PKCS#7 padding) decryption key, scheduled once for many legacy values.
pub struct Aes128CbcDecryptor {
    #[cfg(feature = "aws-lc")]
    key: aws_lc_rs::cipher::PaddedBlockDecryptingKey,
    #[cfg(not(feature = "aws-lc"))]
    key: aes::Aes128,
}

impl Aes128CbcDecryptor {
    /// Schedules `key`.
    pub fn new(key: &Key128) -> Result<Aes128CbcDecryptor, CbcFailure> {
        #[cfg(feature = "aws-lc")]
        {
            use aws_lc_rs::cipher::{PaddedBlockDecryptingKey, UnboundCipherKey, AES_128};
            let k = UnboundCipherKey::new(&AES_128, key.expose()).map_err(|_| CbcFailure)?;
            Ok(Aes128CbcDecryptor {
                key: PaddedBlockDecryptingKey::cbc_pkcs7(k).map_err(|_| CbcFailure)?,
            })
        }
        #[cfg(not(feature = "aws-lc"))]
        {
            use aes::cipher::KeyInit;
            Ok(Aes128CbcDecryptor {
                key: aes::Aes128::new(key.expose().into()),
            })
        }
    }

    /// Decrypts `ciphertext` (a positive multiple of 16 bytes) in `buf` (a copy the caller
    /// owns and zeroizes) and returns the plaintext's length.
    pub fn decrypt(&self, iv: &[u8; 16], buf: &mut [u8]) -> Result<usize, CbcFailure> {
        if buf.is_empty() || !buf.len().is_multiple_of(16) {
            return Err(CbcFailure);
        }
        #[cfg(feature = "aws-lc")]
        {
            use aws_lc_rs::cipher::DecryptionContext;
            self.key
                .decrypt(buf, DecryptionContext::Iv128((*iv).into()))
                .map(|pt| pt.len())
                .map_err(|_| CbcFailure)
        }
        #[cfg(not(feature = "aws-lc"))]
        {
            use cbc::cipher::{block_padding::Pkcs7, BlockModeDecrypt, InnerIvInit};
            cbc::Decryptor::<aes::Aes128>::inner_iv_init(self.key.clone(), iv.into())
                .decrypt_padded::<Pkcs7>(buf)
                .map(|pt| pt.len())
                .map_err(|_| CbcFailure)
        }
    }
}

/// AES-128-CBC with PKCS#7 padding: decrypts `ciphertext` (a positive multiple of 16 bytes)
/// in `buf` (a copy the caller owns and zeroizes) and returns the plaintext's length.
pub fn aes128_cbc_decrypt(
    key: &Key128,
    iv: &[u8; 16],
    buf: &mut [u8],
) -> Result<usize, CbcFailure> {
    Aes128CbcDecryptor::new(key)?.decrypt(iv, buf)
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

    #[test]
    fn cbc_rejects_bad_lengths() {
        let k = Key128::new([0; 16]);
        assert_eq!(aes128_cbc_decrypt(&k, &[0; 16], &mut []), Err(CbcFailure));
        assert_eq!(
            aes128_cbc_decrypt(&k, &[0; 16], &mut [0; 15]),
            Err(CbcFailure)
        );
    }
}
