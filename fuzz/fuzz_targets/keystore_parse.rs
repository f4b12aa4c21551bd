//! The `keystore_parse` fuzz target: `lkr_crypt_fuzz::targets::keystore_parse` (input layout documented there).
//! `fuzz/tests/corpus.rs` replays the committed corpus through the same function on stable.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lkr_crypt_fuzz::targets::keystore_parse(data));
