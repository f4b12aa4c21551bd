//! Streams (docs/stream.md): incremental encryption and decryption of data too large for one record.
//! A stream handle is a `long` holding `Box<StreamEncryptor>` / `Box<StreamDecryptor>`; it owns
//! its derived key, so it outlives nothing. The Java stream classes use it from one thread at a
//! time (their methods are synchronized) and free it exactly once.

use super::boundary::{boundary, crypt, invalid, jsize_of, not_null, read_context, read_into};
use super::boundary::{JResult, Pinned};
use crate::format::stream::{
    PushStream, StreamDecryptor, StreamEncryptor, HEADER_LEN as STREAM_HEADER_LEN,
};
use jni::objects::{JByteArray, JClass};
use jni::sys::{jboolean, jint, jlong};
use jni::JNIEnv;

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

/// `static native int streamDecryptMaxLength(long stream, int inputLength, boolean finish)`:
/// the output `streamDecryptUpdate` of `inputLength` more bytes needs, or (`finish`) what
/// `streamDecryptFinish` needs.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_Native_streamDecryptMaxLength<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    s: jlong,
    input_len: jint,
    finish: jboolean,
) -> jint {
    boundary(&mut env, |_| {
        // SAFETY: the stream handle contract.
        let dec = unsafe { stream::<StreamDecryptor>(s)? };
        let len = usize::try_from(input_len).map_err(|_| invalid("inputLength is negative"))?;
        let need = if finish != 0 {
            dec.finish_len()
        } else {
            dec.update_max_len(len)
        };
        jint::try_from(need).map_err(|_| invalid("the output would not fit a Java array"))
    })
}

/// The `update`, `finish` and `free` exports of one direction of stream (type `$t`):
/// `static native int <update>(long stream, byte[] in, int off, int len, byte[] out)`,
/// `static native int <finish>(long stream, byte[] out)` and
/// `static native void <free>(long stream)` (once, by the Java side).
macro_rules! stream_exports {
    ($t:ty, $update:ident, $finish:ident, $free:ident) => {
        #[doc = concat!("`", stringify!($update), "`: see `stream_exports!`.")]
        #[no_mangle]
        pub extern "system" fn $update<'l>(
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
                let st = unsafe { stream::<$t>(s)? };
                with_in_out(env, &input, off, len, &out, |i, o| {
                    PushStream::update(st, i, o)
                })
            })
        }

        #[doc = concat!("`", stringify!($finish), "`: see `stream_exports!`.")]
        #[no_mangle]
        pub extern "system" fn $finish<'l>(
            mut env: JNIEnv<'l>,
            _class: JClass<'l>,
            s: jlong,
            out: JByteArray<'l>,
        ) -> jint {
            boundary(&mut env, |env| {
                // SAFETY: the stream handle contract.
                let st = unsafe { stream::<$t>(s)? };
                with_in_out(env, &JByteArray::default(), 0, 0, &out, |_, o| {
                    PushStream::finish(st, o)
                })
            })
        }

        #[doc = concat!("`", stringify!($free), "`: see `stream_exports!`.")]
        #[no_mangle]
        pub extern "system" fn $free<'l>(mut env: JNIEnv<'l>, _class: JClass<'l>, s: jlong) {
            boundary(&mut env, |_| {
                if s != 0 {
                    // SAFETY: `s` came from the init export of this type and is freed once.
                    drop(unsafe { Box::from_raw(s as *mut $t) });
                }
                Ok(())
            })
        }
    };
}

stream_exports!(
    StreamEncryptor,
    Java_io_lkr_crypt_Native_streamEncryptUpdate,
    Java_io_lkr_crypt_Native_streamEncryptFinish,
    Java_io_lkr_crypt_Native_streamEncryptFree
);
stream_exports!(
    StreamDecryptor,
    Java_io_lkr_crypt_Native_streamDecryptUpdate,
    Java_io_lkr_crypt_Native_streamDecryptFinish,
    Java_io_lkr_crypt_Native_streamDecryptFree
);
