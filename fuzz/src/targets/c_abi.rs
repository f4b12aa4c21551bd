use crate::{c_handle, crypt, Input, LEGACY_KEY};
use lkr_crypt::ffi::*;
use std::ptr;

/// A flag `lkr_migrate_ex` does not know (it must refuse it).
const UNKNOWN_FLAG: u32 = 8;

/// An output buffer per `mode`: NULL with cap 0, exact, one short, larger, or tiny.
fn out_buf(mode: u8, needed: usize) -> Option<Vec<u8>> {
    match mode % 5 {
        0 => None,
        1 => Some(vec![0u8; needed]),
        2 => Some(vec![0u8; needed.saturating_sub(1)]),
        3 => Some(vec![0u8; needed + (mode as usize >> 3)]),
        _ => Some(vec![0u8; mode as usize >> 3]),
    }
}

fn ptr_of(v: &[u8]) -> *const u8 {
    if v.is_empty() {
        ptr::null()
    } else {
        v.as_ptr()
    }
}

fn last_error_len() -> usize {
    // SAFETY: NULL with cap 0 is allowed.
    unsafe { lkr_last_error(ptr::null_mut(), 0) }
}

type Op = unsafe extern "C" fn(
    *const LkrCrypt,
    *const u8,
    usize,
    *const u8,
    usize,
    *mut u8,
    usize,
    *mut usize,
) -> i32;

/// Calls `f` with `input`/`ctx` and an output per `mode`; checks the status conventions;
/// on BUFFER_TOO_SMALL retries with the size reported. Returns the status and the output.
fn call(f: Op, input: &[u8], ctx: &[u8], mode: u8, needed: usize) -> (i32, Vec<u8>) {
    let h = c_handle();
    let mut out = out_buf(mode, needed);
    let (op, cap) = match &mut out {
        Some(v) => (
            if v.is_empty() {
                ptr::null_mut()
            } else {
                v.as_mut_ptr()
            },
            v.len(),
        ),
        None => (ptr::null_mut(), 0),
    };
    let mut out_len = usize::MAX;
    // SAFETY: every pointer is NULL with length 0 or valid for its length.
    let rc = unsafe {
        f(
            h,
            ptr_of(input),
            input.len(),
            ptr_of(ctx),
            ctx.len(),
            op,
            cap,
            &mut out_len,
        )
    };
    assert!((0..=10).contains(&rc), "status {rc}");
    match rc {
        LKR_OK => {
            assert!(out_len <= cap);
            let v = out.unwrap_or_default();
            (rc, v[..out_len].to_vec())
        }
        LKR_ERR_BUFFER_TOO_SMALL => {
            assert!(
                out_len > cap && out_len <= needed,
                "needed {out_len}, cap {cap}, max {needed}"
            );
            let mut v = vec![0u8; out_len];
            let mut n = usize::MAX;
            // SAFETY: as above.
            let rc = unsafe {
                f(
                    h,
                    ptr_of(input),
                    input.len(),
                    ptr_of(ctx),
                    ctx.len(),
                    v.as_mut_ptr(),
                    v.len(),
                    &mut n,
                )
            };
            assert!(
                rc != LKR_ERR_BUFFER_TOO_SMALL && (0..=10).contains(&rc),
                "retry: {rc}"
            );
            if rc == LKR_OK {
                assert_eq!(n, v.len());
            } else {
                assert!(last_error_len() > 0);
            }
            (rc, v)
        }
        _ => {
            assert!(last_error_len() > 0, "a failure leaves a message");
            if let Some(v) = &out {
                assert!(v.iter().all(|&b| b == 0), "output written on failure");
            }
            (rc, Vec::new())
        }
    }
}

/// Contexts around the 64 KiB limit (`LKR_MAX_CONTEXT`): over it, every call refuses with
/// INVALID_ARGUMENT before allocating; at or under it, they work.
fn large_context(input: &mut Input<'_>) {
    let size = LKR_MAX_CONTEXT - 64 + input.u8() as usize % 128;
    let ctx = vec![input.u8(); size];
    let pt = input.short().to_vec();
    let over = size > LKR_MAX_CONTEXT;
    let env = crypt().encrypt(&pt, b"").expect("encrypts");
    for (f, value, needed) in [
        (lkr_encrypt as Op, &pt, lkr_encrypted_len(pt.len())),
        (lkr_decrypt, &env, lkr_decrypted_len(env.len())),
        (lkr_migrate, &env, lkr_migrated_max_len(env.len())),
    ] {
        let (rc, _) = call(f, value, &ctx, 1, needed);
        if over {
            assert_eq!(rc, LKR_ERR_INVALID_ARGUMENT, "a {size}-byte context");
        } else {
            assert_ne!(rc, LKR_ERR_INVALID_ARGUMENT, "a {size}-byte context");
        }
    }
}

