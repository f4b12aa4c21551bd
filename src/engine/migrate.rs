//! Migration of stored values to envelope v1 (docs/legacy.md, docs/native-interfaces.md `migrate_encryption`): one value,
//! a batch through a [`Migrator`], or a packed batch ([`Crypt::migrate_packed`]).

use super::records::decode_text;
use super::Crypt;
use crate::error::{Error, ErrorKind, Result};
use crate::format::{envelope, legacy};
use crate::keys;
use crate::secret::Key128;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// Options of [`Crypt::migrate_into`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MigrateOptions {
    /// The legacy plaintext must be valid UTF-8 (text columns, docs/legacy.md, docs/native-interfaces.md).
    pub require_utf8: bool,
    /// Also re-encrypt authentic v1 values whose KEK is not the active one (after a KEK
    /// rotation, docs/native-interfaces.md), as [`Crypt::reencrypt_into`] does.
    pub reencrypt: bool,
    /// A value shaped like an envelope v1 of a KEK this keystore holds (magic, version,
    /// algorithm, KEK id) that is not authentic under the context is undecryptable
    /// ([`ErrorKind::NotAuthentic`]) instead of being tried as a legacy value, as docs/legacy.md does
    /// by default. `migrate_encryption` sets it: with a wrong context in the manifest, AES-CBC
    /// would "decrypt" about one such envelope in 4096 into garbage and replace it. A genuine
    /// legacy value starts with those 9 bytes with probability below 2^-56.
    pub strict_v1: bool,
}

impl MigrateOptions {
    /// Flag bit of [`MigrateOptions::require_utf8`] (the C ABI's `LKR_MIGRATE_REQUIRE_UTF8`,
    /// Java's `MigrateOption.REQUIRE_UTF8`).
    pub const REQUIRE_UTF8: u32 = 1;
    /// Flag bit of [`MigrateOptions::reencrypt`].
    pub const REENCRYPT: u32 = 2;
    /// Flag bit of [`MigrateOptions::strict_v1`].
    pub const STRICT_V1: u32 = 4;

    /// The options of these flag bits; `None` when a bit this version does not know is set
    /// (the caller names its own API in the error).
    pub fn from_bits(bits: u32) -> Option<MigrateOptions> {
        if bits & !(Self::REQUIRE_UTF8 | Self::REENCRYPT | Self::STRICT_V1) != 0 {
            return None;
        }
        Some(MigrateOptions {
            require_utf8: bits & Self::REQUIRE_UTF8 != 0,
            reencrypt: bits & Self::REENCRYPT != 0,
            strict_v1: bits & Self::STRICT_V1 != 0,
        })
    }
}

/// What [`Crypt::migrate_into`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Migrated {
    /// The value was already an authentic v1 envelope and was copied unchanged.
    AlreadyV1(usize),
    /// The legacy value was decrypted and sealed as an envelope v1 under the active KEK (migrated
    /// from legacy); the envelope has this length.
    FromLegacy(usize),
    /// The v1 value was re-encrypted from an older KEK to the active one (only with
    /// [`MigrateOptions::reencrypt`] or [`Crypt::reencrypt_into`]); the envelope has this length.
    Rotated(usize),
}

impl Migrated {
    /// Code of `AlreadyV1` (the C ABI's `LKR_MIGRATED_ALREADY_V1`, stored by `lkr_migrate_ex`).
    pub const ALREADY_V1: i32 = 0;
    /// Code of `FromLegacy` (`LKR_MIGRATED_FROM_LEGACY`).
    pub const FROM_LEGACY: i32 = 1;
    /// Code of `Rotated` (`LKR_MIGRATED_ROTATED`).
    pub const ROTATED: i32 = 2;

    /// Bytes written to the output.
    pub fn written(self) -> usize {
        match self {
            Migrated::AlreadyV1(n) | Migrated::FromLegacy(n) | Migrated::Rotated(n) => n,
        }
    }

    /// The stable code of what was done, as the C ABI's `lkr_migrate_ex` reports it
    /// ([`Migrated::ALREADY_V1`], [`Migrated::FROM_LEGACY`], [`Migrated::ROTATED`]). A packed
    /// batch numbers its outcomes otherwise ([`PackedOutcome::code`]).
    pub fn code(self) -> i32 {
        match self {
            Migrated::AlreadyV1(_) => Self::ALREADY_V1,
            Migrated::FromLegacy(_) => Self::FROM_LEGACY,
            Migrated::Rotated(_) => Self::ROTATED,
        }
    }
}

