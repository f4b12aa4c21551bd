//! A local key given as base64 text, in a variable or in a file of mode 0400 (SPEC §2).

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use base64::Engine;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use zeroize::Zeroizing;

/// Decodes base64 `text` (surrounding whitespace ignored) into an `N`-byte key. `what` names
/// the key in messages ("Master Key", "Legacy Key").
pub fn decode_key_text<const N: usize>(text: &str, what: &str) -> Result<SecretBytes<N>> {
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| Error::master_key(format!("{what} is not valid base64")))?,
    );
    SecretBytes::<N>::from_slice(&decoded).ok_or_else(|| {
        Error::master_key(format!(
            "Size of the {what} is invalid it must be {N} bytes however is {}",
            decoded.len()
        ))
    })
}

/// Reads an `N`-byte key from the base64 text in `path`, which must be a regular file of mode
/// exactly 0400. `var` names the variable that gave the path, for the messages.
pub fn read_key_file<const N: usize>(path: &Path, what: &str, var: &str) -> Result<SecretBytes<N>> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::master_key(format!(
            "Missing backing keystore: {var} names {shown}, which cannot be read ({e})"
        ))
    })?;
    if meta.is_dir() {
        return Err(Error::master_key(format!(
            "{var} names {shown}, which is a directory: it must name the file holding the {what}"
        )));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode != 0o400 {
        return Err(Error::master_key(format!(
            "Permission for backing key file must be 0400, but is {mode:04o} ({shown}; fix with: chmod 0400 {shown})"
        )));
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        Error::master_key(format!(
            "Missing backing keystore: {var} names {shown}, which cannot be read ({e})"
        ))
    })?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::master_key(format!("{what} is not valid base64 (in {shown})")))?;
    if text.trim().is_empty() {
        return Err(Error::master_key(format!(
            "{shown} is empty: Size of the {what} is invalid it must be {N} bytes however is 0"
        )));
    }
    decode_key_text::<N>(text, what).map_err(|e| Error::master_key(format!("{e} (in {shown})")))
}
