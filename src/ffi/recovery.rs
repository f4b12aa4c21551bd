//! The recovery key (docs/keystore.md, "Recovery key"): adding and removing a keystore's
//! recovery wrapping, which KEKs it covers, and `recover` of a keystore whose CMK is lost.

use super::boundary::{guard, handle, input, path_arg, text_out, with_out_len};
use super::handle::{derive_handle, open_handle};
use super::LkrCrypt;
use crate::error::Error;
use crate::Crypt;
use std::ffi::c_char;

/// `add_recovery_key`: `*out` receives a new handle whose keystore also holds every KEK wrapped
/// under the recovery public key named by `LKR_RECOVERY_PUBLIC_KEY_FILE` (PEM, RSA 3072 or 4096
/// bits; it must be set), replacing any earlier recovery section. `c` is unchanged. Persist the
/// new keystore with `lkr_export_keystore`. Later rotations (`lkr_rotate_kek`) wrap new KEKs
/// under the same key and refuse while `LKR_RECOVERY_PUBLIC_KEY_FILE` is unset or names another.
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_add_recovery_key_from_env(
    c: *const LkrCrypt,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe { derive_handle(c, out, Crypt::add_recovery_key_from_env) }
}

/// `remove_recovery_key`: `*out` receives a new handle whose keystore has no recovery section
/// (an error when it has none). `c` is unchanged.
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_remove_recovery_key(
    c: *const LkrCrypt,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe { derive_handle(c, out, Crypt::remove_recovery_key) }
}

/// `recover` of a keystore document (e.g. the database's) whose CMK is lost: every KEK is
/// unwrapped from its recovery section with the private key in `private_key_path` (PEM PKCS#8,
/// unencrypted, mode 0400) and wrapped under the CMK of the `..._DESTINATION` variables
/// (`LKR_MASTER_KEY_ENV_DESTINATION`, `LKR_MASTER_KEY_FILE_DESTINATION` or
/// `LKR_AWS_CMK_DESTINATION`): same KEK ids and active KEK, the recovery section kept. `*out`
/// receives a handle on it, already checked to open with the destination; store its
/// `lkr_export_keystore` in place of the old document. Refused (nothing returned) when the
/// keystore has no recovery section, the private key is not its recovery key, or a KEK is not
/// covered.
///
/// # Safety
/// `keystore` must be NULL or point to `len` readable bytes; `private_key_path` must be NULL
/// or a NUL-terminated string; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_recover_from_env(
    keystore: *const u8,
    len: usize,
    private_key_path: *const c_char,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        open_handle(out, || {
            let doc = input(keystore, len, "keystore")?;
            let key = path_arg(private_key_path, "private_key_path")?;
            Crypt::recover_document_from_env(doc, key)
        })
    }
}

/// `recover` of the keystore file `keystore_path`, as `lkr_recover_from_env`; the file is
/// replaced atomically (temporary file, fsync, rename: a crash leaves the old or the new
/// keystore) once the new keystore is checked. Nothing is written when it is refused.
///
/// # Safety
/// `keystore_path` and `private_key_path` must be NULL or NUL-terminated strings; `out` must be
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_recover_file_from_env(
    keystore_path: *const c_char,
    private_key_path: *const c_char,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        open_handle(out, || {
            let path = path_arg(keystore_path, "keystore_path")?;
            let key = path_arg(private_key_path, "private_key_path")?;
            Crypt::recover_file_from_env(path, key)
        })
    }
}

/// Writes the keystore's recovery key hash (`key_sha256`: base64 of the SHA-256 of the public
/// key's DER SubjectPublicKeyInfo, 44 characters, no NUL) to `out`; `*out_len` = 0 when the
/// keystore has no recovery key.
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or point to `out_cap` writable bytes;
/// `out_len` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_recovery_key_sha256(
    c: *const LkrCrypt,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        text_out(c, out, out_cap, out_len, |c| {
            c.recovery_key_sha256().unwrap_or_default()
        })
    }
}

/// Writes the ids of the keystore's KEKs that its recovery key covers (`covered` != 0) or does
/// not cover (`covered` == 0; KEKs a lost CMK would lose) to `ids`, ascending; `*count`
/// receives how many (or how many are needed, with `LKR_ERR_BUFFER_TOO_SMALL`). Without a
/// recovery key no KEK is covered.
///
/// # Safety
/// `c` must be NULL or a live handle; `ids` must be NULL or point to `cap` writable `uint32_t`;
/// `count` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_recovery_kek_ids(
    c: *const LkrCrypt,
    covered: i32,
    ids: *mut u32,
    cap: usize,
    count: *mut usize,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let crypt = handle(c)?;
        if ids.is_null() && cap != 0 {
            return Err(Error::invalid(format!("ids is NULL but cap is {cap}")));
        }
        with_out_len(count, || {
            let list = crypt.recovery_kek_ids(covered != 0);
            if cap < list.len() {
                return Err(Error::buffer_too_small(list.len(), cap));
            }
            if !list.is_empty() {
                // SAFETY: non-null (cap >= len > 0) and `cap` writable u32s by the contract.
                std::slice::from_raw_parts_mut(ids, list.len()).copy_from_slice(&list);
            }
            Ok(list.len())
        })
    })
}
