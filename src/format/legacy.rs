//! Legacy values (SPEC §7): `IV(16) ‖ AES-128-CBC(legacy key, IV, PKCS#7(plaintext))`.
//! Bad length and bad padding give one and the same error (no padding oracle).

use crate::aead::aes128_cbc_decrypt;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Key128;
use zeroize::Zeroizing;

/// The contract text for a legacy value that does not decrypt.
pub const UNDECRYPTABLE: &str = "Legacy value could not be decrypted";

fn undecryptable() -> Error {
    Error::new(ErrorKind::Legacy, UNDECRYPTABLE)
}

/// Decrypts a legacy value into a zeroizing buffer. With `require_utf8`, a plaintext that is
/// not valid UTF-8 counts as undecryptable (a wrong key "decrypts" ~1 value in 256).
pub fn decrypt(key: &Key128, value: &[u8], require_utf8: bool) -> Result<Zeroizing<Vec<u8>>> {
    if value.len() < 32 || !value.len().is_multiple_of(16) {
        return Err(undecryptable());
    }
    let iv: [u8; 16] = value[..16].try_into().expect("16 bytes");
    let mut buf = Zeroizing::new(value[16..].to_vec());
    let n = aes128_cbc_decrypt(key, &iv, &mut buf).map_err(|_| undecryptable())?;
    buf.truncate(n);
    if require_utf8 && std::str::from_utf8(&buf).is_err() {
        return Err(undecryptable());
    }
    Ok(buf)
}
