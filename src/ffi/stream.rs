//! Streams (docs/stream.md): incremental encryption and decryption of data too large for one record.

use super::boundary::{guard, guard_value, handle, input, output, with_out_len};
use super::{LkrCrypt, LkrStreamDecryptor, LkrStreamEncryptor, LKR_STREAM_HEADER_LEN};
use crate::error::{Error, Result};

/// # Safety
/// `p` must be NULL or a live object from the matching init function.
unsafe fn stream_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: the caller guarantees a live object when non-null.
    unsafe { p.as_mut() }.ok_or_else(|| Error::invalid(format!("The {what} is NULL")))
}

/// Starts encrypting a stream bound to `ctx` under the handle's active KEK, with
/// `segment_size` plaintext bytes per segment (0 = `LKR_STREAM_DEFAULT_SEGMENT`; otherwise
/// 4096..16 MiB). Writes the 52-byte header to `header` (`header_cap` ≥
/// `LKR_STREAM_HEADER_LEN`); the output of every `lkr_stream_encrypt_update` and of
/// `lkr_stream_encrypt_finish` follows it.
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_encrypt_init(
    c: *const LkrCrypt,
    ctx: *const u8,
    ctx_len: usize,
    segment_size: usize,
    header: *mut u8,
    header_cap: usize,
    header_len: *mut usize,
    out: *mut *mut LkrStreamEncryptor,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        if out.is_null() {
            return Err(Error::invalid(
                "out is NULL: pass the address of an LkrStreamEncryptor pointer",
            ));
        }
        *out = std::ptr::null_mut();
        let crypt = handle(c)?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        let header = output(header, header_cap, &[ctx])?;
        let size = crate::format::stream::segment_size_or_default(segment_size);
        let enc = crate::format::stream::StreamEncryptor::new(crypt, ctx, size)?;
        with_out_len(header_len, || {
            if header.len() < LKR_STREAM_HEADER_LEN {
                return Err(Error::buffer_too_small(LKR_STREAM_HEADER_LEN, header.len()));
            }
            header[..LKR_STREAM_HEADER_LEN].copy_from_slice(enc.header());
            Ok(LKR_STREAM_HEADER_LEN)
        })?;
        *out = Box::into_raw(Box::new(LkrStreamEncryptor { inner: enc }));
        Ok(())
    })
}

/// The output size that `lkr_stream_encrypt_update` with `in_len` more bytes may need (0 for
/// a NULL encryptor).
///
/// # Safety
/// `enc` must be NULL or a live encryptor.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_encrypt_update_max_len(
    enc: *const LkrStreamEncryptor,
    in_len: usize,
) -> usize {
    // SAFETY: the caller's contract.
    guard_value(0, || {
        // SAFETY: the caller keeps this function's contract (# Safety above).
        unsafe { enc.as_ref() }.map_or(0, |e| e.inner.update_max_len(in_len))
    })
}

/// Encrypts `in`; writes every completed segment to `out` and its length to `*out_len`
/// (possibly 0: up to one segment of plaintext stays buffered).
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must not overlap `in`.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_encrypt_update(
    enc: *mut LkrStreamEncryptor,
    in_: *const u8,
    in_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let enc = stream_mut(enc, "LkrStreamEncryptor")?;
        let data = input(in_, in_len, "in")?;
        let out = output(out, out_cap, &[data])?;
        with_out_len(out_len, || enc.inner.update(data, out))
    })
}

/// Seals the buffered plaintext as the last segment into `out` (segment size + 16 bytes
/// always suffice). The stream is complete only after this call.
///
/// # Safety
/// Every pointer must be NULL or valid for its length.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_encrypt_finish(
    enc: *mut LkrStreamEncryptor,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let enc = stream_mut(enc, "LkrStreamEncryptor")?;
        let out = output(out, out_cap, &[])?;
        with_out_len(out_len, || enc.inner.finish(out))
    })
}

/// Releases an encryptor (buffered plaintext is wiped). NULL does nothing.
///
/// # Safety
/// `enc` must be NULL or a live encryptor, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_encryptor_free(enc: *mut LkrStreamEncryptor) {
    if !enc.is_null() {
        // SAFETY: the caller gives up an object created by `lkr_stream_encrypt_init`.
        guard_value((), || drop(unsafe { Box::from_raw(enc) }));
    }
}

/// Starts decrypting a stream bound to `ctx`: `header` holds its first
/// `LKR_STREAM_HEADER_LEN` bytes. Feed the rest to `lkr_stream_decrypt_update`, then call
/// `lkr_stream_decrypt_finish` at the end of the input.
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_decrypt_init(
    c: *const LkrCrypt,
    header: *const u8,
    header_len: usize,
    ctx: *const u8,
    ctx_len: usize,
    out: *mut *mut LkrStreamDecryptor,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        if out.is_null() {
            return Err(Error::invalid(
                "out is NULL: pass the address of an LkrStreamDecryptor pointer",
            ));
        }
        *out = std::ptr::null_mut();
        let crypt = handle(c)?;
        let header = input(header, header_len, "header")?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        let dec = crate::format::stream::StreamDecryptor::new(crypt, header, ctx)?;
        *out = Box::into_raw(Box::new(LkrStreamDecryptor { inner: dec }));
        Ok(())
    })
}

/// The output size that `lkr_stream_decrypt_update` with `in_len` more bytes may need (0 for
/// a NULL decryptor).
///
/// # Safety
/// `dec` must be NULL or a live decryptor.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_decrypt_update_max_len(
    dec: *const LkrStreamDecryptor,
    in_len: usize,
) -> usize {
    // SAFETY: the caller's contract.
    guard_value(0, || {
        // SAFETY: the caller keeps this function's contract (# Safety above).
        unsafe { dec.as_ref() }.map_or(0, |d| d.inner.update_max_len(in_len))
    })
}

/// Consumes stream bytes; writes the plaintext of every segment that authenticated to `out`
/// and its length to `*out_len`. The newest segment is held back until more input or
/// `lkr_stream_decrypt_finish` shows whether it is the last. On an error, discard the
/// plaintext written so far by this stream (the stream is damaged).
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must not overlap `in`.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_decrypt_update(
    dec: *mut LkrStreamDecryptor,
    in_: *const u8,
    in_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let dec = stream_mut(dec, "LkrStreamDecryptor")?;
        let data = input(in_, in_len, "in")?;
        let out = output(out, out_cap, &[data])?;
        with_out_len(out_len, || dec.inner.update(data, out))
    })
}

/// The input ended: opens the last segment into `out` (segment size bytes always suffice).
/// Fails with `LKR_ERR_NOT_AUTHENTIC` when the stream was truncated, extended or changed.
///
/// # Safety
/// Every pointer must be NULL or valid for its length.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_decrypt_finish(
    dec: *mut LkrStreamDecryptor,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let dec = stream_mut(dec, "LkrStreamDecryptor")?;
        let out = output(out, out_cap, &[])?;
        with_out_len(out_len, || dec.inner.finish(out))
    })
}

/// Releases a decryptor. NULL does nothing.
///
/// # Safety
/// `dec` must be NULL or a live decryptor, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn lkr_stream_decryptor_free(dec: *mut LkrStreamDecryptor) {
    if !dec.is_null() {
        // SAFETY: the caller gives up an object created by `lkr_stream_decrypt_init`.
        guard_value((), || drop(unsafe { Box::from_raw(dec) }));
    }
}
