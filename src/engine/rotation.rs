//! KEK rotation, rekey and retirement (docs/native-interfaces.md), and re-encryption of values to the active KEK.

use super::migrate::copy_unchanged;
use super::{Crypt, Migrated, OpenMode};
use crate::error::{Error, Result};
use crate::format::envelope;
use crate::keys::{self, MasterKey, RecoveryPublicKey};
use crate::keystore::{Kek, Keystore};
use std::path::Path;

impl Crypt {
    /// KEK rotation: a handle on a copy of the keystore with a new active KEK (id = largest + 1);
    /// the older KEKs keep decrypting. Store the new handle's [`Crypt::keystore_json`] (or use
    /// [`Crypt::rotate_kek_file`]); this handle is unchanged.
    ///
    /// The recovery key is `LKR_RECOVERY_PUBLIC_KEY_FILE`'s: see
    /// [`Crypt::rotate_kek_with_recovery`].
    pub fn rotate_kek(&self) -> Result<Crypt> {
        self.rotate_kek_with_recovery(keys::recovery_key_from_env()?.as_ref())
    }

    /// [`Crypt::rotate_kek`] with the configured recovery public key given: with one, the new
    /// KEK and every KEK not yet covered are wrapped under it too; refused when the keystore's
    /// recovery section names another key, or when it has one and `recovery` is `None`
    /// (docs/keystore.md).
    pub fn rotate_kek_with_recovery(&self, recovery: Option<&RecoveryPublicKey>) -> Result<Crypt> {
        let (ks, kek) = self.keystore.rotate(&self.master, &self.keks, recovery)?;
        let mut keks: Vec<Kek> = self
            .keks
            .iter()
            .map(|k| Kek::new(k.id, k.key.clone()))
            .collect();
        keks.push(kek);
        Ok(Crypt::from_parts(ks, self.master.clone(), keks)
            .with_legacy_key(self.legacy_key.clone()))
    }

    /// Rekey: a handle on a copy of the keystore with every KEK re-wrapped under
    /// `destination`. Before returning, the new keystore is opened with `destination` and
    /// checked to yield the same KEKs. No record or stream changes.
    pub fn rekey(&self, destination: MasterKey) -> Result<Crypt> {
        let ks = self.keystore.rewrap(&self.keks, &destination)?;
        let check = Keystore::parse(ks.to_json().as_bytes())?.unlock(&destination)?;
        let same = check.len() == self.keks.len()
            && check
                .iter()
                .all(|k| self.kek(k.id).map(|old| old.key == k.key).unwrap_or(false));
        if !same {
            return Err(Error::keystore(
                "The re-wrapped keystore did not open to the same KEKs with the destination CMK: nothing was changed",
            ));
        }
        Ok(Crypt::from_parts(ks, destination, check).with_legacy_key(self.legacy_key.clone()))
    }

    /// A handle on a copy of the keystore without KEK `id` (not the active one). Values it
    /// encrypted no longer decrypt: the caller must first check that none is left.
    pub fn retire_kek(&self, id: u32) -> Result<Crypt> {
        let ks = self.keystore.retire(id)?;
        let keks = self
            .keks
            .iter()
            .filter(|k| k.id != id)
            .map(|k| Kek::new(k.id, k.key.clone()))
            .collect();
        Ok(Crypt::from_parts(ks, self.master.clone(), keks)
            .with_legacy_key(self.legacy_key.clone()))
    }

    /// Rotates the keystore file at `path` (atomic replace): opens it with `master`, adds a new
    /// active KEK, writes it back. Returns the new handle.
    pub fn rotate_kek_file(path: &Path, master: MasterKey) -> Result<Crypt> {
        let rotated = Crypt::open_file(path, master, OpenMode::MustExist)?.rotate_kek()?;
        rotated.keystore.replace_file(path)?;
        Ok(rotated)
    }

    /// Rekeys the keystore file at `path` from `source` to `destination` (atomic replace: a
    /// crash leaves the old or the new keystore). Returns the handle under `destination`.
    pub fn rekey_file(path: &Path, source: MasterKey, destination: MasterKey) -> Result<Crypt> {
        let rekeyed = Crypt::open_file(path, source, OpenMode::MustExist)?.rekey(destination)?;
        rekeyed.keystore.replace_file(path)?;
        Ok(rekeyed)
    }

    /// Re-encryption to the active KEK (after [`Crypt::rotate_kek`]): an authentic envelope v1
    /// under `context` whose KEK is not the active one is decrypted and encrypted again with
    /// the active KEK ([`Migrated::Rotated`]); one already under the active KEK is copied
    /// unchanged ([`Migrated::AlreadyV1`]). `out` must hold `envelope.len()` bytes (the new
    /// envelope has the same length). Anything that is not authentic is an error, and
    /// the plaintext never leaves this call.
    pub fn reencrypt_into(
        &self,
        envelope: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<Migrated> {
        self.check_stored_len(envelope.len())?;
        crate::limits::check_context(context.len())?;
        let (header, _) = envelope::parse(envelope)?;
        if header.kek_id == self.active_kek_id() {
            // Authenticate before saying "unchanged": a forged value must not pass as current.
            if !self.is_authentic(envelope, context) {
                return Err(Error::not_authentic());
            }
            return copy_unchanged(envelope, out);
        }
        if out.len() < envelope.len() {
            return Err(Error::buffer_too_small(envelope.len(), out.len()));
        }
        self.rotate_into(envelope, context, out)
    }

    /// Decrypts `envelope` (authenticating it) and encrypts its plaintext with the active KEK.
    pub(super) fn rotate_into(
        &self,
        envelope: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<Migrated> {
        let mut plaintext = zeroize::Zeroizing::new(crate::limits::try_zeroed(
            envelope.len().saturating_sub(envelope::OVERHEAD),
        )?);
        let n = self.decrypt_into(envelope, context, &mut plaintext)?;
        self.encrypt_into(&plaintext[..n], context, out)
            .map(Migrated::Rotated)
    }

    /// [`Crypt::reencrypt_into`] into a new vector (the same value when it is already under the
    /// active KEK).
    pub fn reencrypt(&self, envelope: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        self.check_stored_len(envelope.len())?;
        crate::limits::check_context(context.len())?;
        let mut out = crate::limits::try_zeroed(envelope.len())?;
        let n = self.reencrypt_into(envelope, context, &mut out)?.written();
        out.truncate(n);
        Ok(out)
    }

    /// The id of the KEK that encrypted `value` when it is an authentic envelope v1 under
    /// `context` (for counts per KEK before retiring one); `None` otherwise.
    pub fn authentic_kek_id(&self, value: &[u8], context: &[u8]) -> Option<u32> {
        let (header, _) = envelope::parse(value).ok()?;
        self.is_authentic(value, context).then_some(header.kek_id)
    }
}
