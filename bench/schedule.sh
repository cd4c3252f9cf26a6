#!/usr/bin/env bash
# bench/schedule.sh: how long a 10,000-step seeded schedule takes on SQLite (the
# target: <= 2 s).  A scheduled run moves one step at a time, so every step is a
# hand-over between threads; this is the price of a repeatable interleaving.
# Times the whole command (setup and checks included), median of BENCH_REPEAT runs,
# for naive (no lock waits) and locked (every other step or so waits at BEGIN
# IMMEDIATE and is probed after each later step).  Prints figures; asserts nothing.
#
#   RACELAB=build/racelab bench/schedule.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RACELAB=${RACELAB:-build/racelab}
REPEAT=${BENCH_REPEAT:-5}
SEED=${BENCH_SEED:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. bench/lib.sh

# run STRATEGY THREADS OPS: 10,000 steps when THREADS x OPS x steps-per-op = 10,000.
run() {
	local s=$1 t=$2 n=$3 i t0 t1 steps waits
	: >"$tmp/times"
	for ((i = 0; i < REPEAT; i++)); do
		t0=$(date +%s%N)
		"$RACELAB" product -s "$s" -t "$t" -n "$n" --schedule random --seed "$SEED" \
			--no-ui >"$tmp/out"
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >>"$tmp/times"
	done
	# A step that waited has two lines: "<waiting ...>", then "<... completed>".
	steps=$(grep -c '^step t[0-9]*\.[a-z]*: ' "$tmp/out" || true)
	waits=$(grep -c '<\.\.\. completed>' "$tmp/out" || true)
	printf '%-7s %d threads x %4d ops: %5d steps, %4d lock waits: %6.3f s\n' "$s" "$t" "$n" \
		$((steps - waits)) "$waits" "$(median <"$tmp/times" | awk '{print $1 / 1e6}')"
}

echo "scheduler: a seeded --schedule random --seed $SEED on SQLite, median of $REPEAT runs" \
	"(target: 10,000 steps <= 2 s)"
run naive 4 1250
run locked 4 625
