#!/usr/bin/env bash
# Runs every test suite of lkr-crypt with the real servers they need:
#   * a KMS-API server (moto, in a Python venv) on 127.0.0.1 — tests/kms_server.sh
#   * a MariaDB server on 127.0.0.1 — tests/mariadb_server.sh
# then the Rust crate with the default backends (unit, integration, C ABI, KMS and known-answer
# tests; AES-GCM from ring or aws-lc-rs, chosen by CPU, and the format suites on each of them),
# the slim C library (no JNI, no KMS), the linux-aarch64 build under qemu-user, the same suites
# with the RustCrypto backend, the fuzz corpora (replayed through the fuzz targets' code on
# stable), the C program under valgrind, the Java suites (the jar with both natives), an arm64
# JVM loading through the jar, and the C library's make install with its example.
# Installs what is missing first (.ci/setup). Servers are stopped by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != --with-servers ]; then
  bash .ci/setup
  exec bash tests/kms_server.sh bash tests/mariadb_server.sh bash "$0" --with-servers
fi
export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo test (default features: AES-GCM from the backend chosen for this CPU, with AWS KMS)"
cargo test --locked

echo "== cargo test: the format suites again on the other default AES-GCM backend"
# The process picks ring or aws-lc-rs by CPU (src/aead.rs); run the known-answer, envelope,
# stream, keystore, rotation and C suites on aws-lc-rs and ring explicitly.
for b in aws-lc-rs ring; do
  LKR_AEAD_BACKEND=$b cargo test --locked --test vectors --test envelope --test stream \
    --test keystore --test rotation --test legacy --test c_abi --test wycheproof
done

echo "== the slim C library: no JNI, no AWS KMS (tests/feature_sets.sh)"
bash tests/feature_sets.sh

echo "== linux-aarch64: cross-built, the suites under qemu-user (tests/aarch64.sh)"
bash tests/aarch64.sh

echo "== cargo test (RustCrypto backend)"
cargo test --locked --no-default-features --features rustcrypto --tests

echo "== fuzz corpora replayed on stable (fuzz/tests/corpus.rs)"
# Every committed minimized corpus (fuzz/corpus/<target>/) through the fuzz targets' code, without
# libFuzzer or a sanitizer: the short version of fuzz/run.sh (its own workspace and lock file).
cargo test --locked --manifest-path fuzz/Cargo.toml --test corpus -- --nocapture

echo "== valgrind memcheck: the C test program (tests/sanitizers.sh c)"
bash tests/sanitizers.sh c

echo "== Java (Maven: JUnit on Java 17 and 25, the jar with both natives)"
bash java/ci.sh

echo "== an arm64 JVM under qemu-user loading through the jar (tests/aarch64_jvm.sh)"
bash tests/aarch64_jvm.sh

echo "== the C library installed (make install, pkg-config, examples/c/app.c, make uninstall)"
# After the Java build, which built the release library this installs.
bash tests/c_install.sh

echo "== the README's main job on the embedded default (examples/main_job.sh)"
bash examples/main_job.sh
