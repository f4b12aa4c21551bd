//! The checked-in C header must equal what `build.rs` generates with cbindgen.

#[test]
fn checked_in_header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/lkr_crypt.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/lkr_crypt.h");
    let checked_in = std::fs::read_to_string(path).expect("include/lkr_crypt.h is missing");
    assert!(
        generated == checked_in,
        "include/lkr_crypt.h is stale: run `LKR_UPDATE_HEADER=1 cargo build` and commit it"
    );
}
