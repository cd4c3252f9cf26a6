/*
 * main.c: racelab's entry point: parse the command line, run the scenario, report,
 * and turn the outcome into an exit status (DESIGN.md, "Command line").
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked in every thread and taken by one
 * signal thread with sigwait(), which only asks the run to stop.  The main thread
 * then leaves through the same path as a finished run, so the databases are
 * removed and the terminal is restored whatever happened.
 */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "exportspec.h"
#include "lesson.h"
#include "both.h"
#include "orders.h"
#include "room_cmd.h"
#include "sweep.h"
#include "../core/cast.h"
#include "../core/finish.h"
#include "../core/history.h"
#include "../core/report.h"
#include "speccmd.h"
#include "../core/run.h"
#include "../core/trace.h"
#include "../viz/record.h"
#include "../viz/viz.h"

static pthread_mutex_t current_mu = PTHREAD_MUTEX_INITIALIZER;
static struct run *current;             /* the run a signal should stop */
static _Atomic int interrupted;

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		atomic_store(&interrupted, 1);
		pthread_mutex_lock(&current_mu);
		if (current)
			run_stop(current);
		pthread_mutex_unlock(&current_mu);
	}
	return NULL;
}

static void set_current(struct run *r)
{
	pthread_mutex_lock(&current_mu);
	current = r;
	pthread_mutex_unlock(&current_mu);
	if (r && atomic_load(&interrupted))
		run_stop(r);
}

static int was_interrupted(void)
{
	return atomic_load(&interrupted);
}

static void start_signal_thread(void)
{
	static sigset_t set;
	sigset_t ui;
	pthread_t tid;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);         /* inherited by every thread */
	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-Z and resizes belong to the dashboard's thread (curses leaves and
	 * retakes the screen in their handlers): this one must never take them. */
	sigemptyset(&ui);
	sigaddset(&ui, SIGTSTP);
	sigaddset(&ui, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &ui, NULL);
	if (pthread_create(&tid, NULL, signal_thread, &set) == 0)
		pthread_detach(tid);
	pthread_sigmask(SIG_UNBLOCK, &ui, NULL);
}

/* Where trace lines go: printed as they come, and kept for a scheduled run's
 * JSON report. */
struct trace_sink {
	FILE *print;            /* NULL: not printed */
	int keep;
	struct trace_lines kept;
};

static void print_line(const char *line, void *arg)
{
	struct trace_sink *t = arg;

	if (t->print)
		fprintf(t->print, "%s\n", line);
	if (t->keep)
		trace_lines_add(line, &t->kept);
}

static uint64_t fresh_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec * 2654435761u ^
	        (uint64_t)getpid() << 16) % 1000000;
}

/* --record and --svg: the files, opened before the run so that a bad path is
 * refused before anything happens. */
struct takes {
	struct cast *cast;
	FILE *svg;
	int svg_dark;
};

/* --no-ui --record: what goes to stdout goes into the recording too, as a
 * terminal would have received it (a newline moves to the start of the line). */
static ssize_t tee_write(void *arg, const char *buf, size_t n)
{
	struct cast *cast = arg;
	char crlf[4096];
	size_t len = 0;

	if (fwrite(buf, 1, n, stdout) != n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (len + 2 > sizeof crlf) {
			cast_output(cast, crlf, len);
			len = 0;
		}
		if (buf[i] == '\n')
			crlf[len++] = '\r';
		crlf[len++] = buf[i];
	}
	cast_output(cast, crlf, len);
	return (ssize_t)n;
}

/* The recording's size: the terminal's, else $COLUMNS x $LINES, else 120 x 30
 * (trace lines are long). */
static void take_size(int *cols, int *rows)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS"), *l = getenv("LINES");

	*cols = 120;
	*rows = 30;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col &&
	    ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	} else if (c && l && atoi(c) > 0 && atoi(l) > 0) {
		*cols = atoi(c);
		*rows = atoi(l);
	}
}

