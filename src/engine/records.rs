//! Records (docs/envelope.md): encrypt and decrypt envelopes v1, into caller buffers, in place, as new
//! vectors and in the stored text form (base64).

use super::Crypt;
use crate::error::{Error, ErrorKind, Result};
use crate::format::envelope;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

impl Crypt {
    /// The envelope length for a plaintext of `len` bytes; refuses a plaintext over the
    /// maximum record size.
    pub fn encrypted_len(&self, len: usize) -> Result<usize> {
        crate::limits::check_plaintext(len, self.max_record)?;
        Ok(len + envelope::OVERHEAD)
    }

    /// The plaintext length of a stored envelope of `len` bytes; refuses one whose plaintext
    /// could exceed the maximum record size.
    pub fn decrypted_len(&self, len: usize) -> Result<usize> {
        self.check_stored_len(len)?;
        Ok(envelope::opened_len(len))
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
    /// On failure nothing of `out` holds plaintext: the AEAD wipes what it wrote.
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

    /// [`Crypt::decrypt_into`] within one buffer: `buf` holds the whole envelope and receives
    /// the plaintext in place of its ciphertext, at `buf[53..buf.len() - 16]` (the header and
    /// the tag are copied out first); returns the plaintext's length. On failure nothing of
    /// `buf` holds plaintext: the ciphertext's bytes are zeroed once the AEAD has written them.
    pub fn decrypt_within(&self, buf: &mut [u8], context: &[u8]) -> Result<usize> {
        self.check_stored_len(buf.len())?;
        crate::limits::check_context(context.len())?;
        let (header, _) = envelope::parse(buf)?;
        let (kek_id, head) = (header.kek_id, *header.bytes);
        let kek = self.kek(kek_id)?;
        let n = buf.len() - envelope::OVERHEAD;
        let (rest, tag) = buf.split_at_mut(envelope::HEADER_LEN + n);
        let tag: [u8; crate::aead::TAG_LEN] = (&*tag).try_into().expect("16 bytes");
        let header = envelope::Header {
            kek_id,
            bytes: &head,
        };
        let ct = &mut rest[envelope::HEADER_LEN..];
        envelope::open_in_place_with(&kek.deriver, &header, &tag, context, ct)?;
        Ok(n)
    }

    /// Decrypts an envelope v1 bound to `context`.
    pub fn decrypt(&self, envelope: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        let n = self.decrypted_len(envelope.len())?;
        crate::limits::check_context(context.len())?;
        let mut out = crate::limits::try_zeroed(n)?;
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

/// Decodes a stored text form (standard base64, padded; surrounding whitespace ignored).
pub(super) fn decode_text(text: &str) -> Result<Vec<u8>> {
    B64.decode(text.trim()).map_err(|_| {
        Error::new(
            ErrorKind::NotAuthentic,
            "The value is not valid base64, so it is not an lkr-crypt value's text form",
        )
    })
}

/// A fresh record salt and GCM nonce from the CSPRNG (docs/keys.md, docs/envelope.md).
fn fresh_salt_and_nonce() -> ([u8; 32], [u8; 12]) {
    let mut salt_nonce = [0u8; 44];
    crate::rng::fill(&mut salt_nonce);
    let salt = salt_nonce[..32].try_into().expect("32 bytes");
    let nonce = salt_nonce[32..].try_into().expect("12 bytes");
    (salt, nonce)
}
