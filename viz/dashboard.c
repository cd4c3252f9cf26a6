/*
 * dashboard.c: the dashboard's UI loop: start the run, then over and over drain
 * the event stream into the model, draw, and read a key; see viz.h.
 *
 * DESIGN: this is the only thread that touches curses, and it never runs a
 * worker's SQL: workers only emit events.  The loop drains often (every few
 * milliseconds while events flow, so a full-speed run never waits for the
 * screen) but draws at most FRAME_MS apart, and only what changed reaches the
 * terminal.  Every way out (q, a signal, a lost database) goes through the end of
 * viz_run(): stop and join the workers, endwin(), then print.
 */
#include "viz.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../core/report.h"
#include "draw.h"
#include "model.h"
#include "screen.h"

#define FRAME_MS 100            /* at most ten frames a second */
#define BUSY_MS 2               /* events are flowing: drain again soon */
#define IDLE_MS 20              /* nothing came: still drain well before a ring fills */
#define DONE_MS 200             /* the run is over: only keys and signals matter */

#define CTRL(c) ((c) & 0x1f)

/* The speeds + and - step through: delay before each step, 0 for full speed. */
static const int paces[] = { 0, 1, 2, 5, 10, 20, 50, 100, 150, 250, 400, 600, 1000, 1500 };
#define NPACES ((int)(sizeof paces / sizeof *paces))

struct dash {
	struct run_config *cfg;
	const struct viz_host *host;
	struct run *run;
	struct viz_model model;
	struct viz_view view;
	int64_t t0_ns;                  /* monotonic clock when the run started */
	int waited;                     /* run_wait() is done */
	int stopped_early;              /* quit or restart before the run was over */
	enum run_status st;
	char err[DB_ERRLEN];
	long frames;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double thread_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Create and start a run.  Returns 0, or -1 with d->err and d->st set. */
static int begin_run(struct dash *d)
{
	sigset_t block, old;

	d->run = run_new(d->cfg, d->err, &d->st);
	if (!d->run)
		return -1;
	if (viz_model_init(&d->model, run_config(d->run)) != 0) {
		snprintf(d->err, sizeof d->err, "out of memory");
		d->st = RUN_INTERNAL;
		run_free(d->run);
		d->run = NULL;
		return -1;
	}
	d->waited = 0;
	d->stopped_early = 0;
	d->view.paused = d->cfg->paused;
	d->host->watch(d->run);
	/* Workers inherit this mask: resizes and Ctrl-Z go to the UI thread only. */
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTSTP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	d->t0_ns = mono_ns();
	d->st = run_start(d->run);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (d->st != RUN_OK)
		snprintf(d->err, sizeof d->err, "%s", run_error(d->run) ? run_error(d->run) : "");
	return 0;
}

/* Stop the run if it is still going, and check the database. */
static void end_run(struct dash *d)
{
	if (d->waited)
		return;
	if (!run_finished(d->run)) {
		d->stopped_early = 1;
		run_stop(d->run);
	}
	d->st = run_wait(d->run);
	d->waited = 1;
}

static void free_run(struct dash *d)
{
	d->host->watch(NULL);
	run_free(d->run);
	d->run = NULL;
	viz_model_done(&d->model);
}

/* The run is over: join, check, and show the database's figures. */
static void finish(struct dash *d)
{
	const struct run_result *results[DEMO_STRATEGIES];

	run_drain(d->run, viz_model_event, &d->model);
	end_run(d);
	for (int i = 0; i < d->cfg->nstrategies; i++)
		results[i] = run_result(d->run, i);
	viz_model_finish(&d->model, results);
	d->view.clock_ns = mono_ns() - d->t0_ns;
}

static int pace_index(int ms)
{
	int best = 0;

	for (int i = 0; i < NPACES; i++)
		if (abs(paces[i] - ms) < abs(paces[best] - ms))
			best = i;
	return best;
}

static void set_pace(struct dash *d, int step)
{
	int i = pace_index(d->view.pace_ms) + step;

	if (i < 0 || i >= NPACES)
		return;
	d->view.pace_ms = paces[i];
	d->cfg->pace_ms = paces[i];     /* a restart keeps the speed */
	run_set_pace(d->run, paces[i]);
}

/* Handle key CH.  Returns 1 to leave the dashboard. */
static int key(struct dash *d, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case ' ':
		if (!d->waited) {
			d->view.paused = !d->view.paused;
			run_set_paused(d->run, d->view.paused);
		}
		break;
	case '+':
	case '=':
		set_pace(d, -1);
		break;
	case '-':
	case '_':
		set_pace(d, +1);
		break;
	case '?':
	case 'h':
		d->view.help = !d->view.help;
		break;
	case 27:                        /* Escape */
		d->view.help = 0;
		break;
	case CTRL('l'):
		clearok(curscr, TRUE);
		break;
	case 'r':
	case 'R':
		end_run(d);
		free_run(d);
		d->cfg->paused = 0;
		if (begin_run(d) != 0)
			return 1;
		break;
	}
	return 0;
}

