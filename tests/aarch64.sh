#!/usr/bin/env bash
# linux-aarch64 on an x86-64 machine (docs/platforms.md#linux-aarch64): the crate cross-built
# for aarch64-unknown-linux-gnu with Debian's cross gcc, and its suites run under qemu-user —
#   * the known answers, Wycheproof, envelope, stream, keystore, legacy and C ABI suites, once
#     on each AES-GCM backend built there (LKR_AEAD_BACKEND=aws-lc-rs, ring); c_abi compiles
#     tests/c/lkr_c_test.c with the cross gcc and runs it (and its re-executed children) under
#     qemu too (LKR_TEST_EMULATED=qemu-user: qemu ignores MADV_WIPEONFORK, so the C program's
#     raw-clone(2) nonce check, run natively by the x86-64 suites, is replaced there by a check
#     that the emulator indeed does not wipe);
#   * then the release library the jar bundles (`--release --lib`), checked to be an AArch64
#     ELF with the soname.
# Needs what .ci/setup installs for it (the rustup target, gcc-aarch64-linux-gnu,
# libc6-dev-arm64-cross, qemu-user-static, and libc6:arm64 + libgcc-s1:arm64 from Debian's arm64
# architecture). Uses $CARGO_TARGET_DIR when set.
#
# The tests are a debug build: their dependencies compile several times faster than in release
# (no LTO, no optimisation of the Rust code), and the suites are small enough that the slower
# code under emulation still runs in seconds; the assembly AES-GCM code of aws-lc and ring is
# the same in both profiles.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
TRIPLE=aarch64-unknown-linux-gnu
# The programs run on Debian's arm64 C library (multiarch libc6:arm64, libgcc-s1:arm64), found at
# its usual paths: no `-L /usr/aarch64-linux-gnu`. With -L, qemu gives the cross package's
# ld.so the host's /etc/ld.so.cache, which lists the multiarch libc once that is installed (the
# arm64 JVM needs it): a loader and a libc of two builds, and the program spins at start.
RUNNER="qemu-aarch64-static"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$RUNNER" \
  LKR_TEST_CC=aarch64-linux-gnu-gcc LKR_TEST_RUNNER="$RUNNER" LKR_TEST_EMULATED=qemu-user
suites=(--test vectors --test wycheproof --test envelope --test stream --test keystore --test legacy --test c_abi)

start=$SECONDS
cargo test --locked --target "$TRIPLE" "${suites[@]}" --no-run
echo "-- aarch64 test build: $((SECONDS - start)) s"
for b in aws-lc-rs ring; do
  start=$SECONDS
  echo "-- aarch64 under qemu-user, LKR_AEAD_BACKEND=$b"
  LKR_AEAD_BACKEND=$b cargo test --locked --target "$TRIPLE" "${suites[@]}"
  echo "-- aarch64 suites on $b: $((SECONDS - start)) s"
done

start=$SECONDS
cargo build --locked --release --lib --target "$TRIPLE"
lib=$TARGET_DIR/$TRIPLE/release/liblkr_crypt.so
readelf -h "$lib" | grep -q 'Machine:.*AArch64' || { echo "$lib is not an AArch64 library"; exit 1; }
readelf -d "$lib" | grep -q 'Library soname: \[liblkr_crypt.so.1\]' || { echo "$lib has no soname liblkr_crypt.so.1"; exit 1; }
echo "-- aarch64 release library: $lib ($(stat -c %s "$lib") bytes) in $((SECONDS - start)) s"
