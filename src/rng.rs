//! Salts and nonces: a fast userspace CSPRNG (rand's `ThreadRng`: ChaCha12 seeded from the
//! OS and periodically reseeded), reseeded in every copy of the process, so that two copies
//! never draw the same bytes (docs/keys.md) — the same salt and nonce under one KEK would repeat a
//! data key and a GCM nonce. In the FIPS build (cargo feature `fips`, docs/fips.md) every byte
//! comes from AWS-LC's CTR-DRBG in the FIPS module instead (its per-thread state detects `fork`
//! itself), salts and nonces through a per-thread pool that one DRBG call fills and that a copy
//! of the process drops; after a copy the DRBG is given fresh OS entropy as prediction
//! resistance.
//!
//! A copy is recognised by construction, not by hooks alone: the process keeps an *epoch*
//! (a random nonzero number) on a page marked `MADV_WIPEONFORK`, which the kernel hands to
//! every child zeroed — whether it was made by `fork()`, glibc's `_Fork()` or a raw
//! `clone(2)`, none of which need run a handler. Each thread remembers the epoch its
//! generator was seeded in and reseeds from the OS when the epoch differs; a thread that finds
//! the epoch zeroed draws a new one. The check costs one relaxed atomic load per draw.
//!
//! A copy the kernel does not see — a CRaC/CRIU restore, AWS Lambda SnapStart, a cloned VM —
//! must call [`reseed`] (C: `lkr_rng_reseed`, Java: `LkrCrypt.reseedRandom()`) from its
//! restore hook before it encrypts again: it sets a new epoch, so every thread reseeds.
//! Where the page cannot be had (kernels before 4.14), a `pthread_atfork` handler bumps the
//! epoch instead (`fork()` only).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The epoch when no wipe-on-fork page could be had: bumped by the fork handler and by
/// [`reseed`].
static FALLBACK_EPOCH: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The epoch this thread's generator was last seeded in; 0 before its first draw.
    static SEEN: Cell<u64> = const { Cell::new(0) };
}

extern "C" fn after_fork_in_child() {
    FALLBACK_EPOCH.fetch_add(1, Ordering::Relaxed);
}

/// The epoch cell: on a wipe-on-fork page when the kernel offers one, else the fallback.
fn epoch_cell() -> &'static AtomicU64 {
    static CELL: OnceLock<&'static AtomicU64> = OnceLock::new();
    CELL.get_or_init(|| {
        wipe_on_fork_cell().unwrap_or_else(|| {
            // SAFETY: registering a handler that only touches an atomic is async-signal-safe.
            let rc = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
            assert_eq!(rc, 0, "pthread_atfork failed");
            &FALLBACK_EPOCH
        })
    })
}

/// An atomic on a private anonymous page that every child process receives zeroed.
fn wipe_on_fork_cell() -> Option<&'static AtomicU64> {
    // SAFETY: a fresh private anonymous mapping of one page, never unmapped (it lives as long
    // as the process); an AtomicU64 at its (page-aligned) start is valid and zero-initialised.
    unsafe {
        let len = libc::sysconf(libc::_SC_PAGESIZE).max(4096) as usize;
        let page = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if page == libc::MAP_FAILED {
            return None;
        }
        if libc::madvise(page, len, libc::MADV_WIPEONFORK) != 0 {
            libc::munmap(page, len);
            return None;
        }
        Some(&*(page as *const AtomicU64))
    }
}

/// A random nonzero epoch from the OS.
fn new_epoch() -> u64 {
    let mut b = [0u8; 8];
    os_entropy(&mut b);
    u64::from_ne_bytes(b) | 1
}

/// Fills `buf` from the kernel (`getrandom(2)`).
fn os_entropy(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writes at most `buf.len() - done` bytes at `buf[done..]`.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        assert!(n > 0, "the OS random source failed");
        done += n as usize;
    }
}

