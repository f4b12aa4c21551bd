//! The FIPS build (docs/fips.md): the module runs in FIPS mode, and which of lkr-crypt's
//! operations AWS-LC's service indicator reports as approved services. Built and run only with
//! `--no-default-features --features fips`.
#![cfg(feature = "fips")]

mod common;

use lkr_crypt::aead::{aes128_cbc_decrypt, Aes256Gcm, TAG_LEN};
use lkr_crypt::kdf::KekDeriver;
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::{Key128, Key256};
use lkr_crypt::Crypt;
use std::process::Command;

/// True when `op` ran an approved service of the module, on this thread (AWS-LC's service
/// indicator counts approved services per thread).
fn approved(op: impl FnOnce()) -> bool {
    // SAFETY: the indicator functions only read this thread's counter.
    let before = unsafe { aws_lc_fips_sys::FIPS_service_indicator_before_call() };
    op();
    // SAFETY: as above.
    let after = unsafe { aws_lc_fips_sys::FIPS_service_indicator_after_call() };
    after != before
}

#[test]
fn the_module_runs_in_fips_mode() {
    assert!(lkr_crypt::fips::mode());
    assert_eq!(lkr_crypt::ffi::lkr_fips_mode(), 1);
    // SAFETY: no arguments.
    assert_eq!(unsafe { aws_lc_fips_sys::FIPS_mode() }, 1);
    assert!(Crypt::create(MasterKey::Local(Key256::random())).is_ok());
}

#[test]
fn data_keys_are_an_approved_kdf() {
    let d = KekDeriver::new(1, &Key256::new([7; 32]));
    assert!(approved(|| {
        d.record_key(&[9; 32]);
    }));
}

#[test]
fn salts_nonces_and_keys_come_from_the_approved_drbg() {
    // Salts and nonces come through a per-thread pool of 4096 bytes (src/rng.rs): 100 records'
    // worth refill it at least once.
    let mut salt_nonce = [0u8; 44];
    assert!(approved(|| {
        for _ in 0..100 {
            lkr_crypt::rng::fill(&mut salt_nonce);
        }
    }));
    assert!(approved(|| {
        Key256::random();
    }));
}

#[test]
fn gcm_decryption_is_approved() {
    let k = Aes256Gcm::new(&Key256::new([1; 32]));
    let nonce = [2u8; 12];
    let mut sealed = vec![0u8; 64 + TAG_LEN];
    k.seal_into(&nonce, b"ad", &[5; 64], &mut sealed);
    let mut out = vec![0u8; 64];
    assert!(approved(|| k
        .open_into(&nonce, b"ad", &sealed, &mut out)
        .unwrap()));
}

/// docs/fips.md: the module approves AES-GCM *encryption* only with an IV it generates itself;
/// the formats put the nonce in the additional data (records) or build it from a counter
/// (streams), so it is drawn first (from the module's DRBG) and passed in. If this starts
/// failing, AWS-LC changed its indicator: update docs/fips.md.
#[test]
fn gcm_encryption_with_a_given_nonce_is_not_an_approved_service() {
    let k = Aes256Gcm::new(&Key256::new([1; 32]));
    let mut sealed = vec![0u8; 64 + TAG_LEN];
    assert!(!approved(|| k.seal_into(
        &[2; 12],
        b"ad",
        &[5; 64],
        &mut sealed
    )));
}

#[test]
fn legacy_cbc_decryption_is_approved() {
    // A legacy value made with the module's own CBC encryption; only the decryption is watched.
    use aws_lc_rs::cipher::{
        EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey, AES_128,
    };
    let key =
        PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_128, &[3; 16]).unwrap())
            .unwrap();
    let mut buf = b"legacy password".to_vec();
    key.less_safe_encrypt(&mut buf, EncryptionContext::Iv128([4u8; 16].into()))
        .unwrap();
    let mut n = 0;
    assert!(approved(|| {
        n = aes128_cbc_decrypt(&Key128::new([3; 16]), &[4; 16], &mut buf).unwrap();
    }));
    assert_eq!(&buf[..n], b"legacy password");
}

/// Runs `tool args…` and returns its stdout (binutils: `nm`, `readelf`).
fn tool(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("this test needs `{tool}` (binutils), which cannot be run ({e}): install binutils")
    });
    assert!(out.status.success(), "{tool} {args:?} failed");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The file offset of symbol `name` of the ELF file `path` (an allocated section).
fn file_offset(path: &str, name: &str) -> usize {
    let addr = tool("nm", &[path])
        .lines()
        .find_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
            [a, _, n] if n == name => u64::from_str_radix(a, 16).ok(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{path} has no symbol {name}"));
    // `[Nr] Name Type Address Off Size …`: the allocated section holding `addr`.
    tool("readelf", &["-SW", path])
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(']').nth(1)?.split_whitespace().collect();
            let hex = |i: usize| u64::from_str_radix(f.get(i)?, 16).ok();
            Some((hex(2)?, hex(3)?, hex(4)?))
        })
        .find(|&(a, _, size)| a != 0 && a <= addr && addr < a + size)
        .map(|(a, off, _)| (off + addr - a) as usize)
        .unwrap_or_else(|| panic!("no section of {path} holds {name}"))
}

/// A FIPS library whose module fails its power-on self-tests never runs: with one bit of the
/// module's integrity hash flipped in a copy of this build's cdylib, loading the copy (in the
/// `fips_child` process, tests/fips_child.rs) aborts the process with AWS-LC's message before
/// any lkr-crypt code can run (so no open can succeed). The unchanged library loads and reports
/// FIPS mode.
#[test]
fn a_library_failing_its_self_tests_does_not_load() {
    let (dir, name) = common::cdylib_dir();
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.so");
    let bad = tmp.path().join("bad.so");
    std::fs::copy(dir.join(&name), &good).unwrap();
    let at = file_offset(good.to_str().unwrap(), "BORINGSSL_bcm_text_hash");
    let mut bytes = std::fs::read(&good).unwrap();
    bytes[at] ^= 1;
    std::fs::write(&bad, bytes).unwrap();

    let load = |lib: &std::path::Path| {
        let mut cmd = Command::new(common::child_exe("fips_child"));
        cmd.env("LKR_TEST_LOAD_LIBRARY", lib);
        cmd
    };
    let stdout = common::child_stdout(&mut load(&good), "the unchanged library");
    assert!(stdout.contains("loaded, lkr_fips_mode() = 1"), "{stdout}");

    let failed = load(&bad).output().unwrap();
    let stdout = String::from_utf8_lossy(&failed.stdout);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        failed.status.signal(),
        Some(libc::SIGABRT),
        "{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("loaded"), "{stdout}");
    assert!(stderr.contains("FIPS integrity test failed"), "{stderr}");
}
