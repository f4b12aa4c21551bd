//! Record size limits, for the Java side to check a value before it allocates for it.

use super::boundary::{boundary, crypt, invalid};
use jni::objects::JClass;
use jni::sys::{jboolean, jlong};
use jni::JNIEnv;

/// `static native void checkRecordLength(long handle, long length, boolean stored)`: throws the
/// engine's error when a plaintext (`stored` false) or a stored value (envelope or legacy
/// value, `stored` true) of `length` bytes is over the maximum record size; the Java side calls
/// it before allocating for a value over [`maxRecordSize`].
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_checkRecordLength<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    length: jlong,
    stored: jboolean,
) {
    boundary(&mut env, |_| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        let len = usize::try_from(length).map_err(|_| invalid("length is negative"))?;
        if stored != 0 {
            c.check_stored_len(len)?;
        } else {
            c.encrypted_len(len)?;
        }
        Ok(())
    })
}

/// `static native long maxRecordSize(long handle)`: the largest plaintext one record may hold
/// (`LKR_MAX_RECORD_SIZE`, default 64 MiB), so that the Java side can check a value before it
/// allocates an output array for `encrypt` / `decrypt` (the native calls refuse it anyway).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_maxRecordSize<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jlong {
    boundary(&mut env, |_| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        Ok(c.max_record_size().min(jlong::MAX as usize) as jlong)
    })
}
