//! The C boundary itself: the panic guard every export runs in ([`guard`], [`guard_value`]),
//! this thread's last error message, the helpers that turn raw pointers and lengths into
//! checked slices (NULL, length, overlap), and the exports that describe a result
//! (`lkr_version`, `lkr_fips_mode`, `lkr_status_name`, `lkr_last_error`).

use super::{LkrCrypt, LKR_ERR_INTERNAL, LKR_OK};
use crate::error::{Error, ErrorKind, Result};
use crate::Crypt;
use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(message: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push_str(message);
    });
}

/// Runs an export's body: catches panics, records the error, returns the status code.
pub(super) fn guard(body: impl FnOnce() -> Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => LKR_OK,
        Ok(Err(e)) => {
            set_last_error(e.message());
            e.kind().code()
        }
        Err(_) => {
            set_last_error("Internal error in lkr-crypt (a panic was caught at the C boundary): please report it");
            LKR_ERR_INTERNAL
        }
    }
}

/// Runs a body that cannot fail except by panicking; returns `fallback` then.
pub(super) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes that stay valid for `'a`.
pub(super) unsafe fn input<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Error::invalid(format!(
                "{what} is NULL but its length is {len}"
            )))
        };
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "{what} length {len} is not a valid length"
        )));
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An output buffer, checked not to overlap any of `inputs`.
///
/// # Safety
/// `ptr` must be NULL or point to `cap` writable bytes that stay valid for `'a`.
pub(super) unsafe fn output<'a>(
    ptr: *mut u8,
    cap: usize,
    inputs: &[&[u8]],
) -> Result<&'a mut [u8]> {
    if ptr.is_null() {
        return if cap == 0 {
            Ok(&mut [])
        } else {
            Err(Error::invalid(format!("out is NULL but out_cap is {cap}")))
        };
    }
    if cap > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "out_cap {cap} is not a valid length"
        )));
    }
    let (start, end) = (ptr as usize, ptr as usize + cap);
    for i in inputs {
        let (s, e) = (i.as_ptr() as usize, i.as_ptr() as usize + i.len());
        if !i.is_empty() && cap > 0 && s < end && start < e {
            return Err(Error::invalid(
                "out overlaps an input buffer: give a separate output buffer",
            ));
        }
    }
    // SAFETY: the caller guarantees `cap` writable bytes at `ptr`, disjoint from the inputs.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, cap) })
}

/// # Safety
/// `c` must be NULL or a handle from `lkr_open_*` not yet closed.
pub(super) unsafe fn handle<'a>(c: *const LkrCrypt) -> Result<&'a Crypt> {
    // SAFETY: the caller guarantees `c` is a live handle when non-null.
    unsafe { c.as_ref() }.map(|h| &h.inner).ok_or_else(|| {
        Error::invalid("The LkrCrypt handle is NULL: open one with lkr_open_from_env")
    })
}

/// Reads a NUL-terminated UTF-8 path argument.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
pub(super) unsafe fn path_arg<'a>(path: *const c_char, name: &str) -> Result<&'a Path> {
    if path.is_null() {
        return Err(Error::invalid(format!(
            "{name} is NULL: give the keystore file's path"
        )));
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let path = unsafe { CStr::from_ptr(path) };
    path.to_str()
        .map(Path::new)
        .map_err(|_| Error::invalid(format!("{name} is not valid UTF-8")))
}

/// Stores `n` in `*out_len`, which must not be NULL.
///
/// # Safety
/// `out_len` must be NULL or writable.
unsafe fn store_len(out_len: *mut usize, n: usize) -> Result<()> {
    if out_len.is_null() {
        return Err(Error::invalid("out_len is NULL"));
    }
    // SAFETY: checked non-null; the caller guarantees it is writable.
    unsafe { *out_len = n };
    Ok(())
}

/// Runs an operation writing to `out`; stores the written length, or the needed length
/// when the buffer is too small, in `*out_len`.
///
/// # Safety
/// `out_len` must be NULL or writable.
pub(super) unsafe fn with_out_len(
    out_len: *mut usize,
    op: impl FnOnce() -> Result<usize>,
) -> Result<()> {
    if out_len.is_null() {
        return Err(Error::invalid("out_len is NULL"));
    }
    match op() {
        // SAFETY: checked non-null above.
        Ok(n) => unsafe { store_len(out_len, n) },
        Err(e) => {
            if let Some(needed) = e.needed() {
                // SAFETY: checked non-null above.
                unsafe { store_len(out_len, needed)? };
            }
            Err(e)
        }
    }
}

/// Copies `bytes` to the start of `out`; returns their length, or `BUFFER_TOO_SMALL` (with the
/// length needed) when `out` is shorter.
fn copy_out(out: &mut [u8], bytes: &[u8]) -> Result<usize> {
    let cap = out.len();
    let dest = out
        .get_mut(..bytes.len())
        .ok_or_else(|| Error::buffer_too_small(bytes.len(), cap))?;
    dest.copy_from_slice(bytes);
    Ok(bytes.len())
}

/// Writes `text(crypt)` (no NUL) to `out`; `*out_len` receives its length (or the length
/// needed, with `LKR_ERR_BUFFER_TOO_SMALL`).
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or point to `out_cap` writable bytes;
/// `out_len` must be NULL or writable.
pub(super) unsafe fn text_out(
    c: *const LkrCrypt,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    text: impl FnOnce(&Crypt) -> String,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let crypt = handle(c)?;
        let out = output(out, out_cap, &[])?;
        with_out_len(out_len, || copy_out(out, text(crypt).as_bytes()))
    })
}

/// The library's version, e.g. `"0.1.0"` (a static string; do not free).
#[no_mangle]
pub extern "C" fn lkr_version() -> *const c_char {
    static V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("version string"),
        };
    V.as_ptr()
}

/// 1 when this is the FIPS build (docs/fips.md) and AWS-LC's FIPS 140-3 module runs in FIPS mode,
/// else 0 (every other build).
#[no_mangle]
pub extern "C" fn lkr_fips_mode() -> i32 {
    i32::from(crate::fips::mode())
}

/// A stable name for a status code, e.g. `"NOT_AUTHENTIC"` (a static string; do not free).
#[no_mangle]
pub extern "C" fn lkr_status_name(status: i32) -> *const c_char {
    let name: &'static CStr = match ErrorKind::from_code(status) {
        _ if status == LKR_OK => c"OK",
        Some(kind) => kind.c_name(),
        None => c"UNKNOWN_STATUS",
    };
    name.as_ptr()
}

/// Copies the message of this thread's most recent failed call into `buf`, NUL-terminated
/// and truncated to `cap` bytes, and returns the message's full length (0 if no call has
/// failed), like `snprintf`. `buf` may be NULL when `cap` is 0.
///
/// # Safety
/// `buf` must be NULL or point to `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn lkr_last_error(buf: *mut c_char, cap: usize) -> usize {
    guard_value(0, || {
        LAST_ERROR.with(|e| {
            let e = e.borrow();
            if !buf.is_null() && cap > 0 {
                let n = e.len().min(cap - 1);
                // SAFETY: the caller guarantees `cap` writable bytes; n + 1 <= cap.
                unsafe {
                    std::ptr::copy_nonoverlapping(e.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            e.len()
        })
    })
}
