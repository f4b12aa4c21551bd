//! lkr-crypt: the at-rest encryption engine. Its formats and contracts are described in `docs/`.
//!
//! Data flows one way: key sources ([`keys`]) → [`keystore`] → engine ([`Crypt`]) →
//! formats ([`format`](mod@format)) → AES-GCM ([`aead`]); a module never imports one before it in this
//! chain. The C ABI ([`ffi`]) only adapts arguments and errors.
//!
//! ```
//! use lkr_crypt::{Crypt, keys::MasterKey, secret::Key256};
//! let crypt = Crypt::create(MasterKey::Local(Key256::random())).unwrap();
//! let env = crypt.encrypt(b"s3cret", b"CONNECTION.PASSWORD:42").unwrap();
//! assert_eq!(crypt.decrypt(&env, b"CONNECTION.PASSWORD:42").unwrap(), b"s3cret");
//! assert!(crypt.decrypt(&env, b"CONNECTION.PASSWORD:43").is_err());
//! ```

pub mod aead;
mod engine;
pub mod error;
pub mod ffi;
pub mod format;
#[cfg(feature = "jni")]
pub mod jni;
pub mod kdf;
pub mod keys;
pub mod keystore;
pub mod limits;
pub mod rng;
pub mod secret;

pub use engine::{Crypt, MigrateOptions, Migrated, Migrator, OpenMode, PackedItems, PackedOutcome};
pub use error::{Error, ErrorKind, Result};

/// The library's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
