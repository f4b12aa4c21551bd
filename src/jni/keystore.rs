//! The keystore and its KEKs: exporting the document, checking the CMK configuration, KEK
//! rotation, rekey to another CMK, retiring a KEK, and which KEK encrypts new values or
//! encrypted a given one.

use super::boundary::{boundary, crypt, invalid, new_array, not_null, read_context, read_into};
use super::handle::{derived_handle, handle_from_path, into_handle};
use crate::Crypt;
use jni::objects::{JByteArray, JClass, JString};
use jni::sys::{jbyteArray, jint, jlong};
use jni::JNIEnv;

/// `static native byte[] exportKeystore(long handle)`: the keystore document, UTF-8 JSON.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_exportKeystore<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jbyteArray {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        Ok(new_array(env, c.keystore_json().as_bytes())?.into_raw())
    })
}

/// `static native void checkMasterKeyConfig(String suffix)`: docs/keys.md's checks of the CMK
/// variables named with `suffix` (`""`, `"_SOURCE"`, `"_DESTINATION"`), without using the key.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_checkMasterKeyConfig<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    suffix: JString<'l>,
) {
    boundary(&mut env, |env| {
        not_null(&suffix, "suffix")?;
        let suffix: String = env.get_string(&suffix)?.into();
        Ok(crate::keys::check_master_key_config(&suffix)?)
    })
}

/// `static native int[] kekIds(long handle)`: every KEK id of the keystore, ascending.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_kekIds<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jni::sys::jintArray {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        let ids: Vec<jint> = c.kek_ids().into_iter().map(|id| id as jint).collect();
        let arr = env.new_int_array(ids.len() as jint)?;
        env.set_int_array_region(&arr, 0, &ids)?;
        Ok(arr.into_raw())
    })
}

/// `static native long rotateKek(long handle)`: a new handle with a new active KEK.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_rotateKek<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jlong {
    boundary(&mut env, |_| derived_handle(h, Crypt::rotate_kek))
}

/// `static native long retireKek(long handle, int kekId)`: a new handle without that KEK.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_retireKek<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    kek_id: jint,
) -> jlong {
    boundary(&mut env, |_| {
        // Java's int to the engine's u32: a negative id names no KEK.
        let id = u32::try_from(kek_id).map_err(|_| invalid(format!("No KEK has id {kek_id}")))?;
        derived_handle(h, |c| c.retire_kek(id))
    })
}

/// `static native long rekeyFromEnv(long handle)`: a new handle with the KEKs re-wrapped under
/// the `..._DESTINATION` CMK.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_rekeyFromEnv<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jlong {
    boundary(&mut env, |_| derived_handle(h, Crypt::rekey_from_env))
}

/// `static native long rekeyDocumentFromEnv(byte[] keystore)`: docs/native-interfaces.md `rekey` of a keystore
/// document, from the `..._SOURCE` CMK to the `..._DESTINATION` CMK.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_rekeyDocumentFromEnv<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    keystore: JByteArray<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        not_null(&keystore, "keystore")?;
        let mut buf = Vec::new();
        read_into(env, &keystore, &mut buf)?;
        Ok(into_handle(Crypt::rekey_document_from_env(&buf)?))
    })
}

/// `static native long rekeyFileFromEnv(String keystorePath)`: docs/native-interfaces.md `rekey` of a keystore
/// file (atomic replace).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_rekeyFileFromEnv<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        handle_from_path(env, &path, Crypt::rekey_file_from_env)
    })
}

/// `static native long rotateKekFileFromEnv(String keystorePath)`: docs/native-interfaces.md `rotate_kek` of a
/// keystore file (atomic replace).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_rotateKekFileFromEnv<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        handle_from_path(env, &path, Crypt::rotate_kek_file_from_env)
    })
}

/// `static native int kekIdOf(long handle, byte[] value, byte[] context)`: the KEK id of an
/// envelope v1 authentic under `context`, or -1.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_kekIdOf<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    value: JByteArray<'l>,
    context: JByteArray<'l>,
) -> jint {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        not_null(&value, "value")?;
        not_null(&context, "context")?;
        let (mut v, mut ctx) = (Vec::new(), Vec::new());
        read_into(env, &value, &mut v)?;
        read_context(env, &context, &mut ctx)?;
        // The engine's "none" is -1 here (LkrCrypt.kekIdOf makes it an empty OptionalInt).
        Ok(c.authentic_kek_id(&v, &ctx).map_or(-1, |id| id as jint))
    })
}

/// `static native int activeKekId(long handle)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_activeKekId<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jint {
    boundary(&mut env, |_| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        Ok(c.active_kek_id() as jint)
    })
}
