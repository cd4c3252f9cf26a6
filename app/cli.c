/*
 * cli.c: parsing racelab's command line (DESIGN.md, "Command line").
 * Every refusal names the bad value and what is allowed, in one line.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/sched.h"
#include "orders.h"


const char cli_usage[] =
"usage: racelab [SCENARIO] [OPTIONS]   run a demo (SCENARIO: product, coupon,\n"
"                                        tickets or transfer)\n"
"       racelab compare [SCENARIO] [OPTIONS]\n"
"                                        every strategy alone, at full speed, and\n"
"                                        one table of what each costs: anomalies,\n"
"                                        committed/s, retries, lock waits, failures\n"
"                                        (-n default: a quarter of the demo's)\n"
"       racelab lessons                  list the lessons\n"
"       racelab lesson N [OPTIONS]       run lesson N (its options come first,\n"
"                                        yours after, so yours win)\n"
"       racelab room open|join|host      a classroom racing on one shared\n"
"                                        PostgreSQL (racelab room --help)\n"
"       racelab spec FILE.spec [-b B] [-d WHERE] [--step | --no-ui]\n"
"                                        run a PostgreSQL isolation-tester spec file\n"
"                                        and print what PostgreSQL's isolationtester\n"
"                                        prints for it (on a terminal: played on the\n"
"                                        dashboard first, one lane per session)\n"
"       racelab matrix [-b B] [-d WHERE] [--markdown | --json]\n"
"                                        Hermitage's anomalies under every isolation\n"
"                                        level, run live (default: both backends)\n"
"       racelab --help | --version\n"
"\n"
"Scenarios:\n"
"  product   a product counter that loses sales (lost update)\n"
"  coupon    a single-use coupon redeemed twice (check-then-act)\n"
"  tickets   the next free seat booked twice (find, then take)\n"
"  transfer  money moved both ways between accounts (lost update, deadlock)\n"
"\n"
"Options:\n"
"  -b, --backend NAME    sqlite (default) or postgres; sqlite,postgres runs the\n"
"                        same run or schedule on both and sets them side by\n"
"                        side: on a terminal both at once on the dashboard,\n"
"                        else one after the other (-d then names the\n"
"                        PostgreSQL server)\n"
"  -d, --db WHERE        sqlite: a directory for the database files (default: a\n"
"                        private temporary directory, removed at exit);\n"
"                        postgres: a libpq connection string or URI (default:\n"
"                        libpq's defaults and the PG* environment variables)\n"
"  -s, --strategy LIST   comma-separated strategies, or 'all' (default: product\n"
"                        and coupon naive,atomic,locked; the others all); product\n"
"                        also has deferred,optimistic,serializable, coupon\n"
"                        unique,nowait, tickets naive,atomic,locked,skip_locked,\n"
"                        transfer naive,locked,ordered,serializable\n"
"  -t, --threads N       worker threads per strategy, 1-64 (default 4)\n"
"  -n, --ops N           operations per thread; coupon: rounds (default: product\n"
"                        2000, coupon 300, tickets 200, transfer 100)\n"
"      --think MS        think time between a read and the write that uses it\n"
"                        (default: product 0, coupon 1)\n"
"      --seed N          seed for everything random (printed in every report)\n"
"      --latency MS      a round trip of MS milliseconds between application and\n"
"                        database on every statement (0-1000); a list, as in\n"
"                        0,1,5,20, runs each in turn at full speed and charts\n"
"                        how the strategies fare (a sweep)\n"
"      --schedule SPEC   run one interleaving of one strategy (-s), and print\n"
"                        its trace: tokens tN.STEP, as in \"t1.read t2.read\n"
"                        t1.write t2.write\", taken in order, then the remaining\n"
"                        steps in thread order; one operation per thread (-n is\n"
"                        ignored), threads up to the highest tN unless -t says;\n"
"                        or 'random': the seed picks every step, -t and -n apply;\n"
"                        or 'all': every order of the steps of 2 threads (-t up\n"
"                        to 3), one operation each, each on a fresh database,\n"
"                        for every strategy selected, and a summary; on a\n"
"                        terminal stepped through on the dashboard ([ ] move\n"
"                        between orders), the summary printed at the end\n"
"      --export-spec FILE\n"
"                        with --schedule (tokens or random) and one strategy\n"
"                        (-s): run the schedule, then write what it sent as a\n"
"                        PostgreSQL isolation-tester spec file (\"-\": stdout, and\n"
"                        no report): one session per thread, one step per\n"
"                        statement with its values written in, the order as the\n"
"                        permutation; racelab spec FILE replays the same trace.\n"
"                        The SQL is that of -b's backend: -b postgres for\n"
"                        PostgreSQL's isolationtester.  --schedule random: -n\n"
"                        default 1\n"
"      --step            step mode: you are the scheduler.  The dashboard pauses\n"
"                        before every step; keys 1-9 move that thread one step,\n"
"                        n the next step (of --schedule, else in thread order),\n"
"                        u undoes the last.  One strategy (default naive), -t 1-9\n"
"                        (default 2), -n default 1; needs a terminal.  spec,\n"
"                        matrix --show: keys 1-9 send that session's next step\n"
"      --procs           workers are processes, each with its own connection, as\n"
"                        application servers are (default: threads)\n"
"      --present         the dashboard for a room: high contrast, one or two\n"
"                        strategies (-s; the first two by default), 2 threads x\n"
"                        2 operations unless -t and -n say, a narration line;\n"
"                        space or n takes the next step, p plays, b blanks the\n"
"                        screen.  With --schedule: that interleaving, step by\n"
"                        step.  Needs a terminal\n"
"      --no-ui           plain text report (the default when not on a terminal)\n"
"      --json            the JSON report on stdout\n"
"      --trace           print every step as it happens\n"
"      --record FILE     record the session as an asciicast v2 file (asciinema),\n"
"                        with a marker at every scheduled step, every anomaly\n"
"                        and every verdict; with --schedule on a terminal, the\n"
"                        schedule plays on the dashboard (--no-ui: the text)\n"
"      --record-clock C  wall (default): real time, long pauses cut to 2 s;\n"
"                        virtual: one pace per step, so the same --seed and\n"
"                        --schedule give the same file, byte for byte\n"
"      --svg FILE        write a swimlane picture of the run, for slides\n"
"      --svg-theme T     light (default) or dark\n"
"      --no-pause        racelab lesson N: do not wait for a key before the demo\n"
"                        and before each answer (implied when stdin or stdout\n"
"                        is not a terminal)\n"
"      --markdown        matrix: the tables in Markdown\n"
"      --show ANOMALY    matrix: replay one cell (G0, G1a, G1b, G1c, OTV, PMP, P4,\n"
"                        G-single, G2-item, G2) and print its trace (on a\n"
"                        terminal: played on the dashboard first)\n"
"      --level LEVEL     matrix --show: the cell's level: read uncommitted, read\n"
"                        committed, repeatable read, serializable (PostgreSQL);\n"
"                        deferred/WAL, immediate/WAL, deferred/rollback,\n"
"                        immediate/rollback (SQLite)\n"
"  -h, --help            show this help\n"
"  -V, --version         show the version\n"
"\n"
"Exit status: 0 every safe strategy kept its invariant; 1 a safe strategy showed\n"
"an anomaly; 64 usage error; 69 database unavailable; 70 internal error;\n"
"130 interrupted.\n"
"\n"
"PostgreSQL: racelab product -b postgres -d 'host=localhost dbname=shop user=me'\n"
"Each strategy runs in a schema of its own, dropped at the end.\n";

enum { OPT_THINK = 256, OPT_SEED, OPT_SCHEDULE, OPT_STEP, OPT_NO_UI, OPT_JSON, OPT_TRACE,
       OPT_LATENCY, OPT_PROCS, OPT_PRESENT, OPT_RECORD, OPT_RECORD_CLOCK, OPT_SVG,
       OPT_SVG_THEME, OPT_NO_PAUSE, OPT_MARKDOWN, OPT_SHOW, OPT_LEVEL, OPT_EXPORT_SPEC };

static const struct option options[] = {
	{ "backend", required_argument, NULL, 'b' },
	{ "db", required_argument, NULL, 'd' },
	{ "strategy", required_argument, NULL, 's' },
	{ "threads", required_argument, NULL, 't' },
	{ "ops", required_argument, NULL, 'n' },
	{ "think", required_argument, NULL, OPT_THINK },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "schedule", required_argument, NULL, OPT_SCHEDULE },
	{ "export-spec", required_argument, NULL, OPT_EXPORT_SPEC },
	{ "step", no_argument, NULL, OPT_STEP },
	{ "no-ui", no_argument, NULL, OPT_NO_UI },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "procs", no_argument, NULL, OPT_PROCS },
	{ "present", no_argument, NULL, OPT_PRESENT },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "record-clock", required_argument, NULL, OPT_RECORD_CLOCK },
	{ "svg", required_argument, NULL, OPT_SVG },
	{ "svg-theme", required_argument, NULL, OPT_SVG_THEME },
	{ "no-pause", no_argument, NULL, OPT_NO_PAUSE },
	{ "markdown", no_argument, NULL, OPT_MARKDOWN },
	{ "show", required_argument, NULL, OPT_SHOW },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Parse S as a whole decimal number in [lo, hi]. */
