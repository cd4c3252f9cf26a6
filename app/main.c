/*
 * main.c: racelab's entry point: parse the command line, run the scenario, report,
 * and turn the outcome into an exit status (DESIGN.md, "Command line").
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked in every thread and taken by one
 * signal thread with sigwait(), which only asks the run to stop.  The main thread
 * then leaves through the same path as a finished run, so the databases are
 * removed and the terminal is restored whatever happened.
 */
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "lesson.h"
#include "both.h"
#include "orders.h"
#include "sweep.h"
#include "../core/finish.h"
#include "../core/run.h"
#include "../core/trace.h"
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
	pthread_t tid;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);         /* inherited by every thread */
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&tid, NULL, signal_thread, &set) == 0)
		pthread_detach(tid);
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

/* Run the scenario headless: drain events (printing the trace if asked) until
 * every worker has exited, then report.  A scheduled run's trace is the point of
 * it: it is printed unless --json asks for the report alone (the JSON holds it),
 * then "result: …", a blank line, and the usual report.  Everything down to the
 * result line is deterministic, so golden files compare it byte for byte. */
static int run_headless(const struct cli *cli, struct run_config *cfg)
{
	enum run_status st;
	char err[DB_ERRLEN];
	struct trace trace;
	const char *names[SCN_STRATEGIES];
	FILE *trace_to = cli->output == OUT_JSON ? stderr : stdout;
	struct trace_sink sink = { 0 };
	struct finish_opts fin = { .out = stdout, .json = cli->output == OUT_JSON };
	ev_fn show;
	struct run *r;
	int status;

	r = run_new(cfg, err, &st);
	if (!r) {
		fprintf(stderr, "racelab: %s\n", err);
		return st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
	}
	for (int i = 0; i < cfg->nstrategies; i++)
		names[i] = cfg->scenario->strategies[cfg->strategies[i]].name;
	if (cli->trace || (cfg->schedule && cli->output != OUT_JSON))
		sink.print = trace_to;
	sink.keep = cfg->schedule && cli->output == OUT_JSON;
	show = sink.print || sink.keep ? trace_event : NULL;
	if (trace_init(&trace, names, cfg->nstrategies, cfg->threads, print_line,
	               &sink) != 0) {
		fprintf(stderr, "racelab: out of memory\n");
		run_free(r);
		return EX_SOFTWARE;
	}
	set_current(r);
	st = run_to_end(r, show, &trace);
	set_current(NULL);

	fin.interrupted = atomic_load(&interrupted);
	if (cfg->schedule) {
		fin.schedule = cfg->schedule;
		fin.trace = sink.kept.v;
		fin.ntrace = sink.kept.n;
		fin.trace_printed = sink.print == stdout;
	}
	status = run_finish(r, st, &fin);
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
	return cli->output == OUT_AUTO && !cli->trace && !cli->schedule && viz_available();
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct run_config cfg = { 0 };
	struct lesson lesson = { 0 };   /* racelab lesson N */
	char err[256], lerr[1024];
	int rc;

	setlocale(LC_ALL, "");
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
		fprintf(stderr, "racelab: --step needs a terminal: it runs on the dashboard"
		        " (for a text trace of one interleaving, use --schedule)\n");
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
		if (use_dashboard(&cli))        /* let the learner finish reading first */
			lesson_pause(stdin, stdout);
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

	start_signal_thread();
	if (cli.nlatencies > 1)
		return sweep_run(&cli, &cfg, set_current, was_interrupted);
	if (cli.all_orders)
		return orders_run(&cli, &cfg, set_current, was_interrupted);
	if (cli.both)
		return both_run(&cli, &cfg, set_current, was_interrupted);
	cli.seed = cfg.seed;            /* given or fresh, printed in the table */
	if (cli.action == ACT_COMPARE)
		return compare_run(&cli, &(struct compare_host){ set_current, was_interrupted },
		                   stdout);
	if (use_dashboard(&cli)) {
		char caption[1024];

		if (lesson.path)
			lesson_caption(&lesson, caption, sizeof caption);
		rc = viz_run(&cfg, &(struct viz_host){
			.watch = set_current, .interrupted = was_interrupted,
			.caption = lesson.path ? caption : NULL,
			.threads_given = cli.threads_given, .ops_given = cli.ops != 0,
			.present = cli.present, .hidden = cli.hidden[0] ? cli.hidden : NULL });
	}
	else
		rc = run_headless(&cli, &cfg);
	return lesson.path ? lesson_finish(&lesson, &cli, rc) : rc;
}
