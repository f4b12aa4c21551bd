//! The C ABI (docs/native-interfaces.md). This module only translates: raw pointers to slices, results to
//! status codes and this thread's last error message. Every export runs inside
//! `boundary::guard`, so no Rust panic ever crosses the boundary.
//!
//! Conventions for every function returning `int32_t`: `LKR_OK` (0) on success, an
//! `LKR_ERR_*` code otherwise, with the message available from `lkr_last_error`. A NULL
//! pointer with length 0 means an empty input. When the output buffer is too small the call
//! returns `LKR_ERR_BUFFER_TOO_SMALL` and stores the size needed in `*out_len`.
//!
//! One file per topic, the same as `jni/`: `boundary` (panic guard, last error, argument
//! helpers), `handle`, `keys`, `keystore`, `record`, `recovery`, `migrate`, `stream`. This file holds the codes,
//! flags, sizes and handle types of the header, and re-exports every function. cbindgen
//! (build.rs) reads this file, then follows the `mod` declarations below: the header lists the
//! constants in this file's order, then each file's functions in the order of those
//! declarations (alphabetical, as rustfmt keeps them) and of the file.

mod boundary;
mod handle;
mod keys;
mod keystore;
mod migrate;
mod record;
mod recovery;
mod stream;

pub use boundary::{lkr_fips_mode, lkr_last_error, lkr_status_name, lkr_version};
pub use handle::{lkr_close, lkr_open_from_env, lkr_open_from_env_bytes, lkr_rng_reseed};
pub use keys::{
    lkr_master_key_aws_kms, lkr_master_key_free, lkr_master_key_from_env, lkr_master_key_local,
    lkr_open, lkr_open_bytes,
};
pub use keystore::{
    lkr_active_kek_id, lkr_export_keystore, lkr_kek_id_of, lkr_rekey_file_from_env,
    lkr_rekey_from_env, lkr_retire_kek, lkr_rotate_kek, lkr_rotate_kek_file_from_env,
};
pub use migrate::{lkr_migrate, lkr_migrate_ex, lkr_migrated_max_len, lkr_reencrypt};
pub use record::{lkr_decrypt, lkr_decrypted_len, lkr_encrypt, lkr_encrypted_len};
pub use recovery::{
    lkr_add_recovery_key_from_env, lkr_recover_file_from_env, lkr_recover_from_env,
    lkr_recovery_kek_ids, lkr_recovery_key_sha256, lkr_remove_recovery_key,
};
pub use stream::{
    lkr_stream_decrypt_finish, lkr_stream_decrypt_init, lkr_stream_decrypt_update,
    lkr_stream_decrypt_update_max_len, lkr_stream_decryptor_free, lkr_stream_encrypt_finish,
    lkr_stream_encrypt_init, lkr_stream_encrypt_update, lkr_stream_encrypt_update_max_len,
    lkr_stream_encryptor_free,
};

use crate::Crypt;

/// Success.
pub const LKR_OK: i32 = 0;
/// A NULL pointer, a bad length, overlapping buffers or another caller mistake.
pub const LKR_ERR_INVALID_ARGUMENT: i32 = 1;
/// The output buffer is too small: `*out_len` holds the size needed.
pub const LKR_ERR_BUFFER_TOO_SMALL: i32 = 2;
/// The value could not be authenticated (tampered, truncated, wrong context or keystore).
pub const LKR_ERR_NOT_AUTHENTIC: i32 = 3;
/// The envelope names a KEK id the keystore does not hold.
pub const LKR_ERR_UNKNOWN_KEK: i32 = 4;
/// Unknown envelope version or algorithm.
pub const LKR_ERR_UNSUPPORTED_FORMAT: i32 = 5;
/// The Customer Master Key configuration is wrong (see the message).
pub const LKR_ERR_MASTER_KEY: i32 = 6;
/// The keystore is missing, malformed or does not match the CMK.
pub const LKR_ERR_KEYSTORE: i32 = 7;
/// A legacy value did not decrypt, or the legacy key is missing or invalid.
pub const LKR_ERR_LEGACY: i32 = 8;
/// A file operation failed.
pub const LKR_ERR_IO: i32 = 9;
/// AWS KMS could not be used.
pub const LKR_ERR_KMS: i32 = 10;
/// Internal failure (a caught panic): please report it.
pub const LKR_ERR_INTERNAL: i32 = 11;

/// `lkr_migrate_ex` flag: the legacy plaintext must be valid UTF-8 (text columns).
pub const LKR_MIGRATE_REQUIRE_UTF8: u32 = 1;

/// `lkr_migrate_ex` flag: also re-encrypt envelopes v1 whose KEK is not the active one (after
/// `lkr_rotate_kek`), as `lkr_reencrypt` does.
pub const LKR_MIGRATE_REENCRYPT: u32 = 2;

/// `lkr_migrate_ex` flag: a value shaped like an envelope v1 of a KEK this keystore holds that
/// is not authentic under `ctx` fails with `LKR_ERR_NOT_AUTHENTIC` instead of being tried as a
/// legacy value (docs/legacy.md's default). Set it when migrating a database: with a wrong context,
/// AES-CBC would "decrypt" about one such envelope in 4096 into garbage.
pub const LKR_MIGRATE_STRICT_V1: u32 = 4;