static int parse_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	if (!*s || *s == ' ')
		return -1;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* --present: the dashboard for a room.  With a schedule it is step mode (the
 * schedule's next step on each key); without, a paused free run of at most two
 * strategies that each key moves on by one step.  Strategies beyond two are not
 * shown, and the screen says which. */
static int check_present(struct cli *c, int strategies_given, char *err, size_t n)
{
	if (c->output != OUT_AUTO) {
		snprintf(err, n, "--present opens the dashboard, so it cannot go with %s",
		         c->output == OUT_JSON ? "--json" : "--no-ui");
		return EX_USAGE;
	}
	if (!c->threads_given)
		c->threads = 2;
	if (!c->ops)
		c->ops = 2;
	if (c->schedule && !c->step) {
		c->step = 1;            /* the schedule's steps, one per key */
		if (!strategies_given)
			c->nstrategies = 1;
	}
	if (!c->schedule && c->nstrategies > VIZ_PRESENT_PANELS) {
		size_t len = 0;

		c->hidden[0] = '\0';
		for (int i = VIZ_PRESENT_PANELS; i < c->nstrategies; i++)
			len += (size_t)snprintf(c->hidden + len, sizeof c->hidden - len, "%s%s",
			                        i > VIZ_PRESENT_PANELS ? ", " : "",
			                        c->scenario->strategies[c->strategies[i]].name);
		c->nstrategies = VIZ_PRESENT_PANELS;
	}
	return 0;
}

/* --latency MS or MS,MS,...: a sweep when there are several. */
static int parse_latencies(const char *list, struct cli *c)
{
	char buf[128], *save = NULL;
	long long v;

	if (strlen(list) >= sizeof buf)
		return -1;
	strcpy(buf, list);
	c->nlatencies = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (c->nlatencies == CLI_LATENCIES || parse_num(tok, 0, 1000, &v))
			return -1;
		c->latencies[c->nlatencies++] = (int)v;
	}
	return c->nlatencies ? 0 : -1;
}

