#!/usr/bin/env bash
# bench/room.sh: racelab room's delay from a student's key press to the projector
# showing the step, for a full room: BENCH_ROOM_STUDENTS (30) students, each its own
# process on its own connections, taking BENCH_ROOM_OPS (10) sales each, one step
# every BENCH_ROOM_PACE ms (100: a class pressing keys far faster than people do);
# the projector on a 132x40 tmux pane.  Each student stamps its key press with the
# monotonic clock (the same machine's); the projector adds the delay once the step
# is drawn (RACELAB_ROOM_LAG).  Target: p99 <= 200 ms.  Prints PASS/MISS; exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
RACELAB=$(realpath "${RACELAB:-build/racelab}")
STUDENTS=${BENCH_ROOM_STUDENTS:-30}
OPS=${BENCH_ROOM_OPS:-10}
PACE=${BENCH_ROOM_PACE:-100}
if [ -z "${RACELAB_TEST_PG:-}" ]; then
	echo "room: skipped (RACELAB_TEST_PG is unset; make bench starts a server)"; exit 0
fi
if ! command -v tmux >/dev/null; then
	echo "room: tmux is not installed; skipped"; exit 0
fi
tmp=$(mktemp -d)
SOCK=$tmp/tmux
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	tmux -S "$SOCK" kill-server 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

pane() { tmux -S "$SOCK" capture-pane -p -t room 2>/dev/null || true; }
wait_pane() {   # wait_pane REGEX SECONDS
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		if pane | grep -Eq "$1"; then return 0; fi
		sleep 0.1
	done
	echo "room: timed out waiting for /$1/; the pane shows:"; pane; return 1
}

tmux -S "$SOCK" -f /dev/null new-session -d -s room -x 132 -y 40 -e LANG=C.UTF-8 \
	-e LC_ALL=C.UTF-8 "RACELAB_ROOM_LAG=1 '$RACELAB' room open -d '$RACELAB_TEST_PG' -n $OPS \
	2>'$tmp/lag'; echo room-exit=\$?; sleep 600"
wait_pane 'racelab room [0-9]{6}' 30
code=$(pane | grep -Eo 'racelab room [0-9]{6}' | head -1 | awk '{print $3}')
for ((i = 1; i <= STUDENTS; i++)); do
	"$RACELAB" room join -d "$RACELAB_TEST_PG" "$code" --name "student$i" --auto \
		--pace "$PACE" </dev/null >/dev/null 2>&1 &
	pids+=($!)
done
wait_pane "$STUDENTS students here" 60
tmux -S "$SOCK" send-keys -t room s
wait_pane 'round 1 \(naive\) is over' 300
tmux -S "$SOCK" send-keys -t room q
sleep 0.2
tmux -S "$SOCK" send-keys -t room y
wait_pane 'room-exit=' 30
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
line=$(grep 'key to projector' "$tmp/lag" || true)
echo "room: $STUDENTS students x $OPS sales, a step every $PACE ms each, projector 132x40"
echo "room: ${line:-no figures}"
p99=$(echo "$line" | sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p')
if [ -n "$p99" ] && awk -v p="$p99" 'BEGIN { exit !(p <= 200) }'; then
	echo "room: p99 $p99 ms <= 200 ms: PASS"
else
	echo "room: p99 ${p99:-?} ms > 200 ms: MISS"
fi
