//! What a CMK does with KEKs (docs/keystore.md): generate a new one, wrap an existing one, unwrap the
//! wrapped ones of a keystore. A local CMK wraps with AES-256-GCM under
//! `HKDF-Expand(CMK, "lkr-crypt v1 kek-wrap", 32)`: `nonce(12) ‖ ciphertext(32) ‖ tag(16)`,
//! additional data `"lkr-crypt v1 kek" ‖ be32(id)`. A KMS CMK calls KMS ([`super::aws_kms`]),
//! binding every KEK to the docs/keystore.md encryption context of its id.

use super::{AwsKmsKey, MasterKey};
use crate::aead::{Aes256Gcm, NONCE_LEN, TAG_LEN};
use crate::error::{Error, Result, MISMATCH};
use crate::kdf;
use crate::secret::Key256;

const WRAP_AD_PREFIX: &[u8] = b"lkr-crypt v1 kek";
/// Length of a KEK wrapped under a local CMK: nonce ‖ ciphertext ‖ tag.
pub const LOCAL_WRAPPED_LEN: usize = NONCE_LEN + 32 + TAG_LEN;

fn wrap_ad(id: u32) -> [u8; 20] {
    let mut ad = [0u8; 20];
    ad[..16].copy_from_slice(WRAP_AD_PREFIX);
    ad[16..].copy_from_slice(&id.to_be_bytes());
    ad
}

/// Wraps `kek` under a local CMK's wrapping key with a given nonce (docs/keystore.md).
/// Callers draw the nonce from the CSPRNG; a fixed nonce is for known-answer vectors only.
pub fn wrap_local_with_nonce(
    wrap_key: &Key256,
    id: u32,
    kek: &Key256,
    nonce: &[u8; 12],
) -> [u8; LOCAL_WRAPPED_LEN] {
    let mut out = [0u8; LOCAL_WRAPPED_LEN];
    out[..NONCE_LEN].copy_from_slice(nonce);
    Aes256Gcm::new(wrap_key).seal_into(nonce, &wrap_ad(id), kek.expose(), &mut out[NONCE_LEN..]);
    out
}

fn unwrap_local(wrap_key: &Key256, id: u32, wrapped: &[u8]) -> Result<Key256> {
    let bad = || {
        Error::keystore(format!(
            "{MISMATCH}: KEK {id} could not be unwrapped (the keystore was changed or damaged)"
        ))
    };
    if wrapped.len() != LOCAL_WRAPPED_LEN {
        return Err(bad());
    }
    let nonce: [u8; 12] = wrapped[..NONCE_LEN].try_into().expect("12 bytes");
    let mut kek = Key256::zero();
    Aes256Gcm::new(wrap_key)
        .open_into(
            &nonce,
            &wrap_ad(id),
            &wrapped[NONCE_LEN..],
            kek.expose_mut(),
        )
        .map_err(|_| bad())?;
    Ok(kek)
}

impl MasterKey {
    /// A fresh KEK with id `id`, and its wrapped form under this CMK: 32 bytes from the OS
    /// CSPRNG wrapped locally, or from KMS `GenerateDataKey` bound to the docs/keystore.md context.
    pub fn generate(&self, id: u32) -> Result<(Key256, Vec<u8>)> {
        match self {
            MasterKey::Local(_) => {
                let kek = Key256::random();
                let wrapped = self.wrap(id, &kek)?;
                Ok((kek, wrapped))
            }
            #[cfg(feature = "aws-kms")]
            MasterKey::AwsKms(k) => super::aws_kms::generate_kek(k, id),
            #[cfg(not(feature = "aws-kms"))]
            MasterKey::AwsKms(k) => Err(super::kms_unavailable(k)),
        }
    }

    /// Wraps an existing KEK under this CMK (docs/keystore.md): locally with a fresh nonce, or with KMS
    /// `Encrypt` and the §6 context.
    pub fn wrap(&self, id: u32, kek: &Key256) -> Result<Vec<u8>> {
        match self {
            MasterKey::Local(cmk) => {
                let mut nonce = [0u8; 12];
                crate::rng::fill_os(&mut nonce);
                Ok(wrap_local_with_nonce(&kdf::kek_wrap_key(cmk), id, kek, &nonce).to_vec())
            }
            #[cfg(feature = "aws-kms")]
            MasterKey::AwsKms(k) => super::aws_kms::encrypt_kek(k, id, kek),
            #[cfg(not(feature = "aws-kms"))]
            MasterKey::AwsKms(k) => Err(super::kms_unavailable(k)),
        }
    }

    /// Unwraps KEK `id`; fails with the mismatch message of docs/keys.md when this CMK did not wrap it (or
    /// the wrapped form was changed).
    pub fn unwrap(&self, id: u32, wrapped: &[u8]) -> Result<Key256> {
        match self {
            MasterKey::Local(cmk) => unwrap_local(&kdf::kek_wrap_key(cmk), id, wrapped),
            MasterKey::AwsKms(_) => self
                .unwrap_all(vec![(id, wrapped.to_vec())])
                .map(|mut keks| keks.remove(0)),
        }
    }

    /// Unwraps many KEKs at once, returned in the order given: with KMS, one batch of
    /// concurrent `Decrypt` calls (at most `aws_kms::MAX_CONCURRENT_DECRYPTS`, 8, at a time).
    pub fn unwrap_all(&self, wrapped: Vec<(u32, Vec<u8>)>) -> Result<Vec<Key256>> {
        match self {
            MasterKey::Local(cmk) => {
                let wrap_key = kdf::kek_wrap_key(cmk);
                wrapped
                    .iter()
                    .map(|(id, w)| unwrap_local(&wrap_key, *id, w))
                    .collect()
            }
            #[cfg(feature = "aws-kms")]
            MasterKey::AwsKms(k) => super::aws_kms::decrypt_keks(k, wrapped),
            #[cfg(not(feature = "aws-kms"))]
            MasterKey::AwsKms(k) => Err(super::kms_unavailable(k)),
        }
    }
}

impl AwsKmsKey {
    /// Checks that a keystore whose KEKs KMS wrapped under `key_id` with the encryption context
    /// `context` is this key's, before any KMS call: docs/keys.md's mismatch message otherwise, saying
    /// which variable to set. A build without KMS support refuses at once.
    pub fn check_keystore(&self, key_id: &str, context: &str) -> Result<()> {
        #[cfg(feature = "aws-kms")]
        {
            use super::{DEFAULT_AWS_CMK_EC, ENV_AWS_CMK, ENV_AWS_CMK_EC};
            if self.key_id != key_id {
                return Err(Error::master_key(format!(
                    "{MISMATCH}: the keystore was created with the AWS KMS key {key_id}, but {ENV_AWS_CMK}={} is configured (set {ENV_AWS_CMK}={key_id}, written exactly so, or rekey the keystore)",
                    self.key_id
                )));
            }
            if self.context != context {
                let fix = if context == DEFAULT_AWS_CMK_EC {
                    format!("unset {ENV_AWS_CMK_EC}: the keystore uses the default context")
                } else {
                    format!("set {ENV_AWS_CMK_EC}={context}")
                };
                return Err(Error::master_key(format!(
                    "{MISMATCH}: the keystore was created with the KMS encryption context \"{context}\", but {ENV_AWS_CMK_EC} gives \"{}\" ({fix})",
                    self.context
                )));
            }
            Ok(())
        }
        #[cfg(not(feature = "aws-kms"))]
        {
            let _ = (key_id, context);
            Err(super::kms_unavailable(self))
        }
    }
}
