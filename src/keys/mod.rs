//! Where the Customer Master Key comes from (docs/keys.md): exactly one of `LKR_MASTER_KEY_ENV`,
//! `LKR_MASTER_KEY_FILE` or `LKR_AWS_CMK`. Also the legacy AES-128 key (docs/legacy.md).
//!
//! A [`MasterKey`] generates, wraps and unwraps KEKs itself (`wrap.rs`): the keystore never
//! knows how.
//!
//! Every reader takes a variable lookup (`&dyn Fn(&str) -> Option<String>`) and a suffix, so
//! that `rekey` can read `..._SOURCE` / `..._DESTINATION` and tests need not touch the
//! process environment.

#[cfg(feature = "aws-kms")]
pub mod aws_kms;
mod local;
pub mod recovery;
mod wrap;

pub use local::{decode_key_text, read_key_file};
pub use recovery::{
    recovery_key_from, recovery_key_from_env, RecoveryPrivateKey, RecoveryPublicKey,
    ENV_RECOVERY_PUBLIC_KEY_FILE,
};
pub use wrap::{wrap_local_with_nonce, LOCAL_WRAPPED_LEN};

use crate::error::{Error, Result};
use crate::secret::{Key128, Key256};
use std::fmt;
use zeroize::Zeroizing;

/// Variable holding the CMK as base64.
pub const ENV_MASTER_KEY_ENV: &str = "LKR_MASTER_KEY_ENV";
/// Variable naming a 0400 file that holds the CMK as base64.
pub const ENV_MASTER_KEY_FILE: &str = "LKR_MASTER_KEY_FILE";
/// Variable naming an AWS KMS key (alias, id or ARN).
pub const ENV_AWS_CMK: &str = "LKR_AWS_CMK";
/// Variable holding the KMS encryption context string.
pub const ENV_AWS_CMK_EC: &str = "LKR_AWS_CMK_EC";
/// Default KMS encryption context string.
pub const DEFAULT_AWS_CMK_EC: &str = "Looker_Encryption_Context";
/// Variable holding the legacy AES-128 key as base64.
pub const ENV_LEGACY_KEY_ENV: &str = "LKR_LEGACY_KEY_ENV";
/// Variable naming a 0400 file that holds the legacy key as base64.
pub const ENV_LEGACY_KEY_FILE: &str = "LKR_LEGACY_KEY_FILE";

/// A variable lookup: returns the value of a variable, `None` when unset.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Looks variables up in the process environment.
pub fn process_env(name: &str) -> Option<String> {
    // `into_string` keeps the one copy (a key's base64 text, maybe) that `var` then wipes.
    std::env::var_os(name).map(|v| {
        v.into_string().unwrap_or_else(|v| {
            let text = v.to_string_lossy().into_owned();
            let mut raw = v.into_encoded_bytes();
            zeroize::Zeroize::zeroize(&mut raw);
            text
        })
    })
}

/// Where the CMK lives.
#[derive(Clone)]
pub enum MasterKey {
    /// A local 32-byte key (from `LKR_MASTER_KEY_ENV` or `LKR_MASTER_KEY_FILE`).
    Local(Key256),
    /// An AWS KMS key.
    AwsKms(AwsKmsKey),
}

/// An AWS KMS CMK as configured (docs/keys.md, docs/keystore.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsKmsKey {
    /// `LKR_AWS_CMK`: `alias/<name>`, a key id or a key ARN.
    pub key_id: String,
    /// `LKR_AWS_CMK_EC`, or [`DEFAULT_AWS_CMK_EC`].
    pub context: String,
    /// The AWS region of the key when the application names it (keys as data, docs/native-interfaces.md);
    /// `None`: the AWS SDK's chain (`AWS_REGION`). Not recorded in the keystore.
    pub region: Option<String>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterKey::Local(_) => f.write_str("MasterKey::Local([REDACTED])"),
            MasterKey::AwsKms(k) => write!(f, "MasterKey::AwsKms({k:?})"),
        }
    }
}