/* Open what --record and --svg name.  Returns 0, or EX_USAGE with a line said. */
static int takes_open(struct takes *t, const struct cli *cli, const struct run_config *cfg)
{
	char err[512], title[256];
	int cols, rows, pace = cfg->pace_ms > 0 ? cfg->pace_ms : VIZ_PACE_MS;
	int64_t step_ns = (int64_t)pace * 1000000;

	memset(t, 0, sizeof *t);
	if (cli->svg && !(t->svg = fopen(cli->svg, "we"))) {
		fprintf(stderr, "racelab: cannot write the picture '%s': %s\n", cli->svg,
		        strerror(errno));
		return EX_USAGE;
	}
	t->svg_dark = cli->svg_dark;
	if (!cli->record)
		return 0;
	/* Free runs take steps in parallel: one pace covers a step of every worker. */
	if (!cfg->schedule && !cfg->step)
		step_ns /= cfg->nstrategies * cfg->threads;
	take_size(&cols, &rows);
	snprintf(title, sizeof title, "racelab %s: %s", cfg->scenario->name, cfg->scenario->title);
	t->cast = cast_open(cli->record, cols, rows, title,
	                    cli->record_virtual ? CAST_VIRTUAL : CAST_WALL, step_ns, err,
	                    sizeof err);
	if (!t->cast) {
		fprintf(stderr, "racelab: %s\n", err);
		if (t->svg) {
			fclose(t->svg);
			unlink(cli->svg);
		}
		return EX_USAGE;
	}
	return 0;
}

/* Close the files; a write that failed turns STATUS into EX_SOFTWARE. */
static int takes_close(struct takes *t, const struct cli *cli, int status)
{
	char err[512];

	if (t->cast && cast_close(t->cast, err, sizeof err) != 0) {
		fprintf(stderr, "racelab: %s\n", err);
		status = status ? status : EX_SOFTWARE;
	}
	if (t->svg && (ferror(t->svg) | (fclose(t->svg) != 0))) {
		fprintf(stderr, "racelab: writing the picture '%s' failed\n", cli->svg);
		status = status ? status : EX_SOFTWARE;
	}
	return status;
}

/* What the text report feeds: the trace, and the recording's markers and steps. */
struct headless_sink {
	struct trace *trace;
	struct viz_rec *rec;
};

static void headless_event(const struct event *e, void *arg)
{
	struct headless_sink *h = arg;

	if (h->rec)
		viz_rec_event(e, h->rec);
	if (h->trace)
		trace_event(e, h->trace);
}

/* RACELAB_CHECK_HISTORY=1 (tests/history.t, make stress): check each strategy's
 * history as well as its final count (core/history.h), and say on stderr what
 * it shows, one line per strategy. */
struct tee {
	ev_fn show;
	void *show_arg;
	struct history *hist;
};

static void tee_event(const struct event *e, void *arg)
{
	struct tee *t = arg;

	if (t->show)
		t->show(e, t->show_arg);
	hist_event(e, t->hist);
}

/* A safe strategy whose history is unsound, or does not add up to what the
 * report says committed, is an anomaly: returns 1 if there is one. */
/* What the history check can judge (core/history.h): one effect per operation,
 * on a row its arguments name.  An operation with several (transfer's two
 * balances) or a row the step finds for itself (tickets' UPDATE ... RETURNING)
 * is reported, not judged: the database's own check covers it. */
static int history_checkable(const struct scn_strategy *st)
{
	int effects = 0;

	for (int i = 0; i < SCN_STEPS && st->steps[i].name; i++) {
		if (st->steps[i].key_arg == SCN_KEY_RESULT)
			return 0;
		effects += st->steps[i].effects & (EFF_FROM_READ | EFF_ADDS | EFF_USES) ? 1 : 0;
	}
	return effects <= 1;
}

