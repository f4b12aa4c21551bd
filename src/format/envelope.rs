//! Record envelope v1 (docs/envelope.md):
//! `"LKR" ‖ 0x01 ‖ 0x01 ‖ be32(kek_id) ‖ salt(32) ‖ nonce(12) ‖ ciphertext ‖ tag(16)`,
//! GCM additional data = the 53 header bytes ‖ the caller's context.

use super::with_aad;
use crate::aead::{Aes256Gcm, GCM_MAX_PLAINTEXT, TAG_LEN};
use crate::error::{Error, ErrorKind, Result};
use crate::kdf::KekDeriver;

/// Magic bytes.
pub const MAGIC: &[u8; 3] = b"LKR";
/// Format version.
pub const VERSION: u8 = 1;
/// Algorithm: AES-256-GCM with a per-record data key (docs/derivations.md).
pub const ALG_AES256GCM: u8 = 1;
/// Header length: magic, version, algorithm, kek_id, salt, nonce.
pub const HEADER_LEN: usize = 53;
/// Bytes an envelope adds to its plaintext.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// Largest plaintext one envelope holds (GCM's limit for one key and nonce).
pub const MAX_PLAINTEXT: usize = if (GCM_MAX_PLAINTEXT as u128) < usize::MAX as u128 {
    GCM_MAX_PLAINTEXT as usize
} else {
    usize::MAX - OVERHEAD
};

// The record size limits (which the formats use, so they cannot import the formats) state
// this format's overhead and largest plaintext themselves: they must agree.
const _: () = assert!(
    crate::limits::ENVELOPE_OVERHEAD == OVERHEAD
        && crate::limits::MAX_MAX_RECORD_SIZE == MAX_PLAINTEXT
);

/// The envelope length for a plaintext of `len` bytes, or `None` above [`MAX_PLAINTEXT`].
#[inline]
pub fn sealed_len(len: usize) -> Option<usize> {
    (len <= MAX_PLAINTEXT).then(|| len + OVERHEAD)
}

/// The parsed header of an envelope.
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    /// The KEK that encrypted the value.
    pub kek_id: u32,
    /// The raw 53 header bytes (part of the additional data).
    pub bytes: &'a [u8; HEADER_LEN],
}

impl<'a> Header<'a> {
    fn salt(&self) -> &'a [u8; 32] {
        self.bytes[9..41].try_into().expect("32 bytes")
    }
    fn nonce(&self) -> &'a [u8; 12] {
        self.bytes[41..53].try_into().expect("12 bytes")
    }
}

/// True when `value` starts like an envelope v1 (magic and version). Says nothing of
/// authenticity.
#[inline]
pub fn looks_like_v1(value: &[u8]) -> bool {
    value.len() >= 4 && &value[..3] == MAGIC && value[3] == VERSION
}

/// The plaintext length of an envelope of `envelope_len` bytes, or 0 when it is shorter than
/// an envelope.
#[inline]
pub fn opened_len(envelope_len: usize) -> usize {
    envelope_len.saturating_sub(OVERHEAD)
}

/// The KEK id an envelope v1 names, when `value` starts with its magic, version and algorithm
/// (whether it is authentic or not): such a value is an envelope, never a legacy value.
#[inline]
pub fn claimed_kek_id(value: &[u8]) -> Option<u32> {
    if value.len() >= 9 && looks_like_v1(value) && value[4] == ALG_AES256GCM {
        Some(u32::from_be_bytes(value[5..9].try_into().expect("4 bytes")))
    } else {
        None
    }
}

