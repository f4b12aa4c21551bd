//! Keys as data (docs/native-interfaces.md): an `LkrMasterKey` made from bytes the application
//! holds, a KMS key it names, or the environment, and the handles opened with one. The checks
//! and messages are the engine's (`keys`), the same as the environment's (docs/keys.md).

use super::boundary::{guard, guard_value, input, path_arg};
use super::handle::open_handle;
use super::{LkrCrypt, LkrMasterKey};
use crate::error::{Error, Result};
use crate::keys::{self, MasterKey};
use crate::Crypt;
use std::ffi::{c_char, CStr};

/// Stores a new `LkrMasterKey` made by `make` in `*out` (NULL first, so that a failure leaves
/// NULL there).
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn new_key(out: *mut *mut LkrMasterKey, make: impl FnOnce() -> Result<MasterKey>) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        if out.is_null() {
            return Err(Error::invalid(
                "out is NULL: pass the address of an LkrMasterKey pointer",
            ));
        }
        *out = std::ptr::null_mut();
        *out = Box::into_raw(Box::new(LkrMasterKey { inner: make()? }));
        Ok(())
    })
}

/// Reads an optional NUL-terminated UTF-8 string argument (NULL: `None`).
///
/// # Safety
/// `s` must be NULL or a NUL-terminated string.
unsafe fn text_arg<'a>(s: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if s.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map(Some)
        .map_err(|_| Error::invalid(format!("{name} is not valid UTF-8")))
}

/// # Safety
/// `key` must be NULL or a live `LkrMasterKey`.
unsafe fn master<'a>(key: *const LkrMasterKey) -> Result<&'a MasterKey> {
    // SAFETY: the caller guarantees `key` is a live key when non-null.
    unsafe { key.as_ref() }.map(|k| &k.inner).ok_or_else(|| {
        Error::invalid("The LkrMasterKey is NULL: make one with lkr_master_key_local, lkr_master_key_aws_kms or lkr_master_key_from_env")
    })
}

/// A local CMK from the application: `key`/`len` must be exactly 32 raw bytes (otherwise
/// `LKR_ERR_MASTER_KEY`, "Size of the Master Key is invalid it must be 32 bytes however is
/// X"). The bytes are copied into memory wiped when the key is freed; the caller may wipe its
/// copy at once. On success `*out` receives a key to release with `lkr_master_key_free`.
///
/// # Safety
/// `key` must be NULL or point to `len` readable bytes; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_master_key_local(
    key: *const u8,
    len: usize,
    out: *mut *mut LkrMasterKey,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        new_key(out, || {
            if key.is_null() {
                return Err(Error::invalid("key is NULL: give the 32 bytes of the CMK"));
            }
            keys::master_key_from_bytes(input(key, len, "key")?)
        })
    }
}

/// An AWS KMS CMK: `key_id` is `alias/<name>`, a key id or a key ARN; `region` its AWS region
/// (NULL or empty: the AWS SDK's chain, `AWS_REGION`); `context` the encryption context string
/// (NULL or empty: the default, `Looker_Encryption_Context`). KMS is not called here: it is
/// reached when a keystore is opened or created with the key. Credentials, endpoint and
/// retries follow the AWS SDK's chain (docs/keys.md).
///
/// # Safety
/// `key_id`, `region` and `context` must be NULL or NUL-terminated strings; `out` must be
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_master_key_aws_kms(
    key_id: *const c_char,
    region: *const c_char,
    context: *const c_char,
    out: *mut *mut LkrMasterKey,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        new_key(out, || {
            let id = text_arg(key_id, "key_id")?.ok_or_else(|| {
                Error::invalid("key_id is NULL: give alias/<name>, a key id or a key ARN")
            })?;
            keys::aws_kms_master_key(
                id,
                text_arg(region, "region")?,
                text_arg(context, "context")?,
            )
        })
    }
}

/// The CMK the environment chooses (docs/keys.md): exactly one of `LKR_MASTER_KEY_ENV`,
/// `LKR_MASTER_KEY_FILE` or `LKR_AWS_CMK` (and `LKR_AWS_CMK_EC`), each name with `suffix`
/// appended: NULL (or `""`), `"_SOURCE"` or `"_DESTINATION"`. Read and checked now.
///
/// # Safety
/// `suffix` must be NULL or a NUL-terminated string; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_master_key_from_env(
    suffix: *const c_char,
    out: *mut *mut LkrMasterKey,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        new_key(out, || {
            let suffix = text_arg(suffix, "suffix")?.unwrap_or("");
            keys::check_suffix(suffix)?;
            keys::master_key_from(&keys::process_env, suffix)
        })
    }
}

/// Releases a key, wiping its bytes. `lkr_master_key_free(NULL)` does nothing. Handles opened
/// with the key keep their own copy: the key may be freed as soon as they are open.
///
/// # Safety
/// `key` must be NULL or a key from `lkr_master_key_*` that no other thread still uses and
/// that is not freed twice.
#[no_mangle]
pub unsafe extern "C" fn lkr_master_key_free(key: *mut LkrMasterKey) {
    if !key.is_null() {
        guard_value((), || {
            // SAFETY: the caller gives up a key created by `new_key`.
            drop(unsafe { Box::from_raw(key) });
        });
    }
}

/// Like `lkr_open_from_env`, with the CMK `key` instead of the environment's: opens the
/// keystore file at `keystore_path`, created when missing (KEK id 1), and the legacy key from
/// `LKR_LEGACY_KEY_ENV` / `LKR_LEGACY_KEY_FILE` if set. On success `*out` receives a handle to
/// release with `lkr_close`.
///
/// # Safety
/// `key` must be NULL or a live `LkrMasterKey`; `keystore_path` must be NULL or a
/// NUL-terminated string; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_open(
    key: *const LkrMasterKey,
    keystore_path: *const c_char,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        open_handle(out, || {
            let master = master(key)?.clone();
            Crypt::open_with_key(path_arg(keystore_path, "keystore_path")?, master)
        })
    }
}

/// Like `lkr_open_from_env_bytes`, with the CMK `key`: `keystore`/`keystore_len` is the
/// keystore document the application keeps; NULL with length 0 creates a new keystore in
/// memory — store what `lkr_export_keystore` returns.
///
/// # Safety
/// `key` must be NULL or a live `LkrMasterKey`; `keystore` must be NULL or point to
/// `keystore_len` readable bytes; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lkr_open_bytes(
    key: *const LkrMasterKey,
    keystore: *const u8,
    keystore_len: usize,
    out: *mut *mut LkrCrypt,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        open_handle(out, || {
            let master = master(key)?.clone();
            let ks = input(keystore, keystore_len, "keystore")?;
            Crypt::open_bytes_with_key((!ks.is_empty()).then_some(ks), master)
        })
    }
}
