//! Records (docs/envelope.md): encrypting a value bound to its context into an envelope v1 and back,
//! and the sizes of both.

use super::boundary::{guard, handle, input, output, with_out_len};
use super::LkrCrypt;

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
    crate::format::envelope::opened_len(envelope_len)
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
    // SAFETY: the caller keeps this function's contract (# Safety above).
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
    // SAFETY: the caller keeps this function's contract (# Safety above).
    guard(|| unsafe {
        let crypt = handle(c)?;
        let env = input(env, env_len, "env")?;
        let ctx = input(ctx, ctx_len, "ctx")?;
        let out = output(out, out_cap, &[env, ctx])?;
        with_out_len(out_len, || crypt.decrypt_into(env, ctx, out))
    })
}
