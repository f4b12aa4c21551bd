//! Salts and nonces: a fast userspace CSPRNG (rand's `ThreadRng`: ChaCha12 seeded from the
//! OS and periodically reseeded), with one addition — it is reseeded in a child process after
//! `fork()`, so that a parent and its child never draw the same bytes (SPEC §1).
//!
//! A `pthread_atfork` child handler bumps a generation counter; each thread compares it with
//! the generation its generator was seeded in and reseeds from the OS on a mismatch. The
//! check costs one relaxed atomic load per draw.

use rand::Rng;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

thread_local! {
    static SEEN: Cell<u64> = const { Cell::new(u64::MAX) };
}

extern "C" fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

fn install_fork_handler() {
    ATFORK.call_once(|| {
        // SAFETY: registering a handler that only touches an atomic is async-signal-safe.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        assert_eq!(rc, 0, "pthread_atfork failed");
    });
}

/// Fills `buf` with random bytes from the thread's userspace CSPRNG (no system call).
#[inline]
pub fn fill(buf: &mut [u8]) {
    install_fork_handler();
    let mut rng = rand::rng();
    let generation = GENERATION.load(Ordering::Relaxed);
    SEEN.with(|seen| {
        if seen.get() != generation {
            if seen.get() != u64::MAX {
                // A fork happened since this thread's generator was last used.
                rng.reseed().expect("the OS random source failed");
            }
            seen.set(generation);
        }
    });
    rng.fill_bytes(buf);
}

/// Fills `buf` from the OS CSPRNG directly (for long-lived keys: KEKs, generated CMKs).
pub fn fill_os(buf: &mut [u8]) {
    use rand::rngs::SysRng;
    use rand::TryRng;
    SysRng
        .try_fill_bytes(buf)
        .expect("the OS random source failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_and_child_draw_different_bytes_after_fork() {
        let mut before = [0u8; 32];
        fill(&mut before);
        let mut fds = [0i32; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let mut b = [0u8; 32];
            fill(&mut b);
            unsafe {
                libc::write(fds[1], b.as_ptr().cast(), 32);
                libc::_exit(0);
            }
        }
        let mut parent = [0u8; 32];
        fill(&mut parent);
        let mut child = [0u8; 32];
        let n = unsafe { libc::read(fds[0], child.as_mut_ptr().cast(), 32) };
        assert_eq!(n, 32);
        let mut status = 0;
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_ne!(parent, child, "child drew the parent's bytes after fork");
        assert_ne!(before, parent);
    }
}
