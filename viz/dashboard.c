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
 *
 * Several runs.  A dashboard holds one run per side (a backend, VIZ_RUNS at
 * most), all started together and drawn as one model whose panels come side
 * after side; every control (pace, pause, a step key, undo) goes to each side.
 * A step key moves that thread on every side that can take it; one that waits
 * on a side stays put there, which is the lesson: the same step waits on SQLite
 * and not on PostgreSQL.  Undo takes back the last key on the sides it moved.
 * Orders (--schedule all) are runs one after another: the current one plays as
 * a scheduled run does, and moving to another order starts that one afresh.
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
#define ADVANCE_STEPS 8         /* orders: a finished order stays this many steps' time */
#define ADVANCE_MIN_MS 300      /* ... and at least this long, even at full speed */

/* The speeds + and - step through: delay before each step, 0 for full speed. */
static const int paces[] = { 0, 1, 2, 5, 10, 20, 50, 100, 150, 250, 400, 600, 1000, 1500 };
#define NPACES ((int)(sizeof paces / sizeof *paces))

struct dash;

/* One run on the dashboard: the only one, or one backend's. */
struct side {
	struct dash *d;
	struct run_config cfg;          /* the dashboard's cfg, on this side's backend */
	const db_backend *db;
	const char *where;
	struct run *run;
	int offset;                     /* its first panel in the model */
	int waited;                     /* run_wait() is done */
	int stopped_early;              /* quit or restart before the run was over */
	enum run_status st;
	const char *names[1];           /* step mode: the strategy, for the trace */
	struct trace trace;             /* ... the run's trace, printed at the end */
	struct trace_lines lines, tokens;
	int retried;                    /* an operation started again: tokens are no schedule */
	const int *replay;              /* undo: the grants its next run takes first, */
	int nreplay;                    /* instead of the dashboard's cfg's */
	int answered;                   /* the key at the head of the queue has been put to it */
	enum sched_grant rc;            /* ... and what it said */
};

#define UNDO_KEPT 256           /* keys whose sides undo remembers */

struct dash {
	struct run_config *cfg;         /* what the keys change; every side copies it */
	const struct viz_host *host;
	struct side sides[VIZ_RUNS];
	int nsides;
	struct run *run;                /* sides[0].run: the one the controls of a single
	                                   run (present, recording) act on */
	struct viz_model model;
	struct viz_view view;
	int64_t t0_ns;                  /* monotonic clock when the runs started */
	int waited;                     /* run_wait() is done on every side */
	int stopped_early;              /* ... and some side was stopped before its end */
	enum run_status st;
	char err[DB_ERRLEN];
	long frames;

	/* Step mode */
	int queue[STEP_QUEUE];          /* threads to move (0: the next step), in order */
	int nqueue;
	char message[160];              /* why the last key did nothing */
	unsigned moved[UNDO_KEPT];      /* the sides each key moved (bit k: sides[k]) */
	int nmoved;
	int manual;                     /* a key moved or undid a step since the schedule's
	                                   run began: the steps taken are no longer its */