/// Splits an envelope into header and `ciphertext ‖ tag`, checking what can be checked
/// without a key. Structural damage reads as "not authentic" (never which byte).
pub fn parse(envelope: &[u8]) -> Result<(Header<'_>, &[u8])> {
    if envelope.len() >= 4 && &envelope[..3] == MAGIC && envelope[3] != VERSION {
        return Err(Error::new(
            ErrorKind::UnsupportedFormat,
            format!(
                "Unsupported envelope version {} (this lkr-crypt reads version {VERSION}): upgrade lkr-crypt",
                envelope[3]
            ),
        ));
    }
    if envelope.len() < OVERHEAD || &envelope[..3] != MAGIC {
        return Err(Error::not_authentic());
    }
    if envelope[4] != ALG_AES256GCM {
        return Err(Error::new(
            ErrorKind::UnsupportedFormat,
            format!(
                "Unsupported envelope algorithm {}: upgrade lkr-crypt",
                envelope[4]
            ),
        ));
    }
    let (head, body) = envelope.split_at(HEADER_LEN);
    let bytes: &[u8; HEADER_LEN] = head.try_into().expect("53 bytes");
    let kek_id = u32::from_be_bytes(bytes[5..9].try_into().expect("4 bytes"));
    Ok((Header { kek_id, bytes }, body))
}

/// Seals `plaintext` into `out` (exactly `plaintext.len() + OVERHEAD` bytes) with the given
/// salt and nonce. Callers draw salt and nonce fresh from the CSPRNG; fixed values are for
/// known-answer tests only.
#[inline]
pub fn seal_with(
    deriver: &KekDeriver,
    kek_id: u32,
    salt: &[u8; 32],
    nonce: &[u8; 12],
    plaintext: &[u8],
    context: &[u8],
    out: &mut [u8],
) {
    debug_assert_eq!(out.len(), plaintext.len() + OVERHEAD);
    let (head, body) = out.split_at_mut(HEADER_LEN);
    write_header(head, kek_id, salt, nonce);
    let key = Aes256Gcm::new(&deriver.record_key(salt));
    with_aad(head, context, |aad| {
        key.seal_into(nonce, aad, plaintext, body)
    });
}

/// [`seal_with`] in place: `buf` (the plaintext's length + `OVERHEAD` bytes) holds the
/// plaintext at `buf[HEADER_LEN..buf.len() - TAG_LEN]` and becomes the envelope.
#[inline]
pub fn seal_in_place_with(
    deriver: &KekDeriver,
    kek_id: u32,
    salt: &[u8; 32],
    nonce: &[u8; 12],
    context: &[u8],
    buf: &mut [u8],
) {
    debug_assert!(buf.len() >= OVERHEAD);
    let (head, body) = buf.split_at_mut(HEADER_LEN);
    let (ct, tag) = body.split_at_mut(body.len() - TAG_LEN);
    write_header(head, kek_id, salt, nonce);
    let key = Aes256Gcm::new(&deriver.record_key(salt));
    tag.copy_from_slice(&with_aad(head, context, |aad| {
        key.seal_in_place(nonce, aad, ct)
    }));
}

fn write_header(head: &mut [u8], kek_id: u32, salt: &[u8; 32], nonce: &[u8; 12]) {
    head[..3].copy_from_slice(MAGIC);
    head[3] = VERSION;
    head[4] = ALG_AES256GCM;
    head[5..9].copy_from_slice(&kek_id.to_be_bytes());
    head[9..41].copy_from_slice(salt);
    head[41..53].copy_from_slice(nonce);
}

/// Opens `ciphertext ‖ tag` of a parsed envelope into `out` (exactly `body.len() - 16`).
#[inline]
pub fn open_with(
    deriver: &KekDeriver,
    header: &Header<'_>,
    body: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let key = Aes256Gcm::new(&deriver.record_key(header.salt()));
    with_aad(header.bytes, context, |aad| {
        key.open_into(header.nonce(), aad, body, out)
    })
    .map_err(|_| Error::not_authentic())
}

/// Opens a parsed envelope whose ciphertext was copied into `buf` (exactly the ciphertext's
/// length), in place, with the envelope's `tag`. On failure `buf` is zeroed.
#[inline]
pub fn open_in_place_with(
    deriver: &KekDeriver,
    header: &Header<'_>,
    tag: &[u8; TAG_LEN],
    context: &[u8],
    buf: &mut [u8],
) -> Result<()> {
    let key = Aes256Gcm::new(&deriver.record_key(header.salt()));
    with_aad(header.bytes, context, |aad| {
        key.open_in_place(header.nonce(), aad, buf, tag)
    })
    .map_err(|_| Error::not_authentic())
}
