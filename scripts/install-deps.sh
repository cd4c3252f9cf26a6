#!/usr/bin/env bash
# install-deps.sh - install what racelab needs to build and test: a C compiler with
# its sanitizer runtimes (gcc and clang), pkg-config, SQLite, libpq and ncursesw
# headers, a PostgreSQL server for the tests, tmux, procps (ps), mandoc/man-db and
# perl; Django and psycopg2 for tests/django.t, which runs the article's Django code
# as the reference; for the recording tests asciinema, rsvg-convert (librsvg2-bin),
# and svg-term-cli from the npm registry into scripts/node/ (with Debian's nodejs
# and npm).
# Used by the Makefile (when `pkg-config --exists ncursesw sqlite3 libpq` fails)
# and by .ci/run.
#
# Usage: scripts/install-deps.sh           install whatever is missing (apt systems)
#        scripts/install-deps.sh --check   only report what is missing; exit 1 if anything is
#
# Idempotent: packages already installed are detected with dpkg-query and nothing
# touches the network (no apt-get update) unless something is actually missing.
# On systems without apt-get it prints the package names for apt, dnf and brew
# and exits 1 (0 if everything racelab needs is already found there).
set -euo pipefail

prog=${0##*/}
check_only=0
case "${1:-}" in
  "") ;;
  --check) check_only=1 ;;
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) echo "$prog: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

say() { printf '%s: %s\n' "$prog" "$*" >&2; }

# Packages needed on Debian/Ubuntu whatever the release.
APT_PKGS=(build-essential pkg-config libsqlite3-dev libpq-dev libncurses-dev
          postgresql postgresql-contrib tmux mandoc man-db perl clang locales
          python3-django python3-psycopg2 asciinema librsvg2-bin nodejs sqlite3 procps)

# svg-term-cli (renders an asciicast to SVG), pinned, installed next to this script.
SVG_TERM_VERSION=2.1.1
NODE_DIR="$(cd "$(dirname "$0")" && pwd)/node"
svg_term_ok() { [ -x "$NODE_DIR/node_modules/.bin/svg-term" ]; }
install_svg_term() {
  svg_term_ok && return 0
  say "installing svg-term-cli@$SVG_TERM_VERSION into $NODE_DIR (npm)"
  mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
    "svg-term-cli@$SVG_TERM_VERSION" >&2
}

print_other_systems() {
  cat >&2 <<'EOF'
racelab needs these packages:
  apt:  build-essential pkg-config libsqlite3-dev libpq-dev libncurses-dev postgresql postgresql-contrib tmux mandoc man-db perl clang libclang-rt-N-dev locales libasan8 libtsan2 libubsan1 sqlite3 procps
        python3-django python3-psycopg2
        (N = your clang major version; libasan/libtsan sonames follow your gcc version)
  dnf:  gcc make pkgconf-pkg-config sqlite-devel sqlite libpq-devel ncurses-devel postgresql-server postgresql-contrib tmux mandoc man-db perl clang compiler-rt libasan libtsan libubsan procps-ng
        python3-django python3-psycopg2
  brew: pkgconf sqlite libpq ncurses postgresql@17 tmux mandoc llvm python
        (then: python3 -m pip install 'django<4' psycopg2)
        (then: export PKG_CONFIG_PATH="$(brew --prefix)/opt/libpq/lib/pkgconfig:$(brew --prefix)/opt/sqlite/lib/pkgconfig:$(brew --prefix)/opt/ncurses/lib/pkgconfig")
EOF
}

# ---------------------------------------------------------------- non-apt systems
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for c in cc make pkg-config tmux perl; do
    command -v "$c" >/dev/null 2>&1 || missing+=("command:$c")
  done
  command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null \
    || compgen -G '/usr/pgsql-*/bin/initdb' >/dev/null || missing+=("command:initdb (PostgreSQL server)")
  python3 -c 'import django, psycopg2' >/dev/null 2>&1 || missing+=("python3 modules django, psycopg2")
  if command -v pkg-config >/dev/null 2>&1; then
    for m in ncursesw sqlite3 libpq; do
      pkg-config --exists "$m" || missing+=("pkg-config:$m")
    done
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    say "no apt-get here, but everything racelab needs was found (pkg-config modules, tools, initdb)"
    exit 0
  fi
  say "no apt-get on this system; missing: ${missing[*]}"
  say "install them with your package manager:"
  print_other_systems
  exit 1
fi

