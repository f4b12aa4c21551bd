//! The C ABI (SPEC §8). This module only translates: raw pointers to slices, results to
//! status codes and this thread's last error message. Every export runs inside
//! [`guard`], so no Rust panic ever crosses the boundary.
//!
//! Conventions for every function returning `int32_t`: `LKR_OK` (0) on success, an
//! `LKR_ERR_*` code otherwise, with the message available from `lkr_last_error`. A NULL
//! pointer with length 0 means an empty input. When the output buffer is too small the call
//! returns `LKR_ERR_BUFFER_TOO_SMALL` and stores the size needed in `*out_len`.

use crate::error::{Error, ErrorKind, Result};
use crate::{Crypt, MigrateOptions, Migrated};
use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Success.
pub const LKR_OK: i32 = 0;
/// A NULL pointer, a bad length, overlapping buffers or another caller mistake.
pub const LKR_ERR_INVALID_ARGUMENT: i32 = 1;
/// The output buffer is too small: `*out_len` holds the size needed.
pub const LKR_ERR_BUFFER_TOO_SMALL: i32 = 2;
/// The value could not be authenticated (tampered, truncated, wrong context or keystore).
pub const LKR_ERR_NOT_AUTHENTIC: i32 = 3;
/// The envelope names a KEK id the keystore does not hold.
pub const LKR_ERR_UNKNOWN_KEK: i32 = 4;
/// Unknown envelope version or algorithm.
pub const LKR_ERR_UNSUPPORTED_FORMAT: i32 = 5;
/// The Customer Master Key configuration is wrong (see the message).
pub const LKR_ERR_MASTER_KEY: i32 = 6;
/// The keystore is missing, malformed or does not match the CMK.
pub const LKR_ERR_KEYSTORE: i32 = 7;
/// A legacy value did not decrypt, or the legacy key is missing or invalid.
pub const LKR_ERR_LEGACY: i32 = 8;
/// A file operation failed.
pub const LKR_ERR_IO: i32 = 9;
/// AWS KMS could not be used.
pub const LKR_ERR_KMS: i32 = 10;
/// Internal failure (a caught panic): please report it.
pub const LKR_ERR_INTERNAL: i32 = 11;

/// `lkr_migrate_ex` flag: the legacy plaintext must be valid UTF-8 (text columns).
pub const LKR_MIGRATE_REQUIRE_UTF8: u32 = 1;

/// `lkr_migrate_ex` flag: also re-encrypt envelopes v1 whose KEK is not the active one (after
/// `lkr_rotate_kek`), as `lkr_reencrypt` does.
pub const LKR_MIGRATE_REENCRYPT: u32 = 2;

/// `lkr_migrate_ex` flag: a value shaped like an envelope v1 of a KEK this keystore holds that
/// is not authentic under `ctx` fails with `LKR_ERR_NOT_AUTHENTIC` instead of being tried as a
/// legacy value (SPEC §7's default). Set it when migrating a database: with a wrong context,
/// AES-CBC would "decrypt" about one such envelope in 4096 into garbage.
pub const LKR_MIGRATE_STRICT_V1: u32 = 4;

