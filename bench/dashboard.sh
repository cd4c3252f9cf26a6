#!/usr/bin/env bash
# bench/dashboard.sh: what the dashboard costs, and whether it hides the race.
#
#  (a) CPU: the UI thread's own CPU time (getrusage(RUSAGE_THREAD), written at exit
#      when RACELAB_BENCH_UI names a file) over the run's wall time, for the default
#      dashboard (3 strategies x 4 threads, default pace and frame rate) in a 132x40
#      tmux pane.  Target: <= 5% of one core.  Also shown, for information: a
#      full-speed run, where the UI thread drains events as fast as workers make them.
#      Recording (--record, wall clock and virtual): the UI thread also copies every
#      byte curses writes to the recording.  Target: <= 5% of a core more than the
#      dashboard alone.
#  (b) The race: naive's loss rate (sales lost / committed) with the dashboard on
#      and with --no-ui at the same pacing (RACELAB_PACE_MS paces a --no-ui run like
#      the dashboard), mean of BENCH_REPEAT runs each.  Target: within 25%.
# Prints the figures and PASS/MISS against each target; exits 0 either way.
#
#   RACELAB=build/racelab bench/dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RACELAB=$(realpath "${RACELAB:-build/racelab}")
REPEAT=${BENCH_REPEAT:-3}
tmp=$(mktemp -d)
SOCK=$tmp/tmux         # a private tmux server, gone with $tmp
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT

if ! command -v tmux >/dev/null; then
	echo "dashboard: tmux is not installed; skipped"
	exit 0
fi

# dash FILE ENV ARGS: run the dashboard (ENV: VAR=value words; ARGS: racelab's) in a
# 132x40 tmux pane until the run finishes, quit, and leave the UI's figures in FILE.
dash() {
	local file=$1 env=$2 args=$3 i
	: >"$file"
	tmux -S "$SOCK" -f /dev/null new-session -d -s dash -x 132 -y 40 \
		-e LANG=C.UTF-8 -e LC_ALL=C.UTF-8 \
		"env TMPDIR='$tmp' RACELAB_BENCH_UI='$file' $env '$RACELAB' $args"
	for ((i = 0; i < 6000; i++)); do        # up to 10 minutes
		tmux -S "$SOCK" capture-pane -p -t dash 2>/dev/null | grep -q 'finished in' && break
		sleep 0.1
	done
	tmux -S "$SOCK" send-keys -t dash q
	for ((i = 0; i < 300; i++)); do
		if grep -q '^strategy=' "$file" 2>/dev/null; then
			tmux -S "$SOCK" kill-session -t dash 2>/dev/null || true
			return 0
		fi
		sleep 0.1
	done
	echo "dashboard: the dashboard did not finish ($env $args)" >&2
	exit 1
}

field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" "$2" | head -1; }

echo "== dashboard: CPU of the UI thread (target: <= 5% of one core)"
cpu_line() {
	local label=$1 target=$2 cpu wall frames pct verdict
	cpu=$(field ui_cpu_s "$tmp/cpu")
	wall=$(field wall_s "$tmp/cpu")
	frames=$(field frames "$tmp/cpu")
	pct=$(awk -v c="$cpu" -v w="$wall" 'BEGIN { printf "%.2f", (w > 0 ? 100 * c / w : 0) }')
	verdict="(information)"
	[ "$target" = yes ] && verdict=$(awk -v p="$pct" 'BEGIN { print ((p <= 5) ? "PASS" : "MISS") }')
	pct_now=$pct
	printf '  %-44s %6.3f s CPU / %6.2f s = %5.2f%% of a core, %4d frames  %s\n' \
		"$label:" "$cpu" "$wall" "$pct" "$frames" "$verdict"
}
dash "$tmp/cpu" "" ""
cpu_line "default pace and ops, 3 strategies x 4 threads" yes
base=$pct_now
for clock in wall virtual; do
	dash "$tmp/cpu" "" "--record $tmp/bench.cast --record-clock $clock"
	cpu_line "the same, --record (--record-clock $clock)" no
	awk -v p="$pct_now" -v b="$base" -v c="$clock" -v s="$(wc -c <"$tmp/bench.cast")" 'BEGIN {
		printf "  %-44s %+5.2f%% of a core more than without, %d bytes  %s\n",
		       "recording cost (" c " clock):", p - b, s, ((p - b <= 5) ? "PASS" : "MISS") }'
done
dash "$tmp/cpu" "RACELAB_PACE_MS=0" "-n 20000"
cpu_line "full speed, -n 20000" no

echo "== dashboard: naive's loss rate, dashboard vs --no-ui at the same pace (target: within 25%)"
# rate PACE ARGS: mean loss rate of naive over REPEAT runs, dashboard and --no-ui.
rate() {
	local pace=$1 args=$2 i ui=0 plain=0 c a json
	for ((i = 0; i < REPEAT; i++)); do
		dash "$tmp/rate" "RACELAB_PACE_MS=$pace" "-s naive $args"
		c=$(sed -n 's/^strategy=naive committed=\([0-9]*\) .*/\1/p' "$tmp/rate")
		a=$(sed -n 's/^strategy=naive .*anomalies=\([0-9]*\).*/\1/p' "$tmp/rate")
		ui=$(awk -v s="$ui" -v a="$a" -v c="$c" 'BEGIN { print s + (c > 0 ? a / c : 0) }')
		# shellcheck disable=SC2086
		json=$(TMPDIR=$tmp RACELAB_PACE_MS=$pace "$RACELAB" -s naive $args --json)
		c=$(printf '%s' "$json" | sed -n 's/.*"committed": \([0-9]*\).*/\1/p' | head -1)
		a=$(printf '%s' "$json" | sed -n 's/.*"anomalies": \([0-9]*\).*/\1/p' | head -1)
		plain=$(awk -v s="$plain" -v a="$a" -v c="$c" 'BEGIN { print s + (c > 0 ? a / c : 0) }')
	done
	awk -v u="$ui" -v p="$plain" -v n="$REPEAT" -v pace="$pace" -v args="$args" 'BEGIN {
		u /= n; p /= n
		d = p > 0 ? (u - p) / p : (u > 0 ? 1 : 0)
		printf "  pace %3d ms, %-12s dashboard %5.1f%%  --no-ui %5.1f%%  difference %+5.1f%%  %s\n",
		       pace, args ":", 100 * u, 100 * p, 100 * d, ((d <= 0.25 && d >= -0.25) ? "PASS" : "MISS")
	}'
}
rate 250 "-n 8"
rate 20 "-n 100"
rate 2 "-n 500"
rate 0 "-n 2000"
