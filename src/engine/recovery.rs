//! The recovery key (docs/keystore.md, "Recovery key"): adding and removing a keystore's
//! recovery section, which KEKs it covers, and `recover` — a keystore rebuilt under a new CMK
//! from the recovery private key alone, for the day the CMK is lost.

use super::Crypt;
use crate::error::{Error, Result};
use crate::keys::{self, MasterKey, RecoveryPrivateKey, RecoveryPublicKey};
use crate::keystore::{Kek, Keystore, RecoveryStatus};
use std::path::Path;

impl Crypt {
    /// `add_recovery_key`: a handle on a copy of the keystore whose recovery section covers
    /// every KEK under `key`, replacing any earlier section (also one naming another key: the
    /// caller holds the CMK). Store its [`Crypt::keystore_json`]; this handle is unchanged.
    pub fn add_recovery_key(&self, key: &RecoveryPublicKey) -> Result<Crypt> {
        let ks = self.keystore.with_recovery_key(&self.keks, key)?;
        Ok(self.derived(ks))
    }

    /// [`Crypt::add_recovery_key`] with the key `LKR_RECOVERY_PUBLIC_KEY_FILE` names (which must
    /// be set: it is the key every later rotation wraps under).
    pub fn add_recovery_key_from_env(&self) -> Result<Crypt> {
        let key = keys::recovery_key_from_env()?.ok_or_else(|| {
            Error::master_key(format!(
                "{} is not set: set it to the recovery public key (PEM, BEGIN PUBLIC KEY) on this machine and on every node",
                keys::ENV_RECOVERY_PUBLIC_KEY_FILE
            ))
        })?;
        self.add_recovery_key(&key)
    }

    /// `remove_recovery_key`: a handle on a copy of the keystore without its recovery section
    /// (an error when it has none).
    pub fn remove_recovery_key(&self) -> Result<Crypt> {
        let ks = self.keystore.without_recovery_key()?;
        Ok(self.derived(ks))
    }

    /// The recovery key's `key_sha256` and the KEKs it covers (and does not); `None` when the
    /// keystore has no recovery section.
    pub fn recovery_status(&self) -> Option<RecoveryStatus> {
        self.keystore.recovery_status()
    }

    /// The recovery key's `key_sha256`; `None` when the keystore has no recovery section.
    pub fn recovery_key_sha256(&self) -> Option<String> {
        self.recovery_status().map(|s| s.key_sha256)
    }

    /// The ids of the KEKs the recovery key covers (`covered`) or does not cover (the KEKs a
    /// lost CMK would lose), ascending. Without a recovery section no KEK is covered.
    pub fn recovery_kek_ids(&self, covered: bool) -> Vec<u32> {
        match self.recovery_status() {
            Some(s) if covered => s.covered,
            Some(s) => s.uncovered,
            None if covered => Vec::new(),
            None => self.kek_ids(),
        }
    }

    /// `recover`: from the keystore document `keystore` and the recovery `private` key alone
    /// (the CMK is lost), a handle on a keystore with the same KEK ids, creation times and
    /// active KEK, wrapped under `destination`, the recovery section kept. It is checked to open
    /// with `destination` to the KEKs the private key unwrapped before this returns. Store its
    /// [`Crypt::keystore_json`] in place of the old document.
    pub fn recover(
        keystore: &[u8],
        private: &RecoveryPrivateKey,
        destination: MasterKey,
    ) -> Result<Crypt> {
        crate::limits::process_max_record_size()?;
        let (ks, keks) = Keystore::parse(keystore)?.recover(private, &destination)?;
        let check = Keystore::parse(ks.to_json().as_bytes())?.unlock(&destination)?;
        if !same_keks(&keks, &check) {
            return Err(Error::keystore(
                "The recovered keystore did not open to the same KEKs with the destination CMK: nothing was written",
            ));
        }
        Ok(Crypt::from_parts(ks, destination, check))
    }

    /// docs/native-interfaces.md `recover` of a keystore document: the private key from the file
    /// `private_key` (PEM PKCS#8, unencrypted, mode 0400), the destination CMK from the
    /// `..._DESTINATION` variables. See [`Crypt::recover`].
    pub fn recover_document_from_env(keystore: &[u8], private_key: &Path) -> Result<Crypt> {
        let (private, destination) = recover_keys_from_env(private_key)?;
        Crypt::recover(keystore, &private, destination)
    }

    /// `recover` of the keystore file at `path`, replaced atomically (temporary file, fsync,
    /// rename: a crash leaves the old or the new keystore) once the new one is checked.
    pub fn recover_file(
        path: &Path,
        private: &RecoveryPrivateKey,
        destination: MasterKey,
    ) -> Result<Crypt> {
        let doc = std::fs::read(path)
            .map_err(|e| Error::io("Cannot read the keystore to recover", path, &e))?;
        let recovered = Crypt::recover(&doc, private, destination)
            .map_err(|e| Error::new(e.kind(), format!("{} ({})", e.message(), path.display())))?;
        recovered.keystore.replace_file(path)?;
        Ok(recovered)
    }

    /// [`Crypt::recover_file`] with the private key from the file `private_key` and the
    /// destination CMK from the `..._DESTINATION` variables.
    pub fn recover_file_from_env(path: &Path, private_key: &Path) -> Result<Crypt> {
        let (private, destination) = recover_keys_from_env(private_key)?;
        Crypt::recover_file(path, &private, destination)
    }

    /// A handle on `ks`, which holds this handle's KEKs under this handle's CMK.
    fn derived(&self, ks: Keystore) -> Crypt {
        let keks = self
            .keks
            .iter()
            .map(|k| Kek::new(k.id, k.key.clone()))
            .collect();
        Crypt::from_parts(ks, self.master.clone(), keks).with_legacy_key(self.legacy_key.clone())
    }
}

/// The private key and destination CMK of `recover`, both checked before the keystore is read.
fn recover_keys_from_env(private_key: &Path) -> Result<(RecoveryPrivateKey, MasterKey)> {
    let destination = keys::master_key_from(&keys::process_env, "_DESTINATION")?;
    let private = RecoveryPrivateKey::from_file(private_key)?;
    Ok((private, destination))
}

fn same_keks(a: &[Kek], b: &[Kek]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|k| b.iter().any(|o| o.id == k.id && o.key == k.key))
}
