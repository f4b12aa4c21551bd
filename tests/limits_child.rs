//! The child process of `tests/limits.rs` (not a test of its own: `harness = false`, see
//! Cargo.toml): `the_variable_sets_the_maximum` runs this binary with `LKR_MAX_RECORD_SIZE` and
//! `LKR_LIMITS_CHILD` set to the value under test. A failed check panics, so the process exits
//! non-zero; the parent sees `LKR-CHILD-DONE` last when every check passed.

mod common;

use common::assert_too_large;
use lkr_crypt::limits::ENV_MAX_RECORD_SIZE;
use lkr_crypt::{Crypt, ErrorKind};

/// The child's work when `LKR_LIMITS_CHILD` is set; nothing otherwise (`cargo test` runs this
/// target too).
fn main() {
    let Ok(value) = std::env::var("LKR_LIMITS_CHILD") else {
        return;
    };
    let r = Crypt::create(common::local_cmk());
    if value == "1000" {
        let c = r.expect("a valid LKR_MAX_RECORD_SIZE");
        assert_eq!(c.max_record_size(), 1000);
        c.encrypt(&[0u8; 1000], b"").unwrap();
        assert_too_large(&c.encrypt(&[0u8; 1001], b"").unwrap_err());
        // Handles derived from this one keep the process's maximum.
        assert_eq!(c.rotate_kek().unwrap().max_record_size(), 1000);
    } else {
        let e = r.expect_err("an invalid LKR_MAX_RECORD_SIZE is refused at open");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            e.message().contains(ENV_MAX_RECORD_SIZE) && e.message().contains(&value),
            "{e:?}"
        );
    }
    println!("{}", common::CHILD_DONE);
}