	/* --schedule all */
	int order;                      /* the order playing (index into host->orders) */
	struct { int played, lost; } *played;  /* per order: played to the end, and
	                                   what it showed */
	int64_t advance_ns;             /* when the next order starts by itself (0: not) */
	char heading[200];
	char caption[1024];
	char note[96];                  /* the status line's word on what comes next */

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

/* A run whose trace the dashboard keeps: step mode's, printed when it closes,
 * and any scheduled run's (an order's, a side's), for whoever reports it. */
static int tracing(const struct run_config *cfg)
{
	return cfg->step || cfg->schedule;
}

/* Every event goes to the model; in step mode to the trace too, and each step
 * taken to the list that becomes the report's schedule. */
static void on_event(const struct event *e, void *arg)
{
	struct side *s = arg;
	struct dash *d = s->d;
	char token[64];

	if (d->recording)
		viz_rec_event(e, &d->rec);
	if (d->virtual) {
		struct event copy = *e;

		copy.t_ns = d->view.clock_ns = viz_rec_run_ns(&d->rec);
		viz_model_event(&copy, &d->model);
		frame(d);
	} else if (s->offset) {         /* the model counts this side's panels after the first's */
		struct event copy = *e;

		copy.strategy += s->offset;
		viz_model_event(&copy, &d->model);
	} else {
		viz_model_event(e, &d->model);
	}
	if (!tracing(&s->cfg))
		return;
	trace_event(e, &s->trace);
	if (e->kind == EV_RETRY)
		s->retried = 1;
	if (e->kind == EV_STEP && e->step && e->role != ROLE_ROLLBACK) {
		snprintf(token, sizeof token, "t%d.%s", e->thread, e->step);
		trace_lines_add(token, &s->tokens);
	}
}

static void drain(struct dash *d, size_t *n)
{
	for (int k = 0; k < d->nsides; k++) {
		size_t got = run_drain(d->sides[k].run, on_event, &d->sides[k]);

		if (n)
			*n += got;
	}
}

static int all_finished(struct dash *d)
{
	for (int k = 0; k < d->nsides; k++)
		if (!run_finished(d->sides[k].run))
			return 0;
	return 1;
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

static void free_side(struct side *s)
{
	run_free(s->run);
	s->run = NULL;
	if (tracing(&s->cfg)) {
		trace_done(&s->trace);
		trace_lines_clear(&s->lines);
		trace_lines_clear(&s->tokens);
	}
}

/* Create side K's run (not started) and its panels in the model.  Returns 0, or
 * -1 with d->err and d->st set. */
static int new_side(struct dash *d, int k)
{
	struct side *s = &d->sides[k];
	char err[DB_ERRLEN];
	int rc;

	s->d = d;
	s->cfg = *d->cfg;
	s->cfg.db = s->db;
	s->cfg.where = s->where;
	if (s->replay) {
		s->cfg.replay = s->replay;
		s->cfg.nreplay = s->nreplay;
	}
	s->offset = k * d->cfg->nstrategies;
	s->waited = s->stopped_early = s->retried = s->answered = 0;
	s->run = run_new(&s->cfg, err, &s->st);
	if (!s->run) {
		d->st = s->st;
		if (d->nsides > 1)      /* which backend, as -b sqlite,postgres says it */
			snprintf(d->err, sizeof d->err, "%s: %.200s", s->db->name, err);
		else
			snprintf(d->err, sizeof d->err, "%s", err);
		return -1;
	}
	rc = k == 0 ? viz_model_init(&d->model, run_config(s->run))
	     : viz_model_add(&d->model, run_config(s->run));
	if (rc == 0 && tracing(&s->cfg)) {
		s->names[0] = s->cfg.scenario->strategies[s->cfg.strategies[0]].name;
		if (trace_init(&s->trace, s->names, 1, s->cfg.threads, trace_lines_add,
		               &s->lines) != 0) {
			rc = -1;
		}
	}
	if (rc != 0) {
		viz_model_done(&d->model);      /* idempotent: begin_run may do it again */
		snprintf(d->err, sizeof d->err, "out of memory");
		d->st = RUN_INTERNAL;
		run_free(s->run);
		s->run = NULL;
		return -1;
	}
	/* Stepping by hand, the pace would only slow each key down. */
	run_set_pace(s->run, s->cfg.step && d->view.step ? 0 : d->view.pace_ms);
	run_set_step(s->run, d->view.step);
	return 0;
}

/* Create and start the runs, one per side.  Returns 0, or -1 with d->err and
 * d->st set. */
static int begin_run(struct dash *d)
{
	sigset_t block, old;
	int k;

	for (k = 0; k < d->nsides; k++)
		if (new_side(d, k) != 0)
			break;
	if (k == d->nsides && d->recording &&
	    viz_rec_init(&d->rec, run_config(d->sides[0].run), d->cast,
	                 d->host->svg != NULL) != 0) {
		snprintf(d->err, sizeof d->err, "out of memory");
		d->st = RUN_INTERNAL;
	} else if (k == d->nsides) {
		k = -1;
	}
	if (k >= 0) {                   /* undo the sides made so far */
		viz_model_done(&d->model);
		while (k-- > 0)
			free_side(&d->sides[k]);
		d->run = NULL;
		return -1;
	}
	d->run = d->sides[0].run;
	d->waited = 0;
	d->stopped_early = 0;
	d->nqueue = 0;
	d->nmoved = 0;
	d->advance_ns = 0;
	d->view.note = NULL;
	d->view.paused = d->cfg->paused;
	d->host->watch(d->run);         /* a signal stops it; the loop then stops the rest */
	/* Workers inherit this mask: resizes and Ctrl-Z go to the UI thread only. */
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTSTP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	d->t0_ns = mono_ns();
	d->st = RUN_OK;
	for (k = 0; k < d->nsides && d->st == RUN_OK; k++) {
		struct run *r = d->sides[k].run;

		d->st = run_start(r);
		if (d->st != RUN_OK)
			snprintf(d->err, sizeof d->err, "%s", run_error(r) ? run_error(r) : "");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

/* Stop the runs if they are still going, and check the databases. */
static void end_run(struct dash *d)
{
	if (d->waited)
		return;
	for (int k = 0; k < d->nsides; k++)     /* all at once: a side may wait for none */
		if (!run_finished(d->sides[k].run)) {
			d->sides[k].stopped_early = d->stopped_early = 1;
			run_stop(d->sides[k].run);
		}
	d->st = RUN_OK;
	for (int k = 0; k < d->nsides; k++) {
		struct side *s = &d->sides[k];

		if (!s->waited)
			s->st = run_wait(s->run);
		s->waited = 1;
		if (s->st > d->st)
			d->st = s->st;
	}
	d->waited = 1;
}

static void free_run(struct dash *d)
{
	d->host->watch(NULL);
	for (int k = 0; k < d->nsides; k++)
		free_side(&d->sides[k]);
	d->run = NULL;
	viz_model_done(&d->model);
	if (d->recording)
		viz_rec_done(&d->rec);
}

/* Stop the runs and start others with the same configuration. */
static int restart(struct dash *d)
{
	end_run(d);
	free_run(d);
	d->cfg->paused = 0;
	return begin_run(d);
}

static void tally(struct dash *d);

/* The runs are over: join, check, and show the databases' figures. */
static void finish(struct dash *d)
{
	const struct run_result *results[VIZ_PANELS];
	int n = 0;

	drain(d, NULL);
	end_run(d);
	for (int k = 0; k < d->nsides; k++)
		for (int i = 0; i < d->cfg->nstrategies; i++)
			results[n++] = run_result(d->sides[k].run, i);
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
	if (d->host->orders && !d->stopped_early && d->st == RUN_OK) {
		const struct viz_orders *o = d->host->orders;

		o->played(o->arg, d->order, d->run, &d->sides[0].lines);
		d->played[d->order].played = 1;
		d->played[d->order].lost = results[0]->check.anomalies > 0;
		tally(d);
		/* Playing on its own, the next order follows after a few steps' time. */
		if (!d->view.step && d->order + 1 < o->n) {
			d->advance_ns = mono_ns() + (int64_t)(ADVANCE_STEPS * d->view.pace_ms +
			                                      ADVANCE_MIN_MS) * 1000000;
			snprintf(d->note, sizeof d->note, "next: order %d of %d%s%s",
			         o->v[d->order + 1].index, o->v[d->order + 1].count,
			         o->v[d->order + 1].strategy != o->v[d->order].strategy ? " of " : "",
			         o->v[d->order + 1].strategy != o->v[d->order].strategy
			         ? d->cfg->scenario->strategies[o->v[d->order + 1].strategy].name : "");
			d->view.note = d->note;
		} else if (d->order + 1 == o->n) {
			snprintf(d->note, sizeof d->note, "that was the last order: q prints them all");
			d->view.note = d->note;
		}
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
		for (int k = 0; k < d->nsides; k++)
			run_set_pace(d->sides[k].run, paces[i]);
}

static void set_paused(struct dash *d, int paused)
{
	d->view.paused = paused;
	for (int k = 0; k < d->nsides; k++)
		run_set_paused(d->sides[k].run, paused);
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

/* Why side S did not take THREAD's step (RC), in words: "T2 waits for T1's
 * lock: move T1 on until it commits".  ON names the side ("on SQLite") or is "". */
static void refusal(struct dash *d, struct side *s, int thread, enum sched_grant rc,
                    char *buf, size_t n)
{
	int holder;

	switch (rc) {
	case SCHED_WAITING:
		holder = viz_lane_waits_for(&d->model, s->offset, thread);
		if (holder > 0)
			snprintf(buf, n, "T%d waits for T%d's lock: move T%d on until it commits",
			         thread, holder, holder);
		else
			snprintf(buf, n, "T%d waits for a lock: move another thread", thread);
		break;
	case SCHED_FINISHED:
		if (run_finished(s->run))
			snprintf(buf, n, "the run is over: u undoes the last step, r starts again");
		else
			snprintf(buf, n, "T%d has finished its work: move another thread", thread);
		break;
	case SCHED_AT_BARRIER:
		snprintf(buf, n, "T%d waits for the others to finish this round: move them",
		         thread);
		break;
	case SCHED_NO_THREAD:
		snprintf(buf, n, "there is no T%d", thread);
		break;
	default:
		buf[0] = '\0';
		break;
	}
}

/* Hand the queued keys to the runs, one each time nothing moves: each key to
 * every side, and the next key only once every side has answered. */
static void step_queue(struct dash *d)
{
	if (d->nqueue && d->waited) {
		d->nqueue = 0;
		say(d, "the run is over: u undoes the last step, r starts again");
	}
	while (d->nqueue) {
		int granted, thread = d->queue[0];
		unsigned moved = 0;
		char why[160];
		struct side *stuck = NULL;

		for (int k = 0; k < d->nsides; k++) {
			struct side *s = &d->sides[k];

			if (s->answered)
				continue;
			s->rc = run_step(s->run, thread, &granted);
			if (s->rc == SCHED_BUSY) {
				if (!run_finished(s->run))
					return;         /* ask again on the next turn of the loop */
				s->rc = SCHED_FINISHED;
			}
			s->answered = 1;
		}
		for (int k = 0; k < d->nsides; k++) {
			d->sides[k].answered = 0;
			if (d->sides[k].rc == SCHED_GRANTED)
				moved |= 1u << k;
			else if (!stuck)
				stuck = &d->sides[k];
		}
		if (moved) {
			memmove(d->queue, d->queue + 1, (size_t)--d->nqueue * sizeof *d->queue);
			if (d->nmoved == UNDO_KEPT) {
				memmove(d->moved, d->moved + 1, (UNDO_KEPT - 1) * sizeof *d->moved);
				d->nmoved--;
			}
			d->moved[d->nmoved++] = moved;
			d->manual = 1;
			d->view.message = NULL;
			if (stuck && stuck->rc == SCHED_WAITING && thread) {
				/* The same key moved one backend and not the other: the lesson. */
				int holder = viz_lane_waits_for(&d->model, stuck->offset, thread);
				const char *moved_on = d->sides[!(stuck - d->sides)].db->title;

				if (holder > 0)
					say(d, "T%d moved on %s; on %s it waits for T%d's lock: move T%d on"
					    " until it commits", thread, moved_on, stuck->db->title, holder,
					    holder);
				else
					say(d, "T%d moved on %s; on %s it waits for a lock", thread, moved_on,
					    stuck->db->title);
			} else if (stuck && stuck->rc != SCHED_GRANTED) {
				refusal(d, stuck, thread, stuck->rc, why, sizeof why);
				say(d, "moved on %s; not on %s: %s", d->sides[!(stuck - d->sides)].db->title,
				    stuck->db->title, why);
			}
			continue;
		}
		d->nqueue = 0;          /* the keys after it assumed it would go */
		refusal(d, &d->sides[0], thread, d->sides[0].rc, why, sizeof why);
		if (why[0])
			say(d, "%s", why);
	}
}

/* u: the same steps but the last key's, replayed on fresh databases. */
static int undo(struct dash *d)
{
	int *steps[VIZ_RUNS] = { NULL }, n[VIZ_RUNS], rc = 0, any = 0, keep;
	unsigned last = d->nmoved ? d->moved[d->nmoved - 1] : ~0u;

	for (int k = 0; k < d->nsides; k++) {
		n[k] = run_steps_taken(d->sides[k].run, NULL, 0);
		if (n[k] < 0 || !(steps[k] = malloc((size_t)(n[k] + 1) * sizeof *steps[k]))) {
			say(d, "cannot undo: out of memory");
			goto out;
		}
		run_steps_taken(d->sides[k].run, steps[k], n[k]);
		if ((last & (1u << k)) && n[k] > 0) {
			n[k]--;
			any = 1;
		}
	}
	if (!any) {
		say(d, "nothing to undo: no step has been taken yet");
		goto out;
	}
	if (d->nmoved)
		d->nmoved--;
	keep = d->nmoved;
	d->manual = 1;
	d->view.step = 1;               /* undo is stepping */
	d->view.message = NULL;
	/* Each side replays its own steps: the same keys need not have moved both. */
	for (int k = 0; k < d->nsides; k++) {
		d->sides[k].replay = steps[k];
		d->sides[k].nreplay = n[k];
	}
	rc = restart(d);
	for (int k = 0; k < d->nsides; k++) {
		d->sides[k].replay = NULL;      /* each run has its own copy */
		d->sides[k].nreplay = 0;
	}
	d->nmoved = keep;               /* the keys before the one undone still count */
out:
	for (int k = 0; k < d->nsides; k++)
		free(steps[k]);
	return rc;
}

/* s: step mode on or off.  A run that is not in step mode (a free run, a
 * schedule playing) starts over in step mode, with its first strategy, as
 * --step would. */
static int toggle_step(struct dash *d)
{
	d->view.message = NULL;
	d->nqueue = 0;
	if (d->cfg->step) {
		d->view.step = !d->view.step;
		d->manual = 1;          /* the steps taken are the person's now */
		for (int k = 0; k < d->nsides; k++) {
			run_set_pace(d->sides[k].run, d->view.step ? 0 : d->view.pace_ms);
			if (d->view.step)
				run_set_paused(d->sides[k].run, 0);
			run_set_step(d->sides[k].run, d->view.step);
		}
		if (d->view.step) {
			d->view.paused = 0;
			d->advance_ns = 0;      /* stepping: the next order waits for ] */
			d->view.note = NULL;
		}
		return 0;
	}
	d->cfg->step = 1;
	d->cfg->nstrategies = 1;
	/* A schedule keeps its threads and its one operation each. */
	if (!d->cfg->schedule &&
	    (!d->host->threads_given || d->cfg->threads > VIZ_STEP_THREADS))
		d->cfg->threads = 2;
	if (!d->cfg->schedule && !d->host->ops_given)
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

/* ---- --schedule all ------------------------------------------------------- */

/* The running tally under the panels, a line per strategy in the order they
 * play ("naive: 3 of 4 orders played show a lost update (6 in all)"), then the
 * host's caption. */
static void tally(struct dash *d)
{
	const struct viz_orders *o = d->host->orders;
	size_t len = 0;

	d->caption[0] = '\0';
	for (int i = 0; i < o->n; ) {
		int played = 0, lost = 0, j;

		for (j = i; j < o->n && o->v[j].strategy == o->v[i].strategy; j++) {
			played += d->played[j].played;
			lost += d->played[j].lost;
		}
		const char *name = d->cfg->scenario->strategies[o->v[i].strategy].name;

		if (len < sizeof d->caption && !played)
			len += (size_t)snprintf(d->caption + len, sizeof d->caption - len,
			                        "%s%s: %d orders, none played yet", len ? "\n" : "",
			                        name, j - i);
		else if (len < sizeof d->caption)
			len += (size_t)snprintf(d->caption + len, sizeof d->caption - len,
			                        "%s%s: %d of %d order%s played show%s a %s (%d in all)",
			                        len ? "\n" : "", name, lost, played,
			                        played == 1 ? "" : "s", played == 1 ? "s" : "",
			                        d->cfg->scenario->words.anomaly, j - i);
		i = j;
	}
	if (d->host->caption && len < sizeof d->caption)
		snprintf(d->caption + len, sizeof d->caption - len, "\n%s", d->host->caption);
	d->view.caption = d->caption;
}

/* Point the configuration at order I, and say so in the title. */
static void set_order(struct dash *d, int i)
{
	const struct viz_order *o = &d->host->orders->v[i];

	d->order = i;
	d->cfg->schedule = o->schedule;
	d->cfg->strategies[0] = o->strategy;
	snprintf(d->heading, sizeof d->heading, "order %d of %d: %s", o->index, o->count,
	         o->schedule);
	d->view.heading = d->heading;
}

/* ] and [ (and an order that finished playing): start order I afresh. */
static int go_order(struct dash *d, int i)
{
	if (!d->host->orders)
		return 0;
	if (i < 0 || i >= d->host->orders->n) {
		say(d, i < 0 ? "this is the first order: ] goes to the next"
		    : "that was the last order: q ends and prints the summary");
		return 0;
	}
	set_order(d, i);
	d->view.message = NULL;
	d->manual = 0;
	/* Playing, an order is a plain scheduled run, as --schedule all runs it
	 * (a step its thread skips takes its turn, so the trace is the same);
	 * stepping, a step-mode run. */
	d->cfg->step = d->view.step;
	return restart(d);
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
			set_paused(d, !d->view.paused);
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
		int n = viz_draw_shown_of(COLS, &d->model);
		int first = viz_draw_first_of(COLS, &d->model, d->view.first_panel);

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
		d->manual = 0;
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
		if (d->view.present && !d->cfg->step && !d->waited)
			set_paused(d, !d->view.paused);
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
	case ']':
	case KEY_NPAGE:
		if (go_order(d, d->order + 1) != 0)
			return 1;
		break;
	case '[':
	case KEY_PPAGE:
		if (go_order(d, d->order - 1) != 0)
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

			d->view.awaiting = d->view.replaying = 0;
			d->view.nsteps = 0;
			for (int k = 0; k < d->nsides; k++) {
				struct run *r = d->sides[k].run;
				int taken = run_steps_taken(r, NULL, 0);     /* -1: unknown */

				d->view.awaiting |= run_step_awaiting(r);
				d->view.replaying |= run_replaying(r);
				if (k == 0 || taken < 0 || (d->view.nsteps >= 0 && taken > d->view.nsteps))
					d->view.nsteps = taken;
			}
			if (d->view.awaiting != before.awaiting ||
			    d->view.replaying != before.replaying || d->view.nsteps != before.nsteps)
				dirty = 1;
		}
		n = 0;
		drain(d, &n);
		if (n)
			dirty = 1;
		if (d->cfg->step)
			step_queue(d);
		if (!d->waited && all_finished(d)) {
			finish(d);
			dirty = 1;
			if (d->st != RUN_OK)
				return;         /* the database was lost: say so after endwin */
		}
		now = mono_ns();
		if (d->advance_ns && now >= d->advance_ns && !d->view.step) {
			if (go_order(d, d->order + 1) != 0 || !d->run)
				return;
			dirty = 1;
			continue;
		}
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

/* --schedule all and -b sqlite,postgres: the dashboard closed; hand the runs to
 * whoever prints what they showed.  Returns the exit status. */
static int end_multi(struct dash *d, struct finish_opts *fin)
{
	struct viz_side_end ends[VIZ_RUNS];
	char *schedules[VIZ_RUNS] = { NULL };
	int status;

	if (d->host->orders) {
		/* The orders played were handed over as each ended: this run is only
		 * cleaned up.  A safe strategy's anomaly is the caller's to count. */
		fin->quiet = 1;
		status = run_finish(d->sides[0].run, d->st, fin);
		d->sides[0].run = NULL;
		return status == EX_ANOMALY ? 0 : status;
	}
	drain(d, NULL);
	for (int k = 0; k < d->nsides; k++) {
		struct side *s = &d->sides[k];

		ends[k] = (struct viz_side_end){ .run = s->run, .st = s->st,
		                                 .cut_short = s->stopped_early };
		if (tracing(&s->cfg)) {
			ends[k].trace = &s->lines;
			/* Played as given, the schedule is the one given (the steps began in
			 * another order where one waited); moved by hand, the steps taken. */
			if ((d->manual || !d->cfg->schedule) && s->cfg.ops == 1 && !s->retried &&
			    s->tokens.n)
				ends[k].schedule = schedules[k] = step_schedule(&s->tokens);
		}
		s->run = NULL;                  /* report() finishes it */
	}
	status = d->host->sides->report(d->host->sides->arg, ends, d->nsides, fin->interrupted);
	for (int k = 0; k < d->nsides; k++)
		free(schedules[k]);
	return status;
}

int viz_run(struct run_config *cfg, const struct viz_host *host)
{
	struct dash d = { .cfg = cfg, .host = host, .cast = host->cast,
	                  .recording = host->cast || host->svg, .nsides = 1 };
	struct finish_opts fin = { .out = stdout };
	double cpu0, t0;
	char *schedule = NULL;
	int status;

	d.sides[0].db = cfg->db;
	d.sides[0].where = cfg->where;
	if (host->sides) {
		d.nsides = VIZ_RUNS;
		for (int k = 0; k < VIZ_RUNS; k++) {
			d.sides[k].db = host->sides->db[k];
			d.sides[k].where = host->sides->where[k];
		}
		d.recording = 0;
		d.cast = NULL;
	}
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
	d.view.backend = host->sides ? "sqlite,postgres" : cfg->db->name;
	d.view.row_locks = cfg->db->row_locks;
	d.view.step = cfg->step;
	d.virtual = d.cast && cast_clock_kind(d.cast) == CAST_VIRTUAL;
	if (host->orders) {
		/* Each order is a scheduled run in step mode that plays by itself until
		 * s stops it: its steps are the schedule's, its trace is kept. */
		if (!(d.played = calloc((size_t)host->orders->n, sizeof *d.played))) {
			fprintf(stderr, "racelab: out of memory\n");
			return EX_SOFTWARE;
		}
		d.recording = 0;
		d.cast = NULL;
		cfg->ops = 1;
		cfg->nstrategies = 1;
		set_order(&d, 0);
		tally(&d);
		d.view.orders = 1;
	}

	if (begin_run(&d) != 0) {
		fprintf(stderr, "racelab: %s\n", d.err);
		free(d.played);
		return d.st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
	}
	if (viz_screen_open_recorded(stdout, stdin, NULL, d.cast) != 0) {
		end_run(&d);
		free_run(&d);
		free(d.played);
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
	if (d.run && host->svg && d.recording)
		viz_svg_write(&d.rec, host->svg, host->svg_dark ? SVG_DARK : SVG_LIGHT);
	bench_note(&d, thread_cpu_s() - cpu0, (double)mono_ns() / 1e9 - t0);
	if (!d.run) {                   /* a restart could not create the new run */
		fprintf(stderr, "racelab: %s\n", d.err);
		free(d.played);
		return d.st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
	}

	fin.cut_short = d.stopped_early;        /* the counts are for what ran */
	host->watch(NULL);              /* a signal from now on has no run to stop */
	if (host->orders || host->sides) {
		status = end_multi(&d, &fin);
		d.run = NULL;
		free_run(&d);
		free(d.played);
		return status;
	}
	if (cfg->step) {
		/* As a --schedule run prints it: the trace, the result, then the report,
		 * which names the steps taken as a schedule that replays them. */
		struct side *s = &d.sides[0];

		drain(&d, NULL);
		for (size_t i = 0; i < s->lines.n; i++)
			printf("%s\n", s->lines.v[i]);
		fin.trace_printed = s->lines.n > 0;
		if (cfg->ops == 1 && !s->retried && s->tokens.n)
			schedule = step_schedule(&s->tokens);
		fin.schedule = schedule;
	}
	status = run_finish(d.run, d.st, &fin);
	d.run = d.sides[0].run = NULL;  /* run_finish freed it */
	free(schedule);
	free_run(&d);
	return status;
}