impl Crypt {
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

    /// Migrates one value to envelope v1 without handing its plaintext out (docs/legacy.md): an
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

    /// [`Crypt::migrate_into`] with the default options into a region the caller owns, sized by
    /// the bound, as Java's `LegacyMigrator.migrate(byte[], int, int, byte[], byte[], int)` needs
    /// (like `Cipher.getOutputSize` for CBC with padding): the result's length is known only once
    /// the value is decrypted, so `out` must hold [`Crypt::migrated_max_len`] of the value's
    /// length, else [`ErrorKind::BufferTooSmall`] naming that size. A value or context over its
    /// limit, and a short `out`, are refused before anything is written; when the value does not
    /// migrate, `out` is zeroed, so no partial result is ever left in it.
    pub fn migrate_into_region(
        &self,
        value: &[u8],
        context: &[u8],
        legacy_key: Option<&Key128>,
        out: &mut [u8],
    ) -> Result<Migrated> {
        self.check_stored_len(value.len())?;
        crate::limits::check_context(context.len())?;
        let need = Crypt::migrated_max_len(value.len());
        if out.len() < need {
            return Err(Error::buffer_too_small(need, out.len()));
        }
        let options = MigrateOptions::default();
        self.migrate_into(value, context, legacy_key, options, out)
            .inspect_err(|_| zeroize::Zeroize::zeroize(out))
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
            .map(Migrated::FromLegacy)
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
        Self::out_need_for(self.value_ends)
    }

    /// The output bytes a packed batch whose values end at `value_ends` may need: every
    /// value's [`Crypt::migrated_max_len`].
    pub fn out_need_for(value_ends: &[usize]) -> usize {
        (0..value_ends.len())
            .map(|i| Crypt::migrated_max_len(Self::range(value_ends, i).len()))
            .fold(0usize, usize::saturating_add)
    }
}

/// What [`Crypt::migrate_packed`] did with one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackedOutcome {
    /// Migrated, or copied unchanged, into the output.
    Written(Migrated),
    /// The legacy value does not decrypt with the legacy key: the engine's message (it names
    /// no value). Nothing was written for it.
    Undecryptable(String),
    /// Not migrated, and not because the legacy key failed (so it says nothing about that
    /// key): an envelope v1 whose KEK this keystore does not hold, or (with
    /// [`MigrateOptions::strict_v1`]) one that is not authentic under its context — never
    /// tried as a legacy value — or a value over the record size limit. The engine's message
    /// says which; nothing was written for it.
    Refused(String),
}

impl PackedOutcome {
    /// Code of `Written(Migrated::FromLegacy)`: a legacy value, now an envelope v1.
    pub const FROM_LEGACY: i32 = 1;
    /// Code of `Written(Migrated::AlreadyV1)`: an authentic envelope v1, copied unchanged.
    pub const ALREADY_V1: i32 = 2;
    /// Code of `Undecryptable`.
    pub const UNDECRYPTABLE: i32 = 3;
    /// Code of `Written(Migrated::Rotated)`: moved to the active KEK.
    pub const ROTATED: i32 = 4;
    /// Code of `Refused`.
    pub const REFUSED: i32 = 5;

    /// The outcome's stable code (the JNI packed batch hands it to Java, whose
    /// `MigrationResult.Outcome` mirrors these numbers).
    pub fn code(&self) -> i32 {
        match self {
            PackedOutcome::Written(Migrated::FromLegacy(_)) => Self::FROM_LEGACY,
            PackedOutcome::Written(Migrated::AlreadyV1(_)) => Self::ALREADY_V1,
            PackedOutcome::Written(Migrated::Rotated(_)) => Self::ROTATED,
            PackedOutcome::Undecryptable(_) => Self::UNDECRYPTABLE,
            PackedOutcome::Refused(_) => Self::REFUSED,
        }
    }

    /// Why nothing was written (`Undecryptable`, `Refused`); `None` for `Written`.
    pub fn message(&self) -> Option<&str> {
        match self {
            PackedOutcome::Written(_) => None,
            PackedOutcome::Undecryptable(m) | PackedOutcome::Refused(m) => Some(m),
        }
    }
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

/// Copies an authentic value unchanged into `out`.
pub(super) fn copy_unchanged(value: &[u8], out: &mut [u8]) -> Result<Migrated> {
    if out.len() < value.len() {
        return Err(Error::buffer_too_small(value.len(), out.len()));
    }
    out[..value.len()].copy_from_slice(value);
    Ok(Migrated::AlreadyV1(value.len()))
}
