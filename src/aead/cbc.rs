//! AES-128-CBC decryption with PKCS#7 padding, for legacy values (docs/legacy.md): aws-lc-rs when
//! the `aws-lc` or `fips` feature is enabled (the FIPS module with `fips`), else RustCrypto's
//! `aes` / `cbc`.

use crate::secret::Key128;

/// The legacy value did not decrypt: bad length or bad padding (deliberately not saying which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CbcFailure;

/// An AES-128-CBC (PKCS#7 padding) decryption key, scheduled once for many legacy values.
pub struct Aes128CbcDecryptor {
    #[cfg(any(feature = "aws-lc", feature = "fips"))]
    key: aws_lc_rs::cipher::PaddedBlockDecryptingKey,
    #[cfg(not(any(feature = "aws-lc", feature = "fips")))]
    key: aes::Aes128,
}

impl Aes128CbcDecryptor {
    /// Schedules `key`.
    pub fn new(key: &Key128) -> Result<Aes128CbcDecryptor, CbcFailure> {
        #[cfg(any(feature = "aws-lc", feature = "fips"))]
        {
            use aws_lc_rs::cipher::{PaddedBlockDecryptingKey, UnboundCipherKey, AES_128};
            let k = UnboundCipherKey::new(&AES_128, key.expose()).map_err(|_| CbcFailure)?;
            Ok(Aes128CbcDecryptor {
                key: PaddedBlockDecryptingKey::cbc_pkcs7(k).map_err(|_| CbcFailure)?,
            })
        }
        #[cfg(not(any(feature = "aws-lc", feature = "fips")))]
        {
            use aes::cipher::KeyInit;
            Ok(Aes128CbcDecryptor {
                key: aes::Aes128::new(key.expose().into()),
            })
        }
    }

    /// Decrypts `ciphertext` (a positive multiple of 16 bytes) in `buf` (a copy the caller
    /// owns and zeroizes) and returns the plaintext's length.
    pub fn decrypt(&self, iv: &[u8; 16], buf: &mut [u8]) -> Result<usize, CbcFailure> {
        if buf.is_empty() || !buf.len().is_multiple_of(16) {
            return Err(CbcFailure);
        }
        #[cfg(any(feature = "aws-lc", feature = "fips"))]
        {
            use aws_lc_rs::cipher::DecryptionContext;
            self.key
                .decrypt(buf, DecryptionContext::Iv128((*iv).into()))
                .map(|pt| pt.len())
                .map_err(|_| CbcFailure)
        }
        #[cfg(not(any(feature = "aws-lc", feature = "fips")))]
        {
            use cbc::cipher::{block_padding::Pkcs7, BlockModeDecrypt, InnerIvInit};
            cbc::Decryptor::<aes::Aes128>::inner_iv_init(self.key.clone(), iv.into())
                .decrypt_padded::<Pkcs7>(buf)
                .map(|pt| pt.len())
                .map_err(|_| CbcFailure)
        }
    }
}

/// AES-128-CBC with PKCS#7 padding: decrypts `ciphertext` (a positive multiple of 16 bytes)
/// in `buf` (a copy the caller owns and zeroizes) and returns the plaintext's length.
pub fn aes128_cbc_decrypt(
    key: &Key128,
    iv: &[u8; 16],
    buf: &mut [u8],
) -> Result<usize, CbcFailure> {
    Aes128CbcDecryptor::new(key)?.decrypt(iv, buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbc_rejects_bad_lengths() {
        let k = Key128::new([0; 16]);
        assert_eq!(aes128_cbc_decrypt(&k, &[0; 16], &mut []), Err(CbcFailure));
        assert_eq!(
            aes128_cbc_decrypt(&k, &[0; 16], &mut [0; 15]),
            Err(CbcFailure)
        );
    }
}
