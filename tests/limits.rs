//! Input limits: the maximum record size (`LKR_MAX_RECORD_SIZE`, src/limits.rs) is enforced by
//! encrypt, decrypt and migrate (binary and text forms) before anything is allocated for the
//! value, and docs/stream.md's segment-size bounds are enforced when a stream is read.

mod common;

use common::{assert_too_large, bytes, new_crypt};
use lkr_crypt::format::stream::{StreamDecryptor, HEADER_LEN};
use lkr_crypt::limits::{DEFAULT_MAX_RECORD_SIZE, ENV_MAX_RECORD_SIZE};
use lkr_crypt::{Crypt, ErrorKind, MigrateOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::process::Command;

/// Records the largest allocation made by this thread while `TRACK` is on.
struct Tracking;

thread_local! {
    static TRACK: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn note(size: usize) {
    // `try_with`: the thread-locals may be gone while a thread shuts down.
    let _ = TRACK.try_with(|t| {
        if t.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }
    });
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Runs `f` and returns its result with the largest allocation it made on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    TRACK.with(|t| t.set(true));
    let r = f();
    TRACK.with(|t| t.set(false));
    (r, LARGEST.with(|l| l.get()))
}

const CTX: &[u8] = b"CONNECTION.PASSWORD:42";
const MAX: usize = 1 << 20;

#[test]
fn the_default_maximum_is_64_mib() {
    assert_eq!(DEFAULT_MAX_RECORD_SIZE, 64 << 20);
    assert_eq!(new_crypt().max_record_size(), DEFAULT_MAX_RECORD_SIZE);
}

#[test]
fn values_up_to_the_maximum_pass_and_larger_ones_are_refused_before_allocation() {
    let big = new_crypt();
    let c = Crypt::open_bytes(big.keystore_json().as_bytes(), big.master_key().clone())
        .unwrap()
        .with_max_record_size(MAX);
    assert_eq!(c.max_record_size(), MAX);

    // At the maximum: everything works.
    let pt = bytes(MAX, 3);
    let env = c.encrypt(&pt, CTX).unwrap();
    assert_eq!(env.len(), MAX + 69);
    assert_eq!(c.decrypt(&env, CTX).unwrap(), pt);
    assert_eq!(c.migrate(&env, CTX).unwrap(), env);
    assert_eq!(
        c.decrypt_text(&c.encrypt_text(&pt, CTX).unwrap(), CTX)
            .unwrap(),
        pt
    );

    // One byte over: refused, and nothing of the value's size is allocated.
    let pt = bytes(4 * MAX, 4);
    let env = big.encrypt(&pt[..MAX + 1], CTX).unwrap();
    let text = big.encrypt_text(&pt[..MAX + 1], CTX).unwrap();
    let mut out = vec![0u8; 5 * MAX];
    type Check<'a> = Box<dyn Fn() -> lkr_crypt::Error + 'a>;
    let checks: Vec<(&str, Check)> = vec![
        (
            "encrypt",
            Box::new(|| c.encrypt(&pt[..MAX + 1], CTX).unwrap_err()),
        ),
        (
            "encrypt (4 MiB)",
            Box::new(|| c.encrypt(&pt, CTX).unwrap_err()),
        ),
        (
            "encrypt_text",
            Box::new(|| c.encrypt_text(&pt[..MAX + 1], CTX).unwrap_err()),
        ),
        ("decrypt", Box::new(|| c.decrypt(&env, CTX).unwrap_err())),
        (
            "decrypt (4 MiB)",
            Box::new(|| c.decrypt(&pt, CTX).unwrap_err()),
        ),
        (
            "decrypt_text",
            Box::new(|| c.decrypt_text(&text, CTX).unwrap_err()),
        ),
        ("migrate", Box::new(|| c.migrate(&env, CTX).unwrap_err())),
        (
            "migrate (4 MiB)",
            Box::new(|| c.migrate(&pt, CTX).unwrap_err()),
        ),
        (
            "migrate_text",
            Box::new(|| c.migrate_text(&text, CTX).unwrap_err()),
        ),
    ];
    for (what, check) in &checks {
        let (e, largest) = largest_allocation(check);
        assert_too_large(&e);
        assert!(
            largest < 4096,
            "{what}: allocated {largest} bytes before refusing"
        );
    }
    // The caller-buffer forms refuse before touching the buffer (the C and JNI paths).
    let (e, largest) = largest_allocation(|| c.encrypt_into(&pt[..MAX + 1], CTX, &mut out));
    assert_too_large(&e.unwrap_err());
    assert!(largest < 4096);
    let (e, largest) = largest_allocation(|| c.decrypt_into(&env, CTX, &mut out));
    assert_too_large(&e.unwrap_err());
    assert!(largest < 4096);
    let (e, largest) =
        largest_allocation(|| c.migrate_into(&pt, CTX, None, MigrateOptions::default(), &mut out));
    assert_too_large(&e.unwrap_err());
    assert!(largest < 4096);
    assert!(out.iter().all(|&b| b == 0));
    assert!(!c.is_authentic(&env, CTX));
    assert!(big.is_authentic(&env, CTX));
    assert_too_large(&c.encrypted_len(MAX + 1).unwrap_err());
    assert_eq!(c.encrypted_len(MAX).unwrap(), MAX + 69);
    // A too-small buffer for a too-large value: the limit is reported, not a buffer size.
    assert_too_large(&c.decrypt_into(&env, CTX, &mut [0u8; 8]).unwrap_err());
}

/// `LKR_MAX_RECORD_SIZE` read at open, in the `limits_child` process (tests/limits_child.rs)
/// with the variable set: a valid maximum holds for the handle and the ones derived from it, an
/// invalid one is refused at open, naming the variable and the value.
#[test]
fn the_variable_sets_the_maximum() {
    for value in ["1000", "ten", "0", "-5", "64MiB"] {
        let mut cmd = Command::new(common::child_exe("limits_child"));
        cmd.env("LKR_LIMITS_CHILD", value)
            .env(ENV_MAX_RECORD_SIZE, value);
        common::child_stdout(&mut cmd, &format!("{ENV_MAX_RECORD_SIZE}={value}"));
    }
}

/// A real stream's header with the segment size field set to `s`.
fn header_with_segment_size(c: &Crypt, s: u32) -> Vec<u8> {
    let mut w = c.encrypting_writer(Vec::new(), CTX, 4096).unwrap();
    std::io::Write::write_all(&mut w, b"data").unwrap();
    let mut sealed = w.finish().unwrap();
    sealed[9..13].copy_from_slice(&s.to_be_bytes());
    sealed
}

#[test]
fn segment_size_bounds_are_enforced_when_reading() {
    let c = new_crypt();
    for bad in [0u32, 1, 4095, (16 << 20) + 1, u32::MAX] {
        let sealed = header_with_segment_size(&c, bad);
        let (e, largest) = largest_allocation(|| {
            StreamDecryptor::new(&c, &sealed[..HEADER_LEN], CTX)
                .err()
                .unwrap()
        });
        assert_eq!(e.kind(), ErrorKind::NotAuthentic, "S = {bad}: {e:?}");
        assert!(largest < 4096, "S = {bad}: allocated {largest} bytes");
        let e = c.decrypting_reader(&sealed[..], CTX).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::NotAuthentic, "S = {bad}: {e:?}");
    }
    // The bounds themselves are accepted by the header check (the header is then
    // authenticated with the first segment, which fails here: S was changed).
    for ok in [4096u32, 16 << 20] {
        let sealed = header_with_segment_size(&c, ok);
        let mut d = StreamDecryptor::new(&c, &sealed[..HEADER_LEN], CTX).unwrap();
        assert_eq!(d.segment_size(), ok as usize);
        let mut out = vec![0u8; d.update_max_len(sealed.len())];
        let n = d.update(&sealed[HEADER_LEN..], &mut out).unwrap();
        assert_eq!(n, 0);
        let mut out = vec![0u8; d.finish_len()];
        if ok == 4096 {
            d.finish(&mut out).unwrap(); // unchanged header: it decrypts
        } else {
            assert_eq!(
                d.finish(&mut out).unwrap_err().kind(),
                ErrorKind::NotAuthentic
            );
        }
    }
}

