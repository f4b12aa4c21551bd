//! Keystore v1 (docs/keystore.md): the KEKs, wrapped under the CMK, as a JSON document kept in a file
//! (written atomically, mode 0600, never replacing one that appeared meanwhile) or as bytes
//! an application keeps in its database.

mod recovery;

pub use recovery::{RecoveryKekRecord, RecoverySection, RecoveryStatus};

use crate::error::{Error, Result};
use crate::kdf;
use crate::keys::{AwsKmsKey, MasterKey, RecoveryPublicKey};
use crate::secret::Key256;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const FORMAT: &str = "lkr-keystore";
const VERSION: u32 = 1;

pub use crate::error::MISMATCH;
pub use crate::keys::{wrap_local_with_nonce, LOCAL_WRAPPED_LEN};

/// How the keystore's KEKs are wrapped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum MasterKeyRecord {
    /// A local CMK, identified by its fingerprint.
    #[serde(rename = "local")]
    Local {
        /// base64 of `HKDF-Expand(CMK, "lkr-crypt v1 fingerprint", 16)`.
        fingerprint: String,
        /// Fields this version does not know (a newer one's), kept as they are.
        #[serde(flatten)]
        unknown: Unknown,
    },
    /// An AWS KMS key.
    #[serde(rename = "aws-kms")]
    AwsKms {
        /// The configured `LKR_AWS_CMK`.
        key_id: String,
        /// The encryption context string.
        context: String,
        /// Fields this version does not know (a newer one's), kept as they are.
        #[serde(flatten)]
        unknown: Unknown,
    },
}

/// One KEK, wrapped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KekRecord {
    /// The KEK's id, referenced by every envelope and stream it encrypted.
    pub id: u32,
    /// RFC 3339 UTC creation time.
    pub created: String,
    /// base64 of the wrapped KEK.
    pub wrapped: String,
    /// Fields this version does not know (a newer one's), kept as they are.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// The fields of a keystore object that this version does not know: a document written by a
/// newer version goes through `rotate_kek`, `rekey` and `retire_kek` with them unchanged
/// (dropping, say, a recovery section would lose what it is there for).
pub type Unknown = serde_json::Map<String, serde_json::Value>;

/// The keystore document (only wrapped keys: safe to store beside the data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keystore {
    format: String,
    version: u32,
    /// How the KEKs are wrapped.
    pub master_key: MasterKeyRecord,
    /// The id of the KEK that encrypts new values.
    pub active_kek: u32,
    /// Every KEK, oldest first.
    pub keks: Vec<KekRecord>,
    /// Every KEK wrapped a second time under the recovery public key (docs/keystore.md,
    /// "Recovery key"), when one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoverySection>,
    /// Top-level fields this version does not know, kept as they are.
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// An unwrapped KEK with its pre-keyed derivation state.
pub struct Kek {
    /// The KEK's id.
    pub id: u32,
    pub(crate) key: Key256,
    pub(crate) deriver: kdf::KekDeriver,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek {{ id: {}, key: [REDACTED] }}", self.id)
    }
}

impl Kek {
    pub(crate) fn new(id: u32, key: Key256) -> Kek {
        Kek {
            id,
            deriver: kdf::KekDeriver::new(id, &key),
            key,
        }
    }
}

