#!/usr/bin/env bash
# The FIPS build's cost per record against the default build's, measured in one run
# (benches/fips.rs): the same bench binary on the default build, then on the FIPS build, which
# prints both and their ratio. Extra arguments go to criterion, e.g.
#   bash benches/fips_vs_default.sh --warm-up-time 1 --measurement-time 3
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
root=${CARGO_TARGET_DIR:-$PWD/target}/criterion/fips-bench
rm -rf "$root"
cargo bench --locked --bench fips -- "$@"
cargo bench --locked --no-default-features --features fips --bench fips -- "$@"
