//! Input limits: the maximum record size and the maximum context size.
//!
//! A record (one value: the plaintext of an envelope) may hold at most the *maximum record
//! size* of plaintext bytes. Anything larger is refused with [`ErrorKind::InvalidArgument`]
//! before any memory is allocated for it:
//! * `encrypt`: a plaintext longer than the maximum;
//! * `decrypt`: an envelope longer than the maximum + 69 (its plaintext would be larger);
//! * `migrate`: a value (legacy or envelope v1) longer than the maximum + 69.
//!
//! The default is [`DEFAULT_MAX_RECORD_SIZE`] (64 MiB: far above any database column value,
//! far below what would exhaust a server). A process sets another with the variable
//! `LKR_MAX_RECORD_SIZE` (a number of bytes, 1 to [`MAX_MAX_RECORD_SIZE`]; the empty string
//! counts as unset), read once, when the first keystore is opened; an invalid value makes every
//! open fail with a message naming the variable. A Rust caller may also set it per handle
//! ([`crate::Crypt::with_max_record_size`]). Streams (docs/stream.md) have no such limit: their
//! memory use is bounded by the segment size.
//!
//! A context (docs/envelope.md, docs/stream.md) may hold at most [`MAX_CONTEXT`] bytes (64 KiB), checked by every
//! call that takes one before anything is allocated; larger is [`ErrorKind::InvalidArgument`].
//! Allocations whose size a caller decides are fallible ([`try_zeroed`]): out of memory is an
//! error, not an abort of the calling process.

use crate::error::{Error, ErrorKind, Result};
use std::sync::OnceLock;

// The formats, the AEAD layer and `secret` use this module, so it imports none of them: it
// states the two sizes it needs itself, and `format::envelope` checks at compile time that
// they are its `OVERHEAD` and `MAX_PLAINTEXT`.

/// Bytes an envelope v1 adds to its plaintext: its 53-byte header and 16-byte GCM tag.
pub(crate) const ENVELOPE_OVERHEAD: usize = 53 + 16;

/// The most plaintext GCM may encrypt under one key and nonce: 2^36 − 32 bytes.
const GCM_MAX_PLAINTEXT: u64 = (1 << 36) - 32;

/// The variable that sets the maximum record size of the process, in bytes.
pub const ENV_MAX_RECORD_SIZE: &str = "LKR_MAX_RECORD_SIZE";

/// The default maximum record size: 64 MiB.
pub const DEFAULT_MAX_RECORD_SIZE: usize = 64 << 20;

/// The largest maximum record size that can be configured: what one GCM envelope can hold.
pub const MAX_MAX_RECORD_SIZE: usize = if (GCM_MAX_PLAINTEXT as u128) < usize::MAX as u128 {
    GCM_MAX_PLAINTEXT as usize
} else {
    usize::MAX - ENVELOPE_OVERHEAD
};

/// Parses a value of `LKR_MAX_RECORD_SIZE`; `None` (unset) or the empty string give the
/// default.
pub fn parse_max_record_size(value: Option<&str>) -> Result<usize> {
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_MAX_RECORD_SIZE);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 && n <= MAX_MAX_RECORD_SIZE as u64 => Ok(n as usize),
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{ENV_MAX_RECORD_SIZE}={text:?} is invalid: it must be a number of bytes from 1 to {MAX_MAX_RECORD_SIZE} (unset, the maximum record size is {DEFAULT_MAX_RECORD_SIZE} bytes)"
            ),
        )),
    }
}

/// The process's maximum record size from `LKR_MAX_RECORD_SIZE`, read once.
pub fn process_max_record_size() -> Result<usize> {
    static LIMIT: OnceLock<Result<usize>> = OnceLock::new();
    LIMIT
        .get_or_init(|| {
            let value =
                std::env::var_os(ENV_MAX_RECORD_SIZE).map(|v| v.to_string_lossy().into_owned());
            parse_max_record_size(value.as_deref())
        })
        .clone()
}