static void loop(struct dash *d)
{
	int64_t last_draw = 0;
	int dirty = 1;

	for (;;) {
		int64_t now;
		size_t n;
		int ch, wait_ms;

		if (d->host->interrupted())
			return;
		n = run_drain(d->run, viz_model_event, &d->model);
		if (n)
			dirty = 1;
		if (!d->waited && run_finished(d->run)) {
			finish(d);
			dirty = 1;
			if (d->st != RUN_OK)
				return;         /* the database was lost: say so after endwin */
		}
		now = mono_ns();
		if (!d->waited)
			d->view.clock_ns = now - d->t0_ns;
		if ((dirty || !d->waited) && now - last_draw >= FRAME_MS * 1000000LL) {
			viz_draw(stdscr, &d->model, &d->view);
			wnoutrefresh(stdscr);
			doupdate();
			d->frames++;
			last_draw = now;
			dirty = 0;
		}
		wait_ms = d->waited ? DONE_MS : n ? BUSY_MS : IDLE_MS;
		wtimeout(stdscr, wait_ms);
		ch = wgetch(stdscr);
		if (ch == ERR)
			continue;
		if (ch != KEY_RESIZE && key(d, ch))
			return;
		if (!d->run)
			return;
		dirty = 1;
		last_draw = 0;          /* answer a key or a resize at once */
	}
}

/* RACELAB_BENCH_UI=FILE: append what the UI thread cost and what the run found,
 * for bench/dashboard.sh. */
static void bench_note(struct dash *d, double cpu_s, double wall_s)
{
	const char *path = getenv("RACELAB_BENCH_UI");
	FILE *f;

	if (!path || !*path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "ui_cpu_s=%.4f wall_s=%.3f frames=%ld pace_ms=%d\n", cpu_s, wall_s,
	        d->frames, d->view.pace_ms);
	for (int i = 0; d->run && i < d->cfg->nstrategies; i++) {
		const struct run_result *res = run_result(d->run, i);

		fprintf(f, "strategy=%s committed=%lld anomalies=%lld\n", res->strategy->name,
		        (long long)res->committed, (long long)res->check.anomalies);
	}
	fclose(f);
}

int viz_run(const struct cli *cli, struct run_config *cfg, const struct viz_host *host)
{
	struct dash d = { .cfg = cfg, .host = host };
	struct report rep = { 0 };
	double cpu0, t0;
	int status, interrupted;

	if (!cli->ops)
		cfg->ops = cfg->demo->rounds ? VIZ_COUPON_OPS : VIZ_PRODUCT_OPS;
	if (!getenv("RACELAB_PACE_MS"))
		cfg->pace_ms = VIZ_PACE_MS;
	d.view.pace_ms = cfg->pace_ms;
	d.view.backend = cfg->db->name;
	d.view.row_locks = cfg->db->row_locks;

	if (begin_run(&d) != 0) {
		fprintf(stderr, "racelab: %s\n", d.err);
		return d.st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
	}
	if (viz_screen_open(stdout, stdin, NULL) != 0) {
		end_run(&d);
		free_run(&d);
		fprintf(stderr, "racelab: cannot start the dashboard on this terminal;"
		        " try --no-ui\n");
		return EX_SOFTWARE;
	}
	cpu0 = thread_cpu_s();
	t0 = (double)mono_ns() / 1e9;
	loop(&d);
	interrupted = host->interrupted();

	if (d.run)
		end_run(&d);
	viz_screen_close();
	bench_note(&d, thread_cpu_s() - cpu0, (double)mono_ns() / 1e9 - t0);
	if (!d.run) {                   /* a restart could not create the new run */
		fprintf(stderr, "racelab: %s\n", d.err);
		return d.st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
	}

	rep.cfg = cfg;
	rep.nresults = cfg->nstrategies;
	for (int i = 0; i < rep.nresults; i++)
		rep.results[i] = run_result(d.run, i);
	rep.site = run_site_name(d.run);
	rep.kept = cli->where != NULL;
	rep.interrupted = d.stopped_early;     /* cut short: the counts are for what ran */
	report_text(stdout, &rep);
	fflush(stdout);

	status = report_status(&rep);
	if (d.st == RUN_UNAVAILABLE) {
		fprintf(stderr, "racelab: the database was lost during the run: %s\n",
		        run_error(d.run));
		status = EX_UNAVAILABLE;
	} else if (d.st == RUN_INTERNAL) {
		fprintf(stderr, "racelab: %s\n", run_error(d.run) ? run_error(d.run)
		        : "internal error");
		status = EX_SOFTWARE;
	} else if (interrupted) {
		fprintf(stderr, "racelab: interrupted; the databases were cleaned up\n");
		status = EX_INTERRUPTED;
	}
	free_run(&d);
	return status;
}
