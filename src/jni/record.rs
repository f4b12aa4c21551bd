//! Records (docs/envelope.md): encrypting and decrypting values in place in Java arrays, between
//! regions of direct `ByteBuffer`s, and in batches of `byte[][]`.

use super::boundary::{
    boundary, crypt, invalid, new_array, not_null, read_context, read_into, regions_export, Fail,
    JResult, Pinned,
};
use crate::error::Error;
use crate::Crypt;
use jni::objects::{JByteArray, JByteBuffer, JClass, JObject, JObjectArray};
use jni::sys::{jint, jlong, jobjectArray};
use jni::JNIEnv;
use zeroize::Zeroizing;

/// `static native void encryptInPlace(long handle, byte[] context, byte[] buf)`: `buf` (the
/// plaintext's length + 69 bytes, allocated by Java with the plaintext copied to offset 53 —
/// `System.arraycopy` into a new array costs the JVM no more than zeroing it) becomes the
/// envelope, sealed in place.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_encryptInPlace<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    context: JByteArray<'l>,
    buf: JByteArray<'l>,
) {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        not_null(&context, "context")?;
        not_null(&buf, "buf")?;
        let ctx_len = Pinned::len_of(env, &context)?;
        let buf_len = Pinned::len_of(env, &buf)?;
        // SAFETY: the length comes from GetArrayLength; no JNI call until the pins drop.
        let ctx = unsafe { Pinned::new(env, &context, ctx_len, false) }?;
        // SAFETY: the length comes from GetArrayLength; no JNI call until the pins drop.
        let mut b = unsafe { Pinned::new(env, &buf, buf_len, true) }?;
        if b.same_memory(&ctx) {
            return Err(invalid("buf must be an array of its own, not the context"));
        }
        c.encrypt_in_place(b.bytes_mut(), ctx.bytes())?;
        Ok(())
    })
}

/// `static native void decryptInPlace(long handle, byte[] envelope, byte[] context, byte[] buf)`:
/// `buf` (allocated by Java as a copy of the envelope's ciphertext, `envelope[53..length-16]`)
/// receives the plaintext, opened in place; on failure it is left zeroed.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_decryptInPlace<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    envelope_arr: JByteArray<'l>,
    context: JByteArray<'l>,
    buf: JByteArray<'l>,
) {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        not_null(&envelope_arr, "envelope")?;
        not_null(&context, "context")?;
        not_null(&buf, "buf")?;
        let env_len = Pinned::len_of(env, &envelope_arr)?;
        let ctx_len = Pinned::len_of(env, &context)?;
        let buf_len = Pinned::len_of(env, &buf)?;
        // SAFETY: the length comes from GetArrayLength; no JNI call until the pins drop.
        let e = unsafe { Pinned::new(env, &envelope_arr, env_len, false) }?;
        // SAFETY: the length comes from GetArrayLength; no JNI call until the pins drop.
        let ctx = unsafe { Pinned::new(env, &context, ctx_len, false) }?;
        // SAFETY: the length comes from GetArrayLength; no JNI call until the pins drop.
        let mut b = unsafe { Pinned::new(env, &buf, buf_len, true) }?;
        if b.same_memory(&e) || b.same_memory(&ctx) {
            return Err(invalid("buf must be an array of its own"));
        }
        // On failure the engine has zeroed `buf`: no unauthenticated plaintext is left behind.
        c.decrypt_in_place(e.bytes(), ctx.bytes(), b.bytes_mut())?;
        Ok(())
    })
}

/// A direct buffer's region `[pos, pos + len)`, checked against its capacity.
fn direct_region(
    env: &JNIEnv<'_>,
    buf: &JByteBuffer<'_>,
    pos: jint,
    len: jint,
    what: &str,
) -> JResult<(*mut u8, usize)> {
    not_null(buf, what)?;
    let addr = env
        .get_direct_buffer_address(buf)
        .map_err(|_| invalid(format!("{what} is not a direct ByteBuffer")))?;
    let cap = env.get_direct_buffer_capacity(buf)?;
    let (pos, len) = (usize::try_from(pos), usize::try_from(len));
    match (pos, len) {
        (Ok(p), Ok(l)) if p.checked_add(l).is_some_and(|end| end <= cap) => {
            // SAFETY: within the buffer's capacity.
            Ok((unsafe { addr.add(p) }, l))
        }
        _ => Err(invalid(format!(
            "{what}: position and length are outside the buffer"
        ))),
    }
}

/// Runs `op(input, context, output)` on direct-buffer regions, refusing overlap.
#[allow(clippy::too_many_arguments)]
fn direct<'l>(
    env: &mut JNIEnv<'l>,
    h: jlong,
    src: JByteBuffer<'l>,
    src_pos: jint,
    src_len: jint,
    context: JByteArray<'l>,
    dst: JByteBuffer<'l>,
    dst_pos: jint,
    dst_len: jint,
    op: impl FnOnce(&Crypt, &[u8], &[u8], &mut [u8]) -> crate::Result<usize>,
) -> JResult<jint> {
    // SAFETY: the handle contract.
    let c = unsafe { crypt(h)? };
    not_null(&context, "context")?;
    let (sp, sl) = direct_region(env, &src, src_pos, src_len, "input buffer")?;
    let (dp, dl) = direct_region(env, &dst, dst_pos, dst_len, "output buffer")?;
    let (s, d) = (sp as usize, dp as usize);
    if sl > 0 && dl > 0 && s < d + dl && d < s + sl {
        return Err(invalid(
            "The output buffer overlaps the input buffer: give a separate output buffer",
        ));
    }
    // The context is copied, not pinned: a critical region would hold off the GC for the whole
    // operation, and direct buffers are for large data.
    let mut ctx = Vec::new();
    read_context(env, &context, &mut ctx)?;
    // SAFETY: both regions lie within live direct buffers (the Java side keeps them
    // reachable during the call) and do not overlap.
    let (input, output) = unsafe {
        (
            std::slice::from_raw_parts(sp as *const u8, sl),
            std::slice::from_raw_parts_mut(dp, dl),
        )
    };
    let n = op(c, input, &ctx, output)?;
    Ok(n as jint)
}

