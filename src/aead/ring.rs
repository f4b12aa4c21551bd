//! AES-256-GCM on ring (cargo feature `ring`, default). ring works in place only: the
//! out-of-place operations copy first, with [`copy_for_in_place`].

use super::{Unauthentic, NONCE_LEN, TAG_LEN};
use crate::secret::Key256;
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM};
use std::mem::ManuallyDrop;

/// A scheduled key. Never dropped as a value: its `Drop` zeroizes its bytes (ring keeps the
/// AES key schedule and GHASH table inline and does not clear them itself).
pub(super) struct Key(ManuallyDrop<LessSafeKey>);

/// Schedules `key`.
pub(super) fn new(key: &Key256) -> Key {
    let unbound = UnboundKey::new(&AES_256_GCM, key.expose()).expect("32 bytes is an AES-256 key");
    Key(ManuallyDrop::new(LessSafeKey::new(unbound)))
}

impl Drop for Key {
    fn drop(&mut self) {
        let p: *mut LessSafeKey = &mut *self.0;
        // SAFETY: the key is never used (nor dropped: ManuallyDrop) after this; ring's key owns
        // no heap memory, so overwriting its bytes frees nothing and leaks nothing.
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), size_of::<LessSafeKey>()) };
        zeroize::Zeroize::zeroize(bytes);
    }
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
    // ring works in place: the plaintext is copied into the output first.
    let (ct, tag) = out.split_at_mut(plaintext.len());
    copy_for_in_place(ct, plaintext);
    tag.copy_from_slice(&seal_in_place(k, nonce, aad, ct));
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
    // ring works in place: the ciphertext is copied into the output first.
    copy_for_in_place(out, ct);
    let tag: &[u8; TAG_LEN] = tag.try_into().expect("16-byte tag");
    open_in_place(k, nonce, aad, out, tag)
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
        .0
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
    k.0.open_in_place_separate_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        Tag::from(*tag),
        in_out,
        0..,
    )
    .map(|_| ())
    .map_err(|_| Unauthentic)
}

/// Copies `src` into `dst` (equal lengths), for ring's in-place operations.
///
/// glibc's `memcpy` of a large block (`rep movsb`) is 20-30× slower on this kind of CPU when the
/// destination lies a few bytes above the source modulo 4 KiB (4K aliasing: each load waits
/// for the store just written to the same page offset): a 16 KiB copy took 5.6-7.9 µs instead
/// of 0.25 µs, which made one decryption in a hundred buffer layouts 3× slower. Copying
/// 256-byte chunks from the end never loads an offset just stored, so that case is copied
/// backwards.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