/* Whether option OPT (as getopt_long returns it) takes a value. */
static int takes_value(int opt)
{
	return opt == 'b' || opt == 'd' || opt == 's' || opt == 't' || opt == 'n' ||
	       opt == OPT_THINK || opt == OPT_SEED || opt == OPT_SCHEDULE || opt == OPT_LATENCY ||
	       opt == OPT_RECORD || opt == OPT_RECORD_CLOCK || opt == OPT_SVG || opt == OPT_SVG_THEME ||
	       opt == OPT_SHOW || opt == OPT_LEVEL || opt == OPT_EXPORT_SPEC;
}

/* "naive, atomic, locked": the strategies scenario S offers, for messages. */
static void strategy_names(const struct scenario *s, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < scn_nstrategies(s) && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "",
		                        s->strategies[i].name);
}

/* -s LIST, once the scenario is known (it names the strategies there are). */
static int parse_strategies(const char *list, struct cli *c, char *err, size_t n)
{
	char buf[256], *save = NULL, names[200];
	int seen[SCN_STRATEGIES] = { 0 };

	strategy_names(c->scenario, names, sizeof names);
	if (strlen(list) >= sizeof buf || !*list) {
		snprintf(err, n, "bad value '%.60s' for --strategy: use a comma-separated list"
		         " of %s", list, names);
		return EX_USAGE;
	}
	strcpy(buf, list);
	c->nstrategies = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i = scn_strategy_index(c->scenario, tok);

		if (i < 0) {
			snprintf(err, n, "unknown strategy '%.60s' for %s: choose from %s", tok,
			         c->scenario->name, names);
			return EX_USAGE;
		}
		if (seen[i]++) {
			snprintf(err, n, "strategy '%.60s' is listed twice in --strategy", tok);
			return EX_USAGE;
		}
		c->strategies[c->nstrategies++] = i;
	}
	if (c->nstrategies == 0) {
		snprintf(err, n, "bad value '%.60s' for --strategy: use a comma-separated list"
		         " of %s", list, names);
		return EX_USAGE;
	}
	return 0;
}

