//! The child process of `tests/fips.rs` (not a test of its own: `harness = false`, see
//! Cargo.toml): `a_library_failing_its_self_tests_does_not_load` runs this binary with
//! `LKR_TEST_LOAD_LIBRARY` naming a copy of the cdylib; it loads that library and calls its
//! `lkr_fips_mode`, printing `loaded, lkr_fips_mode() = <n>` and then `LKR-CHILD-DONE` — or
//! the module's self-tests abort it first.

mod common;

/// The child's work when `LKR_TEST_LOAD_LIBRARY` is set; nothing otherwise (`cargo test` runs
/// this target too).
fn main() {
    let Ok(lib) = std::env::var("LKR_TEST_LOAD_LIBRARY") else {
        return;
    };
    let c = std::ffi::CString::new(lib).unwrap();
    // SAFETY: loads a library and calls its `int32_t lkr_fips_mode(void)`.
    unsafe {
        let h = libc::dlopen(c.as_ptr(), libc::RTLD_NOW);
        assert!(!h.is_null(), "dlopen failed");
        let f = libc::dlsym(h, c"lkr_fips_mode".as_ptr());
        assert!(!f.is_null(), "no lkr_fips_mode");
        let f: extern "C" fn() -> i32 = std::mem::transmute(f);
        println!("loaded, lkr_fips_mode() = {}", f());
    }
    println!("{}", common::CHILD_DONE);
}
