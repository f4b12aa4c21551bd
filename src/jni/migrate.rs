//! Migration (docs/legacy.md): a legacy value, or an envelope of an older KEK, to an envelope v1
//! under the active KEK — one value at a time (into a new array, or a region of a caller-owned
//! one: `migrateArray`), or a packed batch (`migratePacked`) without an object per item.

use super::boundary::{
    array_len, boundary, crypt, invalid, new_array, not_null, read_context, read_into,
    regions_export, JResult, Pinned,
};
use super::region::{on_regions, Regions};
use crate::error::Error;
use crate::secret::Key128;
use crate::{Crypt, MigrateOptions, Migrated, PackedItems};
use jni::objects::{JByteArray, JClass, JIntArray, JObjectArray};
use jni::sys::{jboolean, jbyteArray, jint, jlong};
use jni::JNIEnv;

/// The 16-byte legacy key argument: null means the handle's (from the environment).
fn legacy_key(env: &JNIEnv<'_>, key: &JByteArray<'_>) -> JResult<Option<Key128>> {
    if key.is_null() {
        return Ok(None);
    }
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(16));
    read_into(env, key, &mut buf)?;
    Ok(Some(crate::keys::legacy_key_from_bytes(&buf)?))
}

/// `static native boolean hasLegacyKey(long handle)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_hasLegacyKey<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jboolean {
    boundary(&mut env, |_| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        Ok(c.has_legacy_key() as jboolean)
    })
}

/// `static native byte[] migrate(long handle, byte[] value, byte[] context,
/// byte[] legacyKeyOrNull, boolean requireUtf8)`: the envelope v1 (the value itself when it
/// already is one under `context`).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_migrate<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    value: JByteArray<'l>,
    context: JByteArray<'l>,
    key: JByteArray<'l>,
    require_utf8: jboolean,
) -> jbyteArray {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        not_null(&value, "legacy value")?;
        not_null(&context, "context")?;
        let key = legacy_key(env, &key)?;
        let options = MigrateOptions {
            require_utf8: require_utf8 != 0,
            ..Default::default()
        };
        c.check_stored_len(env.get_array_length(&value)? as usize)?;
        let (mut v, mut ctx) = (Vec::new(), Vec::new());
        read_into(env, &value, &mut v)?;
        read_context(env, &context, &mut ctx)?;
        // Java gets a new array: sized by the engine's bound (C callers size it with
        // lkr_migrated_max_len, the same function).
        let mut out = crate::limits::try_zeroed(Crypt::migrated_max_len(v.len()))?;
        let n = c
            .migrate_into(&v, &ctx, key.as_ref(), options, &mut out)?
            .written();
        Ok(new_array(env, &out[..n])?.into_raw())
    })
}

// `static native int migrateArray(long handle, byte[] in, int inOff, int inLen, byte[] context,
// byte[] out, int outOff, int outLen, byte[] legacyKeyOrNull)`: `in[inOff, inOff + inLen)`
// migrated into `out[outOff, outOff + outLen)`, both arrays pinned; returns the bytes written.
// The engine's `migrate_into_region` needs `outLen` of at least `migrated_max_len(inLen)` and
// zeroes the region when the value does not migrate. There is no in-place form: overlapping
// regions are refused (the Java side copies the input first).
regions_export!(
    Java_io_lkr_crypt_Native_migrateArray,
    JByteArray,
    on_regions,
    (
        None,
        |c: &Crypt, r: Regions<'_>, x: &[u8]| match r {
            Regions::Apart(value, out) => c
                .migrate_into_region(value, x, key.as_ref(), out)
                .map(Migrated::written),
            // Built only at an in-place shift, and none is given.
            Regions::Within { .. } => Err(Error::invalid("The output region overlaps the input")),
        }
    ),
    key => legacy_key
);

/// `static native byte[] reencrypt(long handle, byte[] envelope, byte[] context)`: the
/// envelope re-encrypted with the active KEK, or null when it already is under it.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_reencrypt<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    value: JByteArray<'l>,
    context: JByteArray<'l>,
) -> jbyteArray {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        not_null(&value, "envelope")?;
        not_null(&context, "context")?;
        c.check_stored_len(env.get_array_length(&value)? as usize)?;
        let (mut v, mut ctx) = (Vec::new(), Vec::new());
        read_into(env, &value, &mut v)?;
        read_context(env, &context, &mut ctx)?;
        let mut out = crate::limits::try_zeroed(v.len())?;
        // The engine writes at most the envelope's length; Java's contract: null unless the
        // engine rotated it.
        match c.reencrypt_into(&v, &ctx, &mut out)? {
            Migrated::Rotated(n) => Ok(new_array(env, &out[..n])?.into_raw()),
            _ => Ok(std::ptr::null_mut()),
        }
    })
}

/// The end offsets of a packed batch's items: `count` ints of `array`, each item `i` spanning
/// `[ends[i-1], ends[i])` of a data array of `data_len` bytes (item 0 starts at 0). Checked:
/// not negative, never decreasing, within the data.
fn packed_ends(
    env: &JNIEnv<'_>,
    array: &JIntArray<'_>,
    count: usize,
    what: &str,
    data_len: usize,
) -> JResult<Vec<usize>> {
    not_null(array, what)?;
    if (env.get_array_length(array)? as usize) < count {
        return Err(invalid(format!("{what} has fewer than {count} entries")));
    }
    let mut raw = vec![0 as jint; count];
    env.get_int_array_region(array, 0, &mut raw)?;
    let mut ends = Vec::with_capacity(count);
    let mut start = 0usize;
    for (i, &e) in raw.iter().enumerate() {
        let end = usize::try_from(e).map_err(|_| invalid(format!("{what}[{i}] is negative")))?;
        // Checked before the arrays are pinned, naming Java's arrays; the engine checks the
        // same layout again (PackedItems) for its other callers.
        if end < start || end > data_len {
            return Err(invalid(format!(
                "{what}[{i}] = {end} does not follow {start} within an array of {data_len} bytes"
            )));
        }
        ends.push(end);
        start = end;
    }
    Ok(ends)
}

