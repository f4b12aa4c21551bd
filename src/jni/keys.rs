//! Keys as data (docs/native-interfaces.md): `io.lkr.crypt.MasterKey`'s native side. A key is a
//! `long` holding `Box<MasterKey>` (its bytes in memory wiped when it is freed); the Java side
//! frees it exactly once (`NativePointer`) and never while a call uses it (its lock). The checks
//! and messages are the engine's (`keys`), the same as the environment's (docs/keys.md).

use super::boundary::{boundary, not_null, read_into, JResult};
use super::handle::into_handle;
use crate::error::Error;
use crate::keys::{self, MasterKey};
use crate::Crypt;
use jni::objects::{JByteArray, JClass, JString};
use jni::sys::jlong;
use jni::JNIEnv;
use std::path::Path;
use zeroize::Zeroizing;

fn into_key(k: MasterKey) -> jlong {
    Box::into_raw(Box::new(k)) as jlong
}

/// # Safety
/// `k` must be 0 or a key from `into_key` that is not freed during the call (the Java side's
/// lock guarantees it).
unsafe fn master<'a>(k: jlong) -> JResult<&'a MasterKey> {
    // SAFETY: the caller's contract.
    unsafe { (k as *const MasterKey).as_ref() }
        .ok_or_else(|| Error::invalid("The MasterKey is closed or was never made").into())
}

/// A Java string argument, which must not be null; wiped when dropped (it may be key text).
fn text(env: &mut JNIEnv<'_>, s: &JString<'_>, what: &str) -> JResult<Zeroizing<String>> {
    not_null(s, what)?;
    Ok(Zeroizing::new(env.get_string(s)?.into()))
}

/// A Java string argument that may be null.
fn optional_text(env: &mut JNIEnv<'_>, s: &JString<'_>) -> JResult<Option<String>> {
    if s.is_null() {
        Ok(None)
    } else {
        Ok(Some(env.get_string(s)?.into()))
    }
}

/// `static native long masterKeyLocal(byte[] key)`: 32 raw bytes.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_masterKeyLocal<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    key: JByteArray<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        not_null(&key, "key")?;
        let mut buf = Zeroizing::new(Vec::new());
        read_into(env, &key, &mut buf)?;
        Ok(into_key(keys::master_key_from_bytes(&buf)?))
    })
}

/// `static native long masterKeyBase64(String base64)`: the CMK as base64 text.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_masterKeyBase64<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    base64: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        let t = text(env, &base64, "base64")?;
        Ok(into_key(keys::master_key_from_text(&t)?))
    })
}

/// `static native long masterKeyFile(String path)`: the base64 text in a file of mode 0400,
/// read with `read_key_file`'s checks on the one open descriptor.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_masterKeyFile<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        let p = text(env, &path, "file")?;
        Ok(into_key(keys::master_key_from_file(
            Path::new(p.as_str()),
            "MasterKey.localFile",
        )?))
    })
}

/// `static native long masterKeyAwsKms(String keyId, String regionOrNull, String
/// contextOrNull)`: no KMS call here.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_masterKeyAwsKms<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    key_id: JString<'l>,
    region: JString<'l>,
    context: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        let id = text(env, &key_id, "keyId")?;
        let region = optional_text(env, &region)?;
        let context = optional_text(env, &context)?;
        Ok(into_key(keys::aws_kms_master_key(
            &id,
            region.as_deref(),
            context.as_deref(),
        )?))
    })
}

/// `static native long masterKeyFromEnv(String suffix)`: the CMK the environment chooses
/// (docs/keys.md), the variables named with `suffix` (`""`, `"_SOURCE"`, `"_DESTINATION"`).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_masterKeyFromEnv<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    suffix: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        let suffix = text(env, &suffix, "suffix")?;
        keys::check_suffix(&suffix)?;
        Ok(into_key(keys::master_key_from(
            &keys::process_env,
            &suffix,
        )?))
    })
}

/// `static native void masterKeyFree(long key)`: the Java side calls it once, under its write
/// lock; the key's bytes are wiped.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_masterKeyFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    k: jlong,
) {
    boundary(&mut env, |_| {
        if k != 0 {
            // SAFETY: `k` came from `into_key`; the Java side frees it exactly once, when no
            // other call uses it.
            drop(unsafe { Box::from_raw(k as *mut MasterKey) });
        }
        Ok(())
    })
}

/// `static native long openPathWithKey(long key, String keystorePath)`: like `openPath` with
/// the CMK `key` (a missing keystore is created; the legacy key from the environment).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_openPathWithKey<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    k: jlong,
    path: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        // SAFETY: the key contract.
        let master = unsafe { master(k)? }.clone();
        super::handle::handle_from_path(env, &path, |p| Crypt::open_with_key(p, master))
    })
}

/// `static native long openBytesWithKey(long key, byte[] keystoreOrNull)`: like `openBytes`
/// with the CMK `key`; null creates a new keystore.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_openBytesWithKey<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    k: jlong,
    keystore: JByteArray<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        // SAFETY: the key contract.
        let master = unsafe { master(k)? }.clone();
        // Java's contract: null creates a keystore; an empty array is a document (malformed).
        let crypt = if keystore.is_null() {
            Crypt::open_bytes_with_key(None, master)?
        } else {
            let mut buf = Vec::new();
            read_into(env, &keystore, &mut buf)?;
            Crypt::open_bytes_with_key(Some(&buf), master)?
        };
        Ok(into_handle(crypt))
    })
}
