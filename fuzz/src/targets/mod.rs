//! The bodies of the fuzz targets, one function per target (named like it): each
//! `fuzz_targets/<target>.rs` is `fuzz_target!(|data: &[u8]| targets::<target>(data))`, and
//! `tests/corpus.rs` replays the committed corpora (`fuzz/corpus/<target>/`) through the same
//! functions on the stable toolchain, without libFuzzer. A panic (a failed assertion) is a
//! finding. Each function documents its input layout (mirrored by `fuzz/seeds.py`).

mod c_abi;
mod c_stream;
mod envelope_decrypt;
mod keystore_parse;
mod legacy_migrate;
mod stream_decrypt;
mod text_paths;

pub use c_abi::c_abi;
pub use c_stream::c_stream;
pub use envelope_decrypt::envelope_decrypt;
pub use keystore_parse::keystore_parse;
pub use legacy_migrate::legacy_migrate;
pub use stream_decrypt::stream_decrypt;
pub use text_paths::text_paths;
