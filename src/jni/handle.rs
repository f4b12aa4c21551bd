//! The handle's life: the ABI check the loader makes first, opening a keystore into a handle
//! (a `long` holding `Box<Crypt>`), deriving a new handle from one, closing it; and the
//! process-wide reseed of the random generator.

use super::boundary::{boundary, crypt, path_arg, read_into, JResult};
use super::JNI_ABI;
use crate::Crypt;
use jni::objects::{JByteArray, JClass, JString};
use jni::sys::{jboolean, jlong, jstring};
use jni::JNIEnv;
use std::path::Path;

pub(super) fn into_handle(c: Crypt) -> jlong {
    Box::into_raw(Box::new(c)) as jlong
}

/// A new handle from `open` applied to the Java string `path` (a keystore file).
pub(super) fn handle_from_path(
    env: &mut JNIEnv<'_>,
    path: &JString<'_>,
    open: impl FnOnce(&Path) -> crate::error::Result<Crypt>,
) -> JResult<jlong> {
    let path = path_arg(env, path, "keystore path")?;
    Ok(into_handle(open(&path)?))
}

/// A new handle from `op` applied to the live handle `h` (rotation, rekey, retiring a KEK).
pub(super) fn derived_handle(
    h: jlong,
    op: impl FnOnce(&Crypt) -> crate::error::Result<Crypt>,
) -> JResult<jlong> {
    // SAFETY: the handle contract.
    let c = unsafe { crypt(h)? };
    Ok(into_handle(op(c)?))
}

/// `static native String abiVersion()`: `"<crate version>/<JNI ABI>"`, e.g. `"0.1.0/1"`. The
/// loader calls it first, before any other export, and refuses a library that does not match
/// the jar (docs/native-interfaces.md) — or that lacks this export (an older library).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_abiVersion<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jstring {
    boundary(&mut env, |env| {
        let v = format!("{}/{}", env!("CARGO_PKG_VERSION"), JNI_ABI);
        Ok(env.new_string(v)?.into_raw())
    })
}

/// `static native boolean fipsMode()`: the FIPS build's module runs in FIPS mode (docs/fips.md).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_fipsMode<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jboolean {
    boundary(&mut env, |_| Ok(jboolean::from(crate::fips::mode())))
}

/// `static native long openPath(String keystorePath)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_openPath<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        handle_from_path(env, &path, Crypt::open_from_env)
    })
}

/// `static native long openBytes(byte[] keystoreOrNull)`: null creates a new keystore.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_openBytes<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    keystore: JByteArray<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        // Java's contract: null creates a keystore; an empty array is a document (malformed).
        let crypt = if keystore.is_null() {
            Crypt::open_bytes_from_env(None)?
        } else {
            let mut buf = Vec::new();
            read_into(env, &keystore, &mut buf)?;
            Crypt::open_bytes_from_env(Some(&buf))?
        };
        Ok(into_handle(crypt))
    })
}

/// `static native void close(long handle)`: the Java side calls it once, under its write lock.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_close<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) {
    boundary(&mut env, |_| {
        if h != 0 {
            // SAFETY: `h` came from `into_handle`; the Java side closes it exactly once, when
            // no other call uses it.
            drop(unsafe { Box::from_raw(h as *mut Crypt) });
        }
        Ok(())
    })
}

/// `static native void reseedRandom()`: every thread reseeds its generator of salts and nonces
/// before its next draw (see `lkr_rng_reseed`).
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_reseedRandom<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) {
    boundary(&mut env, |_| {
        crate::rng::reseed();
        Ok(())
    })
}
