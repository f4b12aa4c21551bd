//! The JNI boundary itself: [`boundary`], which every export runs in (it catches panics and
//! throws every failure through `LkrErrors.fromNative`), the handle lookup, and the helpers
//! for Java arrays: null checks, lengths, critical-region pins ([`Pinned`]) and copies.

use crate::error::{Error, ErrorKind};
use crate::Crypt;
use jni::objects::{JByteArray, JObject, JString, JThrowable, JValue};
use jni::sys::{jint, jlong, JNI_ABORT};
use jni::JNIEnv;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// The Java class whose static `fromNative(int, String)` builds every exception.
const ERRORS_CLASS: &str = "io/lkr/crypt/LkrErrors";
const ERRORS_SIG: &str = "(ILjava/lang/String;)Ljava/lang/Throwable;";

/// Why an export failed.
pub(super) enum Fail {
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

pub(super) type JResult<T> = Result<T, Fail>;

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
pub(super) fn boundary<'l, T: Default>(
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
pub(super) unsafe fn crypt<'a>(h: jlong) -> JResult<&'a Crypt> {
    // SAFETY: the caller's contract.
    unsafe { (h as *const Crypt).as_ref() }
        .ok_or_else(|| Error::invalid("The LkrCrypt handle is closed or was never opened").into())
}

pub(super) fn invalid(message: impl Into<String>) -> Fail {
    Fail::Engine(Error::invalid(message))
}

pub(super) fn not_null<'a, O: AsRef<JObject<'a>>>(o: &O, what: &str) -> JResult<()> {
    if o.as_ref().is_null() {
        Err(invalid(format!("{what} is null")))
    } else {
        Ok(())
    }
}

/// A (non-null) Java string argument naming a file, e.g. the keystore's path.
pub(super) fn path_arg(env: &mut JNIEnv<'_>, path: &JString<'_>, what: &str) -> JResult<PathBuf> {
    not_null(path, what)?;
    let path: String = env.get_string(path)?.into();
    Ok(PathBuf::from(path))
}

pub(super) fn jsize_of(n: usize, what: &str) -> JResult<jint> {
    jint::try_from(n).map_err(|_| {
        invalid(format!(
            "{what} would be {n} bytes, more than a Java array holds"
        ))
    })
}

/// A (non-null) array's length.
pub(super) fn array_len<'a, A>(env: &JNIEnv<'_>, array: &A, what: &str) -> JResult<usize>
where
    A: AsRef<JObject<'a>> + jni::objects::AsJArrayRaw<'a>,
{
    not_null(array, what)?;
    Ok(env.get_array_length(array)? as usize)
}

/// A byte array's contents, pinned with `GetPrimitiveArrayCritical` (no copy). While one is
/// alive no JNI function may be called (other pins excepted); it is released on drop, also
/// when unwinding.
pub(super) struct Pinned<'a> {
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
    pub(super) fn len_of(env: &JNIEnv<'_>, array: &JByteArray<'_>) -> JResult<usize> {
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
    pub(super) fn same_memory(&self, other: &Pinned<'_>) -> bool {
        !self.ptr.is_null() && self.ptr == other.ptr
    }

    /// Pins `array`. `writable`: copy changes back (0) rather than discard them (`JNI_ABORT`).
    ///
    /// # Safety
    /// `len` must be `array`'s length (from `GetArrayLength`), and no JNI function other than
    /// another pin may be called while the result is alive.
    pub(super) unsafe fn new(
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

    /// The pinned bytes' address, for views of regions built by the caller (a dangling, aligned
    /// address for an empty array: never null, so a view of 0 bytes is valid).
    pub(super) fn as_ptr(&self) -> *const u8 {
        if self.ptr.is_null() {
            return std::ptr::NonNull::dangling().as_ptr();
        }
        self.ptr
    }

    /// [`Pinned::as_ptr`] for writing (a pin made `writable`).
    pub(super) fn as_mut_ptr(&mut self) -> *mut u8 {
        self.as_ptr().cast_mut()
    }

    pub(super) fn bytes(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: the VM pinned `len` bytes at `ptr` until release.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub(super) fn bytes_mut(&mut self) -> &mut [u8] {
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
pub(super) fn read_into(
    env: &JNIEnv<'_>,
    array: &JByteArray<'_>,
    buf: &mut Vec<u8>,
) -> JResult<()> {
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
pub(super) fn read_context(
    env: &JNIEnv<'_>,
    context: &JByteArray<'_>,
    buf: &mut Vec<u8>,
) -> JResult<()> {
    crate::limits::check_context(env.get_array_length(context)? as usize)?;
    read_into(env, context, buf)
}

/// A new Java byte array holding `bytes`.
pub(super) fn new_array<'l>(env: &JNIEnv<'l>, bytes: &[u8]) -> JResult<JByteArray<'l>> {
    let n = jsize_of(bytes.len(), "The result")?;
    let a = env.new_byte_array(n)?;
    // SAFETY: u8 and i8 have the same layout.
    let as_i8 = unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<i8>(), bytes.len()) };
    env.set_byte_array_region(&a, 0, as_i8)?;
    Ok(a)
}

/// An export over two regions: `static native int <name>(long handle, T src, int srcPos, int
/// srcLen, byte[] context, T dst, int dstPos, int dstLen)` (`T` a direct `ByteBuffer` or a
/// `byte[]`), returning the bytes written by `$helper(env, h, src, srcPos, srcLen, context, dst,
/// dstPos, dstLen, $op)` inside [`boundary`]. With `$extra => $read` the export takes one more
/// `byte[]` argument, `$extra`, which `$op` sees as `$read(env, &$extra)?` (read before
/// `$helper` runs, so before any array is pinned).
macro_rules! regions_export {
    ($name:ident, $ty:ident, $helper:path, $op:expr $(, $extra:ident => $read:path)?) => {
        #[doc = concat!("`", stringify!($name), "`: see `regions_export!`.")]
        #[no_mangle]
        #[allow(clippy::too_many_arguments)]
        pub extern "system" fn $name<'l>(
            mut env: ::jni::JNIEnv<'l>,
            _class: ::jni::objects::JClass<'l>,
            h: ::jni::sys::jlong,
            src: $ty<'l>,
            src_pos: ::jni::sys::jint,
            src_len: ::jni::sys::jint,
            context: ::jni::objects::JByteArray<'l>,
            dst: $ty<'l>,
            dst_pos: ::jni::sys::jint,
            dst_len: ::jni::sys::jint,
            $($extra: ::jni::objects::JByteArray<'l>,)?
        ) -> ::jni::sys::jint {
            super::boundary::boundary(&mut env, |env| {
                $(let $extra = $read(env, &$extra)?;)?
                $helper(
                    env, h, src, src_pos, src_len, context, dst, dst_pos, dst_len, $op,
                )
            })
        }
    };
}
pub(super) use regions_export;
