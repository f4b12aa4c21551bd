#!/usr/bin/env bash
# Memory-error checks of lkr-crypt (issue 8 §3).
#
#   tests/sanitizers.sh c      the C test program (tests/c/lkr_c_test.c) against the debug
#                              cdylib under valgrind memcheck: no error, no leak
#                              (suppressions: tests/valgrind.supp). Short enough for CI.
#   tests/sanitizers.sh asan   the Rust library and integration tests (KMS excluded) under
#                              AddressSanitizer + LeakSanitizer (nightly toolchain).
#   tests/sanitizers.sh all    both.
#
# Installs valgrind when missing (Debian). Uses $CARGO_TARGET_DIR when set (else target/);
# the ASan build goes to <target>/asan.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
JOBS=${CARGO_BUILD_JOBS:-2}

run_c() {
  if ! command -v valgrind >/dev/null; then
    echo "== apt-get install valgrind"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends valgrind >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends valgrind >/dev/null; }
  fi
  echo "== valgrind: C test program (tests/c/lkr_c_test.c)"
  cargo build --locked -j "$JOBS" --lib
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  # The library by its link name and its soname (liblkr_crypt.so.1, which the program needs at
  # run time; cargo writes only liblkr_crypt.so).
  local lib=$tmp/lib
  mkdir "$lib"
  ln -s "$TARGET_DIR/debug/liblkr_crypt.so" "$lib/liblkr_crypt.so"
  ln -s "$TARGET_DIR/debug/liblkr_crypt.so" "$lib/liblkr_crypt.so.1"
  cc -std=c99 -Wall -Wextra -Werror -pthread -g -Iinclude tests/c/lkr_c_test.c \
    -L"$lib" -llkr_crypt -o "$tmp/lkr_c_test"

  # Keys and legacy values as tests/c_abi.rs makes them (openssl: an independent AES-CBC).
  local cmk legacy_key legacy_b64 text_plain bin_plain badpad_plain
  cmk=$(openssl rand -base64 32)
  legacy_key=$(openssl rand -hex 16)
  unhex() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }
  tohex() { od -An -v -tx1 | tr -d ' \n'; }
  legacy_b64=$(unhex "$legacy_key" | base64)
  legacy() { # plaintext-hex [nopad] -> IV ‖ ciphertext, hex
    local iv
    iv=$(openssl rand -hex 16)
    printf '%s' "$iv"
    unhex "$1" | openssl enc -aes-128-cbc -K "$legacy_key" -iv "$iv" -nosalt ${2:+-nopad} | tohex
  }
  text_plain=$(printf 'legacy password: hunter2 — pässwörd ✓ (CONNECTION 42)' | tohex)
  bin_plain=fffe0080c32801a0a1ed
  badpad_plain=$(printf 'no valid pad...\0' | tohex)

  # The recovery key pair (docs/keystore.md).
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$tmp/rec.pem" 2>/dev/null
  openssl pkey -pubout -in "$tmp/rec.pem" -out "$tmp/rec.pub.pem"
  chmod 0400 "$tmp/rec.pem"

  mkdir "$tmp/work"
  local log=$tmp/valgrind.log start=$SECONDS rc=0
  # Children re-executed by the program (CMK checks) run under valgrind too.
  (cd "$tmp" && env -i PATH="$PATH" LD_LIBRARY_PATH="$lib" \
    LKR_MASTER_KEY_ENV="$cmk" LKR_LEGACY_KEY_ENV="$legacy_b64" \
    LKR_TEST_LEGACY_KEY_HEX="$legacy_key" \
    LKR_TEST_RECOVERY_PUBLIC_PEM="$tmp/rec.pub.pem" LKR_TEST_RECOVERY_PRIVATE_PEM="$tmp/rec.pem" \
    LKR_TEST_LEGACY_TEXT_HEX="$(legacy "$text_plain")" LKR_TEST_LEGACY_TEXT_PLAIN_HEX="$text_plain" \
    LKR_TEST_LEGACY_BIN_HEX="$(legacy "$bin_plain")" LKR_TEST_LEGACY_BIN_PLAIN_HEX="$bin_plain" \
    LKR_TEST_LEGACY_BADPAD_HEX="$(legacy "$badpad_plain" nopad)" \
    LKR_TEST_OPS_PER_THREAD="${LKR_TEST_OPS_PER_THREAD:-100}" LKR_TEST_SELF="$tmp/lkr_c_test" \
    valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
      --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes \
      --trace-children=yes --child-silent-after-fork=yes \
      --suppressions="$ROOT/tests/valgrind.supp" --log-file="$log.%p" \
      "$tmp/lkr_c_test" "$tmp/work" >"$tmp/stdout" 2>"$tmp/stderr") || rc=$?
  local took=$((SECONDS - start))
  tail -n 1 "$tmp/stdout"
  local summary
  summary=$(grep -h "ERROR SUMMARY" "$log".* | sed 's/^==[0-9]*== //' | sort | uniq -c)
  echo "$summary"
  if [ "$rc" -ne 0 ] || grep -qvh "ERROR SUMMARY: 0 errors" < <(grep -h "ERROR SUMMARY" "$log".*); then
    echo "valgrind: FAILED (exit $rc) after ${took}s"
    cat "$tmp/stderr"
    grep -v '^ok ' "$tmp/stdout" | tail -n 20
    mkdir -p "$TARGET_DIR/valgrind" && cp "$log".* "$TARGET_DIR/valgrind/"
    echo "(logs kept in $TARGET_DIR/valgrind/)"
    for f in "$log".*; do
      if ! grep -q "ERROR SUMMARY: 0 errors" "$f"; then
        echo "--- $f"
        cat "$f"
      fi
    done
    return 1
  fi
  echo "valgrind: clean ($(ls "$log".* | wc -l) processes: the program and its re-executed children) in ${took}s"
}

run_asan() {
  echo "== AddressSanitizer: Rust library and integration tests (nightly)"
  if ! rustup toolchain list | grep -q '^nightly'; then
    echo "the nightly toolchain is missing: rustup toolchain install nightly --profile minimal"
    return 1
  fi
  local start=$SECONDS
  # KMS tests skip themselves without a server; the C ABI test loads the cdylib into a C
  # program, which is not built with ASan (tests/sanitizers.sh c covers it with valgrind).
  RUSTFLAGS="-Zsanitizer=address" RUSTDOCFLAGS="-Zsanitizer=address" \
    ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1" \
    CARGO_TARGET_DIR="$TARGET_DIR/asan" \
    cargo +nightly test --locked -j "$JOBS" --target x86_64-unknown-linux-gnu \
    --no-default-features --features "${ASAN_FEATURES:-aws-lc}" --lib --tests -- \
    --skip c_program_passes
  echo "AddressSanitizer: clean in $((SECONDS - start))s"
}

case "${1:-c}" in
  c) run_c ;;
  asan) run_asan ;;
  all) run_c && run_asan ;;
  *) echo "usage: $0 [c|asan|all]" >&2; exit 2 ;;
esac
