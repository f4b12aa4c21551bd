//! The wire formats: record envelope v1 (docs/envelope.md), stream v1 (docs/stream.md) and legacy
//! AES-128-CBC values (docs/legacy.md).

pub mod envelope;
pub mod legacy;
pub mod stream;

/// Runs `f` on `header ‖ context` (the GCM additional data of envelopes and stream
/// segments), built on the stack when it fits.
#[inline]
pub(crate) fn with_aad<R>(header: &[u8], context: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    const STACK: usize = 320;
    let n = header.len() + context.len();
    if n <= STACK {
        let mut buf = [0u8; STACK];
        buf[..header.len()].copy_from_slice(header);
        buf[header.len()..n].copy_from_slice(context);
        f(&buf[..n])
    } else {
        let mut buf = Vec::with_capacity(n);
        buf.extend_from_slice(header);
        buf.extend_from_slice(context);
        f(&buf)
    }
}
