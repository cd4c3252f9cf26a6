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
 *
 * Step mode (--step, or s): the run's scheduler waits for a key before every
 * step.  A number key is queued and handed to run_step() as soon as nothing
 * moves, so keys typed ahead are taken in order; a key the run cannot take (a
 * waiting thread, a finished one) is refused on the status line and drops the
 * keys typed after it.  Undo (u) is a replay: stop the run, start a fresh one on
 * a fresh database with every step taken but the last, and let its scheduler
 * take them by itself — real SQL again, no snapshot.  When the dashboard
 * closes, the last run's trace is printed, as a --schedule run prints it, and
 * the report names the steps taken as a schedule that replays them.
 */
#include "viz.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../core/finish.h"
#include "../core/report.h"
#include "../core/trace.h"
#include "draw.h"
#include "model.h"
#include "record.h"
#include "screen.h"

#define FRAME_MS 100            /* at most ten frames a second */
#define BUSY_MS 2               /* events are flowing: drain again soon */
#define IDLE_MS 20              /* nothing came: still drain well before a ring fills */
#define DONE_MS 200             /* the run is over: only keys and signals matter */

#define CTRL(c) ((c) & 0x1f)
#define STEP_QUEUE 16           /* step mode: keys typed ahead of the run */

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

	/* Step mode */
	int queue[STEP_QUEUE];          /* threads to move (0: the next step), in order */
	int nqueue;
	char message[160];              /* why the last key did nothing */
	const char *names[1];           /* the strategy, for the trace */
	struct trace trace;             /* the run's trace, printed at the end */
	struct trace_lines lines, tokens;
	int retried;                    /* an operation started again: tokens are no schedule */

	/* --record, --svg */
	struct cast *cast;
	int virtual;                    /* the recording's clock is the steps taken */
	int recording;                  /* rec is set up (--record or --svg) */
	int drawing;                    /* the screen is open: frame() may draw */
	int markers;                    /* m: markers dropped so far */
	struct viz_rec rec;
};

/* Virtual clock: a frame for every event, so that what the recording holds
 * depends on the events alone, not on when the loop happened to draw. */
static void frame(struct dash *d)
{
	if (!d->drawing)
		return;
	viz_draw(stdscr, &d->model, &d->view);
	wnoutrefresh(stdscr);
	doupdate();
	viz_screen_pump();
	d->frames++;
}

/* Every event goes to the model; in step mode to the trace too, and each step
 * taken to the list that becomes the report's schedule. */
static void on_event(const struct event *e, void *arg)
{
	struct dash *d = arg;
	char token[64];

	if (d->recording)
		viz_rec_event(e, &d->rec);
	if (d->virtual) {
		struct event copy = *e;

		copy.t_ns = d->view.clock_ns = viz_rec_run_ns(&d->rec);
		viz_model_event(&copy, &d->model);
		frame(d);
	} else {
		viz_model_event(e, &d->model);
	}
	if (!d->cfg->step)
		return;
	trace_event(e, &d->trace);
	if (e->kind == EV_RETRY)
		d->retried = 1;
	if (e->kind == EV_STEP && e->step && e->role != ROLE_ROLLBACK) {
		snprintf(token, sizeof token, "t%d.%s", e->thread, e->step);
		trace_lines_add(token, &d->tokens);
	}
}

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
	if (d->recording && viz_rec_init(&d->rec, run_config(d->run), d->cast,
	                                 d->host->svg != NULL) != 0) {
		snprintf(d->err, sizeof d->err, "out of memory");
		d->st = RUN_INTERNAL;
		viz_model_done(&d->model);
		run_free(d->run);
		d->run = NULL;
		return -1;
	}
	if (d->cfg->step) {
		d->names[0] = d->cfg->scenario->strategies[d->cfg->strategies[0]].name;
		if (trace_init(&d->trace, d->names, 1, d->cfg->threads, trace_lines_add,
		               &d->lines) != 0) {
			snprintf(d->err, sizeof d->err, "out of memory");
			d->st = RUN_INTERNAL;
			viz_model_done(&d->model);
			run_free(d->run);
			d->run = NULL;
			return -1;
		}
		/* Stepping by hand, the pace would only slow each key down. */
		run_set_pace(d->run, d->view.step ? 0 : d->view.pace_ms);
	}
	d->waited = 0;
	d->stopped_early = 0;
	d->nqueue = 0;
	d->retried = 0;
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
	if (d->recording)
		viz_rec_done(&d->rec);
	if (d->cfg->step) {
		trace_done(&d->trace);
		trace_lines_clear(&d->lines);
		trace_lines_clear(&d->tokens);
	}
}

