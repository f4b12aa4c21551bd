//! The recovery key (docs/keystore.md, "Recovery key"): an RSA key of 3072 or 4096 bits whose
//! public half, named by `LKR_RECOVERY_PUBLIC_KEY_FILE`, wraps every KEK a second time with
//! RSAES-OAEP (SHA-256, MGF1-SHA-256, no label), and whose private half, kept off the nodes,
//! unwraps them when the CMK is lost.
//!
//! The RSA, OAEP, SHA-256 and DER work is aws-lc-rs's; PEM is `pem-rfc7468`'s (cargo feature
//! `rsa-recovery`, enabled by `aws-lc`). A build without it (RustCrypto only) has no RSA: every
//! constructor here refuses with a clear error, so such a build never wraps, unwraps or accepts
//! a recovery key.

use super::Lookup;
use crate::error::{Error, Result};
use crate::secret::Key256;
use std::fmt;
use std::path::Path;
use zeroize::Zeroizing;

/// Variable naming the recovery public key (PEM, `BEGIN PUBLIC KEY`).
pub const ENV_RECOVERY_PUBLIC_KEY_FILE: &str = "LKR_RECOVERY_PUBLIC_KEY_FILE";
/// The `kind` of a keystore's recovery section.
pub const RECOVERY_KIND: &str = "rsa-oaep-sha256";
/// The key sizes accepted, in bits.
pub const RECOVERY_KEY_BITS: [usize; 2] = [3072, 4096];
/// What a recovery wrapping holds before encryption: this prefix, `be32(id)`, the KEK.
const PREFIX: &[u8; 16] = b"lkr-crypt v1 kek";
/// The length of `PREFIX ‖ be32(id) ‖ KEK`.
const WRAPPED_PLAINTEXT_LEN: usize = 52;
/// The most bytes a PEM key file may hold (a 4096-bit PKCS#8 key is about 3.3 KB).
const MAX_PEM_LEN: u64 = 16 * 1024;

/// The recovery public key: wraps KEKs. Its [`RecoveryPublicKey::key_sha256`] is what a
/// keystore records.
pub struct RecoveryPublicKey {
    key: imp::Public,
    key_sha256: String,
    bits: usize,
}

/// The recovery private key (only the `recover` task has it): unwraps KEKs.
pub struct RecoveryPrivateKey {
    key: imp::Private,
    key_sha256: String,
}

impl fmt::Debug for RecoveryPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RecoveryPublicKey {{ rsa-{}, key_sha256: {} }}",
            self.bits, self.key_sha256
        )
    }
}

impl fmt::Debug for RecoveryPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RecoveryPrivateKey {{ key_sha256: {}, key: [REDACTED] }}",
            self.key_sha256
        )
    }
}

impl RecoveryPublicKey {
    /// Parses a PEM `PUBLIC KEY` (SubjectPublicKeyInfo); `source` names where it came from,
    /// for messages. Anything but an RSA key of 3072 or 4096 bits is refused.
    pub fn from_pem(pem: &[u8], source: &str) -> Result<RecoveryPublicKey> {
        let der = decode_pem(pem, "PUBLIC KEY", source)?;
        let (key, key_sha256, bits) = imp::public_from_der(&der, source)?;
        check_bits(bits, source)?;
        Ok(RecoveryPublicKey {
            key,
            key_sha256,
            bits,
        })
    }

    /// Reads the PEM public key in the file at `path` (`var` names where the path came from).
    pub fn from_file(path: &Path, var: &str) -> Result<RecoveryPublicKey> {
        use std::io::Read;
        let shown = path.display();
        let source = format!("{shown} ({var})");
        let unreadable = |e: std::io::Error| {
            Error::master_key(format!(
                "{var} names {shown}, which cannot be read ({e}): it must name the recovery public key (PEM)"
            ))
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        if !file.metadata().map_err(unreadable)?.is_file() {
            return Err(Error::master_key(format!(
                "{var} names {shown}, which is not a regular file: it must name the recovery public key (PEM)"
            )));
        }
        let mut pem = Vec::new();
        file.take(MAX_PEM_LEN + 1)
            .read_to_end(&mut pem)
            .map_err(unreadable)?;
        if pem.len() as u64 > MAX_PEM_LEN {
            return Err(Error::master_key(format!(
                "{var} names {shown}, which holds more than {MAX_PEM_LEN} bytes: it must hold only the recovery public key (PEM)"
            )));
        }
        RecoveryPublicKey::from_pem(&pem, &source)
    }

    /// base64 of the SHA-256 of the key's DER SubjectPublicKeyInfo (the keystore's `key_sha256`).
    pub fn key_sha256(&self) -> &str {
        &self.key_sha256
    }

    /// The key size in bits (3072 or 4096).
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// RSAES-OAEP-SHA256 of `"lkr-crypt v1 kek" ‖ be32(id) ‖ kek`.
    pub fn wrap(&self, id: u32, kek: &Key256) -> Result<Vec<u8>> {
        let mut plain = Zeroizing::new([0u8; WRAPPED_PLAINTEXT_LEN]);
        plain[..16].copy_from_slice(PREFIX);
        plain[16..20].copy_from_slice(&id.to_be_bytes());
        plain[20..].copy_from_slice(kek.expose());
        imp::encrypt(&self.key, &plain[..])
    }
}

impl RecoveryPrivateKey {
    /// Parses a PEM `PRIVATE KEY` (unencrypted PKCS#8); `source` names where it came from.
    pub fn from_pem(pem: &[u8], source: &str) -> Result<RecoveryPrivateKey> {
        let der = decode_pem(pem, "PRIVATE KEY", source)?;
        let (key, key_sha256, bits) = imp::private_from_der(&der, source)?;
        check_bits(bits, source)?;
        Ok(RecoveryPrivateKey { key, key_sha256 })
    }