static int history_report(struct history *h, struct run *r)
{
	int bad_safe = 0;

	for (int i = 0; i < run_config(r)->nstrategies; i++) {
		const struct run_result *res = run_result(r, i);
		struct hist_result hr;
		int64_t bad = hist_check(h, i, &hr), committed = hr.writes + hr.adds + hr.uses;

		fprintf(stderr, "racelab: history: %s: %s%s: %s (committed: %lld in the history,"
		        " %lld in the report; %lld in the database) [writes=%lld distinct=%lld"
		        " adds=%lld uses=%lld resources=%lld reused=%lld violations=%lld]\n",
		        res->strategy->name, bad < 0 ? "not checked" : bad ? "BROKEN" : "sound",
		        bad > 0 ? res->strategy->safe ? "" : " (expected: unsafe)" : "",
		        bad < 0 ? "out of memory" : hr.text, (long long)committed,
		        (long long)res->committed, (long long)res->check.observed,
		        (long long)hr.writes, (long long)hr.distinct, (long long)hr.adds,
		        (long long)hr.uses, (long long)hr.resources, (long long)hr.reused,
		        (long long)hr.violations);
		if (res->strategy->safe && history_checkable(res->strategy) &&
		    (bad != 0 || committed != res->committed))
			bad_safe = 1;
	}
	return bad_safe;
}

/* Run the scenario headless: drain events (printing the trace if asked) until
 * every worker has exited, then report.  A scheduled run's trace is the point of
 * it: it is printed unless --json asks for the report alone (the JSON holds it),
 * then "result: …", a blank line, and the usual report.  Everything down to the
 * result line is deterministic, so golden files compare it byte for byte. */
static int run_headless(const struct cli *cli, struct run_config *cfg, struct takes *takes)
{
	enum run_status st;
	char err[DB_ERRLEN];
	struct trace trace;
	const char *names[SCN_STRATEGIES];
	FILE *out = stdout, *trace_to;
	struct trace_sink sink = { 0 };
	struct finish_opts fin = { .json = cli->output == OUT_JSON };
	ev_fn show;
	struct run *r;
	int status, history_bad = 0;
	struct tee tee = { 0 };
	struct viz_rec rec;
	struct headless_sink hs = { 0 };
	int recording = takes->cast || takes->svg;

	if (takes->cast) {
		out = fopencookie(takes->cast, "w", (cookie_io_functions_t){ .write = tee_write });
		if (!out) {
			fprintf(stderr, "racelab: out of memory\n");
			return EX_SOFTWARE;
		}
		setvbuf(out, NULL, _IOLBF, 0);
	}
	trace_to = cli->output == OUT_JSON ? stderr : out;

	r = run_new(cfg, err, &st);
	if (!r) {
		fprintf(stderr, "racelab: %s\n", err);
		if (out != stdout)
			fclose(out);
		return st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
	}
	if (recording && viz_rec_init(&rec, run_config(r), takes->cast, takes->svg != NULL)) {
		fprintf(stderr, "racelab: out of memory\n");
		if (out != stdout)
			fclose(out);
		run_free(r);
		return EX_SOFTWARE;
	}
	for (int i = 0; i < cfg->nstrategies; i++)
		names[i] = cfg->scenario->strategies[cfg->strategies[i]].name;
	if (cli->trace || (cfg->schedule && cli->output != OUT_JSON))
		sink.print = trace_to;
	sink.keep = cfg->schedule && cli->output == OUT_JSON;
	show = sink.print || sink.keep || recording ? headless_event : NULL;
	hs.trace = sink.print || sink.keep ? &trace : NULL;
	hs.rec = recording ? &rec : NULL;
	if (trace_init(&trace, names, cfg->nstrategies, cfg->threads, print_line,
	               &sink) != 0) {
		fprintf(stderr, "racelab: out of memory\n");
		if (recording)
			viz_rec_done(&rec);
		if (out != stdout)
			fclose(out);
		run_free(r);
		return EX_SOFTWARE;
	}
	if (getenv("RACELAB_CHECK_HISTORY")) {
		if (!(tee.hist = hist_new(cfg->nstrategies, cfg->threads))) {
			fprintf(stderr, "racelab: out of memory\n");
			trace_done(&trace);
			run_free(r);
			return EX_SOFTWARE;
		}
		tee.show = show;
		tee.show_arg = &hs;
	}
	set_current(r);
	st = run_to_end(r, tee.hist ? tee_event : show, tee.hist ? (void *)&tee : (void *)&hs);
	if (recording) {
		struct report rep = { .cfg = cfg, .nresults = cfg->nstrategies };
		char result[256];
		int has_result;

		for (int i = 0; i < rep.nresults; i++)
			rep.results[i] = run_result(r, i);
		has_result = cfg->schedule && report_result(&rep, result, sizeof result) == 0;
		viz_rec_finish(&rec, rep.results, has_result ? result : NULL);
		if (takes->svg)
			viz_svg_write(&rec, takes->svg, takes->svg_dark ? SVG_DARK : SVG_LIGHT);
		viz_rec_done(&rec);
	}
	set_current(NULL);
	if (tee.hist) {
		history_bad = history_report(tee.hist, r);
		hist_free(tee.hist);
	}

	fin.interrupted = atomic_load(&interrupted);
	if (cfg->schedule) {
		fin.schedule = cfg->schedule;
		fin.trace = sink.kept.v;
		fin.ntrace = sink.kept.n;
		fin.trace_printed = sink.print == out;
	}
	fin.out = out;
	status = run_finish(r, st, &fin);
	if (out != stdout)
		fclose(out);
	if (history_bad && status == 0)
		status = EX_ANOMALY;
	trace_done(&trace);
	trace_lines_clear(&sink.kept);
	return status;
}

