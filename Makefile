# racelab: a plain GNU Makefile.
#
#   make            build build/racelab (installs missing libraries on Debian)
#   make demo       build and run racelab
#   make test       build and run the whole test suite (starts its own PostgreSQL)
#   make test-asan  the suite under AddressSanitizer + UBSan (build-asan/)
#   make test-tsan  the suite under ThreadSanitizer (build-tsan/)
#   make bench      throughput figures beside bare loops of the same SQL
#   make stress     every strategy of every scenario, 100 runs x 8 threads x 500 ops
#                   per backend: safe ones never lose, naive always does (STRESS_RUNS=)
#   make fuzz       each libFuzzer target in tests/fuzz/ for FUZZ_SECONDS (60) (clang)
#   make install    PREFIX=/usr/local DESTDIR=

CC ?= cc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/racelab
BUILD ?= build
PKG_CONFIG ?= pkg-config
PKGS = ncursesw sqlite3 libpq

CFLAGS ?= -O2 -g
# CI adds WERROR=-Werror; sanitizer targets set SAN.
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -pthread $(SAN) \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
override CFLAGS += -DRACELAB_DATADIR=\"$(DATADIR)\"
override LDFLAGS += -pthread $(SAN)
LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm

# app/ is the program (main, the command line, the lessons) above core/, demos/
# and viz/; everything but main.c is linked into the tests too.
LIB_SRC = $(wildcard core/*.c demos/*.c viz/*.c app/*.c)
LIB_SRC := $(filter-out app/main.c,$(LIB_SRC))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(wildcard tests/*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%.t)
FUZZ_SRC = $(wildcard tests/fuzz/*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps demo test check test-asan test-tsan bench stress fuzz fuzz-build install \
	uninstall clean

all: deps
	@$(MAKE) --no-print-directory $(BUILD)/racelab

# On a fresh machine the libraries may be missing: install them first.  Building
# needs only the libraries: if something for the tests alone could not be
# installed (svg-term-cli, when the npm registry cannot be reached), the script
# says so and the build goes on; make test asks for everything.
deps:
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || scripts/install-deps.sh || \
		$(PKG_CONFIG) --exists $(PKGS)

$(BUILD)/racelab: $(BUILD)/app/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%.t: $(BUILD)/tests/%.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A libFuzzer target: the library is built with fuzzer-no-link (make fuzz sets SAN).
$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

demo: all
	$(BUILD)/racelab

# Unit tests are C programs (build/tests/*.t); end-to-end tests are shell scripts
# (tests/*.t).  Both speak TAP to prove.  pg-test-server.sh starts a throwaway
# PostgreSQL for the duration (or uses $$RACELAB_TEST_PG if set).
test check: deps
	@scripts/install-deps.sh --check >/dev/null 2>&1 || scripts/install-deps.sh
	@$(MAKE) --no-print-directory $(BUILD)/racelab $(TEST_BIN)
	RACELAB=$(CURDIR)/$(BUILD)/racelab RACELAB_BUILD=$(CURDIR)/$(BUILD) \
		scripts/pg-test-server.sh run prove -e '' $(PROVE_FLAGS) $(TEST_BIN) tests/*.t

SAN_ASAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_TSAN = -fsanitize=thread
SAN_FUZZ = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

# tests/django.t's Django side is pure Python: a sanitized racelab adds nothing to it
# that races.t does not already run, so the sanitizer suites skip it (by name).
SAN_SKIP_DJANGO = RACELAB_SKIP_DJANGO="sanitizer build; plain make test runs it"

test-asan:
	$(SAN_SKIP_DJANGO) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		$(MAKE) --no-print-directory BUILD=build-asan SAN="$(SAN_ASAN)" CFLAGS="-O1 -g" test

test-tsan:
	$(SAN_SKIP_DJANGO) TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		$(MAKE) --no-print-directory BUILD=build-tsan SAN="$(SAN_TSAN)" CFLAGS="-O1 -g" test

bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/racelab $(BENCH_BIN)
	RACELAB=$(CURDIR)/$(BUILD)/racelab RACELAB_BUILD=$(CURDIR)/$(BUILD) \
		scripts/pg-test-server.sh run bench/run.sh

# Every tests/fuzz/NAME.c, built with clang, runs FUZZ_SECONDS from the seed corpus
# tests/fuzz/corpus/NAME/ (new inputs go to build-fuzz/corpus/NAME, crashes to
# build-fuzz/crash-NAME-*).
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang SAN="$(SAN_FUZZ)" \
		CFLAGS="-O1 -g" fuzz-build
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_SRC:tests/fuzz/%.c=%)

fuzz-build: $(FUZZ_BIN)

stress: deps
	@$(MAKE) --no-print-directory $(BUILD)/racelab
	RACELAB=$(CURDIR)/$(BUILD)/racelab scripts/pg-test-server.sh run scripts/stress.pl

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/lessons
	install -m 755 $(BUILD)/racelab $(DESTDIR)$(BINDIR)/racelab
	install -m 644 docs/racelab.1 $(DESTDIR)$(MANDIR)/man1/racelab.1
	install -m 644 lessons/*.md $(DESTDIR)$(DATADIR)/lessons
	install -d $(DESTDIR)$(DATADIR)/lessons/traces
	install -m 644 lessons/traces/*.txt $(DESTDIR)$(DATADIR)/lessons/traces
	install -d $(DESTDIR)$(DATADIR)/specs/matrix
	install -m 644 specs/*.spec $(DESTDIR)$(DATADIR)/specs
	install -m 644 specs/matrix/*.spec $(DESTDIR)$(DATADIR)/specs/matrix

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/racelab $(DESTDIR)$(MANDIR)/man1/racelab.1
	rm -rf $(DESTDIR)$(DATADIR)/lessons $(DESTDIR)$(DATADIR)/specs

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
