#!/usr/bin/env bash
# The slim library for C callers (docs/platforms.md#feature-sets): built without the JNI exports
# and without AWS KMS (`--no-default-features --features aws-lc,ring`), checked to export no
# `Java_` symbol and to hold none of the AWS SDK / HTTP stack / tokio / jni crates, then the C
# ABI suite (tests/c_abi.rs, the C program) and the known-answer vectors run on it.
#
# Uses $CARGO_TARGET_DIR when set. A debug build: the checks read the dynamic symbol table and
# the crates' panic-location paths, both present in every profile.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
FEATURES=aws-lc,ring

cargo build --locked --lib --no-default-features --features "$FEATURES"
lib=$TARGET_DIR/debug/liblkr_crypt.so
java=$(nm -D --defined-only "$lib" | grep -c ' Java_' || true)
lkr=$(nm -D --defined-only "$lib" | grep -c ' T lkr_' || true)
# Crates that only the left-out features bring in; a build that has them names their sources.
crates=$(grep -a -o -E '(aws-sdk-kms|aws-config|aws-smithy-[a-z-]+|hyper|tokio|jni)-[0-9]+\.[0-9]+\.[0-9]+' "$lib" |
  sort -u | tr '\n' ' ' || true)
echo "-- $lib (--features $FEATURES): $lkr lkr_* exports, $java Java_* exports, crates of the left-out features: ${crates:-none}"
[ "$java" = 0 ] || { echo "the slim library exports JNI symbols"; exit 1; }
[ -z "$crates" ] || { echo "the slim library holds the crates of left-out features: $crates"; exit 1; }
[ "$lkr" -gt 30 ] || { echo "the slim library exports only $lkr lkr_* functions"; exit 1; }

cargo test --locked --no-default-features --features "$FEATURES" --test c_abi --test vectors
