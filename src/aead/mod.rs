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

#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto")))]
compile_error!(
    "enable the `aws-lc` (default) or the `rustcrypto` feature: an AEAD backend is required"
);

/// An AES-256-GCM implementation compiled into this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// aws-lc-rs (cargo feature `aws-lc`, default): the fastest where the CPU has AVX-512
    /// (VAES over 512-bit registers), or no VAES at all.
    AwsLc,
    /// ring (cargo feature `ring`, default): its VAES + VPCLMULQDQ + AVX2 code is about 1.8×
    /// aws-lc's on CPUs with VAES but without AVX-512 (e.g. AMD Zen 3), where aws-lc has only
    /// its 128-bit AES-NI code.
    Ring,
    /// RustCrypto `aes-gcm` (cargo feature `rustcrypto`), for targets where aws-lc cannot build.
    RustCrypto,
}

impl Backend {
    /// The backend's name, for diagnostics and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Backend::AwsLc => "aws-lc-rs",
            Backend::Ring => "ring",
            Backend::RustCrypto => "rustcrypto",
        }
    }

    /// Every backend compiled into this build.
    pub fn available() -> Vec<Backend> {
        let mut v = Vec::new();
        if cfg!(feature = "aws-lc") {
            v.push(Backend::AwsLc);
        }
        if cfg!(feature = "ring") {
            v.push(Backend::Ring);
        }
        if cfg!(feature = "rustcrypto") {
            v.push(Backend::RustCrypto);
        }
        v
    }

    fn from_name(name: &str) -> Option<Backend> {
        Backend::available()
            .into_iter()
            .find(|b| b.name() == name.trim() || (name.trim() == "aws-lc" && *b == Backend::AwsLc))
    }
}

/// True when this CPU has VAES + VPCLMULQDQ + AVX2 but not the AVX-512 that aws-lc's wide AES-GCM
/// code needs (there, ring's AVX2 code is the faster one).
fn vaes_without_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("vaes")
            && std::arch::is_x86_feature_detected!("vpclmulqdq")
            && std::arch::is_x86_feature_detected!("avx2")
            && !(std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx512bw"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The backend this process uses, chosen once: `LKR_AEAD_BACKEND` (`aws-lc-rs`, `ring` or
/// `rustcrypto`, when compiled in) if set, else the fastest for this CPU — ring where the CPU
/// has VAES without AVX-512, else aws-lc-rs (else whichever is compiled). All of them pass the
/// same test vectors and produce the same bytes.
pub fn backend() -> Backend {
    static CHOSEN: std::sync::OnceLock<Backend> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        if let Some(b) = std::env::var("LKR_AEAD_BACKEND")
            .ok()
            .and_then(|n| Backend::from_name(&n))
        {
            return b;
        }
        let available = Backend::available();
        if available.contains(&Backend::Ring) && vaes_without_avx512() {
            Backend::Ring
        } else {
            available[0]
        }
    })
}

/// The GCM tag did not verify (or the input is malformed for GCM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthentic;