impl MasterKey {
    /// A short description for logs and `status` (never key bytes).
    pub fn describe(&self) -> String {
        match self {
            MasterKey::Local(_) => "local".to_string(),
            MasterKey::AwsKms(k) => format!("aws-kms {}", k.key_id),
        }
    }
}

/// The value of `name`, with the empty string counting as unset; wiped when dropped (it may
/// be a key's base64 text).
fn var(lookup: Lookup<'_>, name: &str) -> Option<Zeroizing<String>> {
    lookup(name).map(Zeroizing::new).filter(|v| !v.is_empty())
}

/// Reads the CMK configuration from the process environment (docs/keys.md).
pub fn master_key_from_env() -> Result<MasterKey> {
    master_key_from(&process_env, "")
}

/// Reads the CMK configuration: exactly one source among the variables named with `suffix`
/// appended (`""`, `"_SOURCE"` or `"_DESTINATION"`).
pub fn master_key_from(lookup: Lookup<'_>, suffix: &str) -> Result<MasterKey> {
    let names =
        [ENV_MASTER_KEY_ENV, ENV_MASTER_KEY_FILE, ENV_AWS_CMK].map(|n| format!("{n}{suffix}"));
    let set: Vec<&String> = names.iter().filter(|n| var(lookup, n).is_some()).collect();
    let all = format!("{}, {} or {}", names[0], names[1], names[2]);
    match set.len() {
        0 => Err(Error::master_key(format!(
            "No Customer Master Key is configured: set exactly one of {all}"
        ))),
        1 => {
            let name = set[0];
            let value = var(lookup, name).expect("checked above");
            if *name == names[0] {
                let key = decode_key_text::<32>(&value, "Master Key")
                    .map_err(|e| Error::master_key(format!("{e} (in {name})")))?;
                Ok(MasterKey::Local(key))
            } else if *name == names[1] {
                read_key_file::<32>(std::path::Path::new(value.as_str()), "Master Key", name)
                    .map(MasterKey::Local)
            } else {
                let ec_name = format!("{ENV_AWS_CMK_EC}{suffix}");
                Ok(MasterKey::AwsKms(AwsKmsKey {
                    key_id: value.trim().to_string(),
                    context: var(lookup, &ec_name)
                        .map_or_else(|| DEFAULT_AWS_CMK_EC.to_string(), |c| c.to_string()),
                    region: None,
                }))
            }
        }
        _ => Err(Error::master_key(format!(
            "Several Customer Master Key sources are set ({}): set exactly one of {all}",
            set.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A local CMK given by the application as raw bytes (keys as data, docs/native-interfaces.md):
/// exactly 32 bytes, with docs/keys.md's size message otherwise.
pub fn master_key_from_bytes(bytes: &[u8]) -> Result<MasterKey> {
    Key256::from_slice(bytes)
        .map(MasterKey::Local)
        .ok_or_else(|| {
            Error::master_key(format!(
                "Size of the Master Key is invalid it must be 32 bytes however is {}",
                bytes.len()
            ))
        })
}

/// A local CMK given by the application as base64 text (surrounding whitespace ignored), with
/// docs/keys.md's checks and messages.
pub fn master_key_from_text(text: &str) -> Result<MasterKey> {
    decode_key_text::<32>(text, "Master Key").map(MasterKey::Local)
}

/// A local CMK read from the base64 text in the file at `path` (mode 0400, checked on the open
/// descriptor: [`read_key_file`]); `what` names the caller in messages (e.g.
/// `MasterKey.localFile`).
pub fn master_key_from_file(path: &std::path::Path, what: &str) -> Result<MasterKey> {
    read_key_file::<32>(path, "Master Key", what).map(MasterKey::Local)
}

/// An AWS KMS CMK named by the application: `key_id` (`alias/<name>`, a key id or a key ARN;
/// surrounding whitespace ignored), its `region` (`None` or empty: the AWS SDK's chain,
/// `AWS_REGION`) and the encryption context string (`None` or empty: [`DEFAULT_AWS_CMK_EC`]).
/// Nothing is asked of KMS here: the key is reached when a keystore is opened or created.
pub fn aws_kms_master_key(
    key_id: &str,
    region: Option<&str>,
    context: Option<&str>,
) -> Result<MasterKey> {
    let key_id = key_id.trim();
    if key_id.is_empty() {
        return Err(Error::invalid(
            "The AWS KMS key id is empty: give alias/<name>, a key id or a key ARN",
        ));
    }
    let region = region.map(str::trim).filter(|r| !r.is_empty());
    Ok(MasterKey::AwsKms(AwsKmsKey {
        key_id: key_id.to_string(),
        context: context
            .filter(|c| !c.is_empty())
            .unwrap_or(DEFAULT_AWS_CMK_EC)
            .to_string(),
        region: region.map(str::to_string),
    }))
}

/// Checks a CMK variable suffix: `""`, `"_SOURCE"` or `"_DESTINATION"`.
pub fn check_suffix(suffix: &str) -> Result<()> {
    if matches!(suffix, "" | "_SOURCE" | "_DESTINATION") {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "Unknown CMK variable suffix {suffix:?}: use \"\", \"_SOURCE\" or \"_DESTINATION\""
        )))
    }
}

/// Validates the CMK configuration named with `suffix` (`""`, `"_SOURCE"` or `"_DESTINATION"`)
/// in the process environment without using it (no KMS request): docs/keys.md's errors before a task
/// touches anything.
pub fn check_master_key_config(suffix: &str) -> Result<()> {
    check_suffix(suffix)?;
    master_key_from(&process_env, suffix).map(drop)
}

/// Reads the legacy AES-128 key from `LKR_LEGACY_KEY_ENV` / `LKR_LEGACY_KEY_FILE`; `None`
/// when neither is set.
pub fn legacy_key_from(lookup: Lookup<'_>) -> Result<Option<Key128>> {
    let env = var(lookup, ENV_LEGACY_KEY_ENV);
    let file = var(lookup, ENV_LEGACY_KEY_FILE);
    let legacy = |m: String| Error::new(crate::ErrorKind::Legacy, m);
    match (env, file) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(legacy(format!(
            "Both {ENV_LEGACY_KEY_ENV} and {ENV_LEGACY_KEY_FILE} are set: set only one"
        ))),
        (Some(text), None) => decode_key_text::<16>(&text, "Legacy Key")
            .map(Some)
            .map_err(|e| legacy(format!("{e} (in {ENV_LEGACY_KEY_ENV})"))),
        (None, Some(path)) => read_key_file::<16>(
            std::path::Path::new(path.as_str()),
            "Legacy Key",
            ENV_LEGACY_KEY_FILE,
        )
        .map(Some)
        .map_err(|e| legacy(e.message().to_string())),
    }
}

/// A legacy AES-128 key given by a caller as raw bytes (C and Java): exactly 16 bytes.
pub fn legacy_key_from_bytes(bytes: &[u8]) -> Result<Key128> {
    Key128::from_slice(bytes).ok_or_else(|| {
        Error::new(
            crate::ErrorKind::Legacy,
            format!(
                "Size of the Legacy Key is invalid it must be 16 bytes however is {}",
                bytes.len()
            ),
        )
    })
}

/// The error for a KMS CMK in a build without KMS support (cargo feature `aws-kms`).
#[cfg(not(feature = "aws-kms"))]
pub(crate) fn kms_unavailable(k: &AwsKmsKey) -> Error {
    Error::new(
        crate::ErrorKind::Kms,
        format!(
            "LKR_AWS_CMK={} is set, but this build of lkr-crypt has no AWS KMS support: use a local CMK (LKR_MASTER_KEY_ENV or LKR_MASTER_KEY_FILE)",
            k.key_id
        ),
    )
}
