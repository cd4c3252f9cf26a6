#!/usr/bin/env bash
# fuzz.sh - run racelab's libFuzzer targets one after another (make fuzz).
#
# Usage: scripts/fuzz.sh BUILD SECONDS NAME...
#   Runs BUILD/fuzz/NAME for SECONDS from the seed corpus tests/fuzz/corpus/NAME/;
#   the inputs it finds go to BUILD/corpus/NAME/ (the seeds in the tree are never
#   written), a crash to BUILD/crash-NAME-*, the fuzzer's log to BUILD/fuzz-NAME.log.
#   Prints one line per target: executions, corpus size, and the outcome.
#   Exits 1 if any target crashed (or its sanitizers reported), else 0.
set -euo pipefail

[ $# -ge 3 ] || { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
build=$1 seconds=$2
shift 2
failed=0
printf '%-10s %12s %8s %8s  %s\n' target executions exec/s corpus outcome
for name in "$@"; do
  bin=$build/fuzz/$name log=$build/fuzz-$name.log
  mkdir -p "$build/corpus/$name"
  rc=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/crash-$name-" "$build/corpus/$name" "tests/fuzz/corpus/$name" \
      >"$log" 2>&1 || rc=$?
  execs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log" | tail -n 1)
  rate=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$log" | tail -n 1)
  size=$(find "$build/corpus/$name" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    outcome="no crash"
  else
    outcome="FAILED (exit $rc): $(grep -m1 -E 'ERROR|runtime error|deadly signal|==[0-9]+==' "$log" || true)"
    failed=1
  fi
  printf '%-10s %12s %8s %8s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "$size" "$outcome"
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    ls "$build"/crash-"$name"-* 2>/dev/null >&2 || true
  fi
done
exit "$failed"