/// An open keystore. Create it with `lkr_open_from_env` or `lkr_open_from_env_bytes`,
/// release it with `lkr_close`. Safe to share between threads; it must not be closed while
/// another thread still uses it.
pub struct LkrCrypt {
    inner: Crypt,
}

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
fn guard(body: impl FnOnce() -> Result<()>) -> i32 {
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
fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes that stay valid for `'a`.
unsafe fn input<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
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
unsafe fn output<'a>(ptr: *mut u8, cap: usize, inputs: &[&[u8]]) -> Result<&'a mut [u8]> {
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
unsafe fn handle<'a>(c: *const LkrCrypt) -> Result<&'a Crypt> {
    // SAFETY: the caller guarantees `c` is a live handle when non-null.
    unsafe { c.as_ref() }.map(|h| &h.inner).ok_or_else(|| {
        Error::invalid("The LkrCrypt handle is NULL: open one with lkr_open_from_env")
    })
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
unsafe fn with_out_len(out_len: *mut usize, op: impl FnOnce() -> Result<usize>) -> Result<()> {
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

fn boxed(crypt: Crypt) -> *mut LkrCrypt {
    Box::into_raw(Box::new(LkrCrypt { inner: crypt }))
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

/// A stable name for a status code, e.g. `"NOT_AUTHENTIC"` (a static string; do not free).
#[no_mangle]
pub extern "C" fn lkr_status_name(status: i32) -> *const c_char {
    let name: &'static CStr = match ErrorKind::from_code(status) {
        _ if status == LKR_OK => c"OK",
        Some(ErrorKind::InvalidArgument) => c"INVALID_ARGUMENT",
        Some(ErrorKind::BufferTooSmall) => c"BUFFER_TOO_SMALL",
        Some(ErrorKind::NotAuthentic) => c"NOT_AUTHENTIC",
        Some(ErrorKind::UnknownKek) => c"UNKNOWN_KEK",
        Some(ErrorKind::UnsupportedFormat) => c"UNSUPPORTED_FORMAT",
        Some(ErrorKind::MasterKey) => c"MASTER_KEY",
        Some(ErrorKind::Keystore) => c"KEYSTORE",
        Some(ErrorKind::Legacy) => c"LEGACY",
        Some(ErrorKind::Io) => c"IO",
        Some(ErrorKind::Kms) => c"KMS",
        Some(ErrorKind::Internal) => c"INTERNAL",
        None => c"UNKNOWN_STATUS",
    };
    name.as_ptr()
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
            Crypt::open_bytes_from_env((!ks.is_empty()).then_some(ks))
        })
    }
}

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
    guard(|| unsafe {
        let crypt = handle(c)?;
        let out = output(out, out_cap, &[])?;
        with_out_len(out_len, || {
            let json = crypt.keystore_json();
            if out.len() < json.len() {
                return Err(Error::buffer_too_small(json.len(), out.len()));
            }
            out[..json.len()].copy_from_slice(json.as_bytes());
            Ok(json.len())
        })
    })
}

/// Runs `op` on a handle and stores the new handle it returns in `*out`.
///
/// # Safety
/// `c` must be NULL or a live handle; `out` must be NULL or writable.
unsafe fn derive_handle(
    c: *const LkrCrypt,
    out: *mut *mut LkrCrypt,
    op: impl FnOnce(&Crypt) -> Result<Crypt>,
) -> i32 {
    // SAFETY: the same contract.
    unsafe { open_handle(out, || op(handle(c)?)) }
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

/// Reads a NUL-terminated UTF-8 path argument.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
unsafe fn path_arg<'a>(path: *const c_char, name: &str) -> Result<&'a Path> {
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

/// Opens a handle through `open` and stores it in `*out`.
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn open_handle(out: *mut *mut LkrCrypt, open: impl FnOnce() -> Result<Crypt>) -> i32 {
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

/// SPEC §9 `rekey` of a keystore file: opens `keystore_path` with the source CMK
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

/// SPEC §9 `rotate_kek` of a keystore file: opens `keystore_path` with the CMK of the
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
        unsafe { c.as_ref() }.map_or(0, |h| h.inner.active_kek_id())
    })
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

/// The largest context (`ctx_len`) any call accepts: 65536 bytes. A context names a value's
/// place (e.g. `CONNECTION.PASSWORD:42`); a larger one is `LKR_ERR_INVALID_ARGUMENT`, refused
/// before anything is allocated.
pub const LKR_MAX_CONTEXT: usize = 65536;
const _: () = assert!(LKR_MAX_CONTEXT == crate::limits::MAX_CONTEXT);

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

/// The envelope length for a plaintext of `plaintext_len` bytes (`plaintext_len + 69`), or 0
/// when the plaintext is too large for one record.
#[no_mangle]
pub extern "C" fn lkr_encrypted_len(plaintext_len: usize) -> usize {
    crate::format::envelope::sealed_len(plaintext_len).unwrap_or(0)
}

/// The plaintext length of an envelope of `envelope_len` bytes (`envelope_len - 69`), or 0
/// when it is shorter than an envelope.
#[no_mangle]
pub extern "C" fn lkr_decrypted_len(envelope_len: usize) -> usize {
    envelope_len.saturating_sub(crate::format::envelope::OVERHEAD)
}

/// An output size always large enough for `lkr_migrate` of a value of `len` bytes.
#[no_mangle]
pub extern "C" fn lkr_migrated_max_len(len: usize) -> usize {
    Crypt::migrated_max_len(len)
}

/// Encrypts `pt` bound to the context `ctx` into an envelope v1 in `out` (at least
/// `lkr_encrypted_len(pt_len)` bytes); `*out_len` receives its length.
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn lkr_encrypt(
    c: *const LkrCrypt,
    pt: *const u8,
    pt_len: usize,
    ctx: *const u8,
    ctx_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| unsafe {
        let crypt = handle(c)?;
        let pt = input(pt, pt_len, "pt")?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        let out = output(out, out_cap, &[pt, ctx])?;
        with_out_len(out_len, || crypt.encrypt_into(pt, ctx, out))
    })
}

