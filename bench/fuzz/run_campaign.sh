#!/usr/bin/env bash
# Fuzzing campaign: builds the libFuzzer tree and fuzzes every target named
# *_fuzz found in it, one after the other, then prints and writes a summary
# table (executions, coverage, crashes per target). docs/fuzzing.md explains
# the targets, the seed corpora and how to reproduce a crash.
#
# Usage: bench/fuzz/run_campaign.sh [SECONDS_PER_TARGET] [TARGET_REGEX]
#   SECONDS_PER_TARGET  -max_total_time per target (default $FUZZ_SECONDS or 1200)
#   TARGET_REGEX        only targets whose name matches (default $FUZZ_TARGETS or all)
# Environment:
#   FUZZ_BUILD_DIR  fuzz build tree (default build-fuzz)
#   FUZZ_OUT        results folder (default $FUZZ_BUILD_DIR/campaign/<UTC time>)
#   FUZZ_RUNS       also stop a target after this many executions (default: no cap)
#   FUZZ_MAX_LEN    largest generated input in bytes (default 4096)
#   FUZZ_NICE       nice level for the fuzzers (default 10)
#   FUZZ_SKIP_BUILD=1  use the binaries already in FUZZ_BUILD_DIR
#   FUZZ_EXTRA      more libFuzzer flags, e.g. "-jobs=2 -workers=2"
# Exit status: 0 when no target crashed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-${FUZZ_SECONDS:-1200}}
filter=${2:-${FUZZ_TARGETS:-.}}
build=${FUZZ_BUILD_DIR:-build-fuzz}
max_len=${FUZZ_MAX_LEN:-4096}
nice_level=${FUZZ_NICE:-10}
out=${FUZZ_OUT:-$build/campaign/$(date -u +%Y%m%dT%H%M%SZ)}

if [[ "${FUZZ_SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVIGIL_BUILD_FUZZ=ON -DVIGIL_BUILD_TESTS=ON -DVIGIL_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" --target fuzz -j"$(nproc)"
fi

# Every fuzz binary in the tree, whichever component added it.
mapfile -t targets < <(find "$build" -path "$build/campaign" -prune -o \
  -type f -executable -name '*_fuzz' -print | sort)
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "no *_fuzz binaries under $build" >&2
  exit 2
fi

# The checked-in seed corpus of a target: any fuzz_corpus/<name>/ folder in the
# sources (tests/<component>/fuzz_corpus/<name>/ by convention).
seed_dirs() {
  find . \( -path ./.git -o -path "./$build" -o -path './build*' \) -prune -o \
    -type d -path "*/fuzz_corpus/$1" -print
}

# The value after `key` on the last libFuzzer status line that has it.
last_field() {  # last_field LOG KEY
  grep -Eo "$2: [0-9]+" "$1" | tail -1 | awk '{print $2}'
}
stat_value() {  # stat_value LOG NAME  (from -print_final_stats=1)
  grep -E "^stat::$2:" "$1" | tail -1 | awk '{print $2}'
}

mkdir -p "$out"
summary=$out/summary.md
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -1)
{
  echo "Fuzz campaign $(date -u +%Y-%m-%dT%H:%MZ), commit $commit${dirty:+ (with local changes)}," \
    "max ${seconds}s${FUZZ_RUNS:+ or $FUZZ_RUNS runs} per target, -max_len=$max_len"
  echo
  echo "| target | seconds | executions | exec/s | cov | ft | corpus | crashes | result |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$summary"

failed=0
for bin in "${targets[@]}"; do
  name=$(basename "$bin")
  [[ "$name" =~ $filter ]] || continue
  corpus=$out/corpus/$name
  artifacts=$out/artifacts/$name
  log=$out/$name.log
  mkdir -p "$corpus" "$artifacts"
  mapfile -t seeds < <(seed_dirs "$name")
  args=(-max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 -timeout=25
        -rss_limit_mb=2560 -artifact_prefix="$artifacts/")
  [[ -n "${FUZZ_RUNS:-}" ]] && args+=(-runs="$FUZZ_RUNS")
  # shellcheck disable=SC2206
  [[ -n "${FUZZ_EXTRA:-}" ]] && args+=(${FUZZ_EXTRA})
  echo "== $name: ${seconds}s, seeds: ${seeds[*]:-none}, log: $log"
  start=$(date +%s)
  status=0
  nice -n "$nice_level" "$bin" "${args[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))

  execs=$(stat_value "$log" number_of_executed_units)
  [[ -z "$execs" ]] && execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  rate=$(stat_value "$log" average_exec_per_sec)
  cov=$(last_field "$log" cov)
  ft=$(last_field "$log" ft)
  units=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | wc -l)
  if [[ $status -eq 0 && $crashes -eq 0 ]]; then
    result=ok
  else
    result="FAILED (exit $status): $(find "$artifacts" -type f | head -3 | xargs -r -n1 basename | tr '\n' ' ')"
    failed=1
  fi
  echo "| $name | $elapsed | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | $units | $crashes | $result |" \
    >>"$summary"
  echo "   $name: $elapsed s, ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, $crashes crash(es): $result"
done

echo
cat "$summary"
echo
echo "summary: $summary   logs, corpora and crash inputs: $out"
exit $failed