// Inline on purpose: a data key is scheduled per record, and boxing ring's 544-byte key would
// add an allocation to every record.
#[allow(clippy::large_enum_variant)]
enum KeyImpl {
    #[cfg(feature = "aws-lc")]
    AwsLc(aws_lc_rs::aead::LessSafeKey),
    /// Never dropped as a value: [`Aes256Gcm`]'s `Drop` zeroizes its bytes (ring keeps the
    /// AES key schedule and GHASH table inline and does not clear them itself).
    #[cfg(feature = "ring")]
    Ring(std::mem::ManuallyDrop<ring::aead::LessSafeKey>),
    #[cfg(feature = "rustcrypto")]
    RustCrypto(Box<aes_gcm::Aes256Gcm>),
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
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => {
                use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
                let unbound = UnboundKey::new(&AES_256_GCM, key.expose())
                    .expect("32 bytes is an AES-256 key");
                KeyImpl::AwsLc(LessSafeKey::new(unbound))
            }
            #[cfg(feature = "ring")]
            Backend::Ring => {
                use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
                let unbound = UnboundKey::new(&AES_256_GCM, key.expose())
                    .expect("32 bytes is an AES-256 key");
                KeyImpl::Ring(std::mem::ManuallyDrop::new(LessSafeKey::new(unbound)))
            }
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => {
                use aes_gcm::KeyInit;
                KeyImpl::RustCrypto(Box::new(aes_gcm::Aes256Gcm::new(key.expose().into())))
            }
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
            #[cfg(feature = "aws-lc")]
            KeyImpl::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                k.seal_in_place_scatter(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    &mut [],
                    plaintext,
                    out,
                )
                .expect("GCM seal within the length limits cannot fail");
            }
            #[cfg(feature = "ring")]
            KeyImpl::Ring(_) => {
                // ring works in place: the plaintext is copied into the output first.
                let (ct, tag) = out.split_at_mut(plaintext.len());
                copy_for_in_place(ct, plaintext);
                tag.copy_from_slice(&self.seal_in_place(nonce, aad, ct));
            }
            #[cfg(feature = "rustcrypto")]
            KeyImpl::RustCrypto(k) => {
                use aes_gcm::aead::{inout::InOutBuf, AeadInOut};
                let (ct, tag) = out.split_at_mut(plaintext.len());
                let buf = InOutBuf::new(plaintext, ct).expect("equal lengths");
                let t = k
                    .encrypt_inout_detached(nonce.into(), aad, buf)
                    .expect("GCM seal within the length limits cannot fail");
                tag.copy_from_slice(&t);
            }
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
            #[cfg(feature = "aws-lc")]
            KeyImpl::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                k.open_separate_gather(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    ct,
                    tag,
                    out,
                )
                .map_err(|_| Unauthentic)
            }
            #[cfg(feature = "ring")]
            KeyImpl::Ring(_) => {
                // ring works in place: the ciphertext is copied into the output first.
                copy_for_in_place(out, ct);
                let tag: &[u8; TAG_LEN] = tag.try_into().expect("16-byte tag");
                return self.open_in_place(nonce, aad, out, tag);
            }
            #[cfg(feature = "rustcrypto")]
            KeyImpl::RustCrypto(k) => {
                use aes_gcm::aead::{inout::InOutBuf, AeadInOut};
                let buf = InOutBuf::new(ct, out).expect("equal lengths");
                let tag = aes_gcm::Tag::try_from(tag).expect("16-byte tag");
                k.decrypt_inout_detached(nonce.into(), aad, buf, &tag)
                    .map_err(|_| Unauthentic)
            }
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
        let mut tag = [0u8; TAG_LEN];
        match &self.key {
            #[cfg(feature = "aws-lc")]
            KeyImpl::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                let t = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(*nonce),
                        Aad::from(aad),
                        in_out,
                    )
                    .expect("GCM seal within the length limits cannot fail");
                tag.copy_from_slice(t.as_ref());
            }
            #[cfg(feature = "ring")]
            KeyImpl::Ring(k) => {
                use ring::aead::{Aad, Nonce};
                let t = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(*nonce),
                        Aad::from(aad),
                        in_out,
                    )
                    .expect("GCM seal within the length limits cannot fail");
                tag.copy_from_slice(t.as_ref());
            }
            #[cfg(feature = "rustcrypto")]
            KeyImpl::RustCrypto(k) => {
                use aes_gcm::aead::AeadInOut;
                let t = k
                    .encrypt_inout_detached(nonce.into(), aad, in_out.into())
                    .expect("GCM seal within the length limits cannot fail");
                tag.copy_from_slice(&t);
            }
        }
        tag
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
            #[cfg(feature = "aws-lc")]
            KeyImpl::AwsLc(k) => {
                use aws_lc_rs::aead::{Aad, Nonce};
                k.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    tag,
                    in_out,
                )
                .map(|_| ())
                .map_err(|_| Unauthentic)
            }
            #[cfg(feature = "ring")]
            KeyImpl::Ring(k) => {
                use ring::aead::{Aad, Nonce, Tag};
                k.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    Tag::from(*tag),
                    in_out,
                    0..,
                )
                .map(|_| ())
                .map_err(|_| Unauthentic)
            }
            #[cfg(feature = "rustcrypto")]
            KeyImpl::RustCrypto(k) => {
                use aes_gcm::aead::AeadInOut;
                let tag = aes_gcm::Tag::from(*tag);
                k.decrypt_inout_detached(nonce.into(), aad, in_out.into(), &tag)
                    .map_err(|_| Unauthentic)
            }
        };
        if result.is_err() {
            zeroize::Zeroize::zeroize(in_out);
        }
        result
    }
}

/// Copies `src` into `dst` (equal lengths), for ring's in-place operations.
///
/// glibc's `memcpy` of a large block (`rep movsb`) is 20-30× slower on this kind of CPU when the
/// destination lies a few bytes above the source modulo 4 KiB (4K aliasing: each load waits
/// for the store just written to the same page offset): a 16 KiB copy took 5.6-7.9 µs instead
/// of 0.25 µs, which made one decryption in a hundred buffer layouts 3× slower. Copying
/// 256-byte chunks from the end never loads an offset just stored, so that case is copied
/// backwards.
#[cfg(feature = "ring")]
#[inline]
fn copy_for_in_place(dst: &mut [u8], src: &[u8]) {
    const CHUNK: usize = 256;
    let ahead = (dst.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize) % 4096;
    if src.len() <= CHUNK || !(1..64).contains(&ahead) {
        dst.copy_from_slice(src);
        return;
    }
    for (d, s) in dst.rchunks_mut(CHUNK).zip(src.rchunks(CHUNK)) {
        d.copy_from_slice(s);
    }
}

impl Drop for Aes256Gcm {
    fn drop(&mut self) {
        #[cfg(feature = "ring")]
        if let KeyImpl::Ring(k) = &mut self.key {
            let p: *mut ring::aead::LessSafeKey = &mut **k;
            // SAFETY: `k` is never used (nor dropped: ManuallyDrop) after this; ring's key owns
            // no heap memory, so overwriting its bytes frees nothing and leaks nothing.
            let bytes = unsafe {
                std::slice::from_raw_parts_mut(
                    p.cast::<u8>(),
                    std::mem::size_of::<ring::aead::LessSafeKey>(),
                )
            };
            zeroize::Zeroize::zeroize(bytes);
        }
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

    #[cfg(feature = "ring")]
    #[test]
    fn copy_for_in_place_copies_every_layout() {
        // The destination `shift` bytes after the source modulo 4 KiB: 1..64 takes the backward
        // copy, the rest the forward one; chunk-sized and ragged lengths.
        let pattern: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut buf = vec![0u8; 20_480 + 4096 + 20_000];
        for len in [0, 1, 255, 256, 257, 1000, 4096, 16_384 + 3] {
            for shift in [0usize, 1, 11, 27, 63, 64, 200, 4095] {
                let (src, rest) = buf.split_at_mut(20_480);
                src[..len].copy_from_slice(&pattern[..len]);
                let dst = &mut rest[shift..shift + len];
                dst.fill(0);
                copy_for_in_place(dst, &src[..len]);
                assert_eq!(dst, &pattern[..len], "len {len} shift {shift}");
            }
        }
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