/* The dashboard, or the text report?  Step mode is the dashboard's (cli_parse
 * has refused it with --no-ui and --json; main refuses it off a terminal). */
static int use_dashboard(const struct cli *cli)
{
	if (cli->step || cli->present)
		return viz_available();
	/* A schedule prints its trace; recorded, it plays on the dashboard. */
	return cli->output == OUT_AUTO && !cli->trace && (!cli->schedule || cli->record) &&
	       viz_available();
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct run_config cfg = { 0 };
	struct lesson lesson = { 0 };   /* racelab lesson N */
	struct takes takes;
	struct viz_host host;
	char err[256], lerr[1024], caption[1024];
	int rc, multi_dash;

	setlocale(LC_ALL, "");
	/* racelab room open|join|host: a command line and a loop of its own */
	if (argc > 1 && !strcmp(argv[1], "room"))
		return room_cmd_main(argc - 1, argv + 1);
	rc = cli_parse(argc, argv, &cli, err, sizeof err);
	if (rc) {
		fprintf(stderr, "racelab: %s\n", err);
		return EX_USAGE;
	}
	if (cli.action == ACT_HELP) {
		fputs(cli_usage, stdout);
		return 0;
	}
	if (cli.action == ACT_VERSION) {
		printf("racelab %s\n", RACELAB_VERSION);
		return 0;
	}
	if (cli.present && cli.action != ACT_LESSONS && !viz_available()) {
		fprintf(stderr, "racelab: --present needs a terminal: it is the dashboard for a"
		        " room\n");
		return EX_USAGE;
	}
	if (cli.step && cli.action != ACT_LESSONS && !viz_available()) {
		fprintf(stderr, "racelab: --step needs a terminal: it runs on the dashboard%s\n",
		        cli.action == ACT_SPEC || cli.action == ACT_MATRIX ? " (off a terminal"
		        " the spec's text is printed: leave --step out)" : " (for a text trace of"
		        " one interleaving, use --schedule)");
		return EX_USAGE;
	}
	if (cli.action == ACT_LESSONS || cli.action == ACT_LESSON) {
		/* lesson N: the lesson's demo replaces cli, and runs as if typed */
		rc = cli.action == ACT_LESSONS ? lesson_list(stdout, lerr, sizeof lerr)
		     : lesson_start(&lesson, &cli, argv, lerr, sizeof lerr);
		if (rc)
			fprintf(stderr, "racelab: %s\n", lerr);
		if (rc || cli.action == ACT_LESSONS)
			return rc;
		/* let the learner predict first */
		if (lesson_pause(&lesson, use_dashboard(&cli)) != LESSON_GO)
			return lesson_stopped(&lesson);
	} else if (cli.no_pause) {
		fprintf(stderr, "racelab: --no-pause is for lessons (racelab lesson N"
		        " --no-pause): a demo never waits for a key\n");
		return EX_USAGE;
	}
	if (cli.action == ACT_SPEC || cli.action == ACT_MATRIX) {   /* app/speccmd.c */
		rc = cli.action == ACT_SPEC ? speccmd_spec(&cli) : speccmd_matrix(&cli);
		return lesson.path ? lesson_finish(&lesson, &cli, rc) : rc;
	}
	cfg.scenario = cli.scenario;
	cfg.db = cli.db;
	cfg.where = cli.where;
	memcpy(cfg.strategies, cli.strategies, sizeof cfg.strategies);
	cfg.nstrategies = cli.nstrategies;
	cfg.threads = cli.threads;
	cfg.ops = cli.ops ? cli.ops : cli.scenario->default_ops;
	cfg.think_ms = cli.think_ms >= 0 ? cli.think_ms : cli.scenario->default_think_ms;
	cfg.seed = cli.seed_given ? cli.seed : fresh_seed();
	cfg.schedule = cli.schedule;
	cfg.step = cli.step;
	cfg.latency_us = cli.nlatencies ? cli.latencies[0] * 1000 : 0;
	cfg.procs = cli.procs;

	if (getenv("RACELAB_PACE_MS"))  /* benchmarks: pace a text run like the dashboard */
		cfg.pace_ms = atoi(getenv("RACELAB_PACE_MS"));

	if ((rc = takes_open(&takes, &cli, &cfg)) != 0)
		return lesson.path ? lesson_finish(&lesson, &cli, rc) : rc;
	start_signal_thread();
	if (cli.export_spec) {          /* app/exportspec.c */
		rc = exportspec_run(&cli, &cfg, set_current, was_interrupted);
		return lesson.path ? lesson_finish(&lesson, &cli, rc) : rc;
	}
	if (cli.nlatencies > 1)
		return sweep_run(&cli, &cfg, set_current, was_interrupted);
	cli.seed = cfg.seed;            /* given or fresh, printed in the table */
	if (cli.action == ACT_COMPARE)
		return compare_run(&cli, &(struct compare_host){ set_current, was_interrupted },
		                   stdout);
	if (lesson.path)
		lesson_caption(&lesson, caption, sizeof caption);
	host = (struct viz_host){
		.watch = set_current, .interrupted = was_interrupted,
		.caption = lesson.path ? caption : NULL,
		.threads_given = cli.threads_given, .ops_given = cli.ops != 0,
		.present = cli.present, .hidden = cli.hidden[0] ? cli.hidden : NULL,
		.cast = takes.cast, .svg = takes.svg, .svg_dark = takes.svg_dark };
	/* --schedule all and -b sqlite,postgres: on a terminal, the dashboard steps
	 * through the orders / shows both backends, and prints the text at the end. */
	multi_dash = cli.output == OUT_AUTO && !cli.trace && !cli.record && !cli.svg &&
	             viz_available();
	if (cli.all_orders)
		rc = orders_run(&cli, &cfg, set_current, was_interrupted,
		                multi_dash ? &host : NULL);
	else if (cli.both)
		rc = both_run(&cli, &cfg, set_current, was_interrupted,
		              multi_dash || cli.step ? &host : NULL);
	else if (use_dashboard(&cli))
		rc = viz_run(&cfg, &host);
	else
		rc = run_headless(&cli, &cfg, &takes);
	rc = takes_close(&takes, &cli, rc);
	return lesson.path ? lesson_finish(&lesson, &cli, rc) : rc;
}
