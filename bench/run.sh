#!/usr/bin/env bash
# bench/run.sh: racelab's figures, printed (make bench).  Nothing here asserts a
# time: the numbers are for people to read and for the release notes.
#
#  1. harness overhead: racelab's free-run ops/s per strategy beside bench/bare, a
#     bare C loop of the same SQL with the same threads (target: >= 0.95x);
#  2. on PostgreSQL (when RACELAB_TEST_PG is set, as make bench does), the same,
#     plus pgbench running the atomic UPDATE with the same number of clients
#     (target: atomic >= 0.9x pgbench);
#  3. the dashboard's and the scheduler's own benchmarks, when present.
set -euo pipefail
cd "$(dirname "$0")/.."
RACELAB=${RACELAB:-build/racelab}
BUILD=${RACELAB_BUILD:-build}
BARE=$BUILD/bench/bare
THREADS=${BENCH_THREADS:-4}
REPEAT=${BENCH_REPEAT:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. bench/lib.sh

# overhead BACKEND WHERE OPS
overhead() {
	local backend=$1 where=$2 ops=$3 s i rl bare
	printf '\n%s, %d threads x %d operations, median of %d runs (ops/s)\n' \
		"$backend" "$THREADS" "$ops" "$REPEAT"
	printf '%-8s %12s %12s %8s\n' strategy racelab bare ratio
	for s in naive atomic locked; do
		: >"$tmp/rl"; : >"$tmp/bare"
		for ((i = 0; i < REPEAT; i++)); do
			"$RACELAB" product -b "$backend" -d "$where" -s "$s" -t "$THREADS" -n "$ops" \
				--json | json_ops >>"$tmp/rl"
			"$BARE" "$backend" "$where" "$s" "$THREADS" "$ops" | awk '{print $2}' >>"$tmp/bare"
		done
		rl=$(median <"$tmp/rl"); bare=$(median <"$tmp/bare")
		printf '%-8s %12.0f %12.0f %7.2fx\n' "$s" "$rl" "$bare" "$(ratio "$rl" "$bare")"
	done
}

echo "racelab benchmark on $(nproc) cores, $(uname -sr)"
mkdir -p "$tmp/sqlite"
overhead sqlite "$tmp/sqlite" "${BENCH_SQLITE_OPS:-5000}"

if [ -n "${RACELAB_TEST_PG:-}" ]; then
	overhead postgres "$RACELAB_TEST_PG" "${BENCH_PG_OPS:-2000}"
	# pgbench: the atomic UPDATE, same clients, on a table of its own.
	schema=racelab_pgbench_$$
	psql -qX "$RACELAB_TEST_PG" -c "CREATE SCHEMA $schema;
		CREATE TABLE $schema.products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
		number_sold INTEGER NOT NULL); INSERT INTO $schema.products VALUES (1, 'Widget', 0)"
	echo 'UPDATE products SET number_sold = number_sold + 1 WHERE id = 1;' >"$tmp/atomic.sql"
	: >"$tmp/pgb"
	for ((i = 0; i < REPEAT; i++)); do
		PGOPTIONS="-c search_path=$schema" pgbench -n -f "$tmp/atomic.sql" -c "$THREADS" \
			-j "$THREADS" -t "${BENCH_PG_OPS:-2000}" "$RACELAB_TEST_PG" 2>/dev/null |
			awk '/^tps/ {print $3}' >>"$tmp/pgb"
	done
	psql -qX "$RACELAB_TEST_PG" -c "SET client_min_messages TO warning; DROP SCHEMA $schema CASCADE"
	pgb=$(median <"$tmp/pgb")
	: >"$tmp/rl"
	for ((i = 0; i < REPEAT; i++)); do
		"$RACELAB" product -b postgres -d "$RACELAB_TEST_PG" -s atomic -t "$THREADS" \
			-n "${BENCH_PG_OPS:-2000}" --json | json_ops >>"$tmp/rl"
	done
	rl=$(median <"$tmp/rl")
	printf '\npgbench, the atomic UPDATE, %d clients: %.0f tps; racelab atomic %.0f ops/s: %.2fx\n' \
		"$THREADS" "$pgb" "$rl" "$(ratio "$rl" "$pgb")"
else
	echo; echo "PostgreSQL: skipped (RACELAB_TEST_PG is unset; make bench starts a server)"
fi

for b in bench/schedule.sh bench/dashboard.sh bench/procs.sh bench/room.sh; do
	if [ -x "$b" ]; then echo; RACELAB=$RACELAB "$b"; fi
done
