//! Legacy values (docs/legacy.md): `IV(16) ‖ AES-128-CBC(legacy key, IV, PKCS#7(plaintext))`.
//! Bad length and bad padding give one and the same error (no padding oracle).

use crate::aead::Aes128CbcDecryptor;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Key128;
use zeroize::Zeroizing;

/// The contract text for a legacy value that does not decrypt.
pub const UNDECRYPTABLE: &str = "Legacy value could not be decrypted";

fn undecryptable() -> Error {
    Error::new(ErrorKind::Legacy, UNDECRYPTABLE)
}

/// A legacy key scheduled once, for many values (a batch migration).
pub struct LegacyDecryptor {
    cipher: Aes128CbcDecryptor,
}

impl LegacyDecryptor {
    /// Schedules `key`.
    pub fn new(key: &Key128) -> Result<LegacyDecryptor> {
        Ok(LegacyDecryptor {
            cipher: Aes128CbcDecryptor::new(key).map_err(|_| undecryptable())?,
        })
    }

    /// Decrypts a legacy value into `buf` (the caller's zeroizing buffer, reused from value to
    /// value; its old contents are overwritten, and a buffer too small is replaced, so no copy
    /// of a plaintext is freed unwiped) and returns the plaintext's length. With
    /// `require_utf8`, a plaintext that is not valid UTF-8 counts as undecryptable (a wrong key
    /// "decrypts" ~1 value in 256).
    pub fn decrypt_into(
        &self,
        value: &[u8],
        require_utf8: bool,
        buf: &mut Zeroizing<Vec<u8>>,
    ) -> Result<usize> {
        if value.len() < 32 || !value.len().is_multiple_of(16) {
            return Err(undecryptable());
        }
        let iv: [u8; 16] = value[..16].try_into().expect("16 bytes");
        let ciphertext = &value[16..];
        crate::secret::resize_wiping(buf, ciphertext.len())?;
        buf.copy_from_slice(ciphertext);
        let n = self
            .cipher
            .decrypt(&iv, &mut buf[..])
            .map_err(|_| undecryptable())?;
        if require_utf8 && std::str::from_utf8(&buf[..n]).is_err() {
            return Err(undecryptable());
        }
        Ok(n)
    }
}

/// Decrypts a legacy value into a zeroizing buffer. With `require_utf8`, a plaintext that is
/// not valid UTF-8 counts as undecryptable (a wrong key "decrypts" ~1 value in 256).
pub fn decrypt(key: &Key128, value: &[u8], require_utf8: bool) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::new());
    let n = LegacyDecryptor::new(key)?.decrypt_into(value, require_utf8, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}