/* --step once the scenario is known: one strategy, naive unless -s says (the
 * challenge racelab --step alone should offer); two threads and one operation
 * each unless -t and -n say; no think time, as for a schedule.  Threads beyond
 * 9 would have no key. */
/* What --step and --schedule share: one strategy, and no think time, because the
 * learner or the schedule alone decides the interleaving.  FLAG names the option,
 * WHERE the kind of run, for the messages. */
static int check_interleaving(struct cli *c, const char *flag, const char *where,
                              char *err, size_t n)
{
	if (c->nstrategies != 1) {
		char names[200];

		strategy_names(c->scenario, names, sizeof names);
		snprintf(err, n, "%s runs exactly one strategy, not %d: choose one of %s"
		         " with -s", flag, c->nstrategies, names);
		return EX_USAGE;
	}
	if (c->think_ms > 0) {
		snprintf(err, n, "--think %d has no place in %s: the interleaving is decided"
		         " step by step (leave --think out)", c->think_ms, where);
		return EX_USAGE;
	}
	c->think_ms = 0;
	return 0;
}

static int check_step(struct cli *c, int strategies_given, char *err, size_t n)
{
	if (!strategies_given) {
		c->strategies[0] = 0;   /* the scenario's first: its naive version */
		c->nstrategies = 1;
	}
	if (c->threads_given && c->threads > CLI_STEP_THREADS) {
		snprintf(err, n, "--step moves threads with the keys 1 to %d: -t %d is too many"
		         " (allowed 1 to %d with --step)", CLI_STEP_THREADS, c->threads,
		         CLI_STEP_THREADS);
		return EX_USAGE;
	}
	if (check_interleaving(c, "--step", "step mode", err, n))
		return EX_USAGE;
	if (!c->threads_given)
		c->threads = 2;
	if (!c->ops)
		c->ops = 1;
	return 0;
}

/* --schedule (DESIGN.md, "Schedules") once the scenario is known: one strategy,
 * no think time (the schedule alone decides the interleaving); a listed schedule
 * has one operation per thread and, unless -t says otherwise, as many threads as
 * its tokens name.  A bad token is refused by name. */
/* --schedule all: every order of every selected strategy, 2 threads unless -t
 * says (at most ORDERS_THREADS), one operation each; printed, or on a terminal
 * stepped through on the dashboard (--step: each order waits for the keys). */
static int check_all_orders(struct cli *c, char *err, size_t n)
{
	if (c->present) {
		snprintf(err, n, "--schedule all runs every order and prints them: it cannot"
		             " go with --present");
		return EX_USAGE;
	}
	if (c->think_ms > 0) {
		snprintf(err, n, "--think %d has no place in --schedule all: the orders decide"
		         " the interleaving (leave --think out)", c->think_ms);
		return EX_USAGE;
	}
	if (!c->threads_given)
		c->threads = 2;
	if (c->threads > ORDERS_THREADS) {
		snprintf(err, n, "--schedule all: -t %d is too many (allowed 1 to %d)", c->threads,
		         ORDERS_THREADS);
		return EX_USAGE;
	}
	for (int i = 0; i < c->nstrategies; i++) {
		const struct scn_strategy *s = &c->scenario->strategies[c->strategies[i]];
		const char *names[SCN_STEPS + 1];
		int nsteps = 0;
		long total;

		scn_step_names(s, names);
		while (names[nsteps])
			nsteps++;
		total = orders_count(c->threads, nsteps);
		if (total > ORDERS_MAX) {
			snprintf(err, n, "--schedule all: %s has %s%ld orders of %d threads' steps, more"
			         " than %d; use fewer threads", s->name, total >= ORDERS_MAX * 10L
			         ? "over " : "", total, c->threads, ORDERS_MAX);
			return EX_USAGE;
		}
	}
	c->all_orders = 1;
	c->ops = 1;
	return 0;
}

