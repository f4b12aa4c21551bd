//! The engine handle: a keystore's unwrapped KEKs (with pre-keyed derivation state), the
//! optional legacy key, and the record operations. Safe to share between threads.
//!
//! One file per job: [`Crypt`] and its accessors here; `open.rs` every constructor (files,
//! documents, the environment); `records.rs` envelopes; `streams.rs` the stream constructors;
//! `rotation.rs` KEK rotation, rekey, retirement and re-encryption; `migrate.rs` migration.

mod migrate;
mod open;
mod records;
mod recovery;
mod rotation;
mod streams;

pub use migrate::{MigrateOptions, Migrated, Migrator, PackedItems, PackedOutcome};
pub use open::OpenMode;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::MasterKey;
use crate::keystore::{Kek, Keystore};
use crate::secret::Key128;

/// An open keystore: encrypts, decrypts and migrates records.
pub struct Crypt {
    keystore: Keystore,
    master: MasterKey,
    keks: Vec<Kek>,
    active: usize,
    legacy_key: Option<Key128>,
    max_record: usize,
}

impl std::fmt::Debug for Crypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypt")
            .field("master", &self.master)
            .field("kek_ids", &self.kek_ids())
            .field("active_kek", &self.active_kek_id())
            .finish_non_exhaustive()
    }
}

impl Crypt {
    fn from_parts(keystore: Keystore, master: MasterKey, mut keks: Vec<Kek>) -> Crypt {
        keks.sort_by_key(|k| k.id);
        let active = keks
            .iter()
            .position(|k| k.id == keystore.active_kek)
            .expect("a parsed keystore holds its active KEK");
        Crypt {
            keystore,
            master,
            keks,
            active,
            legacy_key: None,
            max_record: crate::limits::process_max_record_size()
                .unwrap_or(crate::limits::DEFAULT_MAX_RECORD_SIZE),
        }
    }

    /// The CMK configuration this handle was opened with.
    pub fn master_key(&self) -> &MasterKey {
        &self.master
    }

    /// Sets the legacy AES-128 key used by [`Crypt::migrate`] (instead of the environment's).
    pub fn with_legacy_key(mut self, key: Option<Key128>) -> Crypt {
        self.legacy_key = key;
        self
    }

    /// Sets this handle's maximum record size (see [`crate::limits`]; by default the
    /// process's: `LKR_MAX_RECORD_SIZE` or 64 MiB). Handles derived from this one (rotation,
    /// rekey) start again from the process's. Values over [`crate::limits::MAX_MAX_RECORD_SIZE`]
    /// are lowered to it.
    pub fn with_max_record_size(mut self, max: usize) -> Crypt {
        self.max_record = max.min(crate::limits::MAX_MAX_RECORD_SIZE);
        self
    }

    /// The largest plaintext one record may hold (see [`crate::limits`]).
    pub fn max_record_size(&self) -> usize {
        self.max_record
    }

    /// Refuses a stored value (envelope or legacy value) of `len` bytes that exceeds the
    /// maximum record size, before anything is allocated for it.
    pub fn check_stored_len(&self, len: usize) -> Result<()> {
        crate::limits::check_stored(len, self.max_record)
    }

    /// The keystore document (only wrapped keys), as stored.
    pub fn keystore_json(&self) -> String {
        self.keystore.to_json()
    }

    /// The keystore.
    pub fn keystore(&self) -> &Keystore {
        &self.keystore
    }

    /// The id of the KEK that encrypts new values.
    pub fn active_kek_id(&self) -> u32 {
        self.keks[self.active].id
    }

    /// Every KEK id the keystore holds.
    pub fn kek_ids(&self) -> Vec<u32> {
        self.keks.iter().map(|k| k.id).collect()
    }

    /// True when a legacy key is configured.
    pub fn has_legacy_key(&self) -> bool {
        self.legacy_key.is_some()
    }

    pub(crate) fn kek(&self, id: u32) -> Result<&Kek> {
        match self.keks.binary_search_by_key(&id, |k| k.id) {
            Ok(i) => Ok(&self.keks[i]),
            Err(_) => Err(Error::new(
                ErrorKind::UnknownKek,
                format!(
                    "The value was encrypted with KEK {id}, which this keystore does not hold (it holds {:?}): use the keystore it was written with",
                    self.kek_ids()
                ),
            )),
        }
    }

    /// True when this keystore holds KEK `id`.
    pub fn holds_kek(&self, id: u32) -> bool {
        self.keks.binary_search_by_key(&id, |k| k.id).is_ok()
    }

    pub(crate) fn active_kek(&self) -> &Kek {
        &self.keks[self.active]
    }
}
