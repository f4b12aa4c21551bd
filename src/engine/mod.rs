//! The engine handle: a keystore's unwrapped KEKs (with pre-keyed derivation state), the
//! optional legacy key, and the record operations. Safe to share between threads.

use crate::error::{Error, ErrorKind, Result};
use crate::format::stream::{self, StreamDecryptor, StreamEncryptor, StreamReader, StreamWriter};
use crate::format::{envelope, legacy};
use crate::keys::{self, MasterKey};
use crate::keystore::{Kek, Keystore};
use crate::secret::Key128;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::path::Path;

/// Decodes a stored text form (standard base64, padded; surrounding whitespace ignored).
fn decode_text(text: &str) -> Result<Vec<u8>> {
    B64.decode(text.trim()).map_err(|_| {
        Error::new(
            ErrorKind::NotAuthentic,
            "The value is not valid base64, so it is not an lkr-crypt value's text form",
        )
    })
}

/// Whether opening a keystore file may create it (SPEC §6: only an open for writing may).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Create a new keystore (KEK id 1) when the file does not exist.
    CreateIfMissing,
    /// The keystore must exist.
    MustExist,
}

/// Options of [`Crypt::migrate_into`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MigrateOptions {
    /// The legacy plaintext must be valid UTF-8 (text columns, SPEC §7/§9).
    pub require_utf8: bool,
    /// Also re-encrypt authentic v1 values whose KEK is not the active one (after a KEK
    /// rotation, SPEC §9), as [`Crypt::reencrypt_into`] does.
    pub reencrypt: bool,
    /// A value shaped like an envelope v1 of a KEK this keystore holds (magic, version,
    /// algorithm, KEK id) that is not authentic under the context is undecryptable
    /// ([`ErrorKind::NotAuthentic`]) instead of being tried as a legacy value, as SPEC §7 does
    /// by default. `migrate_encryption` sets it: with a wrong context in the manifest, AES-CBC
    /// would "decrypt" about one such envelope in 4096 into garbage and replace it. A genuine
    /// legacy value starts with those 9 bytes with probability below 2^-56.
    pub strict_v1: bool,
}

/// What [`Crypt::migrate_into`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Migrated {
    /// The value was already an authentic v1 envelope and was copied unchanged.
    AlreadyV1(usize),
    /// The legacy value was re-encrypted; the envelope has this length.
    Reencrypted(usize),
    /// The v1 value was re-encrypted from an older KEK to the active one (only with
    /// [`MigrateOptions::reencrypt`] or [`Crypt::reencrypt_into`]); the envelope has this length.
    Rotated(usize),
}

