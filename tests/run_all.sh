#!/usr/bin/env bash
# Runs every test suite of lkr-crypt: the Rust crate with the default aws-lc-rs backend
# (unit, integration, C ABI and known-answer tests), the same suites with the RustCrypto
# backend, and the doc tests. Installs what is missing first (.ci/setup).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo test (aws-lc-rs backend)"
cargo test --locked

echo "== cargo test (RustCrypto backend)"
cargo test --locked --no-default-features --features rustcrypto --tests
