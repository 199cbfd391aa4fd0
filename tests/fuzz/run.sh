#!/usr/bin/env bash
# Fuzz runs (make fuzz): each cargo-fuzz target for FUZZ_SECONDS (default 20) from its seeds and
# the kept corpus (fuzz/corpus, replayed by make test), on the
# machine's stable toolchain (RUSTC_BOOTSTRAP lets cargo-fuzz pass libFuzzer's -Z flags; no
# nightly can be fetched here). New inputs go to target/fuzz-corpus; keep the interesting ones with
# `cargo fuzz run -O TARGET fuzz/corpus/TARGET target/fuzz-corpus/TARGET -- -merge=1`.
# Prints the executions per target; any crash, panic or leak fails the run (its input is kept
# under fuzz/artifacts/).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${FUZZ_SECONDS:-20}"
export RUSTC_BOOTSTRAP=1
cd "$root/fuzz"
cargo fuzz build -O
total=0
for t in catalog_import calendar_json id_validators; do
  corpus="$root/target/fuzz-corpus/$t"
  mkdir -p "$corpus"
  log="$root/target/fuzz-$t.log"
  seeds=()
  [ -d "seeds/$t" ] && seeds+=("seeds/$t")
  [ -d "corpus/$t" ] && seeds+=("corpus/$t")
  if ! cargo fuzz run -O "$t" "$corpus" "${seeds[@]}" -- \
      -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $t FAILED (input under fuzz/artifacts/$t)"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  echo "fuzz: $t ${runs:-?} executions in ${seconds} s, 0 failures"
  total=$((total + ${runs:-0}))
done
echo "fuzz: ${total} executions in all, 0 failures"