/* Stop the run and start another with the same configuration. */
static int restart(struct dash *d)
{
	end_run(d);
	free_run(d);
	d->cfg->paused = 0;
	return begin_run(d);
}

/* The run is over: join, check, and show the database's figures. */
static void finish(struct dash *d)
{
	const struct run_result *results[SCN_STRATEGIES];

	run_drain(d->run, on_event, d);
	end_run(d);
	for (int i = 0; i < d->cfg->nstrategies; i++)
		results[i] = run_result(d->run, i);
	viz_model_finish(&d->model, results);
	d->view.clock_ns = mono_ns() - d->t0_ns;
	if (d->recording) {
		struct report rep = { .cfg = d->cfg, .nresults = d->cfg->nstrategies };
		char result[256];
		int scheduled = d->cfg->schedule && !d->stopped_early;

		for (int i = 0; i < rep.nresults; i++)
			rep.results[i] = results[i];
		if (scheduled && report_result(&rep, result, sizeof result) != 0)
			scheduled = 0;
		viz_rec_finish(&d->rec, results, scheduled ? result : NULL);
	}
	if (d->virtual) {
		d->view.clock_ns = viz_rec_run_ns(&d->rec);
		frame(d);
	}
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
	if (!(d->cfg->step && d->view.step))
		run_set_pace(d->run, paces[i]);
}

/* ---- step mode ------------------------------------------------------------ */

static void say(struct dash *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct dash *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->message, sizeof d->message, fmt, ap);
	va_end(ap);
	d->view.message = d->message;
}

/* A number key or n: queue THREAD (0: the next step) for step_queue. */
static void step_key(struct dash *d, int thread)
{
	int n = d->cfg->threads;
	char has[32];

	if (!d->cfg->step)
		return;                 /* a free run: the threads are not ours to move */
	if (thread > n) {
		if (n == 1)
			snprintf(has, sizeof has, "one thread, T1");
		else
			snprintf(has, sizeof has, n == 2 ? "T1 and T2" : "T1 to T%d", n);
		say(d, "there is no T%d: this run has %s (-t %d)", thread, has, n);
		return;
	}
	if (!d->view.step) {
		say(d, "the run is playing by itself: s stops it before the next step");
		return;
	}
	if (d->nqueue < STEP_QUEUE)
		d->queue[d->nqueue++] = thread;
}

/* Hand the queued keys to the run, one each time nothing moves. */
static void step_queue(struct dash *d)
{
	if (d->nqueue && d->waited) {
		d->nqueue = 0;
		say(d, "the run is over: u undoes the last step, r starts again");
	}
	while (d->nqueue) {
		int granted, thread = d->queue[0], holder;
		enum sched_grant rc = run_step(d->run, thread, &granted);

		if (rc == SCHED_BUSY) {
			if (!run_finished(d->run))
				return;
			rc = SCHED_FINISHED;
		}
		if (rc == SCHED_GRANTED) {
			memmove(d->queue, d->queue + 1, (size_t)--d->nqueue * sizeof *d->queue);
			d->view.message = NULL;
			continue;
		}
		d->nqueue = 0;          /* the keys after it assumed it would go */
		switch (rc) {
		case SCHED_WAITING:
			holder = viz_lane_waits_for(&d->model, 0, thread);
			if (holder > 0)
				say(d, "T%d waits for T%d's lock: move T%d on until it commits", thread,
				    holder, holder);
			else
				say(d, "T%d waits for a lock: move another thread", thread);
			break;
		case SCHED_FINISHED:
			if (run_finished(d->run))
				say(d, "the run is over: u undoes the last step, r starts again");
			else
				say(d, "T%d has finished its work: move another thread", thread);
			break;
		case SCHED_AT_BARRIER:
			say(d, "T%d waits for the others to finish this round: move them", thread);
			break;
		case SCHED_NO_THREAD:
			say(d, "there is no T%d", thread);
			break;
		default:
			break;
		}
	}
}

/* u: the same steps but the last, replayed on a fresh database. */
static int undo(struct dash *d)
{
	int n = run_steps_taken(d->run, NULL, 0), *steps, rc;

	if (n < 0) {
		say(d, "cannot undo: out of memory");
		return 0;
	}
	if (n == 0) {
		say(d, "nothing to undo: no step has been taken yet");
		return 0;
	}
	if (!(steps = malloc((size_t)n * sizeof *steps))) {
		say(d, "cannot undo: out of memory");
		return 0;
	}
	run_steps_taken(d->run, steps, n);
	d->cfg->replay = steps;
	d->cfg->nreplay = n - 1;
	d->view.step = 1;               /* undo is stepping */
	d->view.message = NULL;
	rc = restart(d);
	d->cfg->replay = NULL;          /* the run has its own copy */
	d->cfg->nreplay = 0;
	free(steps);
	return rc;
}

