#!/usr/bin/env bash
# bench/procs.sh: --procs against threads, per backend and strategy: the same free
# run with workers as processes and as threads, median of BENCH_REPEAT runs
# (target: processes >= 0.9x threads).  Also naive's loss rate as --latency grows.
set -euo pipefail
cd "$(dirname "$0")/.."
RACELAB=${RACELAB:-build/racelab}
THREADS=${BENCH_THREADS:-4}
REPEAT=${BENCH_REPEAT:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. bench/lib.sh

# procs BACKEND WHERE OPS
procs() {
	local backend=$1 where=$2 ops=$3 s i mode
	printf '\n--procs against threads: %s, %d workers x %d operations, median of %d (ops/s)\n' \
		"$backend" "$THREADS" "$ops" "$REPEAT"
	printf '%-8s %12s %12s %8s\n' strategy threads processes ratio
	for s in naive atomic locked; do
		for mode in threads procs; do
			: >"$tmp/$mode"
			for ((i = 0; i < REPEAT; i++)); do
				"$RACELAB" product -b "$backend" -d "$where" -s "$s" -t "$THREADS" -n "$ops" \
					$([ $mode = procs ] && echo --procs) --json | json_ops >>"$tmp/$mode"
			done
		done
		awk -v s="$s" -v t="$(median <"$tmp/threads")" -v p="$(median <"$tmp/procs")" \
			'BEGIN { printf "%-8s %12.0f %12.0f %7.2fx\n", s, t, p, p / t }'
	done
}

mkdir -p "$tmp/sqlite"
procs sqlite "$tmp/sqlite" "${BENCH_SQLITE_OPS:-5000}"
[ -n "${RACELAB_TEST_PG:-}" ] && procs postgres "$RACELAB_TEST_PG" "${BENCH_PG_OPS:-2000}"

echo
echo "naive's loss as the database moves away (--latency sweep, sqlite, 4 threads x 200)"
"$RACELAB" product -s naive,atomic,locked -d "$tmp/sqlite" --latency 0,1,5,20 -n 200 |
	sed -n '/^latency/,/^$/p'
