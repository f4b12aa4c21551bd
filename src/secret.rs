//! Key material: fixed-size byte arrays that are zeroized on drop and print as `[REDACTED]`.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret of `N` bytes. Zeroized when dropped; `Debug` never shows it.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretBytes<const N: usize>([u8; N]);

/// A 256-bit key (CMK, KEK, data key, wrapping key).
pub type Key256 = SecretBytes<32>;
/// A 128-bit key (the legacy AES-128-CBC key).
pub type Key128 = SecretBytes<16>;

impl<const N: usize> SecretBytes<N> {
    /// Takes ownership of `bytes` (the caller's copy should be zeroized by the caller).
    pub fn new(bytes: [u8; N]) -> Self {
        SecretBytes(bytes)
    }

    /// All zeros, to be filled in place (avoids leaving copies on the stack).
    pub(crate) fn zero() -> Self {
        SecretBytes([0u8; N])
    }

    /// A fresh random key from the OS CSPRNG.
    pub fn random() -> Self {
        let mut k = Self::zero();
        crate::rng::fill_os(&mut k.0);
        k
    }

    /// Copies `bytes` if it has exactly `N` bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut k = Self::zero();
        if bytes.len() != N {
            return None;
        }
        k.0.copy_from_slice(bytes);
        Some(k)
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }

    pub(crate) fn expose_mut(&mut self) -> &mut [u8; N] {
        &mut self.0
    }
}

impl<const N: usize> fmt::Debug for SecretBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Sets `buf`'s length to `len` (new bytes zero). When it must grow beyond its capacity, the
/// old block is wiped and a new one allocated (fallibly, see [`crate::limits::try_with_capacity`];
/// at least twice the old capacity, so a buffer reused for growing values reallocates rarely):
/// growing in place would leave a copy of its secret bytes in freed memory.
pub fn resize_wiping(buf: &mut Vec<u8>, len: usize) -> crate::Result<()> {
    if buf.capacity() < len {
        let grown = len.max(buf.capacity().saturating_mul(2));
        Zeroize::zeroize(buf);
        *buf = crate::limits::try_with_capacity(grown)?;
    }
    buf.resize(len, 0);
    Ok(())
}