    /// Reads the private key from the file at `path`, which must be a regular file of mode
    /// exactly 0400 owned by the user running lkr-crypt (checked like the CMK file, docs/keys.md).
    pub fn from_file(path: &Path) -> Result<RecoveryPrivateKey> {
        let pem = super::local::read_private_file(
            path,
            "recovery private key",
            "--private-key",
            MAX_PEM_LEN,
            "",
        )?;
        RecoveryPrivateKey::from_pem(&pem, &path.display().to_string())
    }

    /// The `key_sha256` of the matching public key.
    pub fn key_sha256(&self) -> &str {
        &self.key_sha256
    }

    /// Unwraps KEK `id` from its recovery wrapping, checking the prefix and the id.
    pub fn unwrap(&self, id: u32, wrapped: &[u8]) -> Result<Key256> {
        let plain = imp::decrypt(&self.key, wrapped).map_err(|_| {
            Error::keystore(format!(
                "KEK {id}'s recovery wrapping does not decrypt with this private key (damaged, or made with another key): nothing was written"
            ))
        })?;
        if plain.len() != WRAPPED_PLAINTEXT_LEN
            || plain[..16] != PREFIX[..]
            || plain[16..20] != id.to_be_bytes()
        {
            return Err(Error::keystore(format!(
                "KEK {id}'s recovery wrapping decrypts, but not to KEK {id} (it was moved from another entry or made by something else): nothing was written"
            )));
        }
        Ok(Key256::from_slice(&plain[20..]).expect("32 bytes"))
    }
}

/// The recovery public key named by `LKR_RECOVERY_PUBLIC_KEY_FILE` (the empty string counts as
/// unset); `None` when unset.
pub fn recovery_key_from(lookup: Lookup<'_>) -> Result<Option<RecoveryPublicKey>> {
    match lookup(ENV_RECOVERY_PUBLIC_KEY_FILE).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(path) => {
            RecoveryPublicKey::from_file(Path::new(&path), ENV_RECOVERY_PUBLIC_KEY_FILE).map(Some)
        }
    }
}

/// [`recovery_key_from`] the process environment.
pub fn recovery_key_from_env() -> Result<Option<RecoveryPublicKey>> {
    recovery_key_from(&super::process_env)
}

fn check_bits(bits: usize, source: &str) -> Result<()> {
    if RECOVERY_KEY_BITS.contains(&bits) {
        Ok(())
    } else {
        Err(Error::master_key(format!(
            "The recovery key in {source} is RSA-{bits}: only RSA keys of 3072 or 4096 bits are accepted (make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072); nothing was written"
        )))
    }
}

/// The DER inside a PEM document labelled `label` (wiped when dropped: it may be a private key).
fn decode_pem(pem: &[u8], label: &str, source: &str) -> Result<Zeroizing<Vec<u8>>> {
    imp::available()?;
    let (found, der) = imp::decode_pem(pem).ok_or_else(|| {
        Error::master_key(format!(
            "{source} does not hold a PEM key (-----BEGIN {label}-----): give the file openssl writes"
        ))
    })?;
    if found != label {
        let hint = match found.as_str() {
            "RSA PUBLIC KEY" | "RSA PRIVATE KEY" => {
                " (a PKCS#1 key: convert it with openssl pkey, which writes the PKCS#8 / SubjectPublicKeyInfo form)"
            }
            "ENCRYPTED PRIVATE KEY" => {
                " (an encrypted key: recover needs it unencrypted, e.g. openssl pkey -in KEY -out PLAIN, on the offline machine)"
            }
            _ => "",
        };
        return Err(Error::master_key(format!(
            "{source} holds a PEM \"{found}\", not a \"{label}\"{hint}"
        )));
    }
    Ok(der)
}

