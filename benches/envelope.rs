//! Envelope v1 encrypt/decrypt next to raw aws-lc-rs AES-256-GCM (one pre-scheduled key, a
//! counter nonce, the same out-of-place calls into a caller buffer) and raw ring AES-256-GCM
//! (in place, its only mode) at 64 B, 1 KiB, 16 KiB and 1 MiB, measured in the same run; prints
//! the throughput ratios and the per-record cost. The envelope uses the process's backend
//! (`lkr_crypt::aead::backend()`, printed; `LKR_AEAD_BACKEND` overrides).
//!
//! `cargo bench --bench envelope` (add `-- --quick` for a short run).
//! Targets (issue #2): ≥ 0.75× raw at 16 KiB, ≥ 0.9× at 1 MiB, 64-byte encrypt ≤ 350 ns.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use criterion::{BenchmarkId, Criterion, Throughput};
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::Key256;
use lkr_crypt::Crypt;
use std::hint::black_box;
use std::path::{Path, PathBuf};

const SIZES: [usize; 4] = [64, 1024, 16 * 1024, 1024 * 1024];
const CTX: &[u8] = b"CONNECTION.PASSWORD:42";

fn label(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{}MiB", n >> 20),
        n if n >= 1 << 10 => format!("{}KiB", n >> 10),
        n => format!("{n}B"),
    }
}

fn raw_key() -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap())
}

fn ring_key() -> ring::aead::LessSafeKey {
    ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &[7u8; 32]).unwrap(),
    )
}

fn ring_nonce(counter: &mut u64) -> ring::aead::Nonce {
    *counter += 1;
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    ring::aead::Nonce::assume_unique_for_key(n)
}

