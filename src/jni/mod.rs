//! JNI entry points for the Java binding (`io.lkr.crypt.Native`). This module only
//! translates: Java arrays, direct buffers and strings to slices, engine results to return
//! values, engine errors to Java exceptions. Every export runs inside
//! `boundary::boundary`, which catches panics, so no Rust panic ever unwinds into
//! the JVM.
//!
//! Conventions:
//! * A handle is a `long` holding `Box<Crypt>`; the Java side guarantees it is live for the
//!   duration of a call (a read lock around every call, the write lock in `close`). Handle 0
//!   is rejected here too.
//! * Errors are thrown through one Java factory, `io.lkr.crypt.LkrErrors.fromNative(int code,
//!   String message)`, which maps [`ErrorKind`](crate::ErrorKind) codes to exception classes;
//!   messages are the engine's, unchanged.
//! * Large arrays are accessed through critical regions (`GetPrimitiveArrayCritical`), not
//!   copied; no JNI function is called while a region is held. Contexts and the items of the
//!   `byte[][]` batches are small and are copied; the packed migration batch (`migratePacked`)
//!   pins its three byte arrays for the whole batch.
//!
//! One file per topic, the same as `ffi/`: `boundary` (panic guard, exceptions, handle lookup,
//! array pins and copies), `handle`, `keys` (keys as data), `keystore`, `record`, `recovery`,
//! `region` (records between regions of caller-owned arrays), `limits`, `migrate`, `stream`, and
//! `bench` (for the JMH benchmark only: compiled with the `bench-hooks` feature, which only the
//! pom's `jmh` profile enables; the shipped library has no such export). This file holds the ABI number Java checks; the
//! migration flags and outcome codes Java mirrors are the engine's
//! ([`MigrateOptions::from_bits`](crate::MigrateOptions::from_bits),
//! [`PackedOutcome::code`](crate::PackedOutcome::code)).

#[cfg(feature = "bench-hooks")]
mod bench;
mod boundary;
mod handle;
mod keys;
mod keystore;
mod limits;
mod migrate;
mod record;
mod recovery;
mod region;
mod stream;

/// The JNI ABI number: bump it whenever a `Native` method is added, removed, or changes its
/// signature or meaning. `io.lkr.crypt.Native.ABI` is the number the jar expects; the loader
/// refuses a library that reports another (see `abiVersion`).
const JNI_ABI: u32 = 7;
