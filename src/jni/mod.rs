//! JNI entry points for the Java binding (`io.lkr.crypt.Native`). This module only
//! translates: Java arrays, direct buffers and strings to slices, engine results to return
//! values, engine errors to Java exceptions. Every export runs inside [`boundary`], which
//! catches panics, so no Rust panic ever unwinds into the JVM.
//!
//! Conventions:
//! * A handle is a `long` holding `Box<Crypt>`; the Java side guarantees it is live for the
//!   duration of a call (a read lock around every call, the write lock in `close`). Handle 0
//!   is rejected here too.
//! * Errors are thrown through one Java factory, `io.lkr.crypt.LkrErrors.fromNative(int code,
//!   String message)`, which maps [`ErrorKind`] codes to exception classes; messages are the
//!   engine's, unchanged.
//! * Large arrays are accessed through critical regions (`GetPrimitiveArrayCritical`), not
//!   copied; no JNI function is called while a region is held. Contexts and the items of the
//!   `byte[][]` batches are small and are copied; the packed migration batch (`migratePacked`)
//!   pins its three byte arrays for the whole batch.

use crate::error::{Error, ErrorKind};
use crate::format::envelope;
use crate::secret::Key128;
use crate::{Crypt, MigrateOptions, Migrated, PackedItems, PackedOutcome};
use jni::objects::{JByteArray, JByteBuffer, JClass, JIntArray, JObject, JObjectArray, JString};
use jni::objects::{JThrowable, JValue};
use jni::sys::{jboolean, jbyteArray, jint, jlong, jobjectArray, jstring, JNI_ABORT};
use jni::JNIEnv;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use zeroize::Zeroizing;

/// The Java class whose static `fromNative(int, String)` builds every exception.
const ERRORS_CLASS: &str = "io/lkr/crypt/LkrErrors";
const ERRORS_SIG: &str = "(ILjava/lang/String;)Ljava/lang/Throwable;";

/// The JNI ABI number: bump it whenever a `Native` method is added, removed, or changes its
/// signature or meaning. `io.lkr.crypt.Native.ABI` is the number the jar expects; the loader
/// refuses a library that reports another (see `abiVersion`).
const JNI_ABI: u32 = 1;

/// Outcome codes of `migratePacked`, mirrored by `io.lkr.crypt.MigrationResult.Outcome`.
const OUTCOME_REENCRYPTED: jint = 1;
const OUTCOME_ALREADY_V1: jint = 2;
const OUTCOME_UNDECRYPTABLE: jint = 3;
const OUTCOME_ROTATED: jint = 4;
const OUTCOME_REFUSED: jint = 5;

/// `migratePacked` flags, mirrored by `io.lkr.crypt.LkrCrypt`.
const MIGRATE_REQUIRE_UTF8: jint = 1;
const MIGRATE_REENCRYPT: jint = 2;
const MIGRATE_STRICT_V1: jint = 4;

/// Why an export failed.
enum Fail {
    /// An engine error: thrown through the Java factory.
    Engine(Error),
    /// A JNI call failed; when it left a Java exception pending, that one stands.
    Jni(jni::errors::Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Engine(e)
    }
}

impl From<jni::errors::Error> for Fail {
    fn from(e: jni::errors::Error) -> Fail {
        Fail::Jni(e)
    }
}

type JResult<T> = std::result::Result<T, Fail>;

/// Throws `code`/`message` as the exception `LkrErrors.fromNative` builds, unless an
/// exception is already pending.
fn throw(env: &mut JNIEnv<'_>, code: i32, message: &str) {
    if env.exception_check().unwrap_or(true) {
        return;
    }
    let built = env.new_string(message).and_then(|m| {
        env.call_static_method(
            ERRORS_CLASS,
            "fromNative",
            ERRORS_SIG,
            &[JValue::Int(code), JValue::Object(&m)],
        )
        .and_then(|v| v.l())
    });
    match built {
        Ok(obj) if !obj.is_null() => {
            let _ = env.throw(JThrowable::from(obj));
        }
        _ => {
            if !env.exception_check().unwrap_or(true) {
                let _ = env.throw_new("java/lang/IllegalStateException", message);
            }
        }
    }
}