/// `static native void migratePacked(long handle, int count, byte[] values, int[] valueEnds,
/// byte[] contexts, int[] contextEnds, byte[] legacyKeyOrNull, int flags, byte[] out,
/// int[] outEnds, int[] outcomes, String[] messages)`: the batch migration of
/// `io.lkr.crypt.MigrationBatch`, without an object per item. Item `i` is
/// `values[valueEnds[i-1]..valueEnds[i]]` (from 0 for item 0) with the context
/// `contexts[contextEnds[i-1]..contextEnds[i]]`; its result is written to
/// `out[outEnds[i-1]..outEnds[i]]` (packed, empty when undecryptable), so `out` must hold
/// `sum(len_i + 53)` bytes. `flags` and `outcomes[i]` as in the per-item migration: 1
/// migrated from legacy, 2 already v1 (the value copied), 3 undecryptable (`messages[i]` says why; the
/// other slots of `messages` are not touched), 4 rotated, 5 refused without trying the legacy
/// key (an envelope of a KEK this keystore does not hold, with strict-v1 one not authentic
/// under its context, or a value over the size limit; `messages[i]` says which). Only a failure that concerns the whole
/// call (no legacy key, bad arguments) throws; then `out`, `outEnds`, `outcomes` and `messages`
/// hold nothing meaningful. The three byte arrays are pinned (critical regions) for the whole
/// batch: keep batches to thousands of items, not millions.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_lkr_crypt_Native_migratePacked<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    count: jint,
    values: JByteArray<'l>,
    value_ends: JIntArray<'l>,
    contexts: JByteArray<'l>,
    context_ends: JIntArray<'l>,
    key: JByteArray<'l>,
    flags: jint,
    out: JByteArray<'l>,
    out_ends: JIntArray<'l>,
    outcomes: JIntArray<'l>,
    messages: JObjectArray<'l>,
) {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        let n = usize::try_from(count).map_err(|_| invalid("count is negative"))?;
        let options = u32::try_from(flags)
            .ok()
            .and_then(MigrateOptions::from_bits)
            .ok_or_else(|| invalid(format!("Unknown migrateBatch flags {flags:#x}")))?;
        let values_len = array_len(env, &values, "values")?;
        let contexts_len = array_len(env, &contexts, "contexts")?;
        let out_len = array_len(env, &out, "out")?;
        let v_ends = packed_ends(env, &value_ends, n, "valueEnds", values_len)?;
        let c_ends = packed_ends(env, &context_ends, n, "contextEnds", contexts_len)?;
        not_null(&messages, "messages")?;
        if array_len(env, &out_ends, "outEnds")? < n
            || array_len(env, &outcomes, "outcomes")? < n
            || (env.get_array_length(&messages)? as usize) < n
        {
            return Err(invalid(format!(
                "outEnds, outcomes and messages must have a slot for each of the {n} items"
            )));
        }
        // Every item's result fits in its own slice of `out` (checked once, here).
        let need = PackedItems::out_need_for(&v_ends);
        if need > out_len {
            return Err(invalid(format!(
                "out holds {out_len} bytes; this batch may need {need} (each value's length + {})",
                Crypt::migrated_max_len(0)
            )));
        }
        // `out` is pinned writable: it must not also be an input.
        if env.is_same_object(&out, &values)? || env.is_same_object(&out, &contexts)? {
            return Err(invalid(
                "out must be an array of its own, not the values' or the contexts' array",
            ));
        }
        let key = legacy_key(env, &key)?;
        let mut results = Vec::with_capacity(n);
        let mut out_pos = vec![0usize; n];
        {
            // SAFETY: lengths from GetArrayLength; no JNI call until the pins drop (at the end of
            // this block, or on an early return).
            let vp = unsafe { Pinned::new(env, &values, values_len, false) }?;
            // SAFETY: as above (pinning the values' array twice, read-only, is allowed).
            let cp = unsafe { Pinned::new(env, &contexts, contexts_len, false) }?;
            // SAFETY: as above; `out` is neither of the other two.
            let mut op = unsafe { Pinned::new(env, &out, out_len, true) }?;
            let items = PackedItems {
                values: vp.bytes(),
                value_ends: &v_ends,
                contexts: cp.bytes(),
                context_ends: &c_ends,
            };
            c.migrate_packed(
                items,
                key.as_ref(),
                options,
                op.bytes_mut(),
                &mut out_pos,
                &mut results,
            )?;
        }
        let mut codes = vec![0 as jint; n];
        let mut failed: Vec<(usize, String)> = Vec::new();
        for (i, r) in results.into_iter().enumerate() {
            codes[i] = r.code();
            if let Some(message) = r.message() {
                failed.push((i, message.to_owned()));
            }
        }
        // Every end is <= out_len, which is a Java array length.
        let ends: Vec<jint> = out_pos.iter().map(|&e| e as jint).collect();
        env.set_int_array_region(&out_ends, 0, &ends)?;
        env.set_int_array_region(&outcomes, 0, &codes)?;
        for (i, message) in failed {
            let m = env.new_string(message)?;
            env.set_object_array_element(&messages, i as jint, &m)?;
            env.delete_local_ref(m)?;
        }
        Ok(())
    })
}
