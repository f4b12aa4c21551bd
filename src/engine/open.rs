//! Every way to get a handle: open a keystore file or document, create one, and every
//! constructor that reads the environment (docs/keys.md, docs/legacy.md, docs/native-interfaces.md), in one place.

use super::Crypt;
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{self, MasterKey, RecoveryPublicKey};
use crate::keystore::Keystore;
use std::path::Path;

/// Whether opening a keystore file may create it (docs/keystore.md: only an open for writing may).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Create a new keystore (KEK id 1) when the file does not exist.
    CreateIfMissing,
    /// The keystore must exist.
    MustExist,
}

impl Crypt {
    /// The application's start: the CMK and legacy key from the environment (docs/keys.md, docs/legacy.md),
    /// the keystore file at `path`, created when missing.
    pub fn open_from_env(path: &Path) -> Result<Crypt> {
        Crypt::open_with_key(path, keys::master_key_from_env()?)
    }

    /// [`Crypt::open_from_env`] with a CMK the application gives (keys as data,
    /// docs/native-interfaces.md): the keystore file at `path`, created when missing, and the
    /// legacy key from the environment (docs/legacy.md).
    pub fn open_with_key(path: &Path, master: MasterKey) -> Result<Crypt> {
        let legacy = keys::legacy_key_from(&keys::process_env)?;
        let mut c = Crypt::open_file(path, master, OpenMode::CreateIfMissing)?;
        c.legacy_key = legacy;
        Ok(c)
    }

    /// Opens the keystore file at `path` with `master`. With
    /// [`OpenMode::CreateIfMissing`], a missing keystore is created; when another process
    /// creates one at the same moment, this one uses the winner's.
    pub fn open_file(path: &Path, master: MasterKey, mode: OpenMode) -> Result<Crypt> {
        crate::fips::check()?;
        crate::limits::process_max_record_size()?;
        for _ in 0..3 {
            if let Some(ks) = Keystore::load_file(path)? {
                let keks = ks.unlock(&master)?;
                return Ok(Crypt::from_parts(ks, master, keks));
            }
            if mode == OpenMode::MustExist {
                return Err(Error::keystore(format!(
                    "No keystore at {}: this task only reads; run a task that writes (the application, migrate_encryption or encrypt_file) or give --keystore",
                    path.display()
                )));
            }
            let (ks, keks) = Keystore::create(&master, keys::recovery_key_from_env()?.as_ref())?;
            if ks.publish_new(path)? {
                return Ok(Crypt::from_parts(ks, master, keks));
            }
            // Another process published first: loop and use its keystore.
        }
        Err(Error::keystore(format!(
            "The keystore at {} keeps appearing and disappearing: is another process deleting it?",
            path.display()
        )))
    }

    /// Opens a keystore document held by the application (e.g. in its database).
    pub fn open_bytes(keystore: &[u8], master: MasterKey) -> Result<Crypt> {
        crate::fips::check()?;
        crate::limits::process_max_record_size()?;
        let ks = Keystore::parse(keystore)?;
        let keks = ks.unlock(&master)?;
        Ok(Crypt::from_parts(ks, master, keks))
    }

    /// The application's start when it keeps the keystore itself (e.g. in its database): the
    /// CMK and legacy key from the environment (docs/keys.md, docs/legacy.md) and the keystore document
    /// `keystore`, or, with `None`, a new keystore (KEK id 1) in memory — store
    /// [`Crypt::keystore_json`].
    pub fn open_bytes_from_env(keystore: Option<&[u8]>) -> Result<Crypt> {
        Crypt::open_bytes_with_key(keystore, keys::master_key_from_env()?)
    }

    /// [`Crypt::open_bytes_from_env`] with a CMK the application gives (keys as data,
    /// docs/native-interfaces.md): the keystore document `keystore`, or with `None` a new one in
    /// memory, and the legacy key from the environment (docs/legacy.md).
    pub fn open_bytes_with_key(keystore: Option<&[u8]>, master: MasterKey) -> Result<Crypt> {
        let legacy = keys::legacy_key_from(&keys::process_env)?;
        let c = match keystore {
            Some(ks) => Crypt::open_bytes(ks, master)?,
            None => Crypt::create(master)?,
        };
        Ok(c.with_legacy_key(legacy))
    }