/// Runs an export's body: catches panics and turns every failure into a Java exception;
/// returns `T::default()` (0, null) when an exception is thrown.
fn boundary<'l, T: Default>(
    env: &mut JNIEnv<'l>,
    body: impl FnOnce(&mut JNIEnv<'l>) -> JResult<T>,
) -> T {
    match catch_unwind(AssertUnwindSafe(|| body(env))) {
        Ok(Ok(v)) => v,
        Ok(Err(Fail::Engine(e))) => {
            throw(env, e.kind().code(), e.message());
            T::default()
        }
        Ok(Err(Fail::Jni(jni::errors::Error::JavaException))) => T::default(),
        Ok(Err(Fail::Jni(e))) => {
            throw(
                env,
                ErrorKind::Internal.code(),
                &format!("Internal error in lkr-crypt at the JNI boundary ({e}): please report it"),
            );
            T::default()
        }
        Err(_) => {
            throw(
                env,
                ErrorKind::Internal.code(),
                "Internal error in lkr-crypt (a panic was caught at the JNI boundary): please report it",
            );
            T::default()
        }
    }
}

/// The engine behind a handle.
///
/// # Safety
/// `h` must be 0 or a handle from `openPath`/`openBytes` that is not closed during the call
/// (the Java side's lock guarantees it).
unsafe fn crypt<'a>(h: jlong) -> JResult<&'a Crypt> {
    // SAFETY: the caller's contract.
    unsafe { (h as *const Crypt).as_ref() }
        .ok_or_else(|| Error::invalid("The LkrCrypt handle is closed or was never opened").into())
}

fn invalid(message: impl Into<String>) -> Fail {
    Fail::Engine(Error::invalid(message))
}

fn not_null<'a, O: AsRef<JObject<'a>>>(o: &O, what: &str) -> JResult<()> {
    if o.as_ref().is_null() {
        Err(invalid(format!("{what} is null")))
    } else {
        Ok(())
    }
}

fn jsize_of(n: usize, what: &str) -> JResult<jint> {
    jint::try_from(n).map_err(|_| {
        invalid(format!(
            "{what} would be {n} bytes, more than a Java array holds"
        ))
    })
}

/// A byte array's contents, pinned with `GetPrimitiveArrayCritical` (no copy). While one is
/// alive no JNI function may be called (other pins excepted); it is released on drop, also
/// when unwinding.
struct Pinned<'a> {
    env: *mut jni::sys::JNIEnv,
    array: jni::sys::jarray,
    ptr: *mut u8,
    len: usize,
    mode: jint,
    _array: PhantomData<&'a ()>,
}

impl<'a> Pinned<'a> {
    /// `array`'s length, through the raw `GetArrayLength` (the hot paths call it per value;
    /// the wrapper's checks cost as much as the call). Call it before pinning: inside a
    /// critical region JNI allows no other function.
    fn len_of(env: &JNIEnv<'_>, array: &JByteArray<'_>) -> JResult<usize> {
        not_null(array, "array")?;
        let raw_env = env.get_native_interface();
        // SAFETY: `raw_env` is this thread's live JNIEnv and `array` a live, non-null array.
        let n = unsafe {
            let len = (**raw_env)
                .GetArrayLength
                .ok_or_else(|| invalid("JNI lacks GetArrayLength"))?;
            len(raw_env, array.as_raw())
        };
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// True when both pins are the same memory, i.e. the same Java array: `Pinned` hands out
    /// a `&mut` view, which must not alias another view (checked without `IsSameObject`, a JNI
    /// call of its own; a VM that copies instead of pinning gives distinct memory anyway).
    fn same_memory(&self, other: &Pinned<'_>) -> bool {
        !self.ptr.is_null() && self.ptr == other.ptr
    }

    /// Pins `array`. `writable`: copy changes back (0) rather than discard them (`JNI_ABORT`).
    ///
    /// # Safety
    /// `len` must be `array`'s length (from `GetArrayLength`), and no JNI function other than
    /// another pin may be called while the result is alive.
    unsafe fn new(
        env: &JNIEnv<'_>,
        array: &'a JByteArray<'_>,
        len: usize,
        writable: bool,
    ) -> JResult<Self> {
        let raw_env = env.get_native_interface();
        let mut p = Pinned {
            env: raw_env,
            array: array.as_raw(),
            ptr: std::ptr::null_mut(),
            len,
            mode: if writable { 0 } else { JNI_ABORT },
            _array: PhantomData,
        };
        if len == 0 {
            return Ok(p);
        }
        // SAFETY: `raw_env` is this thread's live JNIEnv and `array` a live byte array.
        let ptr = unsafe {
            let get = (**raw_env)
                .GetPrimitiveArrayCritical
                .ok_or_else(|| invalid("JNI lacks GetPrimitiveArrayCritical"))?;
            get(raw_env, p.array, std::ptr::null_mut())
        };
        if ptr.is_null() {
            // The VM threw OutOfMemoryError.
            return Err(Fail::Jni(jni::errors::Error::JavaException));
        }
        p.ptr = ptr.cast();
        Ok(p)
    }

    fn bytes(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: the VM pinned `len` bytes at `ptr` until release.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        if self.ptr.is_null() {
            return &mut [];
        }
        // SAFETY: as above; `&mut self` makes this the only view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Pinned<'_> {
    fn drop(&mut self) {
        if self.ptr.is_null() {
            return;
        }
        // SAFETY: releases exactly what `new` pinned, on the same thread.
        unsafe {
            if let Some(release) = (**self.env).ReleasePrimitiveArrayCritical {
                release(self.env, self.array, self.ptr.cast(), self.mode);
            }
        }
    }
}

/// Copies a (small) byte array, e.g. a context or a batch item, into `buf`.
fn read_into(env: &JNIEnv<'_>, array: &JByteArray<'_>, buf: &mut Vec<u8>) -> JResult<()> {
    let n = env.get_array_length(array)? as usize;
    buf.clear();
    crate::secret::resize_wiping(buf, n)?;
    // SAFETY: u8 and i8 have the same layout.
    let as_i8 = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<i8>(), n) };
    env.get_byte_array_region(array, 0, as_i8)?;
    Ok(())
}