#[cfg(feature = "rsa-recovery")]
mod imp {
    use crate::error::{Error, Result};
    use aws_lc_rs::digest;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{
        OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
        PublicEncryptingKey, OAEP_SHA256_MGF1SHA256,
    };
    use base64::Engine;
    use zeroize::Zeroizing;

    pub(super) type Public = OaepPublicEncryptingKey;
    pub(super) type Private = OaepPrivateDecryptingKey;

    pub(super) fn available() -> Result<()> {
        Ok(())
    }

    /// The label and DER of a PEM document, decoded into one buffer of the final size.
    pub(super) fn decode_pem(pem: &[u8]) -> Option<(String, Zeroizing<Vec<u8>>)> {
        let mut decoder = pem_rfc7468::Decoder::new_detect_wrap(pem).ok()?;
        let label = decoder.type_label().to_string();
        let mut der = Zeroizing::new(vec![0u8; decoder.remaining_len()]);
        let n = decoder.decode(&mut der).ok()?.len();
        if !decoder.is_finished() {
            return None;
        }
        der.truncate(n);
        Some((label, der))
    }

    fn not_rsa(source: &str) -> Error {
        Error::master_key(format!(
            "The recovery key in {source} is not an RSA key of a supported size: only RSA keys of 3072 or 4096 bits are accepted; nothing was written"
        ))
    }

    fn sha256_of(public: &PublicEncryptingKey) -> Result<String> {
        let der = public
            .as_der()
            .map_err(|_| Error::master_key("The recovery public key could not be encoded"))?;
        let sha = digest::digest(&digest::SHA256, der.as_ref());
        Ok(base64::engine::general_purpose::STANDARD.encode(sha.as_ref()))
    }

    pub(super) fn public_from_der(der: &[u8], source: &str) -> Result<(Public, String, usize)> {
        let key = PublicEncryptingKey::from_der(der).map_err(|_| not_rsa(source))?;
        let sha = sha256_of(&key)?;
        let bits = key.key_size_bits();
        let key = OaepPublicEncryptingKey::new(key).map_err(|_| not_rsa(source))?;
        Ok((key, sha, bits))
    }

    pub(super) fn private_from_der(der: &[u8], source: &str) -> Result<(Private, String, usize)> {
        let key = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| not_rsa(source))?;
        let sha = sha256_of(&key.public_key())?;
        let bits = key.key_size_bits();
        let key = OaepPrivateDecryptingKey::new(key).map_err(|_| not_rsa(source))?;
        Ok((key, sha, bits))
    }

    pub(super) fn encrypt(key: &Public, plain: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; key.ciphertext_size()];
        let n = key
            .encrypt(&OAEP_SHA256_MGF1SHA256, plain, &mut out, None)
            .map_err(|_| Error::keystore("RSA-OAEP wrapping under the recovery key failed"))?
            .len();
        out.truncate(n);
        Ok(out)
    }

    pub(super) fn decrypt(key: &Private, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
        let n = key
            .decrypt(&OAEP_SHA256_MGF1SHA256, wrapped, &mut out, None)
            .map_err(|_| Error::keystore("RSA-OAEP unwrapping failed"))?
            .len();
        out.truncate(n);
        Ok(out)
    }
}

/// A build without aws-lc-rs: no RSA, so no recovery key (the types are uninhabited).
#[cfg(not(feature = "rsa-recovery"))]
mod imp {
    use crate::error::{Error, Result};
    use zeroize::Zeroizing;

    pub(super) enum Public {}
    pub(super) enum Private {}

    pub(super) fn available() -> Result<()> {
        Err(Error::master_key(format!(
            "A recovery key is configured, but this build of lkr-crypt has no RSA (it was built without the aws-lc feature): use a build with the default features for {} and recover",
            super::ENV_RECOVERY_PUBLIC_KEY_FILE
        )))
    }

    pub(super) fn decode_pem(_: &[u8]) -> Option<(String, Zeroizing<Vec<u8>>)> {
        None
    }

    pub(super) fn public_from_der(_: &[u8], _: &str) -> Result<(Public, String, usize)> {
        Err(available().unwrap_err())
    }

    pub(super) fn private_from_der(_: &[u8], _: &str) -> Result<(Private, String, usize)> {
        Err(available().unwrap_err())
    }

    pub(super) fn encrypt(key: &Public, _: &[u8]) -> Result<Vec<u8>> {
        match *key {}
    }

    pub(super) fn decrypt(key: &Private, _: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        match *key {}
    }
}
