//! The child process of `tests/secret_hygiene/c_abi.rs` (not a test of its own: `harness =
//! false`, see Cargo.toml): `no_c_abi_message_shows_a_key` runs this binary once per case, with
//! the keys of the case in the environment (`LKR_MASTER_KEY_ENV`, ...), `LKR_HYGIENE_CHILD` the
//! case number, `LKR_HYGIENE_SECRETS` the keys to look for (hex, comma-separated) and
//! `LKR_HYGIENE_DIR` the directory of the keystores. It drives the C ABI's error paths and
//! checks every `lkr_last_error` message with the same [`Checker`] as the tests.

#[path = "secret_hygiene/checker.rs"]
mod checker;
mod common;

use checker::{b64, Checker, CMK, CTX, LEGACY};
use lkr_crypt::ffi::*;
use std::ptr::{null, null_mut};

fn last_error() -> String {
    // SAFETY: NULL with cap 0, then a buffer of the reported size.
    let n = unsafe { lkr_last_error(null_mut(), 0) };
    let mut buf = vec![0u8; n + 1];
    // SAFETY: `buf` holds n + 1 bytes.
    unsafe { lkr_last_error(buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(n);
    String::from_utf8(buf).unwrap()
}

/// The child's work when `LKR_HYGIENE_CHILD` (the case number) is set; nothing otherwise
/// (`cargo test` runs this target too). A failed check panics, so the process exits non-zero.
fn main() {
    let Ok(case) = std::env::var("LKR_HYGIENE_CHILD") else {
        return;
    };
    let case: usize = case.parse().unwrap();
    let dir = std::path::PathBuf::from(std::env::var("LKR_HYGIENE_DIR").unwrap());
    let mut chk = Checker::new(&[]);
    for s in std::env::var("LKR_HYGIENE_SECRETS").unwrap().split(',') {
        chk.add_secret("key", &hex::decode(s).unwrap());
    }
    let mut expect_fail = |what: &str, rc: i32| {
        assert_ne!(rc, LKR_OK, "{what}: expected a failure");
        chk.check(what, &last_error());
    };
    let ks = std::ffi::CString::new(dir.join(format!("ks{case}.json")).to_str().unwrap()).unwrap();
    let other = std::ffi::CString::new(dir.join("other.json").to_str().unwrap()).unwrap();
    let mut h: *mut LkrCrypt = null_mut();
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse (so are the calls below).
    let rc = unsafe { lkr_open_from_env(ks.as_ptr(), &mut h) };
    if case == 6 {
        assert_eq!(rc, LKR_OK, "{}", last_error());
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe { lkr_rekey_from_env(h, &mut null_mut()) };
        expect_fail("rekey to a bad destination CMK", rc);
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        unsafe { lkr_close(h) };
        println!("{}", common::CHILD_DONE);
        return;
    }
    if case != 0 {
        expect_fail("lkr_open_from_env", rc);
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe { lkr_open_from_env_bytes(null(), 0, &mut h) };
        expect_fail("lkr_open_from_env_bytes", rc);
        println!("{}", common::CHILD_DONE);
        return;
    }
    assert_eq!(rc, LKR_OK, "{}", last_error());
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_open_from_env(other.as_ptr(), &mut null_mut()) };
    expect_fail("wrong CMK for the keystore", rc);
    let cmk_text = b64(&CMK);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_open_from_env_bytes(cmk_text.as_ptr(), cmk_text.len(), &mut null_mut()) };
    expect_fail("the CMK given as the keystore", rc);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_rekey_from_env(h, &mut null_mut()) };
    expect_fail("rekey without a destination", rc);

    let pt = b"hunter2";
    let mut env = vec![0u8; pt.len() + 69];
    let mut n = 0usize;
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe {
        lkr_encrypt(
            h,
            pt.as_ptr(),
            pt.len(),
            CTX.as_ptr(),
            CTX.len(),
            env.as_mut_ptr(),
            env.len(),
            &mut n,
        )
    };
    assert_eq!(rc, LKR_OK);
    let mut out = vec![0u8; 100];
    for i in [0usize, 4, 5, 8, 20, 60, 70, 75] {
        let mut t = env.clone();
        t[i] ^= 1;
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe {
            lkr_decrypt(
                h,
                t.as_ptr(),
                t.len(),
                CTX.as_ptr(),
                CTX.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        };
        expect_fail("lkr_decrypt tampered", rc);
    }
    for (cap, what) in [
        (1, "lkr_decrypt small buffer"),
        (out.len(), "lkr_decrypt wrong context"),
    ] {
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe {
            lkr_decrypt(
                h,
                env.as_ptr(),
                env.len(),
                null(),
                0,
                out.as_mut_ptr(),
                cap,
                &mut n,
            )
        };
        expect_fail(what, rc);
    }
    for value in [vec![0u8; 31], vec![0u8; 48], LEGACY.repeat(3), CMK.to_vec()] {
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe {
            lkr_migrate(
                h,
                value.as_ptr(),
                value.len(),
                null(),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        };
        expect_fail("lkr_migrate", rc);
    }
    for key in [&LEGACY[..15], &CMK[..], &[0x11u8; 16][..]] {
        let v = LEGACY.repeat(3);
        // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
        let rc = unsafe {
            lkr_migrate_ex(
                h,
                key.as_ptr(),
                key.len(),
                LKR_MIGRATE_REQUIRE_UTF8,
                v.as_ptr(),
                v.len(),
                null(),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                null_mut(),
            )
        };
        expect_fail("lkr_migrate_ex", rc);
    }
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_encrypt(h, null(), 5, null(), 0, out.as_mut_ptr(), out.len(), &mut n) };
    expect_fail("lkr_encrypt NULL", rc);
    let mut dec: *mut LkrStreamDecryptor = null_mut();
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_stream_decrypt_init(h, CMK.as_ptr(), CMK.len(), null(), 0, &mut dec) };
    expect_fail("lkr_stream_decrypt_init", rc);
    let mut enc: *mut LkrStreamEncryptor = null_mut();
    let mut hdr = [0u8; 52];
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe {
        lkr_stream_encrypt_init(
            h,
            null(),
            0,
            7,
            hdr.as_mut_ptr(),
            hdr.len(),
            &mut n,
            &mut enc,
        )
    };
    expect_fail("lkr_stream_encrypt_init", rc);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    let rc = unsafe { lkr_retire_kek(h, 1, &mut null_mut()) };
    expect_fail("lkr_retire_kek active", rc);
    // SAFETY: valid pointers and lengths, or NULLs the ABI must refuse.
    unsafe { lkr_close(h) };
    println!("{}", common::CHILD_DONE);
}