static int check_schedule(struct cli *c, char *err, size_t n)
{
	const struct scn_strategy *s;
	const char *names[SCN_STEPS + 1];
	struct sched_spec spec;

	if (check_interleaving(c, "--schedule", "a --schedule run", err, n))
		return EX_USAGE;
	s = &c->scenario->strategies[c->strategies[0]];
	scn_step_names(s, names);
	if (sched_parse(c->schedule, s->name, names,
	                c->threads_given ? c->threads : RACELAB_MAX_THREADS,
	                c->threads_given, &spec, err, n) != 0)
		return EX_USAGE;
	if (!spec.random) {
		/* Step mode keeps its two threads for a schedule that names one. */
		if (!c->threads_given && !(c->step && c->threads > spec.threads))
			c->threads = spec.threads;
		c->ops = 1;
	}
	sched_spec_done(&spec);
	return 0;
}

/* --export-spec (app/exportspec.c): one scheduled run of one strategy, written
 * as a spec file.  Checked before the schedule itself, so that a missing -s is
 * named as the export's need. */
static int check_export(struct cli *c, int strategies_given, char *err, size_t n)
{
	const char *with = c->step ? "--step" : c->present ? "--present" : c->both
	                   ? "-b sqlite,postgres" : c->record ? "--record" : c->svg ? "--svg"
	                   : c->nlatencies > 1 ? "a --latency sweep" : c->procs ? "--procs" : NULL;

	if (c->action != ACT_RUN) {
		snprintf(err, n, "--export-spec writes a scenario's --schedule run as a spec file:"
		         " it has no place in '%s'", c->action == ACT_SPEC ? "spec" : c->action ==
		         ACT_MATRIX ? "matrix" : c->action == ACT_COMPARE ? "compare" : c->action ==
		         ACT_LESSON ? "lesson N" : "lessons");
		return EX_USAGE;
	}
	if (c->all_orders || !c->schedule) {
		snprintf(err, n, "--export-spec writes the run of one schedule as a spec file: give"
		         " --schedule with tokens (as \"t1.read t2.read t1.write t2.write\") or"
		         " 'random'%s", c->all_orders ? ", not 'all'" : "");
		return EX_USAGE;
	}
	if (!strategies_given || c->nstrategies != 1) {
		char names[200];

		strategy_names(c->scenario, names, sizeof names);
		snprintf(err, n, "--export-spec exports one strategy at a time: name one with -s"
		         " (%s)", names);
		return EX_USAGE;
	}
	if (with) {
		snprintf(err, n, "--export-spec writes a spec file from a plain scheduled run: it"
		         " cannot go with %s", with);
		return EX_USAGE;
	}
	if (c->output == OUT_JSON && !strcmp(c->export_spec, "-")) {
		snprintf(err, n, "--export-spec - writes the spec on stdout, and --json its report"
		         " there too: give --export-spec a file name");
		return EX_USAGE;
	}
	if (c->output == OUT_AUTO)
		c->output = OUT_TEXT;   /* the trace, then the report: no dashboard */
	if (!c->ops && !strcmp(c->schedule, "random"))
		c->ops = 1;             /* a spec of a few steps, not thousands */
	return 0;
}

