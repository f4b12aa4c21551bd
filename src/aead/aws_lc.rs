//! AES-256-GCM on aws-lc-rs (cargo feature `aws-lc`, default; or `fips`: on AWS-LC's FIPS module).

use super::{Unauthentic, NONCE_LEN, TAG_LEN};
use crate::secret::Key256;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

/// A scheduled key.
pub(super) type Key = LessSafeKey;

/// Schedules `key`.
pub(super) fn new(key: &Key256) -> Key {
    let unbound = UnboundKey::new(&AES_256_GCM, key.expose()).expect("32 bytes is an AES-256 key");
    LessSafeKey::new(unbound)
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
    k.seal_in_place_scatter(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut [],
        plaintext,
        out,
    )
    .expect("GCM seal within the length limits cannot fail");
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
    k.open_separate_gather(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        ct,
        tag,
        out,
    )
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
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), in_out)
        .expect("GCM seal within the length limits cannot fail");
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(t.as_ref());
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
    k.open_in_place_separate_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        tag,
        in_out,
    )
    .map(|_| ())
    .map_err(|_| Unauthentic)
}