/// Copies a context argument into `buf`, refusing one over the maximum context size before
/// copying anything.
fn read_context(env: &JNIEnv<'_>, context: &JByteArray<'_>, buf: &mut Vec<u8>) -> JResult<()> {
    crate::limits::check_context(env.get_array_length(context)? as usize)?;
    read_into(env, context, buf)
}

/// A new Java byte array holding `bytes`.
fn new_array<'l>(env: &JNIEnv<'l>, bytes: &[u8]) -> JResult<JByteArray<'l>> {
    let n = jsize_of(bytes.len(), "The result")?;
    let a = env.new_byte_array(n)?;
    // SAFETY: u8 and i8 have the same layout.
    let as_i8 = unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<i8>(), bytes.len()) };
    env.set_byte_array_region(&a, 0, as_i8)?;
    Ok(a)
}

/// The 16-byte legacy key argument: null means the handle's (from the environment).
fn legacy_key(env: &JNIEnv<'_>, key: &JByteArray<'_>) -> JResult<Option<Key128>> {
    if key.is_null() {
        return Ok(None);
    }
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(16));
    read_into(env, key, &mut buf)?;
    Ok(Some(crate::keys::legacy_key_from_bytes(&buf)?))
}

fn into_handle(c: Crypt) -> jlong {
    Box::into_raw(Box::new(c)) as jlong
}

/// A new handle from `open` applied to the Java string `path` (a keystore file).
fn handle_from_path(
    env: &mut JNIEnv<'_>,
    path: &JString<'_>,
    open: impl FnOnce(&Path) -> crate::error::Result<Crypt>,
) -> JResult<jlong> {
    not_null(path, "keystore path")?;
    let path: String = env.get_string(path)?.into();
    Ok(into_handle(open(Path::new(&path))?))
}

/// A new handle from `op` applied to the live handle `h` (rotation, rekey, retiring a KEK).
fn derived_handle(
    h: jlong,
    op: impl FnOnce(&Crypt) -> crate::error::Result<Crypt>,
) -> JResult<jlong> {
    // SAFETY: the handle contract.
    let c = unsafe { crypt(h)? };
    Ok(into_handle(op(c)?))
}

/// `static native String abiVersion()`: `"<crate version>/<JNI ABI>"`, e.g. `"0.1.0/1"`. The
/// loader calls it first, before any other export, and refuses a library that does not match
/// the jar (SPEC §8.2) — or that lacks this export (an older library).
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

/// `static native void checkMasterKeyConfig(String suffix)`: SPEC §2's checks of the CMK
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

/// `static native long rekeyDocumentFromEnv(byte[] keystore)`: SPEC §9 `rekey` of a keystore
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

/// `static native long rekeyFileFromEnv(String keystorePath)`: SPEC §9 `rekey` of a keystore
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

