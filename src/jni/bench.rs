//! For the JMH benchmark only (feature `bench-hooks`, enabled by the pom's `jmh` profile): the
//! time of encryptions inside Rust, without JNI. Its Java side is `io.lkr.crypt.BenchHooks`, in
//! the benchmark's sources (java/lkr-crypt/src/jmh), never in the jar.

use super::boundary::{boundary, crypt, invalid};
use crate::format::envelope;
use jni::objects::JClass;
use jni::sys::{jboolean, jint, jlong};
use jni::JNIEnv;

/// `static native long rustOnlyNanos(long handle, int size, int iterations, boolean decrypt)`:
/// for the JMH benchmark only — times `iterations` encryptions (or decryptions) of `size`
/// bytes inside Rust, so the benchmark can report the JNI overhead per call in the same run.
#[no_mangle]
pub extern "system" fn Java_io_lkr_crypt_BenchHooks_rustOnlyNanos<'l>(
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