/// This process copy's epoch (drawn when the page was found zeroed: a new copy).
#[inline]
fn current_epoch() -> u64 {
    let cell = epoch_cell();
    let e = cell.load(Ordering::Relaxed);
    if e != 0 {
        return e;
    }
    let fresh = new_epoch();
    match cell.compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => fresh,
        Err(other) => other,
    }
}

/// Makes every thread reseed its generator from the OS before its next draw. For copies of
/// the process the kernel does not see (snapshot restore, a cloned VM): call it from the
/// restore hook, before anything is encrypted.
pub fn reseed() {
    let cell = epoch_cell();
    if std::ptr::eq(cell, &FALLBACK_EPOCH) {
        FALLBACK_EPOCH.fetch_add(1, Ordering::Relaxed);
    } else {
        cell.store(new_epoch(), Ordering::Relaxed);
    }
}

/// Fills `buf` with random bytes from the thread's generator: the userspace CSPRNG (no
/// system call), or in the FIPS build the module's DRBG.
#[inline]
pub fn fill(buf: &mut [u8]) {
    let epoch = current_epoch();
    // True when this thread's generator was seeded in another copy of the process (or before
    // `reseed`): it must never continue its sequence.
    let copied = SEEN.with(|seen| {
        let was = seen.replace(epoch);
        was != epoch && was != 0
    });
    generator::fill(buf, copied);
}

/// Fills `buf` for long-lived keys (KEKs, generated CMKs): from the OS CSPRNG directly, or in
/// the FIPS build from the module's DRBG.
pub fn fill_os(buf: &mut [u8]) {
    generator::fill_key(buf);
}

/// rand's `ThreadRng` and the OS (default builds).
#[cfg(not(feature = "fips"))]
mod generator {
    use rand::Rng;

    #[inline]
    pub(super) fn fill(buf: &mut [u8], reseed: bool) {
        let mut rng = rand::rng();
        if reseed {
            rng.reseed().expect("the OS random source failed");
        }
        rng.fill_bytes(buf);
    }

    pub(super) fn fill_key(buf: &mut [u8]) {
        use rand::rngs::SysRng;
        use rand::TryRng;
        SysRng
            .try_fill_bytes(buf)
            .expect("the OS random source failed");
    }
}

/// AWS-LC's CTR-DRBG in the FIPS module (cargo feature `fips`). One DRBG call costs a few
/// hundred ns whatever its length (benches/fips.rs), about as much as the rest of a small
/// record: salts and nonces are therefore taken from a per-thread pool of [`POOL`] bytes that
/// one call fills. A pool never outlives a copy of the process: [`super::fill`] passes
/// `reseed` after a copy (the epoch), and the pool's remaining bytes are dropped unused.
#[cfg(feature = "fips")]
mod generator {
    use std::cell::RefCell;

    /// Bytes one DRBG call draws for the pool (93 records' salt and nonce).
    pub(super) const POOL: usize = 4096;

    struct Pool {
        bytes: Box<[u8; POOL]>,
        /// Bytes already handed out (`POOL`: empty).
        used: usize,
    }

    thread_local! {
        static THREAD_POOL: RefCell<Pool> =
            RefCell::new(Pool { bytes: Box::new([0; POOL]), used: POOL });
    }

    #[inline]
    pub(super) fn fill(buf: &mut [u8], reseed: bool) {
        if buf.len() > POOL / 4 {
            draw(buf, reseed);
            return;
        }
        THREAD_POOL.with_borrow_mut(|p| {
            if reseed || POOL - p.used < buf.len() {
                draw(&mut p.bytes[..], reseed);
                p.used = 0;
            }
            buf.copy_from_slice(&p.bytes[p.used..p.used + buf.len()]);
            p.used += buf.len();
        });
    }