/// Decrypts the envelope `env` bound to `ctx` into `out` (at least
/// `lkr_decrypted_len(env_len)` bytes); `*out_len` receives the plaintext's length. Returns
/// `LKR_ERR_NOT_AUTHENTIC` for any change, truncation, wrong context or wrong keystore.
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn lkr_decrypt(
    c: *const LkrCrypt,
    env: *const u8,
    env_len: usize,
    ctx: *const u8,
    ctx_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| unsafe {
        let crypt = handle(c)?;
        let env = input(env, env_len, "env")?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        let out = output(out, out_cap, &[env, ctx])?;
        with_out_len(out_len, || crypt.decrypt_into(env, ctx, out))
    })
}

/// Migrates a legacy value (IV ‖ AES-128-CBC ciphertext) to an envelope v1 bound to `ctx`,
/// with the legacy key from the environment; the plaintext never leaves the library. An
/// authentic v1 envelope under `ctx` is copied unchanged. `out` needs at most
/// `lkr_migrated_max_len(len)` bytes.
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn lkr_migrate(
    c: *const LkrCrypt,
    legacy: *const u8,
    len: usize,
    ctx: *const u8,
    ctx_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: the same contract.
    unsafe {
        lkr_migrate_ex(
            c,
            std::ptr::null(),
            0,
            0,
            legacy,
            len,
            ctx,
            ctx_len,
            out,
            out_cap,
            out_len,
            std::ptr::null_mut(),
        )
    }
}

