//! The recovery key (docs/keystore.md, "Recovery key"): adding and removing a keystore's
//! recovery wrapping, which KEKs it covers, and `recover` of a keystore whose CMK is lost.

use super::boundary::{boundary, crypt, not_null, path_arg, read_into};
use super::handle::{derived_handle, handle_from_path, into_handle};
use crate::Crypt;
use jni::objects::{JByteArray, JClass, JString};
use jni::sys::{jboolean, jint, jlong, jstring, JNI_FALSE};
use jni::JNIEnv;

/// `static native long addRecoveryKeyFromEnv(long handle)`: a new handle whose keystore also
/// wraps every KEK under the key of `LKR_RECOVERY_PUBLIC_KEY_FILE`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_addRecoveryKeyFromEnv<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jlong {
    boundary(&mut env, |_| {
        derived_handle(h, Crypt::add_recovery_key_from_env)
    })
}

/// `static native long removeRecoveryKey(long handle)`: a new handle without the recovery
/// section.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_removeRecoveryKey<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jlong {
    boundary(&mut env, |_| derived_handle(h, Crypt::remove_recovery_key))
}

/// `static native long recoverDocumentFromEnv(byte[] keystore, String privateKeyPath)`:
/// `recover` of a keystore document to the `..._DESTINATION` CMK.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_recoverDocumentFromEnv<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    keystore: JByteArray<'l>,
    private_key: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        not_null(&keystore, "keystore")?;
        let key = path_arg(env, &private_key, "private key path")?;
        let mut buf = Vec::new();
        read_into(env, &keystore, &mut buf)?;
        Ok(into_handle(Crypt::recover_document_from_env(&buf, &key)?))
    })
}

/// `static native long recoverFileFromEnv(String keystorePath, String privateKeyPath)`:
/// `recover` of a keystore file (atomic replace).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_recoverFileFromEnv<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
    private_key: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        let key = path_arg(env, &private_key, "private key path")?;
        handle_from_path(env, &path, |p| Crypt::recover_file_from_env(p, &key))
    })
}

/// `static native String recoveryKeySha256(long handle)`: the recovery key's `key_sha256`, or
/// null when the keystore has none.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_recoveryKeySha256<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jstring {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        Ok(match c.recovery_key_sha256() {
            Some(sha) => env.new_string(sha)?.into_raw(),
            None => std::ptr::null_mut(),
        })
    })
}

/// `static native int[] recoveryKekIds(long handle, boolean covered)`: the KEK ids the recovery
/// key covers (or, with `covered` false, does not cover), ascending.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_recoveryKekIds<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    covered: jboolean,
) -> jni::sys::jintArray {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        let ids = c.recovery_kek_ids(covered != JNI_FALSE);
        let ids: Vec<jint> = ids.into_iter().map(|id| id as jint).collect();
        let arr = env.new_int_array(ids.len() as jint)?;
        env.set_int_array_region(&arr, 0, &ids)?;
        Ok(arr.into_raw())
    })
}