regions_export!(
    Java_io_lkr_crypt_Native_encryptDirect,
    JByteBuffer,
    direct,
    |c: &Crypt, i: &[u8], x: &[u8], o: &mut [u8]| c.encrypt_into(i, x, o)
);
// On failure nothing of `o` holds plaintext (the AEAD wipes what it wrote).
regions_export!(
    Java_io_lkr_crypt_Native_decryptDirect,
    JByteBuffer,
    direct,
    |c: &Crypt, i: &[u8], x: &[u8], o: &mut [u8]| c.decrypt_into(i, x, o)
);

/// The item `i` of a `byte[][]`, copied into `buf` once `check` accepts its length.
fn batch_item(
    env: &mut JNIEnv<'_>,
    array: &JObjectArray<'_>,
    i: jint,
    what: &str,
    buf: &mut Vec<u8>,
    check: impl FnOnce(usize) -> crate::Result<()>,
) -> JResult<()> {
    let item = JByteArray::from(env.get_object_array_element(array, i)?);
    if item.is_null() {
        return Err(invalid(format!("{what}[{i}] is null")));
    }
    check(env.get_array_length(&item)? as usize)?;
    read_into(env, &item, buf)?;
    env.delete_local_ref(item)?;
    Ok(())
}

/// The common length of a batch's value and context arrays.
fn batch_len(
    env: &JNIEnv<'_>,
    values: &JObjectArray<'_>,
    contexts: &JObjectArray<'_>,
) -> JResult<jint> {
    not_null(values, "values")?;
    not_null(contexts, "contexts")?;
    let n = env.get_array_length(values)?;
    if env.get_array_length(contexts)? != n {
        return Err(invalid(
            "values and contexts must have the same length (one context per value)",
        ));
    }
    Ok(n)
}

/// Runs `op` on every (value, context) pair of a batch into a new `byte[][]`; the first
/// failure fails the batch (its message names the item).
fn batch<'l>(
    env: &mut JNIEnv<'l>,
    values: JObjectArray<'l>,
    contexts: JObjectArray<'l>,
    out_len: impl Fn(usize) -> crate::Result<usize>,
    op: impl Fn(&[u8], &[u8], &mut [u8]) -> crate::Result<usize>,
) -> JResult<jobjectArray> {
    let n = batch_len(env, &values, &contexts)?;
    let result = env.new_object_array(n, "[B", JObject::null())?;
    // Plaintexts pass through `v` (encrypt) or `out` (decrypt): both are wiped when dropped,
    // and `read_into` / `resize_wiping` never leave an old block behind unwiped.
    let (mut v, mut ctx) = (Zeroizing::new(Vec::new()), Vec::new());
    let mut out = Zeroizing::new(Vec::new());
    // The byte[][] form exists for Java only: the loop over its items, and naming the item in
    // an error, are this adapter's translation of one engine call per item.
    let item_error =
        |i: jint, e: Error| Error::new(e.kind(), format!("Item {i} of {n}: {}", e.message()));
    for i in 0..n {
        let mut size = 0;
        batch_item(env, &values, i, "values", &mut v, |len| {
            size = out_len(len)?;
            Ok(())
        })
        .map_err(|e| match e {
            Fail::Engine(e) => Fail::Engine(item_error(i, e)),
            other => other,
        })?;
        batch_item(env, &contexts, i, "contexts", &mut ctx, |len| {
            crate::limits::check_context(len).map_err(|e| item_error(i, e))
        })?;
        crate::secret::resize_wiping(&mut out, size)?;
        let written = op(&v, &ctx, &mut out).map_err(|e| item_error(i, e))?;
        let item = new_array(env, &out[..written])?;
        env.set_object_array_element(&result, i, &item)?;
        env.delete_local_ref(item)?;
    }
    Ok(result.into_raw())
}

/// A `byte[][]` batch export: `static native byte[][] <name>(long handle, byte[][] values,
/// byte[][] contexts)`, each item through `$len` (its output size) and `$op` (see [`batch`]).
macro_rules! batch_export {
    ($name:ident, $len:ident, $op:ident) => {
        #[doc = concat!("`", stringify!($name), "`: see `batch_export!`.")]
        #[no_mangle]
        pub extern "system" fn $name<'l>(
            mut env: JNIEnv<'l>,
            _class: JClass<'l>,
            h: jlong,
            values: JObjectArray<'l>,
            contexts: JObjectArray<'l>,
        ) -> jobjectArray {
            boundary(&mut env, |env| {
                // SAFETY: the handle contract.
                let c = unsafe { crypt(h)? };
                batch(
                    env,
                    values,
                    contexts,
                    |n| c.$len(n),
                    |v, x, o| c.$op(v, x, o),
                )
            })
        }
    };
}

batch_export!(
    Java_io_lkr_crypt_Native_encryptBatch,
    encrypted_len,
    encrypt_into
);
batch_export!(
    Java_io_lkr_crypt_Native_decryptBatch,
    decrypted_len,
    decrypt_into
);