/* s: step mode on or off.  A free run has no scheduler: it starts over in step
 * mode, with its first strategy, as --step would. */
static int toggle_step(struct dash *d)
{
	d->view.message = NULL;
	d->nqueue = 0;
	if (d->cfg->step) {
		d->view.step = !d->view.step;
		run_set_pace(d->run, d->view.step ? 0 : d->view.pace_ms);
		if (d->view.step) {
			d->view.paused = 0;
			run_set_paused(d->run, 0);
		}
		run_set_step(d->run, d->view.step);
		return 0;
	}
	d->cfg->step = 1;
	d->cfg->nstrategies = 1;
	if (!d->host->threads_given || d->cfg->threads > VIZ_STEP_THREADS)
		d->cfg->threads = 2;
	if (!d->host->ops_given)
		d->cfg->ops = 1;
	d->cfg->think_ms = 0;
	d->view.step = 1;
	return restart(d);
}

/* m: a marker of the speaker's own in the recording, numbered, at this moment
 * (a chapter to jump to when the recording is played). */
static void drop_marker(struct dash *d)
{
	char label[32];

	snprintf(label, sizeof label, "marker %d", d->markers + 1);
	if (d->cast) {
		viz_rec_marker(&d->rec, label);
	} else if (d->host->marker) {   /* a recording kept by the program around us */
		d->host->marker(label);
	} else {
		say(d, "m drops a marker when --record is on");
		return;
	}
	d->markers++;
	say(d, "%s dropped in the recording", label);
}

/* Handle key CH.  Returns 1 to leave the dashboard. */
static int key(struct dash *d, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case ' ':
		if (d->view.present && d->cfg->step) {
			step_key(d, 0);
		} else if (d->view.present) {
			d->view.message = NULL;
			run_advance(d->run);
		} else if (d->cfg->step && d->view.step) {
			say(d, "in step mode the number keys move the threads; s lets the run play");
		} else if (!d->waited) {
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
	case '<':
	case ',':
	case '>':
	case '.': {
		/* Not every panel fits: page through them, wrapping round. */
		int n = viz_draw_shown(COLS, d->model.npanels);
		int first = viz_draw_first(COLS, d->model.npanels, d->view.first_panel);

		if (n >= d->model.npanels)
			break;
		if (ch == '>' || ch == '.')
			first = first + n >= d->model.npanels ? 0 : first + n;
		else
			first = first == 0 ? d->model.npanels - n : first - n;
		d->view.first_panel = first;
		break;
	}
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
		if (d->cfg->step)
			d->view.step = 1;
		d->view.message = NULL;
		if (restart(d) != 0)
			return 1;
		break;
	case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8':
	case '9':
		step_key(d, ch - '0');
		break;
	case 'n':
	case 'N':
		if (d->view.present && !d->cfg->step) {
			d->view.message = NULL;
			run_advance(d->run);
		} else {
			step_key(d, 0);
		}
		break;
	case 'b':
	case 'B':
		d->view.blank = d->view.present && !d->view.blank;
		break;
	case 'p':
	case 'P':
		if (d->view.present && !d->cfg->step && !d->waited) {
			d->view.paused = !d->view.paused;
			run_set_paused(d->run, d->view.paused);
		}
		break;
	case 'm':
	case 'M':
		drop_marker(d);
		break;
	case 'u':
	case 'U':
		if (d->cfg->step && undo(d) != 0)
			return 1;
		break;
	case 's':
	case 'S':
		if (toggle_step(d) != 0)
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
		if (d->cast && viz_screen_poll_size())
			dirty = 1;
		if (viz_screen_suspend()) {
			dirty = 1;
			last_draw = 0;
		}
		if (d->cfg->step) {
			/* Asked before the drain, so that the lanes drawn show every event
			 * of the state these describe.  A change alone is worth a frame: the
			 * last step can finish the run within the loop that granted it. */
			struct viz_view before = d->view;

			d->view.awaiting = run_step_awaiting(d->run);
			d->view.replaying = run_replaying(d->run);
			d->view.nsteps = run_steps_taken(d->run, NULL, 0);   /* -1: unknown */
			if (d->view.awaiting != before.awaiting ||
			    d->view.replaying != before.replaying || d->view.nsteps != before.nsteps)
				dirty = 1;
		}
		n = run_drain(d->run, on_event, d);
		if (n)
			dirty = 1;
		if (d->cfg->step)
			step_queue(d);
		if (!d->waited && run_finished(d->run)) {
			finish(d);
			dirty = 1;
			if (d->st != RUN_OK)
				return;         /* the database was lost: say so after endwin */
		}
		now = mono_ns();
		if (!d->waited)
			d->view.clock_ns = d->virtual ? viz_rec_run_ns(&d->rec) : now - d->t0_ns;
		if ((dirty || !d->waited) && now - last_draw >= FRAME_MS * 1000000LL) {
			viz_draw(stdscr, &d->model, &d->view);
			wnoutrefresh(stdscr);
			doupdate();
			viz_screen_pump();
			d->frames++;
			last_draw = now;
			dirty = 0;
		}
		wait_ms = d->waited ? DONE_MS : n ? BUSY_MS : IDLE_MS;
		wtimeout(stdscr, wait_ms);
		ch = wgetch(stdscr);
		viz_screen_pump();
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

/* The steps taken, "t1.read t2.read ...": a --schedule that replays them (one
 * operation per thread; a listed schedule has no way to say more).  Malloc'd. */
static char *step_schedule(const struct trace_lines *tokens)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < tokens->n; i++)
		len += strlen(tokens->v[i]) + 1;
	if (!(s = malloc(len)))
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < tokens->n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, tokens->v[i]);
	}
	return s;
}

