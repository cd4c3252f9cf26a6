#!/usr/bin/env bash
# pg-test-server.sh - a throwaway PostgreSQL server for racelab's tests: private
# directory, Unix socket only (no TCP), trust auth, durability off, 250 connections.
#
# Usage:
#   scripts/pg-test-server.sh start DIR      initdb into DIR/data, start the server (log: DIR/log)
#                                            and print its libpq conninfo on one line:
#                                              host=DIR/sock port=5432 dbname=racelab user=racelab
#                                            (also saved in DIR/conninfo)
#   scripts/pg-test-server.sh stop DIR       stop the server (immediate) and rm -rf DIR;
#                                            fine if the server is already gone
#   scripts/pg-test-server.sh run CMD ARGS...
#                                            start a server in a fresh temp dir, export
#                                            RACELAB_TEST_PG=<conninfo>, run CMD, then stop the
#                                            server and remove the dir (also on failure or
#                                            Ctrl-C); exits with CMD's status.
#     - RACELAB_TEST_PG already set: no server is started, CMD runs against that one.
#     - no PostgreSQL binaries: with CI=true exit 1; otherwise warn and run CMD with
#       RACELAB_TEST_PG unset (the PostgreSQL tests then skip).
#
# Binaries: the highest /usr/lib/postgresql/*/bin, else initdb/pg_ctl on PATH
# (override with PG_BINDIR=/path/to/bin). PostgreSQL refuses to run as root, so
# when run as root the server runs as the 'postgres' user (or 'nobody') via runuser.
set -euo pipefail

prog=${0##*/}
PORT=5432           # no TCP: it only names the socket file DIR/sock/.s.PGSQL.5432 in a private
                    # dir, and 5432 lets 'host=DIR/sock' work without a port= too
ROLE=racelab
DB=racelab
MARKER=.racelab-pg-test  # written into DIR by start; stop only rm -rf's dirs that have it

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

# ---------------------------------------------------------------- binaries
BINDIR=
find_bindir() {  # sets BINDIR; returns 1 if no initdb/pg_ctl/psql can be found
  local d best='' bestv=-1 v
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] || return 1
    BINDIR=$PG_BINDIR
  else
    for d in /usr/lib/postgresql/*/bin /usr/pgsql-*/bin; do
      if [ ! -x "$d/initdb" ] || [ ! -x "$d/pg_ctl" ]; then continue; fi
      v=${d%/bin}; v=${v##*[/-]}; v=${v%%.*}
      case $v in ''|*[!0-9]*) v=0 ;; esac
      if [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v; fi
    done
    if [ -n "$best" ]; then
      BINDIR=$best
    elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
      BINDIR=$(dirname "$(command -v initdb)")
    else
      return 1
    fi
  fi
  [ -x "$BINDIR/psql" ] || command -v psql >/dev/null 2>&1 || return 1
}
psql_bin() { if [ -x "$BINDIR/psql" ]; then echo "$BINDIR/psql"; else command -v psql; fi; }

# ---------------------------------------------------------------- running as the server's user
PGUSER_OS=
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then PGUSER_OS=postgres
  elif id nobody >/dev/null 2>&1; then PGUSER_OS=nobody
  fi
fi

# Run a command as the user that owns the server, from /, with libpq's environment
# variables cleared so that a user's PGHOST/PGOPTIONS/... cannot redirect our own calls.
as_pg() {
  local clean=(env -u PGHOST -u PGHOSTADDR -u PGPORT -u PGDATABASE -u PGUSER -u PGOPTIONS
               -u PGSERVICE -u PGSERVICEFILE -u PGPASSFILE -u PGSSLMODE -u PGDATA -u PGTZ)
  if [ -n "$PGUSER_OS" ]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd / && runuser -u "$PGUSER_OS" -- "${clean[@]}" "$@")
    else
      (cd / && su "$PGUSER_OS" -s /bin/sh -c "$(printf '%q ' "${clean[@]}" "$@")")
    fi
  else
    (cd / && "${clean[@]}" "$@")
  fi
}

