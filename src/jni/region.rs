//! Records between regions of caller-owned Java arrays (`LkrCrypt.encrypt(byte[], int, int,
//! byte[], byte[], int)` and `decrypt(...)`), like `Cipher.doFinal(in, off, len, out, outOff)`:
//! both arrays are pinned for the call (`GetPrimitiveArrayCritical`, no copy) and the engine
//! reads and writes them directly. The migration's export of the same shape (in `migrate`)
//! pins its regions through [`on_regions`] too.

use super::boundary::{crypt, invalid, not_null, regions_export, JResult, Pinned};
use crate::error::Error;
use crate::format::envelope::{HEADER_LEN, OVERHEAD};
use crate::Crypt;
use jni::objects::JByteArray;
use jni::sys::{jint, jlong};
use jni::JNIEnv;
use std::ops::Range;

/// `[off, off + len)` when it lies within an array of `array_len` bytes.
fn range(array_len: usize, off: jint, len: jint, what: &str) -> JResult<Range<usize>> {
    match (usize::try_from(off), usize::try_from(len)) {
        (Ok(o), Ok(l)) if o.checked_add(l).is_some_and(|end| end <= array_len) => Ok(o..o + l),
        _ => Err(invalid(format!(
            "{what}: offset {off} and length {len} are outside the array ({array_len} bytes)"
        ))),
    }
}

/// How the two regions of one call lie.
pub(super) enum Regions<'a> {
    /// In separate arrays, or apart in one array.
    Apart(&'a [u8], &'a mut [u8]),
    /// In one array, the output where the engine's in-place form puts it (the export's shift):
    /// the array from the first region's start on, with the two regions' lengths.
    Within {
        span: &'a mut [u8],
        input: usize,
        output: usize,
    },
}

/// Pins `src`, `context` and `dst` and runs `op(crypt, regions, context)`: the regions apart, or
/// within one array when the output starts `shift` bytes after the input (negative: before;
/// `None`: no in-place form); any other overlap is refused (the Java side copies the input
/// first). Returns the bytes written.
#[allow(clippy::too_many_arguments)]
pub(super) fn on_regions<'l>(
    env: &mut JNIEnv<'l>,
    h: jlong,
    src: JByteArray<'l>,
    src_off: jint,
    src_len: jint,
    context: JByteArray<'l>,
    dst: JByteArray<'l>,
    dst_off: jint,
    dst_len: jint,
    (shift, op): (
        Option<isize>,
        impl FnOnce(&Crypt, Regions<'_>, &[u8]) -> crate::Result<usize>,
    ),
) -> JResult<jint> {
    // SAFETY: the handle contract.
    let c = unsafe { crypt(h)? };
    not_null(&src, "input")?;
    not_null(&context, "context")?;
    not_null(&dst, "output")?;
    let (src_n, ctx_n, dst_n) = (
        Pinned::len_of(env, &src)?,
        Pinned::len_of(env, &context)?,
        Pinned::len_of(env, &dst)?,
    );
    let s = range(src_n, src_off, src_len, "input")?;
    let d = range(dst_n, dst_off, dst_len, "output")?;
    // SAFETY: the length comes from GetArrayLength; no JNI call until the pins drop.
    let ctx = unsafe { Pinned::new(env, &context, ctx_n, false) }?;
    // SAFETY: as above.
    let input = unsafe { Pinned::new(env, &src, src_n, false) }?;
    // SAFETY: as above. Pinning one array twice is allowed; it is released twice.
    let mut output = unsafe { Pinned::new(env, &dst, dst_n, true) }?;
    if output.same_memory(&ctx) || input.same_memory(&ctx) {
        return Err(invalid("The context must be an array of its own"));
    }
    let base = output.as_mut_ptr();
    let regions = if !output.same_memory(&input) {
        // SAFETY: distinct arrays (or a VM's distinct copies), each region within its pin.
        unsafe {
            Regions::Apart(
                std::slice::from_raw_parts(input.as_ptr().add(s.start), s.len()),
                std::slice::from_raw_parts_mut(base.add(d.start), d.len()),
            )
        }
    } else if s.end <= d.start || d.end <= s.start || s.is_empty() || d.is_empty() {
        // SAFETY: disjoint regions of one pinned array: the two views never alias.
        unsafe {
            Regions::Apart(
                std::slice::from_raw_parts(base.add(s.start), s.len()),
                std::slice::from_raw_parts_mut(base.add(d.start), d.len()),
            )
        }
    } else if shift == Some(d.start as isize - s.start as isize) {
        let span = s.start.min(d.start)..s.end.max(d.end);
        // SAFETY: within the pinned array; the only view of it.
        let view = unsafe { std::slice::from_raw_parts_mut(base.add(span.start), span.len()) };
        Regions::Within {
            span: view,
            input: s.len(),
            output: d.len(),
        }
    } else {
        return Err(invalid(
            "The output region overlaps the input region: use another output array or offset",
        ));
    };
    Ok(op(c, regions, ctx.bytes())? as jint)
}

// In place, the plaintext sits 53 bytes after the envelope's start: the engine seals it there.
regions_export!(
    Java_io_lkr_crypt_Native_encryptArray,
    JByteArray,
    on_regions,
    (
        Some(-(HEADER_LEN as isize)),
        |c: &Crypt, r: Regions<'_>, x: &[u8]| match r {
            Regions::Apart(i, o) => c.encrypt_into(i, x, o),
            // The span starts with the output, the plaintext 53 bytes on: the envelope's place.
            Regions::Within {
                span,
                input,
                output,
            } => match span.get_mut(..input + OVERHEAD) {
                Some(buf) if output >= input + OVERHEAD => c.encrypt_in_place(buf, x),
                _ => Err(Error::buffer_too_small(input + OVERHEAD, output)),
            },
        }
    )
);
// On failure nothing of the output holds plaintext (the AEAD wipes what it wrote).
regions_export!(
    Java_io_lkr_crypt_Native_decryptArray,
    JByteArray,
    on_regions,
    (
        Some(HEADER_LEN as isize),
        |c: &Crypt, r: Regions<'_>, x: &[u8]| match r {
            Regions::Apart(i, o) => c.decrypt_into(i, x, o),
            // The span starts with the envelope, the output at its ciphertext.
            Regions::Within {
                span,
                input,
                output,
            } => match input.checked_sub(OVERHEAD) {
                Some(n) if output < n => Err(Error::buffer_too_small(n, output)),
                _ => c.decrypt_within(&mut span[..input], x),
            },
        }
    )
);