/* The options of racelab matrix, and only there. */
static int check_spec_words(struct cli *c, char *err, size_t n)
{
	const char *stray = c->markdown ? "--markdown" : c->show ? "--show" :
	                    c->level ? "--level" : NULL;

	if (stray && c->action != ACT_MATRIX) {
		snprintf(err, n, "%s belongs to 'racelab matrix' (see racelab --help)", stray);
		return EX_USAGE;
	}
	if (c->action == ACT_MATRIX && c->level && !c->show) {
		snprintf(err, n, "--level picks the cell that --show replays: give --show too,"
		         " as in --show P4 --level \"repeatable read\"");
		return EX_USAGE;
	}
	if (c->action == ACT_MATRIX && c->markdown && c->output == OUT_JSON) {
		snprintf(err, n, "choose one of --markdown and --json");
		return EX_USAGE;
	}
	if ((c->action == ACT_SPEC || c->action == ACT_MATRIX) && c->schedule) {
		snprintf(err, n, "--schedule does not go with '%s'",
		         c->action == ACT_SPEC ? "spec" : "matrix");
		return EX_USAGE;
	}
	/* --step plays a spec on the dashboard: a spec file, or one cell's. */
	if (c->action == ACT_MATRIX && c->step && !c->show) {
		snprintf(err, n, "--step goes with one cell of the matrix, as in 'racelab matrix"
		         " --show P4 --level \"read committed\" --step'");
		return EX_USAGE;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli *c, char *err, size_t n)
{
	long long v;
	int opt, rc;
	const char *strategies = NULL;  /* -s, parsed once the scenario is known */
	int clock_given = 0, theme_given = 0;

	memset(c, 0, sizeof *c);
	c->action = ACT_RUN;
	c->scenario = demo_scenarios[0];
	c->db = db_sqlite();
	c->threads = 4;
	c->think_ms = -1;

	optind = 0;             /* a full reset: tests call cli_parse many times */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":b:d:s:t:n:hV", options, NULL)) != -1) {
		/* "-d --no-ui" would take the option for the directory: no value racelab
		 * accepts starts with a dash (a negative number gets its range below). */
		if (takes_value(opt) && optarg[0] == '-' && !isdigit((unsigned char)optarg[1]) &&
		    !(opt == OPT_EXPORT_SPEC && !strcmp(optarg, "-"))) {   /* "-": stdout */
			/* the option is the word before its value, unless written "-dVALUE" */
			const char *name = argv[optind - 1] == optarg ? argv[optind - 2]
			                   : argv[optind - 1];

			snprintf(err, n, "option '%.40s' needs a value, not '%.60s', which looks"
			         " like an option (see racelab --help)", name, optarg);
			return EX_USAGE;
		}
		switch (opt) {
		case 'b':
			c->backend_given = 1;
			if (!strcmp(optarg, "sqlite,postgres") || !strcmp(optarg, "postgres,sqlite")) {
				c->db = db_sqlite();
				c->both = 1;
			} else if (!(c->db = db_find(optarg))) {
				snprintf(err, n, "unknown backend '%.60s': choose sqlite, postgres or"
				         " sqlite,postgres", optarg);
				return EX_USAGE;
			} else {
				c->both = 0;
			}
			break;
		case 'd':
			if (!*optarg) {
				snprintf(err, n, "empty value for --db");
				return EX_USAGE;
			}
			c->where = optarg;
			break;
		case 's':
			strategies = optarg;
			break;
		case 't':
			if (parse_num(optarg, 1, RACELAB_MAX_THREADS, &v)) {
				snprintf(err, n, "bad value '%s' for --threads: allowed 1 to %d", optarg,
				         RACELAB_MAX_THREADS);
				return EX_USAGE;
			}
			c->threads = (int)v;
			c->threads_given = 1;
			break;
		case 'n':
			if (parse_num(optarg, 1, 1000000, &v)) {
				snprintf(err, n, "bad value '%s' for --ops: allowed 1 to 1000000",
				         optarg);
				return EX_USAGE;
			}
			c->ops = (int)v;
			break;
		case OPT_THINK:
			if (parse_num(optarg, 0, 60000, &v)) {
				snprintf(err, n, "bad value '%s' for --think: allowed 0 to 60000"
				         " milliseconds", optarg);
				return EX_USAGE;
			}
			c->think_ms = (int)v;
			break;
		case OPT_SEED:
			if (parse_num(optarg, 0, INT64_MAX, &v)) {
				snprintf(err, n, "bad value '%s' for --seed: allowed 0 to %lld", optarg,
				         (long long)INT64_MAX);
				return EX_USAGE;
			}
			c->seed = (uint64_t)v;
			c->seed_given = 1;
			break;
		case OPT_SCHEDULE:
			c->schedule = optarg;
			break;
		case OPT_EXPORT_SPEC:
			if (!*optarg) {
				snprintf(err, n, "empty file name for --export-spec");
				return EX_USAGE;
			}
			c->export_spec = optarg;
			break;
		case OPT_STEP:
			c->step = 1;
			break;
		case OPT_NO_UI:
			if (c->output != OUT_JSON)
				c->output = OUT_TEXT;
			break;
		case OPT_JSON:
			c->output = OUT_JSON;
			break;
		case OPT_TRACE:
			c->trace = 1;
			break;
		case OPT_PROCS:
			c->procs = 1;
			break;
		case OPT_PRESENT:
			c->present = 1;
			break;
		case OPT_LATENCY:
			if (parse_latencies(optarg, c)) {
				snprintf(err, n, "bad value '%.60s' for --latency: milliseconds from 0"
				         " to 1000, or up to %d of them separated by commas", optarg,
				         CLI_LATENCIES);
				return EX_USAGE;
			}
			break;
		case OPT_RECORD:
		case OPT_SVG:
			if (!*optarg) {
				snprintf(err, n, "empty file name for %s",
				         opt == OPT_RECORD ? "--record" : "--svg");
				return EX_USAGE;
			}
			*(opt == OPT_RECORD ? &c->record : &c->svg) = optarg;
			break;
		case OPT_RECORD_CLOCK:
			if (strcmp(optarg, "wall") && strcmp(optarg, "virtual")) {
				snprintf(err, n, "bad value '%s' for --record-clock: choose wall or"
				         " virtual", optarg);
				return EX_USAGE;
			}
			c->record_virtual = !strcmp(optarg, "virtual");
			clock_given = 1;
			break;
		case OPT_SVG_THEME:
			if (strcmp(optarg, "light") && strcmp(optarg, "dark")) {
				snprintf(err, n, "bad value '%s' for --svg-theme: choose light or dark",
				         optarg);
				return EX_USAGE;
			}
			c->svg_dark = !strcmp(optarg, "dark");
			theme_given = 1;
			break;
		case OPT_NO_PAUSE:
			c->no_pause = 1;
			break;
		/* racelab spec and racelab matrix; checked in check_spec_words */
		case OPT_MARKDOWN:
			c->markdown = 1;
			break;
		case OPT_SHOW:
			c->show = optarg;
			break;
		case OPT_LEVEL:
			c->level = optarg;
			break;
		case 'h':
			c->action = ACT_HELP;
			return 0;
		case 'V':
			c->action = ACT_VERSION;
			return 0;
		case ':':
			snprintf(err, n, "option '%s' needs a value (see racelab --help)",
			         argv[optind - 1]);
			return EX_USAGE;
		default:
			if (optopt && optopt < 256)
				snprintf(err, n, "unknown option '-%c' (see racelab --help)", optopt);
			else
				snprintf(err, n, "unknown option '%s' (see racelab --help)",
				         argv[optind - 1]);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		const char *word = argv[optind++];

		c->nopts = optind - 2;  /* the options were moved before the words */
		if (!strcmp(word, "lessons")) {
			c->action = ACT_LESSONS;
		} else if (!strcmp(word, "lesson")) {
			if (optind == argc) {
				snprintf(err, n, "'lesson' needs a lesson number, as in 'racelab lesson 1'"
				         " (racelab lessons lists them)");
				return EX_USAGE;
			}
			if (parse_num(argv[optind], 1, 99999, &v)) {
				snprintf(err, n, "bad lesson number '%s': give a number such as 1"
				         " (racelab lessons lists them)", argv[optind]);
				return EX_USAGE;
			}
			optind++;
			c->action = ACT_LESSON;
			c->lesson = (int)v;
		} else if (!strcmp(word, "spec") || !strcmp(word, "matrix")) {
			/* racelab spec FILE.spec, racelab matrix (app/speccmd.c) */
			c->action = word[0] == 's' ? ACT_SPEC : ACT_MATRIX;
			if (c->action == ACT_SPEC) {
				if (optind == argc) {
					snprintf(err, n, "'spec' needs a spec file, as in 'racelab spec"
					         " FILE.spec'");
					return EX_USAGE;
				}
				c->spec_file = argv[optind++];
			}
		} else if (!strcmp(word, "compare")) {
			/* racelab compare [SCENARIO]: every strategy, one after another */
			c->action = ACT_COMPARE;
			if (optind < argc && !(c->scenario = demo_find(argv[optind]))) {
				snprintf(err, n, "unknown scenario '%.60s' for compare (racelab --help"
				         " lists them)", argv[optind]);
				return EX_USAGE;
			}
			optind += optind < argc;
		} else if (!(c->scenario = demo_find(word))) {
			char names[200];
			size_t len = 0;

			names[0] = '\0';
			for (int i = 0; demo_scenarios[i]; i++)
				len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
				                        i ? ", " : "", demo_scenarios[i]->name);
			snprintf(err, n, "unknown scenario '%.60s': choose %s", word, names);
			return EX_USAGE;
		}
	}
	if (strategies && strcmp(strategies, "all") && parse_strategies(strategies, c, err, n))
		return EX_USAGE;
	if (!strategies || !strcmp(strategies, "all")) {
		int all = scn_nstrategies(c->scenario), first = c->scenario->default_strategies;

		/* compare's point is every strategy; a demo's, the first few */
		c->nstrategies = strategies || c->action == ACT_COMPARE || !first || first > all
		                 ? all : first;
		for (int i = 0; i < c->nstrategies; i++)
			c->strategies[i] = i;
	}
	if (optind < argc) {
		snprintf(err, n, "unexpected argument '%s' (see racelab --help)", argv[optind]);
		return EX_USAGE;
	}
	if (clock_given && !c->record) {
		snprintf(err, n, "--record-clock says how to time a recording: give --record"
		         " FILE.cast too");
		return EX_USAGE;
	}
	if (theme_given && !c->svg) {
		snprintf(err, n, "--svg-theme says how to draw a picture: give --svg FILE too");
		return EX_USAGE;
	}
	if (c->record && c->output == OUT_JSON) {
		snprintf(err, n, "--record records what the terminal shows, and --json shows"
		         " no one: leave one out");
		return EX_USAGE;
	}
	if ((rc = check_spec_words(c, err, n)))
		return rc;
	/* --trace is fine: step mode prints its trace when the dashboard closes. */
	if (c->step && c->output != OUT_AUTO) {
		snprintf(err, n, "--step opens the dashboard, so it cannot go with %s (for a"
		         " text trace of one interleaving, use --schedule)",
		         c->output == OUT_JSON ? "--json" : "--no-ui");
		return EX_USAGE;
	}
	if (c->action == ACT_RUN && c->schedule && !strcmp(c->schedule, "all")) {
		if ((rc = check_all_orders(c, err, n)))
			return rc;
		c->schedule = NULL;     /* each order is a schedule of its own */
	}
	if (c->present && (rc = check_present(c, strategies != NULL, err, n)))
		return rc;
	if (c->both && (c->present || c->all_orders || c->nlatencies > 1)) {
		snprintf(err, n, "-b sqlite,postgres sets two runs side by side: it cannot"
		         " go with %s", c->present ? "--present"
		         : c->all_orders ? "--schedule all" : "a --latency sweep");
		return EX_USAGE;
	}
	if (c->nlatencies > 1 && (c->record || c->svg)) {
		snprintf(err, n, "a --latency sweep prints a chart of several runs: %s records"
		         " one run (give one --latency)", c->record ? "--record" : "--svg");
		return EX_USAGE;
	}
	if (c->nlatencies > 1 && (c->step || c->schedule || c->output == OUT_AUTO)) {
		if (c->step || c->schedule) {
			snprintf(err, n, "a --latency sweep runs free: it cannot go with %s",
			         c->step ? "--step" : "--schedule");
			return EX_USAGE;
		}
		c->output = OUT_TEXT;   /* a sweep runs at full speed and prints a chart */
	}
	if (c->action == ACT_COMPARE && (c->schedule || c->step || c->trace || c->present ||
	                                 c->nlatencies > 1 || c->both)) {
		snprintf(err, n, "compare runs every strategy free, at full speed: %s has no"
		         " place in it (run one strategy with -s for that)",
		         c->schedule ? "--schedule" : c->step ? "--step" : c->trace ? "--trace"
		         : c->present ? "--present" : c->both ? "-b sqlite,postgres"
		         : "a --latency sweep");
		return EX_USAGE;
	}
	if (c->export_spec && (rc = check_export(c, strategies != NULL, err, n)))
		return rc;
	if (c->action == ACT_RUN && c->step && !c->all_orders &&
	    (rc = check_step(c, strategies != NULL, err, n)))
		return rc;
	if (c->action == ACT_RUN && c->schedule && (rc = check_schedule(c, err, n)))
		return rc;
	if (c->action == ACT_RUN && c->step && c->threads > CLI_STEP_THREADS) {
		snprintf(err, n, "--step moves threads with the keys 1 to %d: this schedule"
		         " names t%d (with --step, threads are t1 to t%d)", CLI_STEP_THREADS,
		         c->threads, CLI_STEP_THREADS);
		return EX_USAGE;
	}
	return 0;
}