# ---------------------------------------------------------------- apt systems
installed() {  # is package $1 installed (not just known / half-configured)?
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

has_candidate() {  # does apt know an installable version of $1?
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" {print $2; exit}')
  [ -n "$c" ] && [ "$c" != "(none)" ]
}

major_of() {  # Debian version string of package $1 (installed, else candidate) -> upstream major
  local v
  v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true)
  if ! installed "$1" || [ -z "$v" ]; then
    v=$(apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" {print $2; exit}')
  fi
  [ -n "$v" ] && [ "$v" != "(none)" ] || return 1
  v=${v#*:}                    # strip the epoch: 4:12.2.0-3 -> 12.2.0-3
  printf '%s\n' "${v%%[.~+-]*}"  # 12
}

# Package names that depend on the release. Sets DYN_PKGS and DYN_COMPLETE
# (0 when apt's cache did not know enough yet, e.g. before the first apt-get update).
resolve_dynamic() {
  DYN_PKGS=()
  DYN_COMPLETE=1
  # Debian's nodejs comes without npm; NodeSource's brings its own (and conflicts
  # with Debian's npm package).
  command -v npm >/dev/null 2>&1 || DYN_PKGS+=(npm)
  local gccv clangv p
  # gcc's sanitizer runtimes (libasan8 libtsan2 libubsan1 on Debian 12): whatever
  # libgcc-N-dev depends on, so the names follow the gcc release and the architecture.
  if command -v gcc >/dev/null 2>&1 && gccv=$(gcc -dumpversion 2>/dev/null); then
    gccv=${gccv%%.*}
  else
    gccv=$(major_of gcc || true)
  fi
  if [ -n "$gccv" ]; then
    mapfile -t p < <(apt-cache depends "libgcc-$gccv-dev" 2>/dev/null |
      awk '$1 ~ /^\|?Depends:$/ && $2 ~ /^lib(asan|tsan|ubsan)[0-9]+$/ {print $2}' | sort -u)
    if [ ${#p[@]} -gt 0 ]; then DYN_PKGS+=("${p[@]}"); else DYN_COMPLETE=0; fi
  else
    DYN_COMPLETE=0
  fi
  # clang's sanitizer runtime: libclang-rt-N-dev on newer releases (Debian 12:
  # libclang-rt-14-dev); older ones ship it inside libclang-common-N-dev, which clang-N
  # pulls in anyway. Only added if apt has it.
  clangv=$(major_of clang || true)
  if [ -n "$clangv" ]; then
    if installed "libclang-rt-$clangv-dev" || has_candidate "libclang-rt-$clangv-dev"; then
      DYN_PKGS+=("libclang-rt-$clangv-dev")
    fi
  else
    DYN_COMPLETE=0
  fi
}

compute_missing() {
  MISSING=()
  local p
  for p in "${APT_PKGS[@]}" "${DYN_PKGS[@]}"; do
    installed "$p" || MISSING+=("$p")
  done
}

resolve_dynamic
compute_missing

if [ ${#MISSING[@]} -eq 0 ] && [ "$DYN_COMPLETE" = 1 ] && ! svg_term_ok && [ "$check_only" = 0 ]; then
  install_svg_term
fi
if [ ${#MISSING[@]} -eq 0 ] && [ "$DYN_COMPLETE" = 1 ] && svg_term_ok; then
  say "all dependencies are installed (${#APT_PKGS[@]} + ${#DYN_PKGS[@]} packages: ${DYN_PKGS[*]})"
  exit 0
fi

if [ "$check_only" = 1 ]; then
  if [ ${#MISSING[@]} -gt 0 ]; then
    say "missing packages: ${MISSING[*]}"
  fi
  svg_term_ok || say "missing: svg-term-cli (npm) in $NODE_DIR"
  if [ "$DYN_COMPLETE" = 0 ]; then
    say "could not work out the sanitizer runtime package names yet (apt's package lists are empty or gcc/clang unknown); run $0 without --check"
  fi
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    say "not root and sudo is missing; as root run: $0"
    exit 1
  fi
fi

say "missing: ${MISSING[*]:-(release-specific names not known yet)}; running apt-get update"
"${SUDO[@]}" apt-get update
resolve_dynamic            # now with fresh lists: names for this release
compute_missing
if [ ${#MISSING[@]} -gt 0 ]; then
  say "installing: ${MISSING[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${MISSING[@]}"
fi

# Second pass: after gcc/clang are installed the versioned names are certain.
resolve_dynamic
compute_missing
if [ ${#MISSING[@]} -gt 0 ]; then
  say "installing: ${MISSING[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${MISSING[@]}"
fi

# C.UTF-8 is built into glibc >= 2.35 (Debian 12, Ubuntu 22.04); older ones need it generated.
if ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
  if command -v locale-gen >/dev/null 2>&1 && [ -f /etc/locale.gen ]; then
    say "generating the C.UTF-8 locale"
    "${SUDO[@]}" sed -i -E 's/^# *(C\.UTF-8 UTF-8)/\1/' /etc/locale.gen
    grep -qE '^C\.UTF-8 UTF-8' /etc/locale.gen || echo 'C.UTF-8 UTF-8' | "${SUDO[@]}" tee -a /etc/locale.gen >/dev/null
    "${SUDO[@]}" locale-gen >/dev/null
  else
    say "warning: no C.UTF-8 locale and no locale-gen to make one"
  fi
fi

install_svg_term || say "warning: npm could not install svg-term-cli"

resolve_dynamic
compute_missing
if [ ${#MISSING[@]} -gt 0 ] || [ "$DYN_COMPLETE" = 0 ] || ! svg_term_ok; then
  svg_term_ok || MISSING+=("svg-term-cli (npm)")
  say "still missing after install: ${MISSING[*]:-sanitizer runtime names unresolved}"
  exit 1
fi
say "all dependencies are installed"