    /// One DRBG call; after a copy of the process, with 32 fresh OS bytes as prediction
    /// resistance.
    fn draw(buf: &mut [u8], reseed: bool) {
        if reseed {
            let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
            super::os_entropy(fresh.as_mut());
            // SAFETY: `buf` is writable for its length; `fresh` holds the 32 bytes
            // (RAND_PRED_RESISTANCE_LEN) the function reads.
            let rc = unsafe {
                aws_lc_fips_sys::RAND_bytes_with_user_prediction_resistance(
                    buf.as_mut_ptr(),
                    buf.len(),
                    fresh.as_ptr(),
                )
            };
            assert_eq!(rc, 1, "the FIPS module's random generator failed");
        } else {
            fill_key(buf);
        }
    }

    /// Straight from the DRBG, no pool (keys).
    pub(super) fn fill_key(buf: &mut [u8]) {
        aws_lc_rs::rand::fill(buf).expect("the FIPS module's random generator failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes a child with `spawn` (0 in the child, its pid in the parent, like fork): the child
    /// draws 32 bytes, hands them over a pipe and exits; returns the parent's next 32 bytes and
    /// the child's.
    fn parent_and_child(spawn: impl FnOnce() -> libc::pid_t) -> ([u8; 32], [u8; 32]) {
        let mut fds = [0i32; 2];
        // SAFETY: a valid array of two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let pid = spawn();
        assert!(pid >= 0, "the child could not be made");
        if pid == 0 {
            let mut b = [0u8; 32];
            fill(&mut b);
            // SAFETY: writes 32 bytes and exits without returning into Rust's runtime.
            unsafe {
                libc::write(fds[1], b.as_ptr().cast(), 32);
                libc::_exit(0);
            }
        }
        let mut parent = [0u8; 32];
        fill(&mut parent);
        let mut child = [0u8; 32];
        // SAFETY: reads at most 32 bytes into a 32-byte array.
        let n = unsafe { libc::read(fds[0], child.as_mut_ptr().cast(), 32) };
        assert_eq!(n, 32);
        let mut status = 0;
        // SAFETY: the child's pid and the descriptors this test opened.
        unsafe {
            libc::waitpid(pid, &mut status, 0);
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        (parent, child)
    }

    #[test]
    fn parent_and_child_draw_different_bytes_after_fork() {
        let mut before = [0u8; 32];
        fill(&mut before);
        // SAFETY: the child only draws, writes and exits.
        let (parent, child) = parent_and_child(|| unsafe { libc::fork() });
        assert_ne!(parent, child, "child drew the parent's bytes after fork");
        assert_ne!(before, parent);
    }

    /// A child made by a raw `clone(2)` without `CLONE_VM`: a copy of the address space, and no
    /// fork handler runs.
    fn raw_clone() -> libc::pid_t {
        // SAFETY: as fork(): the child only draws, writes and exits.
        unsafe {
            libc::syscall(
                libc::SYS_clone,
                libc::SIGCHLD as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            ) as libc::pid_t
        }
    }

    #[test]
    fn parent_and_raw_clone_child_draw_different_bytes() {
        let mut warm = [0u8; 32];
        fill(&mut warm);
        for _ in 0..8 {
            let (parent, child) = parent_and_child(raw_clone);
            assert_ne!(
                parent, child,
                "a raw clone(2) child drew the parent's bytes"
            );
        }
    }

    #[test]
    fn draws_never_repeat_across_refills() {
        // Enough 44-byte draws to empty the FIPS build's pool a few times.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..400 {
            let mut b = [0u8; 44];
            fill(&mut b);
            assert!(seen.insert(b), "a salt and nonce was drawn twice");
        }
    }

    #[test]
    fn reseed_changes_the_sequence_of_every_thread() {
        let mut warm = [0u8; 32];
        fill(&mut warm);
        let e = current_epoch();
        reseed();
        assert_ne!(current_epoch(), e);
        let mut after = [0u8; 32];
        fill(&mut after);
        assert_eq!(SEEN.with(|s| s.get()), current_epoch());
    }
}