    /// Creates a new keystore (KEK id 1) in memory, its KEK also wrapped under the recovery
    /// key of `LKR_RECOVERY_PUBLIC_KEY_FILE` when set; store [`Crypt::keystore_json`].
    pub fn create(master: MasterKey) -> Result<Crypt> {
        Crypt::create_with_recovery(master, keys::recovery_key_from_env()?.as_ref())
    }

    /// [`Crypt::create`] with the recovery public key given (`None`: no recovery section).
    pub fn create_with_recovery(
        master: MasterKey,
        recovery: Option<&RecoveryPublicKey>,
    ) -> Result<Crypt> {
        crate::fips::check()?;
        crate::limits::process_max_record_size()?;
        let (ks, keks) = Keystore::create(&master, recovery)?;
        Ok(Crypt::from_parts(ks, master, keks))
    }

    /// [`Crypt::rekey`] to the CMK given by the `..._DESTINATION` variables
    /// (`LKR_MASTER_KEY_ENV_DESTINATION`, `LKR_MASTER_KEY_FILE_DESTINATION`,
    /// `LKR_AWS_CMK_DESTINATION`; docs/native-interfaces.md `rekey`).
    pub fn rekey_from_env(&self) -> Result<Crypt> {
        self.rekey(keys::master_key_from(&keys::process_env, "_DESTINATION")?)
    }

    /// docs/native-interfaces.md `rekey` of a keystore document the application keeps (e.g. in its database):
    /// opens `keystore` with the source CMK (`LKR_MASTER_KEY_ENV_SOURCE`,
    /// `LKR_MASTER_KEY_FILE_SOURCE` or `LKR_AWS_CMK_SOURCE`) and returns a handle on the KEKs
    /// re-wrapped under the destination CMK (the `..._DESTINATION` variables), already checked
    /// to open with it. Store its [`Crypt::keystore_json`] in place of the old document.
    pub fn rekey_document_from_env(keystore: &[u8]) -> Result<Crypt> {
        let (source, destination) = rekey_keys_from_env()?;
        Crypt::open_bytes(keystore, source)
            .map_err(source_hint)?
            .rekey(destination)
    }

    /// docs/native-interfaces.md `rekey` of the keystore file at `path` (atomic replace) from the `..._SOURCE`
    /// CMK to the `..._DESTINATION` CMK; see [`Crypt::rekey_document_from_env`].
    pub fn rekey_file_from_env(path: &Path) -> Result<Crypt> {
        let (source, destination) = rekey_keys_from_env()?;
        let rekeyed = Crypt::open_file(path, source, OpenMode::MustExist)
            .map_err(source_hint)?
            .rekey(destination)?;
        rekeyed.keystore.replace_file(path)?;
        Ok(rekeyed)
    }

    /// docs/native-interfaces.md `rotate_kek` of the keystore file at `path` with the CMK of the environment
    /// (docs/keys.md): a new active KEK, the file replaced atomically.
    pub fn rotate_kek_file_from_env(path: &Path) -> Result<Crypt> {
        Crypt::rotate_kek_file(path, keys::master_key_from_env()?)
    }
}

/// The source and destination CMKs of `rekey` (docs/native-interfaces.md), both checked before anything is read.
fn rekey_keys_from_env() -> Result<(MasterKey, MasterKey)> {
    let source = keys::master_key_from(&keys::process_env, "_SOURCE")?;
    let destination = keys::master_key_from(&keys::process_env, "_DESTINATION")?;
    Ok((source, destination))
}

/// Says which CMK did not open the keystore during a rekey.
fn source_hint(e: Error) -> Error {
    if e.kind() == ErrorKind::MasterKey {
        Error::new(
            e.kind(),
            format!(
                "{} (the source CMK, given by the _SOURCE variables)",
                e.message()
            ),
        )
    } else {
        e
    }
}
