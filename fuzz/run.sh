#!/usr/bin/env bash
# Builds and runs every fuzz target (cargo-fuzz / libFuzzer) for a set
# time, one after the other, in one process each (no -jobs/-workers), and prints the
# executions of each (libFuzzer's final stat::number_of_executed_units).
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, every target)
#   FUZZ_RUNS=10000000 fuzz/run.sh 3600 ...          (stop each target after FUZZ_RUNS
#                                                    executions, or the time, whichever first)
#
# Corpora live in fuzz/corpus/<target>/ (committed minimized; runs add to them); seeds are made from
# tests/vectors/*.json by fuzz/seeds.py into fuzz/seeds/<target>/ on every run. A crash
# leaves its input in fuzz/artifacts/<target>/ and makes the script exit 1.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). The fuzz
# binaries need the crate's `libfuzzer` feature (passed here). The committed corpora are also
# replayed on stable, without libFuzzer, by fuzz/tests/corpus.rs (a step of tests/run_all.sh).
# Builds go to $CARGO_TARGET_DIR/fuzz when CARGO_TARGET_DIR is set, else fuzz/target.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(envelope_decrypt stream_decrypt keystore_parse legacy_migrate text_paths c_abi c_stream)
fi
TARGET_DIR=${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz}
TARGET_DIR=${TARGET_DIR:-$PWD/fuzz/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}

# The C ABI targets run under AddressSanitizer (they hand raw pointers and lengths to the
# library); the others drive safe Rust APIs and run without a sanitizer, about twice as fast
# (a panic or failed assertion is still a crash). FUZZ_SANITIZER=address runs all with ASan.
sanitizer() {
  case "$1" in
    c_*) echo address ;;
    *) echo "${FUZZ_SANITIZER:-none}" ;;
  esac
}

python3 fuzz/seeds.py fuzz/seeds
for san in address none; do
  for t in "${TARGETS[@]}"; do
    if [ "$(sanitizer "$t")" = "$san" ]; then
      cargo +nightly fuzz build -s "$san" --features libfuzzer --target-dir "$TARGET_DIR/$san"
      break
    fi
  done
done

status=0
results=()
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t/last-run.log"
  start=$SECONDS
  rc=0
  san=$(sanitizer "$t")
  echo "== $t: ${SECONDS_PER_TARGET}s (sanitizer: $san)"
  cargo +nightly fuzz run -s "$san" --features libfuzzer --target-dir "$TARGET_DIR/$san" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -max_len=65536 \
    -timeout=30 -rss_limit_mb=4096 ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
    -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || echo '?')
  took=$((SECONDS - start))
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "   CRASH (exit $rc), see $log:"
    grep -E 'ERROR|panicked|SUMMARY|Test unit written' "$log" | head -n 10 | sed 's/^/   /'
    results+=("$(printf '%-18s %12s executions  %5ss  CRASH' "$t" "$execs" "$took")")
  else
    results+=("$(printf '%-18s %12s executions  %5ss  ok' "$t" "$execs" "$took")")
  fi
  echo "   ${results[-1]}"
done
echo "== fuzz summary (corpus files: $(find fuzz/corpus -type f | wc -l))"
printf '%s\n' "${results[@]}"
exit $status