/// `static native long rotateKekFileFromEnv(String keystorePath)`: SPEC §9 `rotate_kek` of a
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
        match c.reencrypt_into(&v, &ctx, &mut out)? {
            Migrated::Rotated(n) => Ok(new_array(env, &out[..n])?.into_raw()),
            _ => Ok(std::ptr::null_mut()),
        }
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
        if let Err(err) = c.decrypt_in_place(e.bytes(), ctx.bytes(), b.bytes_mut()) {
            // Leave no unauthenticated plaintext behind.
            b.bytes_mut().fill(0);
            return Err(err.into());
        }
        Ok(())
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
        let mut out = crate::limits::try_zeroed(Crypt::migrated_max_len(v.len()))?;
        let n = c
            .migrate_into(&v, &ctx, key.as_ref(), options, &mut out)?
            .written();
        Ok(new_array(env, &out[..n])?.into_raw())
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

/// `static native int encryptDirect(long handle, ByteBuffer src, int srcPos, int srcLen,
/// byte[] context, ByteBuffer dst, int dstPos, int dstLen)`: returns the bytes written.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_lkr_crypt_Native_encryptDirect<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    src: JByteBuffer<'l>,
    src_pos: jint,
    src_len: jint,
    context: JByteArray<'l>,
    dst: JByteBuffer<'l>,
    dst_pos: jint,
    dst_len: jint,
) -> jint {
    boundary(&mut env, |env| {
        direct(
            env,
            h,
            src,
            src_pos,
            src_len,
            context,
            dst,
            dst_pos,
            dst_len,
            |c, i, x, o| c.encrypt_into(i, x, o),
        )
    })
}

/// `static native int decryptDirect(...)`: as `encryptDirect`, the other way.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_lkr_crypt_Native_decryptDirect<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    src: JByteBuffer<'l>,
    src_pos: jint,
    src_len: jint,
    context: JByteArray<'l>,
    dst: JByteBuffer<'l>,
    dst_pos: jint,
    dst_len: jint,
) -> jint {
    boundary(&mut env, |env| {
        direct(
            env,
            h,
            src,
            src_pos,
            src_len,
            context,
            dst,
            dst_pos,
            dst_len,
            |c, i, x, o| {
                let n = i.len().saturating_sub(envelope::OVERHEAD).min(o.len());
                c.decrypt_into(i, x, o).inspect_err(|_| o[..n].fill(0))
            },
        )
    })
}

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

/// `static native byte[][] encryptBatch(long handle, byte[][] plaintexts, byte[][] contexts)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_encryptBatch<'l>(
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
            |n| c.encrypted_len(n),
            |v, x, o| c.encrypt_into(v, x, o),
        )
    })
}

/// `static native byte[][] decryptBatch(long handle, byte[][] envelopes, byte[][] contexts)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_decryptBatch<'l>(
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
            |n| {
                c.check_stored_len(n)?;
                Ok(n.saturating_sub(envelope::OVERHEAD))
            },
            |v, x, o| c.decrypt_into(v, x, o),
        )
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

/// A (non-null) array's length.
fn array_len<'a, A>(env: &JNIEnv<'_>, array: &A, what: &str) -> JResult<usize>
where
    A: AsRef<JObject<'a>> + jni::objects::AsJArrayRaw<'a>,
{
    not_null(array, what)?;
    Ok(env.get_array_length(array)? as usize)
}

/// `static native void migratePacked(long handle, int count, byte[] values, int[] valueEnds,
/// byte[] contexts, int[] contextEnds, byte[] legacyKeyOrNull, int flags, byte[] out,
/// int[] outEnds, int[] outcomes, String[] messages)`: the batch migration of
/// `io.lkr.crypt.MigrationBatch`, without an object per item. Item `i` is
/// `values[valueEnds[i-1]..valueEnds[i]]` (from 0 for item 0) with the context
/// `contexts[contextEnds[i-1]..contextEnds[i]]`; its result is written to
/// `out[outEnds[i-1]..outEnds[i]]` (packed, empty when undecryptable), so `out` must hold
/// `sum(len_i + 53)` bytes. `flags` and `outcomes[i]` as in the per-item migration: 1
/// re-encrypted, 2 already v1 (the value copied), 3 undecryptable (`messages[i]` says why; the
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
        if flags & !(MIGRATE_REQUIRE_UTF8 | MIGRATE_REENCRYPT | MIGRATE_STRICT_V1) != 0 {
            return Err(invalid(format!("Unknown migrateBatch flags {flags:#x}")));
        }
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
        let mut need = 0usize;
        let mut start = 0usize;
        for &end in &v_ends {
            need = need.saturating_add(Crypt::migrated_max_len(end - start));
            start = end;
        }
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
        let options = MigrateOptions {
            require_utf8: flags & MIGRATE_REQUIRE_UTF8 != 0,
            reencrypt: flags & MIGRATE_REENCRYPT != 0,
            strict_v1: flags & MIGRATE_STRICT_V1 != 0,
        };
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
            codes[i] = match r {
                PackedOutcome::Written(Migrated::Reencrypted(_)) => OUTCOME_REENCRYPTED,
                PackedOutcome::Written(Migrated::AlreadyV1(_)) => OUTCOME_ALREADY_V1,
                PackedOutcome::Written(Migrated::Rotated(_)) => OUTCOME_ROTATED,
                PackedOutcome::Undecryptable(message) => {
                    failed.push((i, message));
                    OUTCOME_UNDECRYPTABLE
                }
                PackedOutcome::Refused(message) => {
                    failed.push((i, message));
                    OUTCOME_REFUSED
                }
            };
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

