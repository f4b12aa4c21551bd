//! AES-256-GCM on RustCrypto's `aes-gcm` (cargo feature `rustcrypto`), for targets where
//! aws-lc cannot build.

use super::{Unauthentic, NONCE_LEN, TAG_LEN};
use crate::secret::Key256;
use aes_gcm::aead::{inout::InOutBuf, AeadInOut};

/// A scheduled key (boxed: the RustCrypto key schedule is large).
pub(super) type Key = Box<aes_gcm::Aes256Gcm>;

/// Schedules `key`.
pub(super) fn new(key: &Key256) -> Key {
    use aes_gcm::KeyInit;
    Box::new(aes_gcm::Aes256Gcm::new(key.expose().into()))
}

/// Encrypts `plaintext` into `out` (`plaintext.len() + TAG_LEN` bytes): ciphertext, then tag.
#[inline]
pub(super) fn seal_into(
    k: &Key,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) {
    let (ct, tag) = out.split_at_mut(plaintext.len());
    let buf = InOutBuf::new(plaintext, ct).expect("equal lengths");
    let t = k
        .encrypt_inout_detached(nonce.into(), aad, buf)
        .expect("GCM seal within the length limits cannot fail");
    tag.copy_from_slice(&t);
}

/// Verifies `ct ‖ tag` and decrypts `ct` into `out` (`ct.len()` bytes).
#[inline]
pub(super) fn open_into(
    k: &Key,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
    out: &mut [u8],
) -> Result<(), Unauthentic> {
    let buf = InOutBuf::new(ct, out).expect("equal lengths");
    let tag = aes_gcm::Tag::try_from(tag).expect("16-byte tag");
    k.decrypt_inout_detached(nonce.into(), aad, buf, &tag)
        .map_err(|_| Unauthentic)
}

/// Encrypts `in_out` in place and returns the tag.
#[inline]
pub(super) fn seal_in_place(
    k: &Key,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
) -> [u8; TAG_LEN] {
    let t = k
        .encrypt_inout_detached(nonce.into(), aad, in_out.into())
        .expect("GCM seal within the length limits cannot fail");
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&t);
    tag
}

/// Verifies `in_out ‖ tag` and decrypts `in_out` in place.
#[inline]
pub(super) fn open_in_place(
    k: &Key,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), Unauthentic> {
    let tag = aes_gcm::Tag::from(*tag);
    k.decrypt_inout_detached(nonce.into(), aad, in_out.into(), &tag)
        .map_err(|_| Unauthentic)
}