/// `lkr_migrate_ex` outcome: the value was an authentic envelope v1 under `ctx` (of the active
/// KEK, or any KEK without `LKR_MIGRATE_REENCRYPT`), copied unchanged.
pub const LKR_MIGRATED_ALREADY_V1: i32 = 0;

/// `lkr_migrate_ex` outcome: a legacy value, decrypted and sealed as an envelope v1 under the
/// active KEK (migrated from legacy).
pub const LKR_MIGRATED_FROM_LEGACY: i32 = 1;

/// `lkr_migrate_ex` outcome: an envelope v1 of an older KEK, re-encrypted under the active one
/// (only with `LKR_MIGRATE_REENCRYPT`).
pub const LKR_MIGRATED_ROTATED: i32 = 2;

/// An open keystore. Create it with `lkr_open_from_env`, `lkr_open_from_env_bytes`,
/// `lkr_open` or `lkr_open_bytes`, release it with `lkr_close`. Safe to share between
/// threads; it must not be closed while another thread still uses it.
pub struct LkrCrypt {
    inner: Crypt,
}

/// A Customer Master Key given as data (docs/native-interfaces.md): from
/// `lkr_master_key_local`, `lkr_master_key_aws_kms` or `lkr_master_key_from_env`, used by
/// `lkr_open` / `lkr_open_bytes`, released (and wiped) with `lkr_master_key_free`. Safe to share
/// between threads; it must not be freed while another thread still uses it.
pub struct LkrMasterKey {
    inner: crate::keys::MasterKey,
}

impl std::fmt::Debug for LkrMasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // MasterKey's Debug never shows key bytes.
        write!(f, "LkrMasterKey({:?})", self.inner)
    }
}

/// The largest context (`ctx_len`) any call accepts: 65536 bytes. A context names a value's
/// place (e.g. `CONNECTION.PASSWORD:42`); a larger one is `LKR_ERR_INVALID_ARGUMENT`, refused
/// before anything is allocated.
pub const LKR_MAX_CONTEXT: usize = 65536;

const _: () = assert!(LKR_MAX_CONTEXT == crate::limits::MAX_CONTEXT);

/// Length of a stream header (docs/stream.md).
pub const LKR_STREAM_HEADER_LEN: usize = 52;

/// Default stream segment size (plaintext bytes per segment).
pub const LKR_STREAM_DEFAULT_SEGMENT: usize = 65536;

// The C names of numbers the engine defines (cbindgen needs literals): checked at compile time.
const _: () = {
    use crate::format::stream;
    assert!(LKR_STREAM_HEADER_LEN == stream::HEADER_LEN);
    assert!(LKR_STREAM_DEFAULT_SEGMENT == stream::DEFAULT_SEGMENT);
    assert!(LKR_MIGRATE_REQUIRE_UTF8 == crate::MigrateOptions::REQUIRE_UTF8);
    assert!(LKR_MIGRATE_REENCRYPT == crate::MigrateOptions::REENCRYPT);
    assert!(LKR_MIGRATE_STRICT_V1 == crate::MigrateOptions::STRICT_V1);
    assert!(LKR_MIGRATED_ALREADY_V1 == crate::Migrated::ALREADY_V1);
    assert!(LKR_MIGRATED_FROM_LEGACY == crate::Migrated::FROM_LEGACY);
    assert!(LKR_MIGRATED_ROTATED == crate::Migrated::ROTATED);
    assert!(LKR_ERR_INVALID_ARGUMENT == crate::ErrorKind::InvalidArgument as i32);
    assert!(LKR_ERR_BUFFER_TOO_SMALL == crate::ErrorKind::BufferTooSmall as i32);
    assert!(LKR_ERR_NOT_AUTHENTIC == crate::ErrorKind::NotAuthentic as i32);
    assert!(LKR_ERR_UNKNOWN_KEK == crate::ErrorKind::UnknownKek as i32);
    assert!(LKR_ERR_UNSUPPORTED_FORMAT == crate::ErrorKind::UnsupportedFormat as i32);
    assert!(LKR_ERR_MASTER_KEY == crate::ErrorKind::MasterKey as i32);
    assert!(LKR_ERR_KEYSTORE == crate::ErrorKind::Keystore as i32);
    assert!(LKR_ERR_LEGACY == crate::ErrorKind::Legacy as i32);
    assert!(LKR_ERR_IO == crate::ErrorKind::Io as i32);
    assert!(LKR_ERR_KMS == crate::ErrorKind::Kms as i32);
    assert!(LKR_ERR_INTERNAL == crate::ErrorKind::Internal as i32);
};

/// An incremental stream encryption (docs/stream.md), from `lkr_stream_encrypt_init`, released with
/// `lkr_stream_encryptor_free`. It holds its own derived key: the `LkrCrypt` handle may be
/// closed while it lives. Use it from one thread at a time.
pub struct LkrStreamEncryptor {
    inner: crate::format::stream::StreamEncryptor,
}

/// An incremental stream decryption (docs/stream.md), from `lkr_stream_decrypt_init`, released with
/// `lkr_stream_decryptor_free`. Use it from one thread at a time.
pub struct LkrStreamDecryptor {
    inner: crate::format::stream::StreamDecryptor,
}