/// `static native long rustOnlyNanos(long handle, int size, int iterations, boolean decrypt)`:
/// for the JMH benchmark only — times `iterations` encryptions (or decryptions) of `size`
/// bytes inside Rust, so the benchmark can report the JNI overhead per call in the same run.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_rustOnlyNanos<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    size: jint,
    iterations: jint,
    decrypt: jboolean,
) -> jlong {
    boundary(&mut env, |_| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        let (Ok(size), Ok(iterations)) = (usize::try_from(size), usize::try_from(iterations))
        else {
            return Err(invalid("size and iterations must not be negative"));
        };
        let pt = vec![0x5au8; size];
        let ctx = b"BENCH.VALUE:1";
        let mut sealed = vec![0u8; size + envelope::OVERHEAD];
        let mut opened = vec![0u8; size];
        c.encrypt_into(&pt, ctx, &mut sealed)?;
        let start = std::time::Instant::now();
        for _ in 0..iterations {
            if decrypt != 0 {
                c.decrypt_into(std::hint::black_box(&sealed), ctx, &mut opened)?;
            } else {
                c.encrypt_into(std::hint::black_box(&pt), ctx, &mut sealed)?;
            }
            std::hint::black_box(&mut sealed);
        }
        Ok(start.elapsed().as_nanos().min(i64::MAX as u128) as jlong)
    })
}

// ---- Streams (SPEC §5) --------------------------------------------------------------------
// A stream handle is a `long` holding `Box<StreamEncryptor>` / `Box<StreamDecryptor>`; it owns
// its derived key, so it outlives nothing. The Java stream classes use it from one thread at a
// time (their methods are synchronized) and free it exactly once.

use crate::format::stream::{StreamDecryptor, StreamEncryptor, HEADER_LEN as STREAM_HEADER_LEN};

/// # Safety
/// `s` must be 0 or a live stream handle of type `T` used by no other thread during the call.
unsafe fn stream<'a, T>(s: jlong) -> JResult<&'a mut T> {
    // SAFETY: the caller's contract.
    unsafe { (s as *mut T).as_mut() }.ok_or_else(|| invalid("The stream is closed"))
}

/// `in[off..off+len]` and `out`, pinned; runs `f` on them and returns its byte count.
fn with_in_out(
    env: &mut JNIEnv<'_>,
    input: &JByteArray<'_>,
    off: jint,
    len: jint,
    out: &JByteArray<'_>,
    f: impl FnOnce(&[u8], &mut [u8]) -> crate::Result<usize>,
) -> JResult<jint> {
    not_null(out, "out")?;
    let out_len = env.get_array_length(out)? as usize;
    let (in_len, off, len) = if input.is_null() {
        (0, 0, 0)
    } else {
        (env.get_array_length(input)? as usize, off, len)
    };
    if off < 0 || len < 0 || off as usize + len as usize > in_len {
        return Err(invalid(format!(
            "offset {off} and length {len} do not fit an array of {in_len}"
        )));
    }
    // SAFETY: lengths from GetArrayLength; no JNI call until the pins drop.
    let i = unsafe { Pinned::new(env, input, in_len, false) }?;
    // SAFETY: as above.
    let mut o = unsafe { Pinned::new(env, out, out_len, true) }?;
    let n = f(
        &i.bytes()[off as usize..(off + len) as usize],
        o.bytes_mut(),
    )?;
    drop((i, o));
    jsize_of(n, "The output")
}