int viz_run(struct run_config *cfg, const struct viz_host *host)
{
	struct dash d = { .cfg = cfg, .host = host, .cast = host->cast,
	                  .recording = host->cast || host->svg };
	struct finish_opts fin = { .out = stdout };
	double cpu0, t0;
	char *schedule = NULL;
	int status;

	d.view.caption = host->caption;
	d.view.present = host->present;
	d.view.hidden = host->hidden;
	if (host->present && !cfg->step)
		cfg->paused = 1;        /* the presenter moves it on, a step at a time */
	viz_screen_set_present(host->present);
	if (!host->ops_given)
		cfg->ops = cfg->scenario->dashboard_ops;
	if (!getenv("RACELAB_PACE_MS"))
		cfg->pace_ms = VIZ_PACE_MS;
	d.view.pace_ms = cfg->pace_ms;
	d.view.backend = cfg->db->name;
	d.view.row_locks = cfg->db->row_locks;
	d.view.step = cfg->step;
	d.virtual = host->cast && cast_clock_kind(host->cast) == CAST_VIRTUAL;

	if (begin_run(&d) != 0) {
		fprintf(stderr, "racelab: %s\n", d.err);
		return d.st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
	}
	if (viz_screen_open_recorded(stdout, stdin, NULL, host->cast) != 0) {
		end_run(&d);
		free_run(&d);
		fprintf(stderr, "racelab: cannot start the dashboard on this terminal;"
		        " try --no-ui\n");
		return EX_SOFTWARE;
	}
	d.drawing = 1;
	cpu0 = thread_cpu_s();
	t0 = (double)mono_ns() / 1e9;
	if (d.virtual) {
		/* The first frame, and the keypad mode curses sends with the first key
		 * read, before any event: where they fall must not depend on timing. */
		int ch;

		frame(&d);
		wtimeout(stdscr, 0);
		if ((ch = wgetch(stdscr)) != ERR)
			ungetch(ch);
		viz_screen_pump();
	}
	loop(&d);
	fin.interrupted = host->interrupted();

	if (d.run)
		end_run(&d);
	if (d.run && d.recording && !d.rec.finished) {  /* quit before the end */
		const struct run_result *results[SCN_STRATEGIES];

		for (int i = 0; i < cfg->nstrategies; i++)
			results[i] = run_result(d.run, i);
		viz_rec_finish(&d.rec, results, NULL);
		if (d.virtual)
			frame(&d);
	}
	d.drawing = 0;
	viz_screen_close();
	if (d.run && host->svg)
		viz_svg_write(&d.rec, host->svg, host->svg_dark ? SVG_DARK : SVG_LIGHT);
	bench_note(&d, thread_cpu_s() - cpu0, (double)mono_ns() / 1e9 - t0);
	if (!d.run) {                   /* a restart could not create the new run */
		fprintf(stderr, "racelab: %s\n", d.err);
		return d.st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
	}

	fin.cut_short = d.stopped_early;        /* the counts are for what ran */
	if (cfg->step) {
		/* As a --schedule run prints it: the trace, the result, then the report,
		 * which names the steps taken as a schedule that replays them. */
		run_drain(d.run, on_event, &d);
		for (size_t i = 0; i < d.lines.n; i++)
			printf("%s\n", d.lines.v[i]);
		fin.trace_printed = d.lines.n > 0;
		if (cfg->ops == 1 && !d.retried && d.tokens.n)
			schedule = step_schedule(&d.tokens);
		fin.schedule = schedule;
	}
	host->watch(NULL);              /* a signal from now on has no run to stop */
	status = run_finish(d.run, d.st, &fin);
	d.run = NULL;                   /* run_finish freed it */
	free(schedule);
	free_run(&d);
	return status;
}
