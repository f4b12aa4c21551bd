//! The `stream_decrypt` fuzz target: `lkr_crypt_fuzz::targets::stream_decrypt` (input layout documented there).
//! `fuzz/tests/corpus.rs` replays the committed corpus through the same function on stable.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lkr_crypt_fuzz::targets::stream_decrypt(data));
