#!/usr/bin/env bash
# Runs libFuzzer targets for a bounded time each; fails if any finds a crash,
# a leak, a sanitizer report or a timeout.
#
#   tests/fuzz/run.sh SECONDS build/fuzz/fuzz_stun [build/fuzz/fuzz_sdp ...]
#   (no binaries given: every build/fuzz/fuzz_* that exists)
#
# Each target starts from its checked-in seeds (tests/fuzz/corpus/<name>/,
# replayed first, so a regression on a seed fails at once) plus what earlier
# runs found (build/fuzz/corpus/<name>/, where new inputs are written; the
# checked-in corpus is never modified). Crash reproducers go to
# build/fuzz/crashes/<name>/, the full log to build/fuzz/<name>.log.
# Environment: FUZZ_NICE=19 runs the fuzzers under nice; FUZZ_ARGS adds
# libFuzzer flags (e.g. FUZZ_ARGS=-jobs=2).
set -u
cd "$(dirname "$0")/../.."

secs=${1:?usage: run.sh SECONDS [binary...]}
shift
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  bins=(build/fuzz/fuzz_*)
fi
nice_cmd=()
if [ -n "${FUZZ_NICE:-}" ]; then
  nice_cmd=(nice -n "$FUZZ_NICE")
fi

# Leaks are checked after every input; abort so the artifact is kept.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fail=0
n=0
for bin in "${bins[@]}"; do
  [ -x "$bin" ] || { echo "FAIL  $bin: not built"; fail=$((fail + 1)); continue; }
  name=$(basename "$bin"); name=${name#fuzz_}
  seeds=tests/fuzz/corpus/$name
  work=build/fuzz/corpus/$name
  crashes=build/fuzz/crashes/$name
  log=build/fuzz/$name.log
  mkdir -p "$work" "$crashes"
  dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
  n=$((n + 1))
  start=$(date +%s)
  # timeout(1) is the backstop if a target hangs in a way libFuzzer's own
  # -timeout does not catch (e.g. stuck outside the input callback).
  # shellcheck disable=SC2086
  if timeout $((secs + 120)) "${nice_cmd[@]}" "$bin" \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
      ${FUZZ_ARGS:-} "$work" "$seeds" > "$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    units=$(find "$work" -type f | wc -l)
    printf 'ok    fuzz_%-18s %10s execs in %4ss, %s inputs in build/fuzz/corpus/%s\n' \
      "$name" "${execs:-?}" "$(( $(date +%s) - start ))" "$units" "$name"
  else
    printf 'FAIL  fuzz_%s (log: %s)\n' "$name" "$log"
    grep -E 'ERROR: |SUMMARY: |FUZZ_ASSERT|runtime error|Test unit written' "$log" | head -n 20
    echo "  reproduce: $bin $crashes/<artifact>"
    fail=$((fail + 1))
  fi
done
echo "fuzz: $((n - fail))/$n targets ran clean for ${secs}s each"
[ "$fail" -eq 0 ]