/// `static native long streamEncryptInit(long handle, byte[] context, int segmentSize,
/// byte[] header)`: `header` (52 bytes) receives the stream header.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamEncryptInit<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    context: JByteArray<'l>,
    segment_size: jint,
    header: JByteArray<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        not_null(&context, "context")?;
        not_null(&header, "header")?;
        let mut ctx = Vec::new();
        read_context(env, &context, &mut ctx)?;
        let size = usize::try_from(segment_size).map_err(|_| invalid("segmentSize is negative"))?;
        let enc = StreamEncryptor::new(c, &ctx, size)?;
        if env.get_array_length(&header)? as usize != STREAM_HEADER_LEN {
            return Err(invalid("header must have 52 bytes"));
        }
        // SAFETY: u8 and i8 have the same layout.
        let h8 = unsafe {
            std::slice::from_raw_parts(enc.header().as_ptr().cast::<i8>(), STREAM_HEADER_LEN)
        };
        env.set_byte_array_region(&header, 0, h8)?;
        Ok(Box::into_raw(Box::new(enc)) as jlong)
    })
}

/// `static native int streamEncryptUpdate(long stream, byte[] in, int off, int len, byte[] out)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamEncryptUpdate<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    s: jlong,
    input: JByteArray<'l>,
    off: jint,
    len: jint,
    out: JByteArray<'l>,
) -> jint {
    boundary(&mut env, |env| {
        // SAFETY: the stream handle contract.
        let enc = unsafe { stream::<StreamEncryptor>(s)? };
        with_in_out(env, &input, off, len, &out, |i, o| enc.update(i, o))
    })
}

/// `static native int streamEncryptFinish(long stream, byte[] out)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamEncryptFinish<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    s: jlong,
    out: JByteArray<'l>,
) -> jint {
    boundary(&mut env, |env| {
        // SAFETY: the stream handle contract.
        let enc = unsafe { stream::<StreamEncryptor>(s)? };
        with_in_out(env, &JByteArray::default(), 0, 0, &out, |_, o| {
            enc.finish(o)
        })
    })
}

/// `static native void streamEncryptFree(long stream)`: once, by the Java side.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamEncryptFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    s: jlong,
) {
    boundary(&mut env, |_| {
        if s != 0 {
            // SAFETY: `s` came from `streamEncryptInit` and is freed once.
            drop(unsafe { Box::from_raw(s as *mut StreamEncryptor) });
        }
        Ok(())
    })
}

/// `static native long streamDecryptInit(long handle, byte[] header, byte[] context)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamDecryptInit<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    header: JByteArray<'l>,
    context: JByteArray<'l>,
) -> jlong {
    boundary(&mut env, |env| {
        // SAFETY: the handle contract.
        let c = unsafe { crypt(h)? };
        not_null(&header, "header")?;
        not_null(&context, "context")?;
        let (mut hdr, mut ctx) = (Vec::new(), Vec::new());
        read_into(env, &header, &mut hdr)?;
        read_context(env, &context, &mut ctx)?;
        let dec = StreamDecryptor::new(c, &hdr, &ctx)?;
        Ok(Box::into_raw(Box::new(dec)) as jlong)
    })
}

/// `static native int streamDecryptUpdate(long stream, byte[] in, int off, int len, byte[] out)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamDecryptUpdate<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    s: jlong,
    input: JByteArray<'l>,
    off: jint,
    len: jint,
    out: JByteArray<'l>,
) -> jint {
    boundary(&mut env, |env| {
        // SAFETY: the stream handle contract.
        let dec = unsafe { stream::<StreamDecryptor>(s)? };
        with_in_out(env, &input, off, len, &out, |i, o| dec.update(i, o))
    })
}

/// `static native int streamDecryptFinish(long stream, byte[] out)`.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamDecryptFinish<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    s: jlong,
    out: JByteArray<'l>,
) -> jint {
    boundary(&mut env, |env| {
        // SAFETY: the stream handle contract.
        let dec = unsafe { stream::<StreamDecryptor>(s)? };
        with_in_out(env, &JByteArray::default(), 0, 0, &out, |_, o| {
            dec.finish(o)
        })
    })
}

/// `static native void streamDecryptFree(long stream)`: once, by the Java side.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamDecryptFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    s: jlong,
) {
    boundary(&mut env, |_| {
        if s != 0 {
            // SAFETY: `s` came from `streamDecryptInit` and is freed once.
            drop(unsafe { Box::from_raw(s as *mut StreamDecryptor) });
        }
        Ok(())
    })
}

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