fn run_one(input: &mut Input<'_>) {
    let op = input.u8();
    if op >= 0xF0 {
        return large_context(input);
    }
    match op % 7 {
        0 => {
            let pt = input.long().to_vec();
            let ctx = input.short().to_vec();
            let mode = input.u8();
            let (rc, env) = call(lkr_encrypt, &pt, &ctx, mode, lkr_encrypted_len(pt.len()));
            assert_eq!(rc, LKR_OK, "encrypt never fails with a valid handle");
            assert_eq!(crypt().decrypt(&env, &ctx).expect("opens"), pt);
        }
        1 => {
            let env = input.long().to_vec();
            let ctx = input.short().to_vec();
            let mode = input.u8();
            let (rc, pt) = call(lkr_decrypt, &env, &ctx, mode, lkr_decrypted_len(env.len()));
            let rust = crypt().decrypt(&env, &ctx);
            assert_eq!(rc == LKR_OK, rust.is_ok());
            match rust {
                Ok(p) => assert_eq!(p, pt),
                Err(e) => assert_eq!(rc, e.kind().code()),
            }
        }
        2 => {
            let value = input.long().to_vec();
            let ctx = input.short().to_vec();
            let mode = input.u8();
            let (rc, env) = call(
                lkr_migrate,
                &value,
                &ctx,
                mode,
                lkr_migrated_max_len(value.len()),
            );
            let rust = crypt().migrate(&value, &ctx);
            assert_eq!(rc == LKR_OK, rust.is_ok());
            if rc == LKR_OK {
                // Same plaintext (fresh salt and nonce, so compare what they open to).
                assert_eq!(
                    crypt().decrypt(&env, &ctx).expect("opens"),
                    crypt().decrypt(&rust.unwrap(), &ctx).expect("opens")
                );
            }
        }
        3 => {
            let key_mode = input.u8();
            // The top two bits: bit 6 is LKR_MIGRATE_REQUIRE_UTF8, bit 7 an unknown flag (8;
            // 2 is LKR_MIGRATE_REENCRYPT, which the fixed one-KEK keystore cannot exercise, and
            // 4 LKR_MIGRATE_STRICT_V1).
            let f = input.u8() >> 6;
            let flags = u32::from(f & 1) | if f & 2 == 2 { UNKNOWN_FLAG } else { 0 };
            let value = input.long().to_vec();
            let ctx = input.short().to_vec();
            let cap_extra = input.u8() as usize;
            let key: Vec<u8> = match key_mode % 4 {
                0 => Vec::new(),
                1 => LEGACY_KEY.to_vec(),
                2 => input.short().to_vec(),
                _ => vec![0u8; 16],
            };
            let null_key_len = key_mode % 4 == 3 && key_mode & 4 == 4;
            let mut out = vec![0u8; value.len() + cap_extra];
            let mut out_len = usize::MAX;
            let mut outcome = -1i32;
            // SAFETY: valid pointers and lengths; a NULL key with a length must be refused.
            let rc = unsafe {
                lkr_migrate_ex(
                    c_handle(),
                    if null_key_len {
                        ptr::null()
                    } else {
                        ptr_of(&key)
                    },
                    key.len(),
                    flags,
                    ptr_of(&value),
                    value.len(),
                    ptr_of(&ctx),
                    ctx.len(),
                    if out.is_empty() {
                        ptr::null_mut()
                    } else {
                        out.as_mut_ptr()
                    },
                    out.len(),
                    &mut out_len,
                    if key_mode & 8 == 8 {
                        ptr::null_mut()
                    } else {
                        &mut outcome
                    },
                )
            };
            assert!((0..=10).contains(&rc), "status {rc}");
            if null_key_len || flags & UNKNOWN_FLAG != 0 {
                assert_eq!(rc, LKR_ERR_INVALID_ARGUMENT);
            }
            if !key.is_empty() && key.len() != 16 && !null_key_len && flags & UNKNOWN_FLAG == 0 {
                assert_eq!(rc, LKR_ERR_LEGACY);
            }
            if rc == LKR_OK {
                assert!(out_len <= out.len());
                if key_mode & 8 == 0 {
                    assert!(
                        outcome == LKR_MIGRATED_ALREADY_V1 || outcome == LKR_MIGRATED_FROM_LEGACY
                    );
                    assert_eq!(
                        outcome == LKR_MIGRATED_ALREADY_V1,
                        out[..out_len] == value[..]
                    );
                }
            } else {
                assert!(last_error_len() > 0);
            }
        }
        4 => {
            let cap = input.u8() as usize % 80;
            let full = last_error_len();
            let mut buf = vec![0x55u8; cap];
            // SAFETY: `buf` holds `cap` bytes (NULL when 0).
            let n = unsafe {
                lkr_last_error(
                    if cap == 0 {
                        ptr::null_mut()
                    } else {
                        buf.as_mut_ptr().cast()
                    },
                    cap,
                )
            };
            assert_eq!(n, full);
            if cap > 0 {
                let k = n.min(cap - 1);
                assert_eq!(buf[k], 0, "NUL-terminated");
            }
        }
        5 => {
            // NULL pointers with non-zero lengths, NULL out_len, NULL handle.
            let which = input.u8();
            let len = input.u8() as usize + 1;
            let data = vec![1u8; len];
            let mut out = vec![0u8; len + 100];
            let mut out_len = 0usize;
            let (h, pt, ol): (*const LkrCrypt, *const u8, *mut usize) = match which % 3 {
                0 => (ptr::null(), data.as_ptr(), &mut out_len),
                1 => (c_handle(), ptr::null(), &mut out_len),
                _ => (c_handle(), data.as_ptr(), ptr::null_mut()),
            };
            for f in [lkr_encrypt as Op, lkr_decrypt, lkr_migrate] {
                // SAFETY: NULL pointers must be refused, the others are valid.
                let rc = unsafe { f(h, pt, len, ptr::null(), 0, out.as_mut_ptr(), out.len(), ol) };
                assert_eq!(rc, LKR_ERR_INVALID_ARGUMENT);
                assert!(last_error_len() > 0);
            }
            // out NULL with a capacity.
            // SAFETY: a NULL out with a capacity must be refused.
            let rc = unsafe {
                lkr_encrypt(
                    c_handle(),
                    data.as_ptr(),
                    len,
                    ptr::null(),
                    0,
                    ptr::null_mut(),
                    500,
                    &mut out_len,
                )
            };
            assert_eq!(rc, LKR_ERR_INVALID_ARGUMENT);
        }
        _ => {
            // Overlapping input and output are refused.
            let len = input.u8() as usize + 70;
            let shift = input.u8() as usize % len;
            let mut buf = vec![7u8; 2 * len + 100];
            let mut out_len = 0usize;
            let p = buf.as_mut_ptr();
            // SAFETY: both ranges lie inside `buf`; the overlap must be refused before any use.
            let rc = unsafe {
                lkr_encrypt(
                    c_handle(),
                    p,
                    len,
                    ptr::null(),
                    0,
                    p.add(shift),
                    len + 69,
                    &mut out_len,
                )
            };
            assert_eq!(rc, LKR_ERR_INVALID_ARGUMENT);
        }
    }
}

/// The record functions of the C ABI (docs/native-interfaces.md) with arbitrary lengths, NULL pointers and
/// output capacities (exact, one short, larger, tiny, NULL): `lkr_encrypt`, `lkr_decrypt`,
/// `lkr_migrate`, `lkr_migrate_ex`, `lkr_last_error`. Every buffer is its own exact-size heap
/// allocation, so AddressSanitizer sees any access beyond a length or capacity.
///
/// Input: a sequence of operations `op: u8 ‖ fields`, see `run_one`.
pub fn c_abi(data: &[u8]) {
    let mut input = Input(data);
    let mut ops = 0;
    while !input.is_empty() && ops < 16 {
        run_one(&mut input);
        ops += 1;
    }
}
