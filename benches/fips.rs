//! The FIPS build's cost per record (docs/fips.md): envelope v1 encrypt and decrypt at 64 B,
//! 16 KiB and 1 MiB, with what a record adds to AES-GCM measured apart — its salt and nonce
//! (one 44-byte draw, or two: 32 + 12, from `lkr_crypt::rng`; and one DRBG call of 44 bytes, what
//! the FIPS build's pool saves) and its data key (HKDF-Expand).
//!
//! One binary, built twice: `bash benches/fips_vs_default.sh` runs it on the default build, then
//! on the FIPS build (`--no-default-features --features fips`), each into its own criterion
//! directory (`<target>/criterion/fips-bench/<build>`), and the second run prints the FIPS
//! figures against the default's from the same script run.

use criterion::{BenchmarkId, Criterion, Throughput};
use lkr_crypt::kdf::KekDeriver;
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::Key256;
use lkr_crypt::Crypt;
use std::hint::black_box;
use std::path::{Path, PathBuf};

const SIZES: [usize; 3] = [64, 16 * 1024, 1024 * 1024];
const CTX: &[u8] = b"CONNECTION.PASSWORD:42";

fn build() -> &'static str {
    if cfg!(feature = "fips") {
        "fips"
    } else {
        "default"
    }
}

/// `64B`, `16KiB`, `1MiB` (criterion ids).
fn label(n: usize) -> &'static str {
    match n {
        64 => "64B",
        16384 => "16KiB",
        1048576 => "1MiB",
        _ => unreachable!("not a benchmarked size"),
    }
}

fn records(c: &mut Criterion) {
    let crypt = Crypt::create(MasterKey::Local(Key256::random())).unwrap();
    let inputs: Vec<(usize, Vec<u8>)> = SIZES.iter().map(|&n| (n, vec![0x5au8; n])).collect();
    let mut out = vec![0u8; SIZES[SIZES.len() - 1] + 69];
    let mut group = c.benchmark_group("encrypt");
    for (n, pt) in &inputs {
        group.throughput(Throughput::Bytes(*n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label(*n)), pt, |b, pt| {
            b.iter(|| crypt.encrypt_into(black_box(pt), CTX, &mut out).unwrap())
        });
    }
    group.finish();
    let mut group = c.benchmark_group("decrypt");
    for (n, pt) in &inputs {
        let env = crypt.encrypt(pt, CTX).unwrap();
        group.throughput(Throughput::Bytes(*n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label(*n)), &env, |b, env| {
            b.iter(|| crypt.decrypt_into(black_box(env), CTX, &mut out).unwrap())
        });
    }
    group.finish();
}

/// What a record adds to AES-GCM: its salt and nonce, and its data key.
fn per_record(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_record");
    let mut buf = [0u8; 44];
    group.bench_function("salt_nonce_one_draw", |b| {
        b.iter(|| lkr_crypt::rng::fill(black_box(&mut buf)))
    });
    group.bench_function("salt_nonce_two_draws", |b| {
        b.iter(|| {
            let (salt, nonce) = buf.split_at_mut(32);
            lkr_crypt::rng::fill(black_box(salt));
            lkr_crypt::rng::fill(black_box(nonce));
        })
    });
    // One DRBG call per record (aws-lc-rs `rand::fill`: the FIPS module's DRBG in the FIPS
    // build, AWS-LC's in the default build): what the FIPS build's pool saves.
    group.bench_function("drbg_call_44", |b| {
        b.iter(|| aws_lc_rs::rand::fill(black_box(&mut buf)).unwrap())
    });
    let deriver = KekDeriver::new(1, &Key256::new([7; 32]));
    let salt = [9u8; 32];
    group.bench_function("data_key", |b| {
        b.iter(|| deriver.record_key(black_box(&salt)))
    });
    group.finish();
}

/// The median of a criterion estimates file, in ns.
fn median_ns(dir: &Path, group: &str, id: &str) -> Option<f64> {
    let p = dir.join(group).join(id).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn report(root: &Path) {
    let fips = root.join("fips");
    let default = root.join("default");
    println!("\nFIPS build vs default build (medians, ns; same script run)");
    println!(
        "{:<22} {:>12} {:>12} {:>12} {:>8}",
        "what", "default ns", "fips ns", "+ns", "ratio"
    );
    let mut rows: Vec<(String, &str, String)> = Vec::new();
    for op in ["encrypt", "decrypt"] {
        for &n in &SIZES {
            rows.push((format!("{op} {}", label(n)), op, label(n).to_string()));
        }
    }
    for id in [
        "salt_nonce_one_draw",
        "salt_nonce_two_draws",
        "drbg_call_44",
        "data_key",
    ] {
        rows.push((id.to_string(), "per_record", id.to_string()));
    }
    for (name, group, id) in rows {
        let (Some(d), Some(f)) = (
            median_ns(&default, group, &id),
            median_ns(&fips, group, &id),
        ) else {
            println!("{name:<22} (missing: run benches/fips_vs_default.sh)");
            continue;
        };
        println!(
            "{name:<22} {d:>12.1} {f:>12.1} {:>+12.1} {:>7.2}x",
            f - d,
            f / d
        );
    }
}

fn main() {
    let root = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("criterion/fips-bench");
    let mut c = Criterion::default()
        .output_directory(&root.join(build()))
        .configure_from_args();
    println!("build: {}, FIPS mode: {}", build(), lkr_crypt::fips::mode());
    records(&mut c);
    per_record(&mut c);
    c.final_summary();
    if cfg!(feature = "fips") {
        report(&root);
    }
}