#[test]
fn a_claimed_16_mib_segment_size_allocates_only_what_arrives() {
    // An unauthenticated header claims the largest segments; the stream then ends after a few
    // bytes. Before, the reader allocated ~64 MiB on the header's word alone.
    let c = new_crypt();
    let sealed = header_with_segment_size(&c, 16 << 20);
    let (r, largest) = largest_allocation(|| {
        let mut reader = c.decrypting_reader(&sealed[..], CTX).unwrap();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut out)
    });
    assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
    assert!(
        largest <= 256 << 10,
        "allocated {largest} bytes for a {}-byte stream",
        sealed.len()
    );
    let (d, largest) = largest_allocation(|| StreamDecryptor::new(&c, &sealed[..HEADER_LEN], CTX));
    d.unwrap();
    assert!(
        largest < 4096,
        "StreamDecryptor::new allocated {largest} bytes"
    );
}

fn assert_context_too_large(e: &lkr_crypt::Error) {
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e:?}");
    assert!(e.message().contains("context is too large"), "{e:?}");
}

/// A context of 64 GiB that exists in the address space but not in memory: a read-only
/// `MAP_NORESERVE` mapping of zero pages (never touched, unless a call reads or copies it).
struct HugeMapping(*mut libc::c_void, usize);

impl HugeMapping {
    fn new(len: usize) -> HugeMapping {
        // SAFETY: a fresh anonymous mapping, unmapped in Drop.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED, "mmap of {len} bytes");
        HugeMapping(p, len)
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` readable bytes (zero pages) for as long as self lives.
        unsafe { std::slice::from_raw_parts(self.0.cast(), self.1) }
    }
}

impl Drop for HugeMapping {
    fn drop(&mut self) {
        // SAFETY: unmaps what new mapped.
        unsafe { libc::munmap(self.0, self.1) };
    }
}

#[test]
fn contexts_over_64_kib_are_refused_before_anything_is_allocated() {
    use lkr_crypt::limits::MAX_CONTEXT;
    let c = new_crypt().with_legacy_key(Some(lkr_crypt::secret::Key128::random()));
    let env = c.encrypt(b"value", b"").unwrap();
    let at_max = vec![7u8; MAX_CONTEXT];
    let e2 = c.encrypt(b"value", &at_max).unwrap();
    assert_eq!(c.decrypt(&e2, &at_max).unwrap(), b"value");
    let huge = HugeMapping::new(64 << 30);
    let mut out = vec![0u8; 1024];
    for ctx in [&at_max[..], &vec![7u8; MAX_CONTEXT + 1][..], huge.bytes()] {
        if ctx.len() == MAX_CONTEXT {
            continue;
        }
        type Check<'a> = Box<dyn Fn() -> lkr_crypt::Error + 'a>;
        let checks: Vec<(&str, Check)> = vec![
            (
                "encrypt",
                Box::new(|| c.encrypt(b"value", ctx).unwrap_err()),
            ),
            ("decrypt", Box::new(|| c.decrypt(&env, ctx).unwrap_err())),
            ("migrate", Box::new(|| c.migrate(&env, ctx).unwrap_err())),
            (
                "reencrypt",
                Box::new(|| c.reencrypt(&env, ctx).unwrap_err()),
            ),
            (
                "writer",
                Box::new(|| c.encrypting_writer(Vec::new(), ctx, 4096).err().unwrap()),
            ),
            (
                "reader",
                Box::new(|| c.decrypting_reader(&env[..], ctx).err().unwrap()),
            ),
        ];
        for (what, check) in &checks {
            let (e, largest) = largest_allocation(check);
            assert_context_too_large(&e);
            assert!(
                largest < 4096,
                "{what}: allocated {largest} bytes before refusing"
            );
        }
        let (e, largest) = largest_allocation(|| c.encrypt_into(b"value", ctx, &mut out));
        assert_context_too_large(&e.unwrap_err());
        let (e2, _) = largest_allocation(|| c.decrypt_into(&env, ctx, &mut out));
        assert_context_too_large(&e2.unwrap_err());
        assert!(largest < 4096);
        assert!(!c.is_authentic(&env, ctx));
    }
}

#[test]
fn an_oversized_value_in_a_packed_batch_is_that_values_outcome() {
    let big = new_crypt();
    let c = Crypt::open_bytes(big.keystore_json().as_bytes(), big.master_key().clone())
        .unwrap()
        .with_max_record_size(1000);
    let ok = c.encrypt(b"fits", b"").unwrap();
    let over = big.encrypt(&[1u8; 2000], b"").unwrap();
    let (_, out_ends, outcomes) = common::migrate_packed(&c, &[ok.clone(), over, ok.clone()]);
    assert!(
        matches!(
            outcomes[0],
            lkr_crypt::PackedOutcome::Written(lkr_crypt::Migrated::AlreadyV1(_))
        ),
        "{outcomes:?}"
    );
    assert!(
        matches!(&outcomes[1], lkr_crypt::PackedOutcome::Refused(m) if m.contains("too large")),
        "{outcomes:?}"
    );
    assert!(
        matches!(
            outcomes[2],
            lkr_crypt::PackedOutcome::Written(lkr_crypt::Migrated::AlreadyV1(_))
        ),
        "{outcomes:?}"
    );
    assert_eq!(out_ends, [ok.len(), ok.len(), 2 * ok.len()]);
}