# libpq conninfo value: quoted only if needed
cq() {
  case $1 in
    *[[:space:]\'\\]*|'') local v=${1//\\/\\\\}; printf "'%s'" "${v//\'/\\\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}

alive() {  # is process $1 running? (a zombie is not: some container inits reap them late)
  local st
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
    [ "$st" != Z ] || return 1
  fi
}

server_pid() {  # pid of the postmaster of DIR/data, if it is alive
  local f=$1/data/postmaster.pid pid
  [ -r "$f" ] || return 1
  read -r pid <"$f" || return 1
  case $pid in ''|*[!0-9]*) return 1 ;; esac
  alive "$pid" || return 1
  echo "$pid"
}

# ---------------------------------------------------------------- start
cmd_start() {
  local dir=$1 conninfo sock
  find_bindir || die "PostgreSQL server binaries (initdb, pg_ctl) not found; run scripts/install-deps.sh (or set PG_BINDIR)"
  [ "$(id -u)" -ne 0 ] || [ -n "$PGUSER_OS" ] || die "running as root but there is no 'postgres' (or 'nobody') user to run the server as"

  # Unix socket paths are limited to 107 bytes.
  sock_ok() { [ $(( ${#1} + ${#PORT} + 10 )) -le 107 ] || die "DIR path too long for a Unix socket: $1/.s.PGSQL.$PORT (use a shorter DIR, e.g. under /tmp)"; }
  case $dir in /*) sock_ok "$dir/sock" ;; *) sock_ok "$PWD/$dir/sock" ;; esac
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  sock=$dir/sock
  sock_ok "$sock"
  if [ -e "$dir/data" ] || [ -e "$dir/$MARKER" ]; then
    [ -e "$dir/$MARKER" ] || die "$dir/data exists and was not made by $prog"
  elif [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not empty"
  fi
  : >"$dir/$MARKER"
  conninfo="host=$(cq "$sock") port=$PORT dbname=$(cq "$DB") user=$(cq "$ROLE")"

  if [ -n "$PGUSER_OS" ]; then
    chown "$PGUSER_OS" "$dir" "$dir/$MARKER"
    chmod 755 "$dir"
    # the server's user must reach DIR: every parent must be traversable by it
    as_pg test -w "$dir" ||
      die "user $PGUSER_OS cannot reach $dir (a parent directory is not traversable); use a DIR under /tmp"
  fi

  if server_pid "$dir" >/dev/null; then
    say "server already running in $dir"
    echo "$conninfo" >"$dir/conninfo"
    echo "$conninfo"
    return 0
  fi

  if [ ! -e "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    if ! as_pg "$BINDIR/initdb" -D "$dir/data" -U "$ROLE" -A trust --auth-local=trust \
           -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      die "initdb failed (log above, also in $dir/initdb.log)"
    fi
    as_pg mkdir -p "$sock"
    cat <<EOF | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null

# --- racelab throwaway test server ($prog) ---
listen_addresses = ''
unix_socket_directories = '$(printf '%s' "$sock" | sed "s/'/''/g")'
port = $PORT
max_connections = 250          # racelab: up to 3 x 64 workers + control connections
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
EOF
  fi

  if ! as_pg "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 -s start >/dev/null 2>"$dir/pg_ctl.err"; then
    cat "$dir/pg_ctl.err" >&2
    tail -n 20 "$dir/log" >&2 2>/dev/null || true
    die "pg_ctl start failed (server log: $dir/log)"
  fi

  if ! as_pg "$(psql_bin)" -X -q -v ON_ERROR_STOP=1 \
         -d "host=$(cq "$sock") port=$PORT dbname=postgres user=$(cq "$ROLE")" \
         -c "CREATE DATABASE $DB OWNER $ROLE" >/dev/null 2>"$dir/psql.err"; then
    grep -q 'already exists' "$dir/psql.err" || { cat "$dir/psql.err" >&2; die "could not create database $DB"; }
  fi
  rm -f "$dir/pg_ctl.err" "$dir/psql.err"
  echo "$conninfo" >"$dir/conninfo"
  echo "$conninfo"
}

# ---------------------------------------------------------------- stop
cmd_stop() {
  local dir=$1 pid
  [ -e "$dir" ] || return 0
  [ -d "$dir" ] || die "$dir is not a directory"
  if [ ! -e "$dir/$MARKER" ] && [ -n "$(ls -A "$dir")" ]; then
    die "refusing to remove $dir: it was not made by '$prog start'"
  fi
  if pid=$(server_pid "$dir"); then
    if find_bindir; then
      as_pg "$BINDIR/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 || true
    fi
    # pg_ctl missing or failed: signal the postmaster directly (SIGQUIT = immediate shutdown)
    if alive "$pid"; then
      kill -QUIT "$pid" 2>/dev/null || true
      for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
      if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
  fi
  rm -rf "$dir"
}

# ---------------------------------------------------------------- run
cmd_run() {
  [ $# -gt 0 ] || usage
  if [ -n "${RACELAB_TEST_PG:-}" ]; then
    say "RACELAB_TEST_PG is set; using that server"
    exec "$@"
  fi
  if ! find_bindir; then
    if [ "${CI:-}" = true ]; then
      die "CI=true but the PostgreSQL server binaries (initdb, pg_ctl) are not installed; run scripts/install-deps.sh"
    fi
    say "warning: PostgreSQL server binaries (initdb, pg_ctl) not found; the PostgreSQL tests will be skipped (scripts/install-deps.sh installs them)"
    unset RACELAB_TEST_PG
    exec "$@"
  fi

  local dir status=0
  dir=$(mktemp -d /tmp/racelab-pg.XXXXXX)
  RUN_DIR=$dir
  trap 'cmd_stop "$RUN_DIR" || true' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  RACELAB_TEST_PG=$(cmd_start "$dir")
  export RACELAB_TEST_PG
  "$@" || status=$?
  exit "$status"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
  stop)  [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
  run)   shift; cmd_run "$@" ;;
  -h|--help) usage ;;
  *) usage ;;
esac