/// `lkr_migrate` with the caller's legacy key (`legacy_key`, 16 bytes; NULL with length 0
/// uses the environment's), `flags` (any of `LKR_MIGRATE_REQUIRE_UTF8`, `LKR_MIGRATE_REENCRYPT`,
/// `LKR_MIGRATE_STRICT_V1`, or 0) and, when `reencrypted` is not NULL, stored there: 1 if the legacy value was
/// re-encrypted, 2 if an envelope v1 was re-encrypted from an older KEK to the active one
/// (`LKR_MIGRATE_REENCRYPT`), 0 if it was an envelope v1 copied unchanged.
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn lkr_migrate_ex(
    c: *const LkrCrypt,
    legacy_key: *const u8,
    legacy_key_len: usize,
    flags: u32,
    value: *const u8,
    len: usize,
    ctx: *const u8,
    ctx_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    reencrypted: *mut i32,
) -> i32 {
    guard(|| unsafe {
        let crypt = handle(c)?;
        if flags & !(LKR_MIGRATE_REQUIRE_UTF8 | LKR_MIGRATE_REENCRYPT | LKR_MIGRATE_STRICT_V1) != 0
        {
            return Err(Error::invalid(format!(
                "Unknown flags {flags:#x} for lkr_migrate_ex"
            )));
        }
        let key_bytes = input(legacy_key, legacy_key_len, "legacy_key")?;
        let key = match key_bytes.len() {
            0 => None,
            _ => Some(crate::keys::legacy_key_from_bytes(key_bytes)?),
        };
        let value = input(value, len, "legacy")?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        let out = output(out, out_cap, &[value, ctx, key_bytes])?;
        let options = MigrateOptions {
            require_utf8: flags & LKR_MIGRATE_REQUIRE_UTF8 != 0,
            reencrypt: flags & LKR_MIGRATE_REENCRYPT != 0,
            strict_v1: flags & LKR_MIGRATE_STRICT_V1 != 0,
        };
        let mut outcome = None;
        with_out_len(out_len, || {
            let m = crypt.migrate_into(value, ctx, key.as_ref(), options, out)?;
            outcome = Some(m);
            Ok(m.written())
        })?;
        if !reencrypted.is_null() {
            *reencrypted = match outcome {
                Some(Migrated::Reencrypted(_)) => 1,
                Some(Migrated::Rotated(_)) => 2,
                _ => 0,
            };
        }
        Ok(())
    })
}

/// Re-encryption to the active KEK (after `lkr_rotate_kek`): the envelope `env`, authentic
/// under `ctx`, is written to `out` (at least `env_len` bytes; the result has the same length)
/// encrypted with the active KEK; `*changed` (if not NULL) receives 1, or 0 when `env` was
/// already under the active KEK and was copied unchanged. The plaintext never leaves the
/// library. Returns `LKR_ERR_NOT_AUTHENTIC` when `env` is not authentic.
///
/// # Safety
/// Every pointer must be NULL or valid for its length; `out` must not overlap the inputs.
#[no_mangle]
pub unsafe extern "C" fn lkr_reencrypt(
    c: *const LkrCrypt,
    env: *const u8,
    env_len: usize,
    ctx: *const u8,
    ctx_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    changed: *mut i32,
) -> i32 {
    guard(|| unsafe {
        let crypt = handle(c)?;
        let env = input(env, env_len, "env")?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        let out = output(out, out_cap, &[env, ctx])?;
        let mut outcome = None;
        with_out_len(out_len, || {
            let m = crypt.reencrypt_into(env, ctx, out)?;
            outcome = Some(m);
            Ok(m.written())
        })?;
        if !changed.is_null() {
            *changed = matches!(outcome, Some(Migrated::Rotated(_))) as i32;
        }
        Ok(())
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
            .ok_or_else(Error::not_authentic)?;
        Ok(())
    })
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

/// Length of a stream header (SPEC §5).
pub const LKR_STREAM_HEADER_LEN: usize = 52;
/// Default stream segment size (plaintext bytes per segment).
pub const LKR_STREAM_DEFAULT_SEGMENT: usize = 65536;

/// An incremental stream encryption (SPEC §5), from `lkr_stream_encrypt_init`, released with
/// `lkr_stream_encryptor_free`. It holds its own derived key: the `LkrCrypt` handle may be
/// closed while it lives. Use it from one thread at a time.
pub struct LkrStreamEncryptor {
    inner: crate::format::stream::StreamEncryptor,
}

/// An incremental stream decryption (SPEC §5), from `lkr_stream_decrypt_init`, released with
/// `lkr_stream_decryptor_free`. Use it from one thread at a time.
pub struct LkrStreamDecryptor {
    inner: crate::format::stream::StreamDecryptor,
}

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
        let size = if segment_size == 0 {
            LKR_STREAM_DEFAULT_SEGMENT
        } else {
            segment_size
        };
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
