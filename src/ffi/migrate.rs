//! Migration (docs/legacy.md): a legacy value, or an envelope of an older KEK, to an envelope v1
//! under the active KEK; the plaintext never leaves the library.

use super::boundary::{guard, handle, input, output, with_out_len};
use super::LkrCrypt;
use crate::error::Error;
use crate::{Crypt, MigrateOptions, Migrated};

/// An output size always large enough for `lkr_migrate` of a value of `len` bytes.
#[no_mangle]
pub extern "C" fn lkr_migrated_max_len(len: usize) -> usize {
    Crypt::migrated_max_len(len)
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
/// `LKR_MIGRATE_STRICT_V1`, or 0) and, when `outcome` is not NULL, what was done stored there:
/// `LKR_MIGRATED_FROM_LEGACY` (1) if a legacy value was migrated to an envelope v1,
/// `LKR_MIGRATED_ROTATED` (2) if an envelope v1 was re-encrypted from an older KEK to the active
/// one (`LKR_MIGRATE_REENCRYPT`), `LKR_MIGRATED_ALREADY_V1` (0) if it was an envelope v1 copied
/// unchanged.
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
    outcome: *mut i32,
) -> i32 {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let crypt = handle(c)?;
        let options = MigrateOptions::from_bits(flags).ok_or_else(|| {
            Error::invalid(format!("Unknown flags {flags:#x} for lkr_migrate_ex"))
        })?;
        let key_bytes = input(legacy_key, legacy_key_len, "legacy_key")?;
        let key = match key_bytes.len() {
            0 => None,
            _ => Some(crate::keys::legacy_key_from_bytes(key_bytes)?),
        };
        let value = input(value, len, "legacy")?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        let out = output(out, out_cap, &[value, ctx, key_bytes])?;
        let mut migrated = None;
        with_out_len(out_len, || {
            let m = crypt.migrate_into(value, ctx, key.as_ref(), options, out)?;
            migrated = Some(m);
            Ok(m.written())
        })?;
        if !outcome.is_null() {
            *outcome = migrated.map_or(Migrated::ALREADY_V1, Migrated::code);
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
    // SAFETY: the caller keeps this function's contract (# Safety above).
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
            // This function's contract: 1 when the engine rotated it (Migrated::Rotated).
            *changed = matches!(outcome, Some(Migrated::Rotated(_))) as i32;
        }
        Ok(())
    })
}
