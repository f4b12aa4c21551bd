//! The keystore and its KEKs: exporting the document, KEK rotation, rekey to another CMK,
//! retiring a KEK, and which KEK encrypts new values or encrypted a given one.

use super::boundary::{guard, guard_value, handle, input, path_arg, text_out};
use super::handle::{derive_handle, open_handle};
use super::LkrCrypt;
use crate::error::Error;
use crate::Crypt;
use std::ffi::c_char;

/// Writes the keystore document (JSON, only wrapped keys, no NUL) to `out`.
///
/// # Safety
/// `c` must be a live handle or NULL; `out` must be NULL or point to `out_cap` writable
/// bytes; `out_len` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_export_keystore(
    c: *const LkrCrypt,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: the same contract.
    unsafe { text_out(c, out, out_cap, out_len, Crypt::keystore_json) }
}

/// KEK rotation: `*out` receives a new handle whose keystore has a new active KEK (id = the
/// largest + 1); older KEKs keep decrypting. `c` is unchanged. Persist the new keystore
/// (`lkr_export_keystore` on the new handle) where the application keeps it, then use the
/// new handle.
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_rotate_kek(c: *const LkrCrypt, out: *mut *mut LkrCrypt) -> i32 {
    // SAFETY: the same contract.
    unsafe { derive_handle(c, out, Crypt::rotate_kek) }
}

/// Rekey: `*out` receives a new handle whose keystore holds the same KEKs re-wrapped under
/// the CMK given by `LKR_MASTER_KEY_ENV_DESTINATION`, `LKR_MASTER_KEY_FILE_DESTINATION` or
/// `LKR_AWS_CMK_DESTINATION` (exactly one). The new keystore is checked to open with that CMK
/// before this returns. No record or stream changes. Persist it with `lkr_export_keystore`.
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_rekey_from_env(c: *const LkrCrypt, out: *mut *mut LkrCrypt) -> i32 {
    // SAFETY: the same contract.
    unsafe { derive_handle(c, out, Crypt::rekey_from_env) }
}

/// docs/native-interfaces.md `rekey` of a keystore file: opens `keystore_path` with the source CMK
/// (`LKR_MASTER_KEY_ENV_SOURCE`, `LKR_MASTER_KEY_FILE_SOURCE` or `LKR_AWS_CMK_SOURCE`),
/// re-wraps every KEK under the destination CMK (the `..._DESTINATION` variables), checks that
/// the result opens with it, and replaces the file atomically (a crash leaves the old or the
/// new keystore). `*out` receives a handle under the destination CMK. No record changes.
///
/// # Safety
/// `keystore_path` must be NULL or a NUL-terminated string; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_rekey_file_from_env(
    keystore_path: *const c_char,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        open_handle(out, || {
            Crypt::rekey_file_from_env(path_arg(keystore_path, "keystore_path")?)
        })
    }
}

/// docs/native-interfaces.md `rotate_kek` of a keystore file: opens `keystore_path` with the CMK of the
/// environment, adds a new active KEK (id = the largest + 1) and replaces the file atomically.
/// `*out` receives a handle on the new keystore; older KEKs keep decrypting.
///
/// # Safety
/// `keystore_path` must be NULL or a NUL-terminated string; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_rotate_kek_file_from_env(
    keystore_path: *const c_char,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        open_handle(out, || {
            Crypt::rotate_kek_file_from_env(path_arg(keystore_path, "keystore_path")?)
        })
    }
}

/// `*out` receives a new handle whose keystore no longer holds KEK `kek_id` (which must not
/// be the active one). Values that KEK encrypted no longer decrypt: re-encrypt them first.
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_retire_kek(
    c: *const LkrCrypt,
    kek_id: u32,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe { derive_handle(c, out, |crypt| crypt.retire_kek(kek_id)) }
}

/// The id of the KEK that encrypts new values (0 for a NULL handle).
///
/// # Safety
/// `c` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lkr_active_kek_id(c: *const LkrCrypt) -> u32 {
    // SAFETY: the caller's contract.
    guard_value(0, || {
        // SAFETY: the caller keeps this function's contract (# Safety above).
        unsafe { c.as_ref() }.map_or(0, |h| h.inner.active_kek_id())
    })
}

/// `*kek_id` receives the id of the KEK that encrypted `value` when it is an envelope v1
/// authentic under `ctx` (to count values per KEK before retiring one); otherwise returns
/// `LKR_ERR_NOT_AUTHENTIC`.
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `kek_id` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_kek_id_of(
    c: *const LkrCrypt,
    value: *const u8,
    len: usize,
    ctx: *const u8,
    ctx_len: usize,
    kek_id: *mut u32,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let crypt = handle(c)?;
        let value = input(value, len, "value")?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        if kek_id.is_null() {
            return Err(Error::invalid(
                "kek_id is NULL: pass the address of a uint32_t",
            ));
        }
        *kek_id = 0;
        *kek_id = crypt
            .authentic_kek_id(value, ctx)
            // The engine says "none"; this function's contract makes that NOT_AUTHENTIC (Java's
            // kekIdOf returns an empty OptionalInt instead).
            .ok_or_else(Error::not_authentic)?;
        Ok(())
    })
}
