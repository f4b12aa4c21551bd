//! The keystore's recovery section (docs/keystore.md, "Recovery key"): every KEK wrapped a
//! second time under an RSA public key whose private half stays off the nodes. Read, kept as it
//! is by `rekey`, extended by KEK rotation, replaced by `add_recovery_key`, dropped by
//! `remove_recovery_key`, and used by `recover` to rebuild the keystore under a new CMK.

use super::{master_record, Kek, Keystore, Unknown};
use crate::error::{Error, Result};
use crate::keys::recovery::{ENV_RECOVERY_PUBLIC_KEY_FILE, RECOVERY_KIND};
use crate::keys::{MasterKey, RecoveryPrivateKey, RecoveryPublicKey};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The `recovery` object of a keystore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverySection {
    /// How the KEKs are wrapped: `rsa-oaep-sha256`.
    pub kind: String,
    /// base64 of the SHA-256 of the recovery public key's DER SubjectPublicKeyInfo.
    pub key_sha256: String,
    /// The KEKs wrapped under the recovery key.
    pub keks: Vec<RecoveryKekRecord>,
    /// Fields this version does not know (a newer one's), kept as they are.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// One KEK wrapped under the recovery key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryKekRecord {
    /// The KEK's id.
    pub id: u32,
    /// base64 of RSAES-OAEP-SHA256 of `"lkr-crypt v1 kek" ‖ be32(id) ‖ KEK`.
    pub wrapped: String,
    /// Fields this version does not know (a newer one's), kept as they are.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// What `status` shows of a keystore's recovery key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryStatus {
    /// The section's `kind`.
    pub kind: String,
    /// The section's `key_sha256`.
    pub key_sha256: String,
    /// The keystore's KEK ids the section covers, ascending.
    pub covered: Vec<u32>,
    /// The keystore's KEK ids it does not cover (not recoverable), ascending.
    pub uncovered: Vec<u32>,
}

impl RecoverySection {
    pub(super) fn check_ids(&self) -> Result<()> {
        let mut ids: Vec<u32> = self.keks.iter().map(|k| k.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::keystore(
                "The keystore is malformed: two KEKs of its recovery section share an id",
            ));
        }
        Ok(())
    }

    /// Refuses a section of a kind this version does not know (nothing can be wrapped under it
    /// or recovered from it).
    fn check_kind(&self) -> Result<()> {
        if self.kind == RECOVERY_KIND {
            return Ok(());
        }
        Err(Error::keystore(format!(
            "The keystore's recovery section is of kind \"{}\", which this lkr-crypt does not know (it knows \"{RECOVERY_KIND}\"): use the lkr-crypt that wrote it; nothing was written",
            self.kind
        )))
    }

    fn covers(&self, id: u32) -> bool {
        self.keks.iter().any(|k| k.id == id)
    }

    fn new(key: &RecoveryPublicKey) -> RecoverySection {
        RecoverySection {
            kind: RECOVERY_KIND.to_string(),
            key_sha256: key.key_sha256().to_string(),
            keks: Vec::new(),
            unknown: Unknown::new(),
        }
    }

    fn add(&mut self, key: &RecoveryPublicKey, kek: &Kek) -> Result<()> {
        self.keks.push(RecoveryKekRecord {
            id: kek.id,
            wrapped: B64.encode(key.wrap(kek.id, &kek.key)?),
            unknown: Unknown::new(),
        });
        self.keks.sort_by_key(|k| k.id);
        Ok(())
    }
}