fn nonce(counter: &mut u64) -> Nonce {
    *counter += 1;
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

fn bench(c: &mut Criterion) {
    let crypt = Crypt::create(MasterKey::Local(Key256::random())).unwrap();
    let raw = raw_key();
    for op in ["encrypt", "decrypt"] {
        let mut group = c.benchmark_group(op);
        for &n in &SIZES {
            group.throughput(Throughput::Bytes(n as u64));
            let pt = vec![0x5au8; n];
            let mut out = vec![0u8; n + 69];
            let mut counter = 0u64;
            if op == "encrypt" {
                group.bench_with_input(BenchmarkId::new("lkr", label(n)), &pt, |b, pt| {
                    b.iter(|| crypt.encrypt_into(black_box(pt), CTX, &mut out).unwrap())
                });
                let mut out = vec![0u8; n + 16];
                group.bench_with_input(BenchmarkId::new("raw", label(n)), &pt, |b, pt| {
                    b.iter(|| {
                        raw.seal_in_place_scatter(
                            nonce(&mut counter),
                            Aad::from(CTX),
                            &mut [],
                            black_box(pt),
                            &mut out,
                        )
                        .unwrap()
                    })
                });
                let rk = ring_key();
                let mut buf = pt.clone();
                group.bench_with_input(BenchmarkId::new("ring", label(n)), &(), |b, _| {
                    b.iter(|| {
                        rk.seal_in_place_separate_tag(
                            ring_nonce(&mut counter),
                            ring::aead::Aad::from(CTX),
                            black_box(&mut buf),
                        )
                        .unwrap()
                    })
                });
            } else {
                let env = crypt.encrypt(&pt, CTX).unwrap();
                group.bench_with_input(BenchmarkId::new("lkr", label(n)), &env, |b, env| {
                    b.iter(|| crypt.decrypt_into(black_box(env), CTX, &mut out).unwrap())
                });
                let fixed = Nonce::assume_unique_for_key([1; 12]);
                let mut sealed = vec![0u8; n + 16];
                raw.seal_in_place_scatter(fixed, Aad::from(CTX), &mut [], &pt, &mut sealed)
                    .unwrap();
                let (ct, tag) = sealed.split_at(n);
                let mut out = vec![0u8; n];
                group.bench_with_input(BenchmarkId::new("raw", label(n)), &(), |b, _| {
                    b.iter(|| {
                        let nonce = Nonce::assume_unique_for_key([1; 12]);
                        raw.open_separate_gather(
                            nonce,
                            Aad::from(CTX),
                            black_box(ct),
                            tag,
                            &mut out,
                        )
                        .unwrap()
                    })
                });
                let rk = ring_key();
                let mut sealed = pt.clone();
                let tag = rk
                    .seal_in_place_separate_tag(
                        ring::aead::Nonce::assume_unique_for_key([1; 12]),
                        ring::aead::Aad::from(CTX),
                        &mut sealed,
                    )
                    .unwrap();
                let mut buf = vec![0u8; n];
                group.bench_with_input(BenchmarkId::new("ring", label(n)), &(), |b, _| {
                    b.iter(|| {
                        buf.copy_from_slice(black_box(&sealed));
                        rk.open_in_place_separate_tag(
                            ring::aead::Nonce::assume_unique_for_key([1; 12]),
                            ring::aead::Aad::from(CTX),
                            tag,
                            &mut buf,
                            0..,
                        )
                        .map(|p| p.len())
                        .unwrap()
                    })
                });
            }
        }
        group.finish();
    }
}

fn mean_ns(dir: &Path, group: &str, id: &str, n: usize) -> Option<f64> {
    mean_at(
        &dir.join(group)
            .join(id)
            .join(label(n))
            .join("new/estimates.json"),
    )
}

/// The median of a criterion estimates file.
fn mean_at(p: &Path) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// What one record's salt and nonce (44 bytes) cost from the userspace generator (with its
/// copy check) and from the kernel's `getrandom(2)`, which a copy of the process cannot
/// repeat (issue #21: the alternative to the wipe-on-fork epoch).
fn bench_salt_nonce(c: &mut Criterion) {
    let mut group = c.benchmark_group("salt_nonce");
    let mut buf = [0u8; 44];
    group.bench_function("userspace", |b| {
        b.iter(|| {
            lkr_crypt::rng::fill(black_box(&mut buf));
        })
    });
    group.bench_function("getrandom", |b| {
        b.iter(|| {
            // SAFETY: 44 writable bytes.
            let n = unsafe { libc::getrandom(black_box(buf.as_mut_ptr()).cast(), buf.len(), 0) };
            assert_eq!(n, 44);
        })
    });
    group.finish();
}

fn report(dir: &Path) {
    println!(
        "\nlkr-crypt envelope v1 (backend {}) vs raw aws-lc-rs and raw ring AES-256-GCM (same run, medians)",
        lkr_crypt::aead::backend().name()
    );
    println!(
        "{:<8} {:>7} {:>11} {:>11} {:>11} {:>9} {:>11} {:>11} {:>11}",
        "op",
        "size",
        "lkr ns",
        "aws-lc ns",
        "ring ns",
        "lkr MB/s",
        "aws-lc MB/s",
        "vs aws-lc",
        "vs ring"
    );
    for group in ["encrypt", "decrypt"] {
        for &n in &SIZES {
            let (Some(l), Some(r)) = (mean_ns(dir, group, "lkr", n), mean_ns(dir, group, "raw", n))
            else {
                continue;
            };
            let g = mean_ns(dir, group, "ring", n).unwrap_or(f64::NAN);
            let mbs = |ns: f64| n as f64 / ns * 1e3;
            println!(
                "{group:<8} {:>7} {l:>11.1} {r:>11.1} {g:>11.1} {:>9.0} {:>11.0} {:>10.2}x {:>10.2}x",
                label(n),
                mbs(l),
                mbs(r),
                r / l,
                g / l
            );
        }
    }
    if let Some(l) = mean_ns(dir, "encrypt", "lkr", 64) {
        println!("64-byte record encrypt, key derivation included: {l:.0} ns (target <= 350 ns)");
    }
    let id = |name: &str| mean_at(&dir.join("salt_nonce").join(name).join("new/estimates.json"));
    if let (Some(u), Some(g)) = (id("userspace"), id("getrandom")) {
        println!(
            "salt + nonce of one record (44 B): userspace generator {u:.1} ns, getrandom(2) {g:.1} ns ({:.1}x)",
            g / u
        );
        if let Some(l) = mean_ns(dir, "encrypt", "lkr", 64) {
            println!(
                "  drawing them from getrandom would make a 64-byte encrypt {:.0} ns ({:+.0} %)",
                l - u + g,
                (g - u) / l * 100.0
            );
        }
    }
}

fn main() {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("criterion");
    let mut c = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    bench(&mut c);
    bench_salt_nonce(&mut c);
    c.final_summary();
    report(&dir);
}
