//! The handle's life: opening a keystore into an `LkrCrypt` (from a file or a document the
//! application keeps), deriving a new handle from one, closing it; and the process-wide
//! reseed of the random generator.

use super::boundary::{guard, guard_value, handle, input, path_arg};
use super::LkrCrypt;
use crate::error::{Error, Result};
use crate::Crypt;
use std::ffi::c_char;

fn boxed(crypt: Crypt) -> *mut LkrCrypt {
    Box::into_raw(Box::new(LkrCrypt { inner: crypt }))
}

/// Opens a handle through `open` and stores it in `*out`.
///
/// # Safety
/// `out` must be NULL or writable.
pub(super) unsafe fn open_handle(
    out: *mut *mut LkrCrypt,
    open: impl FnOnce() -> Result<Crypt>,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        if out.is_null() {
            return Err(Error::invalid(
                "out is NULL: pass the address of an LkrCrypt pointer",
            ));
        }
        *out = std::ptr::null_mut();
        *out = boxed(open()?);
        Ok(())
    })
}

/// Runs `op` on a handle and stores the new handle it returns in `*out`.
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or writable.
pub(super) unsafe fn derive_handle(
    c: *const LkrCrypt,
    out: *mut *mut LkrCrypt,
    op: impl FnOnce(&Crypt) -> Result<Crypt>,
) -> i32 {
    // SAFETY: the same contract.
    unsafe { open_handle(out, || op(handle(c)?)) }
}

/// Opens the keystore file at `keystore_path` with the CMK chosen by the environment
/// (`LKR_MASTER_KEY_ENV`, `LKR_MASTER_KEY_FILE` or `LKR_AWS_CMK`: exactly one) and the
/// legacy key from `LKR_LEGACY_KEY_ENV` / `LKR_LEGACY_KEY_FILE` if set. A missing keystore
/// is created (KEK id 1). On success `*out` receives a handle to release with `lkr_close`.
///
/// # Safety
/// `keystore_path` must be NULL or a NUL-terminated string; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_open_from_env(
    keystore_path: *const c_char,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        open_handle(out, || {
            Crypt::open_from_env(path_arg(keystore_path, "keystore_path")?)
        })
    }
}

/// Like `lkr_open_from_env`, for a keystore the application keeps itself (e.g. in its
/// database): `keystore`/`keystore_len` is the keystore document; NULL with length 0 creates
/// a new keystore in memory — store what `lkr_export_keystore` returns.
///
/// # Safety
/// `keystore` must be NULL or point to `keystore_len` readable bytes; `out` must be NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_open_from_env_bytes(
    keystore: *const u8,
    keystore_len: usize,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        open_handle(out, || {
            let ks = input(keystore, keystore_len, "keystore")?;
            // This function's contract: (NULL, 0) — an empty document — creates a keystore
            // (Java's openFromEnvironment(byte[]) creates one for null only).
            Crypt::open_bytes_from_env((!ks.is_empty()).then_some(ks))
        })
    }
}

/// Releases a handle. `lkr_close(NULL)` does nothing.
///
/// # Safety
/// `crypt` must be NULL or a handle from `lkr_open_*` that no other thread still uses and
/// that is not closed twice.
#[no_mangle]
pub unsafe extern "C" fn lkr_close(crypt: *mut LkrCrypt) {
    if !crypt.is_null() {
        guard_value((), || {
            // SAFETY: the caller gives up a handle created by `boxed`.
            drop(unsafe { Box::from_raw(crypt) });
        });
    }
}

/// Makes every thread reseed the generator of salts and nonces from the OS before its next
/// draw. Copies of the process made by `fork()`, `_Fork()` or a raw `clone(2)` reseed without
/// it; call it after a copy the kernel does not see — a CRIU/CRaC restore, a Lambda SnapStart
/// restore, a cloned VM — from the restore hook, before anything is encrypted. Returns
/// `LKR_OK`.
#[no_mangle]
pub extern "C" fn lkr_rng_reseed() -> i32 {
    guard(|| {
        crate::rng::reseed();
        Ok(())
    })
}