fn list(ids: &[u32]) -> String {
    ids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Keystore {
    /// The recovery key's hash and the KEKs it covers; `None` when the keystore has none.
    pub fn recovery_status(&self) -> Option<RecoveryStatus> {
        let section = self.recovery.as_ref()?;
        let (covered, uncovered): (Vec<u32>, Vec<u32>) = self
            .keks
            .iter()
            .map(|k| k.id)
            .partition(|id| section.covers(*id));
        Some(RecoveryStatus {
            kind: section.kind.clone(),
            key_sha256: section.key_sha256.clone(),
            covered,
            uncovered,
        })
    }

    /// Whether a task that wraps a new KEK may go on with the configured `recovery` key (or
    /// none): refused when the keystore has a recovery section and no key is configured (the
    /// new KEK would not be recoverable), or when its section names another key (a writer of
    /// the keystore must not redirect new KEKs to a key of its own).
    pub fn check_recovery_for_wrapping(&self, recovery: Option<&RecoveryPublicKey>) -> Result<()> {
        let Some(section) = &self.recovery else {
            return Ok(());
        };
        let Some(key) = recovery else {
            return Err(Error::keystore(format!(
                "The keystore has a recovery key (key_sha256 {}), but {ENV_RECOVERY_PUBLIC_KEY_FILE} is not set: a new KEK would not be recoverable. Set {ENV_RECOVERY_PUBLIC_KEY_FILE} to that public key (PEM), or drop the recovery section with remove_recovery_key first; nothing was changed",
                section.key_sha256
            )));
        };
        section.check_kind()?;
        if section.key_sha256 != key.key_sha256() {
            return Err(Error::keystore(format!(
                "The keystore's recovery key (key_sha256 {}) is not the configured one ({ENV_RECOVERY_PUBLIC_KEY_FILE}, key_sha256 {}): no KEK is wrapped under a recovery key that is not configured. If the configured key is the right one, run add_recovery_key (it replaces the keystore's recovery section); nothing was changed",
                section.key_sha256,
                key.key_sha256()
            )));
        }
        Ok(())
    }

    /// Replaces the recovery section by one covering every KEK (`keks`, all of them unwrapped)
    /// under `key`.
    pub(super) fn cover_all(&mut self, keks: &[Kek], key: &RecoveryPublicKey) -> Result<()> {
        let mut section = RecoverySection::new(key);
        for record in &self.keks {
            section.add(key, unwrapped(keks.iter(), record.id)?)?;
        }
        self.recovery = Some(section);
        Ok(())
    }

    /// Wraps under `key` every KEK the recovery section does not cover yet (adding the section
    /// when missing); `keks` holds them unwrapped. The section must be `key`'s
    /// ([`Keystore::check_recovery_for_wrapping`]).
    pub(super) fn cover_missing(&mut self, keks: &[&Kek], key: &RecoveryPublicKey) -> Result<()> {
        let mut section = self
            .recovery
            .take()
            .unwrap_or_else(|| RecoverySection::new(key));
        for record in &self.keks {
            if !section.covers(record.id) {
                section.add(key, unwrapped(keks.iter().copied(), record.id)?)?;
            }
        }
        self.recovery = Some(section);
        Ok(())
    }

    /// `add_recovery_key`: a copy of this keystore whose recovery section covers every KEK
    /// (`keks`, unwrapped from it) under `key`, replacing any earlier section, also one naming
    /// another key (whoever runs it holds the CMK).
    pub fn with_recovery_key(&self, keks: &[Kek], key: &RecoveryPublicKey) -> Result<Keystore> {
        let mut ks = self.clone();
        ks.cover_all(keks, key)?;
        Ok(ks)
    }

    /// `remove_recovery_key`: a copy of this keystore without its recovery section.
    pub fn without_recovery_key(&self) -> Result<Keystore> {
        if self.recovery.is_none() {
            return Err(Error::invalid(
                "The keystore has no recovery key: there is nothing to remove (nothing was changed)",
            ));
        }
        let mut ks = self.clone();
        ks.recovery = None;
        Ok(ks)
    }

    /// `recover`: every KEK unwrapped from the recovery section with `private` and wrapped under
    /// `destination` — same ids, creation times and active KEK, the recovery section kept.
    /// Refused when the keystore has no section, when `private` is not the section's key, or
    /// when a KEK is not covered. Returns the new keystore and its KEKs (the caller checks that
    /// it opens with `destination` before publishing it).
    pub fn recover(
        &self,
        private: &RecoveryPrivateKey,
        destination: &MasterKey,
    ) -> Result<(Keystore, Vec<Kek>)> {
        let Some(section) = &self.recovery else {
            return Err(Error::keystore(
                "The keystore has no recovery section (add_recovery_key was never run on it): it cannot be recovered with a private key; nothing was written",
            ));
        };
        section.check_kind()?;
        if section.key_sha256 != private.key_sha256() {
            return Err(Error::keystore(format!(
                "The private key is not the keystore's recovery key: the keystore's key_sha256 is {}, this private key's is {}; nothing was written",
                section.key_sha256,
                private.key_sha256()
            )));
        }
        let status = self.recovery_status().expect("a section");
        if !status.uncovered.is_empty() {
            return Err(Error::keystore(format!(
                "KEK(s) {} of the keystore are not covered by its recovery section (rotated while no recovery key was configured): recover would lose them; nothing was written",
                list(&status.uncovered)
            )));
        }
        let mut ks = self.clone();
        ks.master_key = master_record(destination);
        let mut keks = Vec::with_capacity(self.keks.len());
        for record in &mut ks.keks {
            let entry = section
                .keks
                .iter()
                .find(|k| k.id == record.id)
                .expect("covered");
            let wrapped = B64.decode(&entry.wrapped).map_err(|_| {
                Error::keystore(format!(
                    "The keystore is malformed: KEK {}'s recovery wrapping is not valid base64; nothing was written",
                    entry.id
                ))
            })?;
            let key = private.unwrap(record.id, &wrapped)?;
            record.wrapped = B64.encode(destination.wrap(record.id, &key)?);
            keks.push(Kek::new(record.id, key));
        }
        Ok((ks, keks))
    }
}

/// KEK `id` among `keks`.
fn unwrapped<'a>(mut keks: impl Iterator<Item = &'a Kek>, id: u32) -> Result<&'a Kek> {
    keks.find(|k| k.id == id).ok_or_else(|| {
        Error::keystore(format!(
            "KEK {id} is not unwrapped: open the keystore first"
        ))
    })
}
