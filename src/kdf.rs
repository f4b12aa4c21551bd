//! docs/derivations.md derivations. Every input key is a uniformly random 32-byte key used directly as
//! the HKDF PRK (RFC 5869 §3.3), so only HKDF-Expand (SHA-256) is needed.
//!
//! HKDF-Expand comes from RustCrypto's `hkdf` + `sha2` in the default builds: a [`KekDeriver`]
//! holds the HMAC state pre-keyed with one KEK; each record or stream clones it, so a data key
//! costs two SHA-256 compressions (the 41-byte info ‖ counter fits one block). In the FIPS build
//! (cargo feature `fips`, docs/fips.md) it is AWS-LC's `HKDF_expand` inside the FIPS module
//! (aws-lc-rs `hkdf`, an approved KBKDF in feedback mode), which keys HMAC per call. The
//! known-answer vectors (tests/vectors/derivations.json) pin both to the same bytes.

use crate::secret::{Key256, SecretBytes};
use imp::Prk;

const KEK_WRAP_INFO: &[u8] = b"lkr-crypt v1 kek-wrap";
const FINGERPRINT_INFO: &[u8] = b"lkr-crypt v1 fingerprint";
/// Info prefix of a record data key.
pub const RECORD_LABEL: &[u8; 4] = b"LKRd";
/// Info prefix of a stream data key.
pub const STREAM_LABEL: &[u8; 4] = b"LKRs";

/// HKDF-SHA256 on RustCrypto (default builds).
#[cfg(not(feature = "fips"))]
mod imp {
    use crate::secret::Key256;
    use hkdf::Hkdf;
    use sha2::Sha256;

    // The pre-keyed HMAC state is as secret as the key itself: it must be wiped on drop. An
    // `Hmac<Sha256>` is two SHA-256 cores (inner and outer state), which wipe themselves on drop
    // with sha2's `zeroize` feature; this fails to compile if that feature is lost.
    const _: fn() = || {
        fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        assert_zeroize_on_drop::<Sha256>();
    };

    /// A PRK, with the HMAC state keyed once.
    pub(super) type Prk = Hkdf<Sha256>;

    pub(super) fn prk(key: &Key256) -> Prk {
        Hkdf::<Sha256>::from_prk(key.expose()).expect("a 32-byte PRK is valid")
    }

    /// `HKDF-Expand(prk, info[0] ‖ info[1] ‖ …, out.len())`.
    #[inline]
    pub(super) fn expand(prk: &Prk, info: &[&[u8]], out: &mut [u8]) {
        prk.expand_multi_info(info, out)
            .expect("at most 255 * 32 bytes");
    }
}

/// HKDF-SHA256 in AWS-LC's FIPS module (cargo feature `fips`).
#[cfg(feature = "fips")]
mod imp {
    use crate::secret::Key256;
    use aws_lc_rs::hkdf::{KeyType, HKDF_SHA256};

    /// A PRK (aws-lc-rs wipes its copy of the key on drop).
    pub(super) type Prk = aws_lc_rs::hkdf::Prk;

    pub(super) fn prk(key: &Key256) -> Prk {
        Prk::new_less_safe(HKDF_SHA256, key.expose())
    }

    struct Len(usize);

    impl KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }

    /// `HKDF-Expand(prk, info[0] ‖ info[1] ‖ …, out.len())`.
    #[inline]
    pub(super) fn expand(prk: &Prk, info: &[&[u8]], out: &mut [u8]) {
        prk.expand(info, Len(out.len()))
            .and_then(|okm| okm.fill(out))
            .expect("at most 255 * 32 bytes, non-empty info");
    }
}

fn expand<const N: usize>(prk: &Key256, info: &[&[u8]]) -> SecretBytes<N> {
    let mut okm = SecretBytes::<N>::zero();
    imp::expand(&imp::prk(prk), info, okm.expose_mut());
    okm
}

/// `HKDF-Expand(CMK, "lkr-crypt v1 kek-wrap", 32)`: the key that wraps KEKs under a local CMK.
pub fn kek_wrap_key(cmk: &Key256) -> Key256 {
    expand(cmk, &[KEK_WRAP_INFO])
}

/// `HKDF-Expand(CMK, "lkr-crypt v1 fingerprint", 16)`: identifies a local CMK in a keystore.
pub fn cmk_fingerprint(cmk: &Key256) -> [u8; 16] {
    *expand::<16>(cmk, &[FINGERPRINT_INFO]).expose()
}

/// Derives record and stream data keys from one KEK, with the HMAC state keyed once.
#[derive(Clone)]
pub struct KekDeriver {
    kek_id: [u8; 4],
    prk: Prk,
}

impl KekDeriver {
    /// Pre-keys the HMAC state with `kek`.
    pub fn new(kek_id: u32, kek: &Key256) -> KekDeriver {
        KekDeriver {
            kek_id: kek_id.to_be_bytes(),
            prk: imp::prk(kek),
        }
    }

    /// `HKDF-Expand(KEK, label ‖ be32(kek_id) ‖ salt, 32)`.
    #[inline]
    pub fn data_key(&self, label: &[u8; 4], salt: &[u8; 32]) -> Key256 {
        let mut okm = Key256::zero();
        imp::expand(&self.prk, &[label, &self.kek_id, salt], okm.expose_mut());
        okm
    }

    /// The record data key for `salt` (docs/derivations.md, `"LKRd"`).
    #[inline]
    pub fn record_key(&self, salt: &[u8; 32]) -> Key256 {
        self.data_key(RECORD_LABEL, salt)
    }

    /// The stream data key for `salt` (docs/derivations.md, `"LKRs"`).
    #[inline]
    pub fn stream_key(&self, salt: &[u8; 32]) -> Key256 {
        self.data_key(STREAM_LABEL, salt)
    }
}

impl std::fmt::Debug for KekDeriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KekDeriver([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5869_test_case_1_expand() {
        // RFC 5869 A.1: PRK and OKM for the given info (L = 42).
        let prk = hex::decode("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
            .unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let prk = imp::prk(&Key256::from_slice(&prk).unwrap());
        let mut okm = [0u8; 42];
        imp::expand(&prk, &[&info], &mut okm);
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn pre_keyed_deriver_equals_one_shot_expand() {
        let kek = Key256::new([7u8; 32]);
        let salt = [9u8; 32];
        let d = KekDeriver::new(0x01020304, &kek);
        let mut info = Vec::new();
        info.extend_from_slice(b"LKRd");
        info.extend_from_slice(&[1, 2, 3, 4]);
        info.extend_from_slice(&salt);
        let one_shot: Key256 = expand(&kek, &[&info]);
        assert_eq!(d.record_key(&salt), one_shot);
        assert_ne!(d.record_key(&salt), d.stream_key(&salt));
    }
}