/// The length of the value a (trimmed, padded) base64 text decodes to, known before decoding
/// it: a text form over the limit is refused without allocating its decoded value.
pub(crate) fn decoded_len(text: &str) -> usize {
    let t = text.trim().as_bytes();
    let pad = t.iter().rev().take(2).filter(|&&b| b == b'=').count();
    (t.len() / 4 * 3).saturating_sub(pad)
}

/// The error for a value of `len` bytes over the limit `max`.
fn too_large(what: &str, len: usize, allowed: usize, max: usize) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!(
            "The {what} is too large: {len} bytes, more than the {allowed} allowed by the maximum record size of {max} bytes ({ENV_MAX_RECORD_SIZE}); raise {ENV_MAX_RECORD_SIZE} or store it as a stream"
        ),
    )
}

/// Refuses a plaintext of `len` bytes over `max`.
pub(crate) fn check_plaintext(len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(too_large("value to encrypt", len, max, max));
    }
    Ok(())
}

/// The largest context a call accepts: 64 KiB. A context names a value's place (e.g.
/// `CONNECTION.PASSWORD:42`, 22 bytes); it is GCM additional data, joined to the header before
/// it is authenticated, so its size must be bounded before anything is allocated for it.
pub const MAX_CONTEXT: usize = 64 << 10;

/// Refuses a context of `len` bytes over [`MAX_CONTEXT`].
pub fn check_context(len: usize) -> Result<()> {
    if len > MAX_CONTEXT {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "The context is too large: {len} bytes, more than the {MAX_CONTEXT} allowed; a context names a value's place (e.g. CONNECTION.PASSWORD:42), not data"
            ),
        ));
    }
    Ok(())
}

/// An empty buffer with room for `len` bytes, or an error when the memory cannot be had:
/// where a caller's size decides an allocation, running out of memory is an error, never an
/// abort of the calling process.
pub fn try_with_capacity(len: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("Cannot allocate {len} bytes for this value: not enough memory; lower {ENV_MAX_RECORD_SIZE} or store it as a stream"),
        )
    })?;
    Ok(v)
}

/// A zeroed buffer of `len` bytes (see [`try_with_capacity`]).
pub fn try_zeroed(len: usize) -> Result<Vec<u8>> {
    let mut v = try_with_capacity(len)?;
    v.resize(len, 0);
    Ok(v)
}

/// Refuses a stored value (an envelope, or a legacy value to migrate) of `len` bytes whose
/// plaintext could exceed `max`.
pub(crate) fn check_stored(len: usize, max: usize) -> Result<()> {
    let allowed = max.saturating_add(ENVELOPE_OVERHEAD);
    if len > allowed {
        return Err(too_large("stored value", len, allowed, max));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_variable() {
        assert_eq!(
            parse_max_record_size(None).unwrap(),
            DEFAULT_MAX_RECORD_SIZE
        );
        assert_eq!(
            parse_max_record_size(Some("")).unwrap(),
            DEFAULT_MAX_RECORD_SIZE
        );
        assert_eq!(parse_max_record_size(Some(" 1024\n")).unwrap(), 1024);
        assert_eq!(parse_max_record_size(Some("1")).unwrap(), 1);
        for bad in ["0", "-1", "64M", "1e6", "abc", "99999999999999999999999"] {
            let e = parse_max_record_size(Some(bad)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            assert!(e.message().contains("LKR_MAX_RECORD_SIZE"), "{e:?}");
        }
        let over = (MAX_MAX_RECORD_SIZE as u64 + 1).to_string();
        assert!(parse_max_record_size(Some(&over)).is_err());
    }

    #[test]
    fn decoded_len_is_exact_for_valid_text() {
        use base64::Engine;
        for n in 0..40 {
            let text = base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]);
            assert_eq!(decoded_len(&format!(" {text}\n")), n);
        }
    }

    #[test]
    fn checks() {
        assert!(check_plaintext(10, 10).is_ok());
        assert!(check_plaintext(11, 10).is_err());
        assert!(check_stored(79, 10).is_ok());
        let e = check_stored(80, 10).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("80 bytes"), "{e:?}");
        assert!(check_stored(usize::MAX, usize::MAX).is_ok());
    }
}
