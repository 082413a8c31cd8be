#!/usr/bin/env bash
# Runs each unit-test binary with a time bound; prints a summary and fails if any failed.
set -u
fail=0; n=0
for t in "$@"; do
  n=$((n+1))
  if timeout 120 "$t" > "$t.log" 2>&1; then
    printf 'ok    %s\n' "$t"
  else
    printf 'FAIL  %s\n' "$t"; tail -n 40 "$t.log"; fail=$((fail+1))
  fi
done
echo "unit: $((n-fail))/$n passed"
[ "$fail" -eq 0 ]