impl Migrated {
    /// Bytes written to the output.
    pub fn written(self) -> usize {
        match self {
            Migrated::AlreadyV1(n) | Migrated::Reencrypted(n) | Migrated::Rotated(n) => n,
        }
    }
}

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

    /// The application's start: the CMK and legacy key from the environment (SPEC §2, §7),
    /// the keystore file at `path`, created when missing.
    pub fn open_from_env(path: &Path) -> Result<Crypt> {
        let master = keys::master_key_from_env()?;
        let legacy = keys::legacy_key_from(&keys::process_env)?;
        let mut c = Crypt::open_file(path, master, OpenMode::CreateIfMissing)?;
        c.legacy_key = legacy;
        Ok(c)
    }

    /// Opens the keystore file at `path` with `master`. With
    /// [`OpenMode::CreateIfMissing`], a missing keystore is created; when another process
    /// creates one at the same moment, this one uses the winner's.
    pub fn open_file(path: &Path, master: MasterKey, mode: OpenMode) -> Result<Crypt> {
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
            let (ks, keks) = Keystore::create(&master)?;
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
        crate::limits::process_max_record_size()?;
        let ks = Keystore::parse(keystore)?;
        let keks = ks.unlock(&master)?;
        Ok(Crypt::from_parts(ks, master, keks))
    }

    /// The application's start when it keeps the keystore itself (e.g. in its database): the
    /// CMK and legacy key from the environment (SPEC §2, §7) and the keystore document
    /// `keystore`, or, with `None`, a new keystore (KEK id 1) in memory — store
    /// [`Crypt::keystore_json`].
    pub fn open_bytes_from_env(keystore: Option<&[u8]>) -> Result<Crypt> {
        let master = keys::master_key_from_env()?;
        let legacy = keys::legacy_key_from(&keys::process_env)?;
        let c = match keystore {
            Some(ks) => Crypt::open_bytes(ks, master)?,
            None => Crypt::create(master)?,
        };
        Ok(c.with_legacy_key(legacy))
    }

    /// Creates a new keystore (KEK id 1) in memory; store [`Crypt::keystore_json`].
    pub fn create(master: MasterKey) -> Result<Crypt> {
        crate::limits::process_max_record_size()?;
        let (ks, keks) = Keystore::create(&master)?;
        Ok(Crypt::from_parts(ks, master, keks))
    }

    /// KEK rotation: a handle on a copy of the keystore with a new active KEK (id = largest + 1);
    /// the older KEKs keep decrypting. Store the new handle's [`Crypt::keystore_json`] (or use
    /// [`Crypt::rotate_kek_file`]); this handle is unchanged.
    pub fn rotate_kek(&self) -> Result<Crypt> {
        let (ks, kek) = self.keystore.rotate(&self.master)?;
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

    /// [`Crypt::rekey`] to the CMK given by the `..._DESTINATION` variables
    /// (`LKR_MASTER_KEY_ENV_DESTINATION`, `LKR_MASTER_KEY_FILE_DESTINATION`,
    /// `LKR_AWS_CMK_DESTINATION`; SPEC §9 `rekey`).
    pub fn rekey_from_env(&self) -> Result<Crypt> {
        self.rekey(keys::master_key_from(&keys::process_env, "_DESTINATION")?)
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

    /// SPEC §9 `rekey` of a keystore document the application keeps (e.g. in its database):
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

    /// SPEC §9 `rekey` of the keystore file at `path` (atomic replace) from the `..._SOURCE`
    /// CMK to the `..._DESTINATION` CMK; see [`Crypt::rekey_document_from_env`].
    pub fn rekey_file_from_env(path: &Path) -> Result<Crypt> {
        let (source, destination) = rekey_keys_from_env()?;
        let rekeyed = Crypt::open_file(path, source, OpenMode::MustExist)
            .map_err(source_hint)?
            .rekey(destination)?;
        rekeyed.keystore.replace_file(path)?;
        Ok(rekeyed)
    }

    /// SPEC §9 `rotate_kek` of the keystore file at `path` with the CMK of the environment
    /// (SPEC §2): a new active KEK, the file replaced atomically.
    pub fn rotate_kek_file_from_env(path: &Path) -> Result<Crypt> {
        Crypt::rotate_kek_file(path, keys::master_key_from_env()?)
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

    /// The envelope length for a plaintext of `len` bytes; refuses a plaintext over the
    /// maximum record size.
    pub fn encrypted_len(&self, len: usize) -> Result<usize> {
        crate::limits::check_plaintext(len, self.max_record)?;
        Ok(len + envelope::OVERHEAD)
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

    /// Encrypts into `out`, which must hold at least `plaintext.len() + 69` bytes; returns the
    /// envelope's length.
    pub fn encrypt_into(&self, plaintext: &[u8], context: &[u8], out: &mut [u8]) -> Result<usize> {
        crate::limits::check_context(context.len())?;
        let n = self.envelope_len(plaintext.len())?;
        if out.len() < n {
            return Err(Error::buffer_too_small(n, out.len()));
        }
        let (salt, nonce) = fresh_salt_and_nonce();
        let kek = self.active_kek();
        envelope::seal_with(
            &kek.deriver,
            kek.id,
            &salt,
            &nonce,
            plaintext,
            context,
            &mut out[..n],
        );
        Ok(n)
    }

    /// [`Crypt::encrypt_into`] with the plaintext already in place: `buf` (the plaintext's
    /// length + 69 bytes) holds it at `buf[53..buf.len() - 16]` and becomes the envelope. For
    /// callers that copy the plaintext anyway (into a new Java array, say), this saves a copy.
    pub fn encrypt_in_place(&self, buf: &mut [u8], context: &[u8]) -> Result<usize> {
        let Some(len) = buf.len().checked_sub(envelope::OVERHEAD) else {
            return Err(Error::invalid(format!(
                "The buffer must hold the plaintext and 69 bytes more ({} given)",
                buf.len()
            )));
        };
        self.envelope_len(len)?;
        crate::limits::check_context(context.len())?;
        let (salt, nonce) = fresh_salt_and_nonce();
        let kek = self.active_kek();
        envelope::seal_in_place_with(&kek.deriver, kek.id, &salt, &nonce, context, buf);
        Ok(buf.len())
    }

    /// The envelope's length for a plaintext of `len` bytes, if one record may hold it.
    fn envelope_len(&self, len: usize) -> Result<usize> {
        crate::limits::check_plaintext(len, self.max_record)?;
        envelope::sealed_len(len).ok_or_else(|| {
            Error::invalid(format!(
                "The value is too large to encrypt as one record ({len} bytes; at most {} bytes): use a stream",
                envelope::MAX_PLAINTEXT
            ))
        })
    }

    /// Encrypts `plaintext` bound to `context` into a new envelope v1.
    pub fn encrypt(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        crate::limits::check_plaintext(plaintext.len(), self.max_record)?;
        crate::limits::check_context(context.len())?;
        let mut out =
            crate::limits::try_zeroed(envelope::sealed_len(plaintext.len()).unwrap_or(0))?;
        let n = self.encrypt_into(plaintext, context, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// Decrypts into `out`, which must hold at least `envelope.len() - 69` bytes; returns the
    /// plaintext's length. Fails unless the envelope is authentic under `context`.
    pub fn decrypt_into(&self, envelope: &[u8], context: &[u8], out: &mut [u8]) -> Result<usize> {
        self.check_stored_len(envelope.len())?;
        crate::limits::check_context(context.len())?;
        let (header, body) = envelope::parse(envelope)?;
        let kek = self.kek(header.kek_id)?;
        let n = body.len() - crate::aead::TAG_LEN;
        if out.len() < n {
            return Err(Error::buffer_too_small(n, out.len()));
        }
        envelope::open_with(&kek.deriver, &header, body, context, &mut out[..n])?;
        Ok(n)
    }

    /// [`Crypt::decrypt_into`] with the ciphertext already copied: `buf` (`envelope.len() - 69`
    /// bytes) holds `envelope[53..envelope.len() - 16]` and receives the plaintext; of
    /// `envelope` only the header and the tag are read. Unless `buf` holds that very ciphertext
    /// the value is not authentic. On failure `buf` is zeroed.
    pub fn decrypt_in_place(
        &self,
        envelope: &[u8],
        context: &[u8],
        buf: &mut [u8],
    ) -> Result<usize> {
        let n = envelope.len().saturating_sub(envelope::OVERHEAD);
        let opened = self.check_stored_len(envelope.len()).and_then(|()| {
            crate::limits::check_context(context.len())?;
            if buf.len() != n {
                return Err(Error::invalid(format!(
                    "The buffer must hold exactly the envelope's ciphertext ({n} bytes; {} given)",
                    buf.len()
                )));
            }
            let (header, body) = envelope::parse(envelope)?;
            let kek = self.kek(header.kek_id)?;
            let tag: &[u8; crate::aead::TAG_LEN] = body[n..].try_into().expect("16 bytes");
            envelope::open_in_place_with(&kek.deriver, &header, tag, context, buf)
        });
        match opened {
            Ok(()) => Ok(n),
            Err(e) => {
                zeroize::Zeroize::zeroize(buf);
                Err(e)
            }
        }
    }

    /// Decrypts an envelope v1 bound to `context`.
    pub fn decrypt(&self, envelope: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        self.check_stored_len(envelope.len())?;
        crate::limits::check_context(context.len())?;
        let mut out = crate::limits::try_zeroed(envelope.len().saturating_sub(envelope::OVERHEAD))?;
        let n = self.decrypt_into(envelope, context, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// Encrypts into the stored text form: standard base64 (padded) of the envelope v1.
    pub fn encrypt_text(&self, plaintext: &[u8], context: &[u8]) -> Result<String> {
        Ok(B64.encode(self.encrypt(plaintext, context)?))
    }

    /// Decrypts an envelope v1 given in its text form (standard base64; surrounding
    /// whitespace ignored).
    pub fn decrypt_text(&self, text: &str, context: &[u8]) -> Result<Vec<u8>> {
        self.check_stored_len(crate::limits::decoded_len(text))?;
        self.decrypt(&decode_text(text)?, context)
    }

    /// Migrates a value given in its text form (base64 of a legacy value or of an envelope v1)
    /// and returns the envelope v1's text form (see [`Crypt::migrate`]).
    pub fn migrate_text(&self, text: &str, context: &[u8]) -> Result<String> {
        self.check_stored_len(crate::limits::decoded_len(text))?;
        Ok(B64.encode(self.migrate(&decode_text(text)?, context)?))
    }

    /// The most bytes [`Crypt::migrate_into`] may write for an input of `len` bytes.
    pub fn migrated_max_len(len: usize) -> usize {
        len.saturating_add(envelope::HEADER_LEN)
    }

    /// Migrates one value to envelope v1 without handing its plaintext out (SPEC §7): an
    /// authentic v1 envelope under `context` is copied unchanged; anything else must be a
    /// legacy value that decrypts with the legacy key (`legacy_key`, else the handle's). For
    /// many values, [`Crypt::migrator`] does the same with the legacy key scheduled once.
    pub fn migrate_into(
        &self,
        value: &[u8],
        context: &[u8],
        legacy_key: Option<&Key128>,
        options: MigrateOptions,
        out: &mut [u8],
    ) -> Result<Migrated> {
        self.migrator(legacy_key, options)
            .migrate_into(value, context, out)
    }

    /// A [`Migrator`]: [`Crypt::migrate_into`] with these arguments, for many values.
    pub fn migrator<'a>(
        &'a self,
        legacy_key: Option<&'a Key128>,
        options: MigrateOptions,
    ) -> Migrator<'a> {
        Migrator {
            crypt: self,
            key: legacy_key.or(self.legacy_key.as_ref()),
            options,
            legacy: None,
            plaintext: zeroize::Zeroizing::new(Vec::new()),
        }
    }

    /// Migrates one value (see [`Crypt::migrate_into`]) with the handle's legacy key.
    pub fn migrate(&self, value: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        self.check_stored_len(value.len())?;
        crate::limits::check_context(context.len())?;
        let mut out = crate::limits::try_zeroed(Crypt::migrated_max_len(value.len()))?;
        let n = self
            .migrate_into(value, context, None, MigrateOptions::default(), &mut out)?
            .written();
        out.truncate(n);
        Ok(out)
    }

    /// An `io::Write` that encrypts into `inner` as a stream v1 (SPEC §5) bound to `context`,
    /// with segments of `segment_size` plaintext bytes (4096..=16 MiB; 65536 is the default).
    /// Call `finish()` at the end.
    pub fn encrypting_writer<W: std::io::Write>(
        &self,
        inner: W,
        context: &[u8],
        segment_size: usize,
    ) -> Result<StreamWriter<W>> {
        StreamWriter::new(self, inner, context, segment_size)
    }

    /// An `io::Read` that decrypts the stream v1 read from `inner`, bound to `context`.
    pub fn decrypting_reader<R: std::io::Read>(
        &self,
        inner: R,
        context: &[u8],
    ) -> Result<StreamReader<R>> {
        StreamReader::new(self, inner, context)
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
    fn rotate_into(&self, envelope: &[u8], context: &[u8], out: &mut [u8]) -> Result<Migrated> {
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

    /// True when `value` is an authentic envelope v1 under `context` (nothing is returned).
    pub fn is_authentic(&self, value: &[u8], context: &[u8]) -> bool {
        if self.check_stored_len(value.len()).is_err()
            || crate::limits::check_context(context.len()).is_err()
        {
            return false;
        }
        let Ok((header, body)) = envelope::parse(value) else {
            return false;
        };
        let Ok(kek) = self.kek(header.kek_id) else {
            return false;
        };
        let Ok(scratch) = crate::limits::try_zeroed(body.len() - crate::aead::TAG_LEN) else {
            return false;
        };
        let mut scratch = zeroize::Zeroizing::new(scratch);
        envelope::open_with(&kek.deriver, &header, body, context, &mut scratch).is_ok()
    }
}

/// [`Crypt::migrate_into`] for a batch of values, with the same result value by value: the
/// legacy key is scheduled on the first legacy value and kept, and legacy plaintexts go
/// through one reused buffer, wiped when the migrator is dropped (keep it for one batch).
pub struct Migrator<'a> {
    crypt: &'a Crypt,
    key: Option<&'a Key128>,
    options: MigrateOptions,
    legacy: Option<legacy::LegacyDecryptor>,
    plaintext: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Migrator<'_> {
    /// Migrates one value into `out`, which must hold [`Crypt::migrated_max_len`] of its
    /// length (see [`Crypt::migrate_into`]).
    pub fn migrate_into(
        &mut self,
        value: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<Migrated> {
        let c = self.crypt;
        c.check_stored_len(value.len())?;
        crate::limits::check_context(context.len())?;
        if let Some(id) = envelope::claimed_kek_id(value).filter(|&id| !c.holds_kek(id)) {
            // Magic, version and algorithm say envelope: CBC would "decrypt" ~1 in 256 of
            // these into garbage, so it is never tried as a legacy value.
            return Err(Error::new(
                ErrorKind::UnknownKek,
                format!(
                    "The value is an envelope v1 of KEK {id}, which this keystore does not hold (it holds {:?}): it was not tried as a legacy value; use the keystore it was written with (e.g. the copy retire_kek kept in log/)",
                    c.kek_ids()
                ),
            ));
        }
        if envelope::looks_like_v1(value) {
            let kek_id = envelope::parse(value).ok().map(|(h, _)| h.kek_id);
            let stale = self.options.reencrypt && kek_id.is_some_and(|id| id != c.active_kek_id());
            if stale {
                // Not authentic (e.g. a legacy value that happens to start like v1): try legacy.
                if let Ok(m) = c.rotate_into(value, context, out) {
                    return Ok(m);
                }
            } else if c.is_authentic(value, context) {
                return copy_unchanged(value, out);
            }
            if let Some(id) = kek_id.filter(|&id| self.options.strict_v1 && c.holds_kek(id)) {
                return Err(Error::new(
                    ErrorKind::NotAuthentic,
                    format!(
                        "The value is an envelope v1 of KEK {id} but is not authentic under its context: check the context of its column (it was not tried as a legacy value)"
                    ),
                ));
            }
        }
        let legacy = match self.legacy {
            Some(ref l) => l,
            None => {
                let key = self.key.ok_or_else(|| {
                    Error::new(
                        ErrorKind::Legacy,
                        format!(
                            "No legacy key is configured: set {} or {} to the legacy AES-128 key (base64)",
                            keys::ENV_LEGACY_KEY_ENV,
                            keys::ENV_LEGACY_KEY_FILE
                        ),
                    )
                })?;
                self.legacy.insert(legacy::LegacyDecryptor::new(key)?)
            }
        };
        let n = legacy.decrypt_into(value, self.options.require_utf8, &mut self.plaintext)?;
        c.encrypt_into(&self.plaintext[..n], context, out)
            .map(Migrated::Reencrypted)
    }
}

/// A batch of values packed back to back, with their contexts (see [`Crypt::migrate_packed`]):
/// item `i` is `values[value_ends[i-1]..value_ends[i]]` (from 0 for the first), likewise for
/// contexts. The ends must be non-decreasing and within the slices.
#[derive(Debug, Clone, Copy)]
pub struct PackedItems<'a> {
    /// The values, back to back.
    pub values: &'a [u8],
    /// Where each value ends.
    pub value_ends: &'a [usize],
    /// The contexts, back to back.
    pub contexts: &'a [u8],
    /// Where each context ends.
    pub context_ends: &'a [usize],
}

impl PackedItems<'_> {
    fn len(&self) -> usize {
        self.value_ends.len()
    }

    fn range(ends: &[usize], i: usize) -> std::ops::Range<usize> {
        (if i == 0 { 0 } else { ends[i - 1] })..ends[i]
    }

    /// Output bytes that all items may need.
    fn out_need(&self) -> usize {
        (0..self.len())
            .map(|i| Crypt::migrated_max_len(Self::range(self.value_ends, i).len()))
            .fold(0usize, usize::saturating_add)
    }
}

/// What [`Crypt::migrate_packed`] did with one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackedOutcome {
    /// Migrated, or copied unchanged, into the output.
    Written(Migrated),
    /// The legacy value does not decrypt with the legacy key, or (with
    /// [`MigrateOptions::strict_v1`]) an envelope v1 of this keystore is not authentic under its
    /// context: the engine's message (it names no value). Nothing was written for it.
    Undecryptable(String),
    /// Not migrated, and not because the legacy key failed (so it says nothing about that
    /// key): an envelope v1 whose KEK this keystore does not hold, or (with
    /// [`MigrateOptions::strict_v1`]) one that is not authentic under its context — never
    /// tried as a legacy value — or a value over the record size limit. The engine's message
    /// says which; nothing was written for it.
    Refused(String),
}

impl Crypt {
    /// [`Crypt::migrate_into`] for a packed batch, with the same result item by item: the
    /// results are written back to back into `out` (which must hold
    /// [`Crypt::migrated_max_len`] of every value), `out_ends[i]` receives where item `i`'s
    /// result ends (an undecryptable item writes nothing) and `outcomes` one outcome per item.
    /// A value that does not decrypt with the legacy key, an envelope that is refused and a
    /// value over the size limit are outcomes, not errors; what concerns the whole batch (no
    /// legacy key configured, bad ends, a short output) is.
    pub fn migrate_packed(
        &self,
        items: PackedItems<'_>,
        legacy_key: Option<&Key128>,
        options: MigrateOptions,
        out: &mut [u8],
        out_ends: &mut [usize],
        outcomes: &mut Vec<PackedOutcome>,
    ) -> Result<()> {
        let n = items.len();
        if items.context_ends.len() != n || out_ends.len() != n {
            return Err(Error::invalid(
                "every item needs a value end, a context end and an output end",
            ));
        }
        for ends in [items.value_ends, items.context_ends] {
            if ends.windows(2).any(|w| w[0] > w[1]) {
                return Err(Error::invalid("the item ends must not decrease"));
            }
        }
        if items
            .value_ends
            .last()
            .is_some_and(|&e| e > items.values.len())
            || items
                .context_ends
                .last()
                .is_some_and(|&e| e > items.contexts.len())
        {
            return Err(Error::invalid("an item ends past its array"));
        }
        let need = items.out_need();
        if out.len() < need {
            return Err(Error::buffer_too_small(need, out.len()));
        }
        outcomes.clear();
        let key_available = legacy_key.is_some() || self.has_legacy_key();
        let mut migrator = self.migrator(legacy_key, options);
        let mut pos = 0usize;
        for (i, end) in out_ends.iter_mut().enumerate() {
            let value = &items.values[PackedItems::range(items.value_ends, i)];
            let ctx = &items.contexts[PackedItems::range(items.context_ends, i)];
            let limits = self
                .check_stored_len(value.len())
                .and_then(|()| crate::limits::check_context(ctx.len()));
            if let Err(e) = limits {
                outcomes.push(PackedOutcome::Refused(e.message().to_owned()));
                *end = pos;
                continue;
            }
            let slot = &mut out[pos..pos + Crypt::migrated_max_len(value.len())];
            match migrator.migrate_into(value, ctx, slot) {
                Ok(m) => {
                    pos += m.written();
                    outcomes.push(PackedOutcome::Written(m));
                }
                Err(e) if e.kind() == ErrorKind::Legacy && key_available => {
                    outcomes.push(PackedOutcome::Undecryptable(e.message().to_owned()));
                }
                Err(e) if matches!(e.kind(), ErrorKind::NotAuthentic | ErrorKind::UnknownKek) => {
                    outcomes.push(PackedOutcome::Refused(e.message().to_owned()));
                }
                Err(e) => return Err(e),
            }
            *end = pos;
        }
        Ok(())
    }
}

/// The source and destination CMKs of `rekey` (SPEC §9), both checked before anything is read.
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

/// A fresh record salt and GCM nonce from the CSPRNG (SPEC §1, §4).
fn fresh_salt_and_nonce() -> ([u8; 32], [u8; 12]) {
    let mut salt_nonce = [0u8; 44];
    crate::rng::fill(&mut salt_nonce);
    let salt = salt_nonce[..32].try_into().expect("32 bytes");
    let nonce = salt_nonce[32..].try_into().expect("12 bytes");
    (salt, nonce)
}

/// Copies an authentic value unchanged into `out`.
fn copy_unchanged(value: &[u8], out: &mut [u8]) -> Result<Migrated> {
    if out.len() < value.len() {
        return Err(Error::buffer_too_small(value.len(), out.len()));
    }
    out[..value.len()].copy_from_slice(value);
    Ok(Migrated::AlreadyV1(value.len()))
}

// The stream format knows a KEK only as a deriver and an id: the handle picks the KEK (the
// active one to encrypt, the one the header names to decrypt).

impl StreamEncryptor {
    /// Starts a stream under the handle's active KEK with a fresh salt and nonce prefix.
    pub fn new(crypt: &Crypt, context: &[u8], segment_size: usize) -> Result<StreamEncryptor> {
        let kek = crypt.active_kek();
        StreamEncryptor::with_kek(&kek.deriver, kek.id, context, segment_size)
    }

    /// Like [`StreamEncryptor::new`] with a given salt and nonce prefix (known-answer tests
    /// only: real streams draw both fresh).
    pub fn with_salt(
        crypt: &Crypt,
        context: &[u8],
        segment_size: usize,
        salt: &[u8; 32],
        prefix: &[u8; 7],
    ) -> StreamEncryptor {
        let kek = crypt.active_kek();
        StreamEncryptor::with_kek_and_salt(
            &kek.deriver,
            kek.id,
            context,
            segment_size,
            salt,
            prefix,
        )
    }
}

impl StreamDecryptor {
    /// Starts decrypting a stream whose first 52 bytes are `header`, with the KEK it names.
    pub fn new(crypt: &Crypt, header: &[u8], context: &[u8]) -> Result<StreamDecryptor> {
        crate::limits::check_context(context.len())?;
        let h = stream::parse_header(header)?;
        let kek = crypt.kek(h.kek_id)?;
        StreamDecryptor::with_kek(&kek.deriver, kek.id, header, context)
    }
}

impl<W: std::io::Write> StreamWriter<W> {
    /// Starts a stream with segment size `segment_size` (SPEC §5: 4096..=16 MiB) and writes
    /// its header.
    pub fn new(
        crypt: &Crypt,
        inner: W,
        context: &[u8],
        segment_size: usize,
    ) -> Result<StreamWriter<W>> {
        StreamWriter::with_encryptor(inner, StreamEncryptor::new(crypt, context, segment_size)?)
    }
}

impl<R: std::io::Read> StreamReader<R> {
    /// Reads the header from `inner` and prepares to decrypt under `context`.
    pub fn new(crypt: &Crypt, mut inner: R, context: &[u8]) -> Result<StreamReader<R>> {
        let (header, got) = stream::read_header(&mut inner)?;
        let dec = StreamDecryptor::new(crypt, &header[..got], context)?;
        Ok(StreamReader::with_decryptor(inner, dec))
    }
}
