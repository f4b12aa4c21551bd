//! A local key given as base64 text, in a variable or in a file of mode 0400 (docs/keys.md).

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

/// The most bytes a key file may hold: base64 of a 32-byte key is 44 characters, and a few
/// hundred leave room for whitespace and a trailing newline.
pub const MAX_KEY_FILE_LEN: u64 = 1024;

/// Reads an `N`-byte key from the base64 text in `path`, which must be a regular file of mode
/// exactly 0400, owned by the effective user, of at most `MAX_KEY_FILE_LEN` (1024) bytes. `var`
/// names the variable that gave the path, for the messages.
///
/// The file is opened once (non-blocking, so a FIFO cannot hang the open) and every check is
/// made on the open descriptor (`fstat`), then the bytes are read from that same descriptor,
/// bounded: nothing can be swapped in between the checks and the read, and a FIFO or a device
/// is refused at once instead of hanging or being read until memory runs out.
pub fn read_key_file<const N: usize>(path: &Path, what: &str, var: &str) -> Result<SecretBytes<N>> {
    let shown = path.display();
    let bytes = read_private_file(
        path,
        what,
        var,
        MAX_KEY_FILE_LEN,
        "Missing backing keystore: ",
    )?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::master_key(format!("{what} is not valid base64 (in {shown})")))?;
    if text.trim().is_empty() {
        return Err(Error::master_key(format!(
            "{shown} is empty: Size of the {what} is invalid it must be {N} bytes however is 0"
        )));
    }
    decode_key_text::<N>(text, what).map_err(|e| Error::master_key(format!("{e} (in {shown})")))
}

/// The bytes of the private file `path` (at most `max_len`), with [`read_key_file`]'s checks
/// (a regular file of mode exactly 0400, owned by the effective user, checked on the open
/// descriptor) and messages; wiped when dropped. `what` names the key, `var` where the path
/// came from; `missing` starts the message for a file that cannot be read.
pub(crate) fn read_private_file(
    path: &Path,
    what: &str,
    var: &str,
    max_len: u64,
    missing: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let shown = path.display();
    let unreadable = |e: std::io::Error| {
        Error::master_key(format!(
            "{missing}{var} names {shown}, which cannot be read ({e})"
        ))
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(Error::master_key(format!(
            "{var} names {shown}, which is a directory: it must name the file holding the {what}"
        )));
    }
    if !kind.is_file() {
        return Err(Error::master_key(format!(
            "{var} names {shown}, which is not a regular file (a FIFO, socket or device): it must name a regular file holding the {what}"
        )));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode != 0o400 {
        return Err(Error::master_key(format!(
            "Permission for backing key file must be 0400, but is {mode:04o} ({shown}; fix with: chmod 0400 {shown})"
        )));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid {
        return Err(Error::master_key(format!(
            "{var} names {shown}, which is owned by uid {}, not by the user running lkr-crypt (uid {euid}): a key file must belong to that user (chown it)",
            meta.uid()
        )));
    }
    if meta.len() > max_len {
        return Err(Error::master_key(format!(
            "{var} names {shown}, which holds {} bytes: a key file holds only the text of the {what} (at most {max_len} bytes)",
            meta.len()
        )));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(max_len as usize + 1));
    (&file)
        .take(max_len + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > max_len {
        return Err(Error::master_key(format!(
            "{var} names {shown}, which grew while it was read: a key file holds only the text of the {what} (at most {max_len} bytes)"
        )));
    }
    Ok(bytes)
}
