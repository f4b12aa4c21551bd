//! The child process of `tests/kms/` (not a test of its own: `harness = false`, see
//! Cargo.toml): `tests/kms/environments.rs` runs this binary, found beside its own, with another
//! environment (no region, a server that is down or hangs, the C and environment entry points).
//! Each step is reported on stdout as a line `LKR-CHILD <json>`; `LKR-CHILD-DONE` comes last.

mod common;

use lkr_crypt::keys::aws_kms;
use lkr_crypt::{Crypt, ErrorKind};
use std::time::Instant;

const CTX: &[u8] = b"CONNECTION.PASSWORD:42";

fn step_json(name: &str, r: &lkr_crypt::Result<()>, t: Instant, requests_before: u64) {
    let (ok, kind, message) = match r {
        Ok(()) => (true, String::new(), String::new()),
        Err(e) => (false, e.kind().name().to_string(), e.message().to_string()),
    };
    println!(
        "LKR-CHILD {}",
        serde_json::json!({"step": name, "ok": ok, "kind": kind, "message": message,
            "ms": t.elapsed().as_secs_f64() * 1000.0,
            "requests": aws_kms::requests_sent() - requests_before})
    );
}

/// The child's work when `LKR_KMS_CHILD` is set; nothing otherwise (`cargo test` runs this
/// target too). Opens through the application's entry points, from the environment the parent
/// gave; a failed check panics, so the process exits non-zero.
fn main() {
    let Ok(mode) = std::env::var("LKR_KMS_CHILD") else {
        return;
    };
    let path = std::path::PathBuf::from(std::env::var("LKR_KMS_CHILD_KEYSTORE").unwrap());
    let open = |name: &str| {
        let (t, n) = (Instant::now(), aws_kms::requests_sent());
        let r = Crypt::open_from_env(&path);
        step_json(name, &r.as_ref().map(|_| ()).map_err(Clone::clone), t, n);
        r
    };
    match mode.as_str() {
        "fail" => {
            let _ = open("open");
        }
        "entry-points" => {
            let a = open("create").unwrap();
            let b = open("reopen").unwrap();
            let env = a.encrypt(b"entry", CTX).unwrap();
            assert_eq!(b.decrypt(&env, CTX).unwrap(), b"entry");
            let _ = open("reopen-warm");
            // The C entry point, from a thread the library has never seen.
            let p = path.clone();
            std::thread::spawn(move || {
                let (t, n) = (Instant::now(), aws_kms::requests_sent());
                let cpath = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
                let mut h: *mut lkr_crypt::ffi::LkrCrypt = std::ptr::null_mut();
                // SAFETY: a valid NUL-terminated path and a valid out pointer.
                let rc = unsafe { lkr_crypt::ffi::lkr_open_from_env(cpath.as_ptr(), &mut h) };
                let r = if rc == 0 {
                    Ok(())
                } else {
                    let mut buf = vec![0u8; 1024];
                    // SAFETY: buf has the capacity given.
                    let n =
                        unsafe { lkr_crypt::ffi::lkr_last_error(buf.as_mut_ptr().cast(), 1024) };
                    buf.truncate(n.min(1023));
                    Err(lkr_crypt::Error::new(
                        ErrorKind::Internal,
                        String::from_utf8_lossy(&buf).into_owned(),
                    ))
                };
                step_json("c-abi", &r, t, n);
                // SAFETY: h came from lkr_open_from_env (or is null).
                unsafe { lkr_crypt::ffi::lkr_close(h) };
            })
            .join()
            .unwrap();
            // From inside a tokio runtime's worker.
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let _ = open("in-runtime").unwrap();
            });
        }
        other => panic!("unknown LKR_KMS_CHILD mode {other}"),
    }
    println!("{}", common::CHILD_DONE);
}