/// serde_json's message for a document that does not parse, without any part of the
/// document: type errors quote the offending value (which could be a key pasted in the wrong
/// place), so only syntax errors and missing fields are told as serde words them.
fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = e.to_string();
    match e.classify() {
        Category::Data if !text.starts_with("missing field") => format!(
            "a field has a value of the wrong type or kind (line {}, column {})",
            e.line(),
            e.column()
        ),
        _ => text,
    }
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Keystore {
    /// A new keystore holding one fresh KEK (id 1), wrapped under `master` and, when given,
    /// under the `recovery` public key too. Returns the keystore and its unwrapped KEKs.
    pub fn create(
        master: &MasterKey,
        recovery: Option<&RecoveryPublicKey>,
    ) -> Result<(Keystore, Vec<Kek>)> {
        let (kek, wrapped) = master.generate(1)?;
        let mut ks = Keystore {
            format: FORMAT.to_string(),
            version: VERSION,
            master_key: master_record(master),
            active_kek: 1,
            keks: vec![KekRecord {
                id: 1,
                created: now_rfc3339(),
                wrapped: B64.encode(wrapped),
                unknown: Unknown::new(),
            }],
            recovery: None,
            unknown: Unknown::new(),
        };
        let keks = vec![Kek::new(1, kek)];
        if let Some(key) = recovery {
            ks.cover_all(&keks, key)?;
        }
        Ok((ks, keks))
    }

    /// KEK rotation: a copy of this keystore with a new KEK (id = the largest id + 1), wrapped
    /// under `master` — the CMK that opened this keystore — and made the active one. The older
    /// KEKs stay and keep decrypting. Returns the new keystore and the new KEK.
    ///
    /// With a `recovery` key (the configured one), the new KEK and every KEK the recovery
    /// section does not cover yet (`existing` holds them unwrapped) are wrapped under it too,
    /// the section added when missing. Refused, before anything is generated, when the keystore
    /// has a recovery section and no key is given, or names another key (docs/keystore.md).
    pub fn rotate(
        &self,
        master: &MasterKey,
        existing: &[Kek],
        recovery: Option<&RecoveryPublicKey>,
    ) -> Result<(Keystore, Kek)> {
        if !self.unknown.is_empty() {
            // Sections of a newer version may have to cover every KEK (a recovery key does):
            // adding one they would not cover is for the version that knows them.
            return Err(Error::keystore(format!(
                "The keystore has fields this lkr-crypt does not know ({}): it was written by a newer lkr-crypt; rotate KEKs with that version (nothing was changed)",
                self.unknown.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
            )));
        }
        let id = self
            .keks
            .iter()
            .map(|k| k.id)
            .max()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| {
                Error::keystore("The keystore has used every KEK id: it cannot rotate further")
            })?;
        self.check_recovery_for_wrapping(recovery)?;
        let (kek, wrapped) = master.generate(id)?;
        let mut ks = self.clone();
        ks.keks.push(KekRecord {
            id,
            created: now_rfc3339(),
            wrapped: B64.encode(wrapped),
            unknown: Unknown::new(),
        });
        ks.active_kek = id;
        let kek = Kek::new(id, kek);
        if let Some(key) = recovery {
            let mut all: Vec<&Kek> = existing.iter().collect();
            all.push(&kek);
            ks.cover_missing(&all, key)?;
        }
        Ok((ks, kek))
    }

    /// Rekey: a copy of this keystore with every KEK (`keks`, unwrapped from it) re-wrapped
    /// under `destination`. KEK ids, creation times and the active KEK are unchanged, so every
    /// record and stream still decrypts.
    pub fn rewrap(&self, keks: &[Kek], destination: &MasterKey) -> Result<Keystore> {
        let (MasterKeyRecord::Local { unknown, .. } | MasterKeyRecord::AwsKms { unknown, .. }) =
            &self.master_key;
        if !unknown.is_empty() {
            // They describe the CMK being replaced, in terms this version cannot carry over.
            return Err(Error::keystore(format!(
                "The keystore's master_key has fields this lkr-crypt does not know ({}): it was written by a newer lkr-crypt; rekey with that version (nothing was changed)",
                unknown.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
            )));
        }
        let mut ks = self.clone();
        ks.master_key = master_record(destination);
        for record in &mut ks.keks {
            let kek = keks.iter().find(|k| k.id == record.id).ok_or_else(|| {
                Error::keystore(format!(
                    "KEK {} is not unwrapped: open the keystore first",
                    record.id
                ))
            })?;
            record.wrapped = B64.encode(destination.wrap(kek.id, &kek.key)?);
        }
        Ok(ks)
    }

    /// Removes the KEK `id`, which must not be the active one. The caller must know that no
    /// value still uses it (values it encrypted would no longer decrypt).
    pub fn retire(&self, id: u32) -> Result<Keystore> {
        if id == self.active_kek {
            return Err(Error::invalid(format!(
                "KEK {id} is the active KEK: rotate to a new KEK before retiring it"
            )));
        }
        let mut ks = self.clone();
        let before = ks.keks.len();
        ks.keks.retain(|k| k.id != id);
        if ks.keks.len() == before {
            return Err(Error::invalid(format!("The keystore holds no KEK {id}")));
        }
        if let Some(section) = &mut ks.recovery {
            section.keks.retain(|k| k.id != id);
        }
        Ok(ks)
    }

    /// Parses and validates a keystore document.
    pub fn parse(bytes: &[u8]) -> Result<Keystore> {
        let ks: Keystore = serde_json::from_slice(bytes).map_err(|e| {
            Error::keystore(format!("The keystore is malformed: {}", json_error(&e)))
        })?;
        if ks.format != FORMAT {
            // Not quoted: whatever was put there (a pasted key?) stays out of the message.
            return Err(Error::keystore(format!(
                "The keystore is malformed: its format is not \"{FORMAT}\""
            )));
        }
        if ks.version != VERSION {
            return Err(Error::keystore(format!(
                "The keystore has version {}, which this lkr-crypt does not support (it reads version {VERSION}); upgrade lkr-crypt",
                ks.version
            )));
        }
        if ks.keks.is_empty() {
            return Err(Error::keystore(
                "The keystore is malformed: it holds no KEK",
            ));
        }
        let mut ids: Vec<u32> = ks.keks.iter().map(|k| k.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::keystore(
                "The keystore is malformed: two KEKs share an id",
            ));
        }
        if !ids.contains(&ks.active_kek) {
            return Err(Error::keystore(format!(
                "The keystore is malformed: the active KEK {} is not in it",
                ks.active_kek
            )));
        }
        if let Some(section) = &ks.recovery {
            section.check_ids()?;
        }
        Ok(ks)
    }

    /// The document as JSON text (what is stored).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a keystore serializes");
        s.push('\n');
        s
    }

    /// Unwraps every KEK with `master`; fails with the mismatch message of docs/keys.md when `master` is
    /// not the CMK the keystore was made with.
    pub fn unlock(&self, master: &MasterKey) -> Result<Vec<Kek>> {
        match (&self.master_key, master) {
            (MasterKeyRecord::Local { fingerprint, .. }, MasterKey::Local(cmk)) => {
                if B64.encode(kdf::cmk_fingerprint(cmk)) != *fingerprint {
                    return Err(Error::master_key(format!(
                        "{MISMATCH}: the configured CMK is not the one this keystore was created with (its fingerprint differs)"
                    )));
                }
                self.keks
                    .iter()
                    .map(|r| Ok(Kek::new(r.id, master.unwrap(r.id, &decode_wrapped(r)?)?)))
                    .collect()
            }
            (MasterKeyRecord::AwsKms { key_id, .. }, MasterKey::Local(_)) => Err(Error::master_key(format!(
                "{MISMATCH}: the keystore was created with the AWS KMS key {key_id}, but a local CMK is configured (set LKR_AWS_CMK instead)"
            ))),
            (MasterKeyRecord::Local { .. }, MasterKey::AwsKms(k)) => Err(Error::master_key(format!(
                "{MISMATCH}: the keystore was created with a local CMK, but LKR_AWS_CMK={} is configured (set LKR_MASTER_KEY_ENV or LKR_MASTER_KEY_FILE instead)",
                k.key_id
            ))),
            (MasterKeyRecord::AwsKms { key_id, context, .. }, MasterKey::AwsKms(k)) => {
                self.unlock_kms(key_id, context, master, k)
            }
        }
    }

    /// Unwraps every KEK with KMS `Decrypt` (one batch of concurrent calls, see
    /// [`MasterKey::unwrap_all`]), after checking that the configured key and context are the
    /// keystore's.
    fn unlock_kms(
        &self,
        key_id: &str,
        context: &str,
        master: &MasterKey,
        configured: &AwsKmsKey,
    ) -> Result<Vec<Kek>> {
        configured.check_keystore(key_id, context)?;
        let wrapped = self
            .keks
            .iter()
            .map(|r| decode_wrapped(r).map(|w| (r.id, w)))
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<u32> = wrapped.iter().map(|(id, _)| *id).collect();
        let keys = master.unwrap_all(wrapped)?;
        Ok(ids
            .into_iter()
            .zip(keys)
            .map(|(id, k)| Kek::new(id, k))
            .collect())
    }

    /// Reads the keystore file at `path`; `Ok(None)` when there is none.
    pub fn load_file(path: &Path) -> Result<Option<Keystore>> {
        match std::fs::read(path) {
            Ok(bytes) => Keystore::parse(&bytes)
                .map(Some)
                .map_err(|e| Error::new(e.kind(), format!("{} ({})", e.message(), path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("Cannot read the keystore", path, &e)),
        }
    }

    /// Publishes a new keystore at `path` without ever replacing one that exists: writes a
    /// private temporary file, fsyncs it, and `link(2)`s it into place. Returns `false` (and
    /// writes nothing) when a keystore appeared meanwhile — the caller must use that one.
    pub fn publish_new(&self, path: &Path) -> Result<bool> {
        let tmp = self.write_temp(path)?;
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_parent(path);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(Error::io("Cannot create the keystore", path, &e)),
        }
    }

    /// Replaces the keystore at `path` atomically (temporary file, fsync, rename): a crash
    /// leaves either the old or the new document.
    pub fn replace_file(&self, path: &Path) -> Result<()> {
        let tmp = self.write_temp(path)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io("Cannot replace the keystore", path, &e)
        })?;
        sync_parent(path);
        Ok(())
    }

    fn write_temp(&self, path: &Path) -> Result<PathBuf> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().ok_or_else(|| {
            Error::invalid(format!(
                "The keystore path {} names no file",
                path.display()
            ))
        })?;
        let mut suffix = [0u8; 8];
        crate::rng::fill(&mut suffix);
        let tmp = dir.join(format!(
            ".{}.{}.{:016x}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            u64::from_ne_bytes(suffix)
        ));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(self.to_json().as_bytes())?;
            f.sync_all()
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io("Cannot write the keystore next to", path, &e)
        })?;
        Ok(tmp)
    }
}

fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The keystore's record of `master` (what a keystore made with it says).
pub(crate) fn master_record(master: &MasterKey) -> MasterKeyRecord {
    match master {
        MasterKey::Local(cmk) => MasterKeyRecord::Local {
            fingerprint: B64.encode(kdf::cmk_fingerprint(cmk)),
            unknown: Unknown::new(),
        },
        MasterKey::AwsKms(k) => MasterKeyRecord::AwsKms {
            key_id: k.key_id.clone(),
            context: k.context.clone(),
            unknown: Unknown::new(),
        },
    }
}

/// The wrapped form of a KEK record (base64 in the document).
fn decode_wrapped(r: &KekRecord) -> Result<Vec<u8>> {
    B64.decode(&r.wrapped).map_err(|_| {
        Error::keystore(format!(
            "The keystore is malformed: KEK {} is not valid base64",
            r.id
        ))
    })
}
