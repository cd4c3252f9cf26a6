/*
 * run.c: the harness: worker threads, the gate every step passes, the step helpers
 * the demos call, and the invariant checks at the end.
 *
 * DESIGN: data flows one way.  A strategy calls step_sql(); the step passes the gate
 * (pacing, pause, stop); the backend runs the SQL on the worker's own connection;
 * the worker emits events into its own ring of the event stream.  Workers keep
 * their own counters and never share them while running; the run adds them up
 * after pthread_join, so the final counts need no locks at all.
 *
 * Scheduled runs (--schedule) add a scheduler (sched.c) behind the gate: it lets
 * one step move at a time, and hears from the barriers and the lock-wait callback
 * whenever a thread comes to rest.  Free runs have none, and their gate takes no
 * lock at all.
 *
 * Step mode (cfg.step, the dashboard's --step) is a scheduled run whose
 * scheduler waits for a person: each worker announces at the gate the step it
 * will take and its SQL (EV_READY), and run_step() lets one go.  The UI thread
 * that calls it never runs SQL; the workers do, as always.
 *
 * Stopping: run_stop() raises one flag.  Every place a worker can block looks at
 * it: the gate, the barriers, think time, and the backend's lock wait (through the
 * on_wait callback), so a stop takes effect within one statement.
 */
#include "run.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched.h"
#include "sys.h"

#define RING_SLOTS 1024         /* events a worker may be ahead of the consumer */
#define MAX_RETRIES 1000        /* an operation retried this often counts as an error */

/* A barrier that a stopping run releases and that threads may leave for good. */
struct barrier {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int parties;            /* threads still taking part */
	int arrived;
	unsigned generation;
	struct sched *sched;    /* scheduled runs: who waits here is not moving */
};

struct worker {
	struct run *run;
	struct lane *lane;
	int thread;             /* 1-based within the lane */
	int ring;               /* this worker's ring in the event stream */
	int op;                 /* current operation */
	db_conn *conn;
	pthread_t tid;
	int started;            /* tid is valid */
	int in_txn;             /* a BEGIN is open */
	int waiting;            /* the current step has reported a lock wait */
	const char *step;       /* the current step, for the wait event */
	int64_t effects;        /* effects committed by the current operation */
	int64_t attempted, committed, retries, lock_waits, errors;
	int64_t end_ns;
	char err[DB_ERRLEN];
};

struct lane {
	const struct demo_strategy *strategy;
	int index;              /* panel position */
	db_area *area;
	db_conn *check;         /* the harness's own connection: setup and check */
	struct barrier round;
	struct worker *workers;
	struct run_result result;
};

struct run {
	struct run_config cfg;
	const db_backend *db;
	db_site *site;
	struct lane lanes[DEMO_STRATEGIES];
	int nworkers;
	struct ev_stream events;
	struct barrier start;
	int64_t t0_ns;
	struct sched *sched;    /* scheduled runs only; NULL lets every step pass */

	_Atomic int stopping;
	_Atomic int exited;     /* workers that have finished */
	_Atomic int pace_ms;
	_Atomic int paused;
	pthread_mutex_t gate_mu;        /* guards nothing but the wait below */
	pthread_cond_t gate_cv;         /* signalled on pause, pace and stop changes */

	pthread_mutex_t err_mu;
	char error[DB_ERRLEN];  /* first reason the database was lost */
	_Atomic int lost;
};

static void barrier_init(struct barrier *b, int parties)
{
	sys_check(pthread_mutex_init(&b->mu, NULL), "pthread_mutex_init");
	sys_check(pthread_cond_init(&b->cv, NULL), "pthread_cond_init");
	b->parties = parties;
	b->arrived = 0;
	b->generation = 0;
}

static void barrier_done(struct barrier *b)
{
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
}

static void barrier_release(struct barrier *b)
{
	if (b->sched)
		sched_release(b->sched, b);
	b->arrived = 0;
	b->generation++;
	sys_check(pthread_cond_broadcast(&b->cv), "pthread_cond_broadcast");
}

/* Wait until every party has arrived.  Returns -1 if the run stopped instead. */
static int barrier_wait(struct barrier *b, struct run *r, int thread)
{
	int rc = 0;

	sys_check(pthread_mutex_lock(&b->mu), "pthread_mutex_lock");
	unsigned gen = b->generation;
	if (++b->arrived >= b->parties)
		barrier_release(b);
	else if (b->sched)
		sched_park(b->sched, thread, b);        /* under b->mu: before any release */
	while (gen == b->generation && !atomic_load(&r->stopping))
		sys_check(pthread_cond_wait(&b->cv, &b->mu), "pthread_cond_wait");
	if (gen == b->generation)
		rc = -1;
	sys_check(pthread_mutex_unlock(&b->mu), "pthread_mutex_unlock");
	return rc;
}

/* A thread that will not come back: the others must no longer wait for it. */
static void barrier_leave(struct barrier *b)
{
	sys_check(pthread_mutex_lock(&b->mu), "pthread_mutex_lock");
	b->parties--;
	if (b->arrived > 0 && b->arrived >= b->parties)
		barrier_release(b);
	sys_check(pthread_mutex_unlock(&b->mu), "pthread_mutex_unlock");
}

static void barrier_wake(struct barrier *b)
{
	sys_check(pthread_mutex_lock(&b->mu), "pthread_mutex_lock");
	sys_check(pthread_cond_broadcast(&b->cv), "pthread_cond_broadcast");
	sys_check(pthread_mutex_unlock(&b->mu), "pthread_mutex_unlock");
}

/* ---- events -------------------------------------------------------------- */

/* Copy SRC into DST[N], cut short if need be: cheaper than snprintf on the hot path. */
static void copy_text(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n - 1) : 0;

	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
}

static void emit(struct worker *w, enum ev_kind kind, const char *step, const char *sql,
                 const db_value *args, int nargs, const char *text)
{
	struct event e;

	e.t_ns = sys_now_ns() - w->run->t0_ns;
	e.kind = kind;
	e.strategy = w->lane->index;
	e.thread = w->thread;
	e.op = w->op;
	e.step = step;
	e.sql = sql;
	e.nargs = nargs < EV_ARGS ? nargs : EV_ARGS;
	for (int i = 0; i < e.nargs; i++) {
		e.args[i].type = args[i].type;
		e.args[i].i = args[i].i;
		copy_text(e.args[i].s, sizeof e.args[i].s,
		          args[i].type == DB_TEXT ? args[i].s : NULL);
	}
	e.has_value = 0;
	e.value = 0;
	e.changes = 0;
	copy_text(e.text, sizeof e.text, text);
	ev_emit(&w->run->events, w->ring, &e);
}

static void emit_done(struct worker *w, const char *step, const db_result *res)
{
	struct event e = { 0 };

	e.t_ns = sys_now_ns() - w->run->t0_ns;
	e.kind = EV_DONE;
	e.strategy = w->lane->index;
	e.thread = w->thread;
	e.op = w->op;
	e.step = step;
	e.has_value = res->has_row;
	e.value = res->value;
	e.changes = res->changes;
	ev_emit(&w->run->events, w->ring, &e);
}

/* The operation finished; its value is the number of effects it committed. */
static void emit_commit(struct worker *w)
{
	struct event e = { 0 };

	e.t_ns = sys_now_ns() - w->run->t0_ns;
	e.kind = EV_COMMIT;
	e.strategy = w->lane->index;
	e.thread = w->thread;
	e.op = w->op;
	e.has_value = 1;
	e.value = w->effects;
	ev_emit(&w->run->events, w->ring, &e);
}

/* ---- the gate ------------------------------------------------------------ */

/* Sleep up to MS milliseconds, waking early when the gate's state changes.
 * Returns nonzero if the run is stopping. */
static int gate_sleep(struct run *r, int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	sys_check(pthread_mutex_lock(&r->gate_mu), "pthread_mutex_lock");
	int rc = 0;
	while (!atomic_load(&r->stopping) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&r->gate_cv, &r->gate_mu, &until);
	sys_check(pthread_mutex_unlock(&r->gate_mu), "pthread_mutex_unlock");
	return atomic_load(&r->stopping);
}

/* Index of STEP in the worker's strategy; past the end if it is not listed. */
static int step_index(const struct worker *w, const char *step)
{
	int i = 0;

	for (const char *const *s = w->lane->strategy->steps; *s; s++, i++)
		if (!strcmp(*s, step))
			return i;
	return DEMO_STEPS;
}

/* Every step passes here before it runs.  Free runs go straight through; the
 * dashboard paces and pauses them; a scheduled run waits for its turn first,
 * and in step mode says what it waits to do. */
static enum step_rc gate_pass(struct worker *w, const char *step, const char *sql,
                              const db_value *args, int nargs)
{
	struct run *r = w->run;
	int pace;

	if (atomic_load(&r->stopping))
		return STEP_STOP;
	if (r->cfg.step)
		emit(w, EV_READY, step, sql, args, nargs, NULL);
	if (r->sched && sched_gate(r->sched, w->thread, step_index(w, step)) != 0)
		return STEP_STOP;
	if (atomic_load(&r->paused)) {
		sys_check(pthread_mutex_lock(&r->gate_mu), "pthread_mutex_lock");
		while (atomic_load(&r->paused) && !atomic_load(&r->stopping))
			sys_check(pthread_cond_wait(&r->gate_cv, &r->gate_mu), "pthread_cond_wait");
		sys_check(pthread_mutex_unlock(&r->gate_mu), "pthread_mutex_unlock");
	}
	pace = atomic_load(&r->pace_ms);
	if (pace > 0 && gate_sleep(r, pace))
		return STEP_STOP;
	return atomic_load(&r->stopping) ? STEP_STOP : STEP_OK;
}

static void gate_changed(struct run *r)
{
	sys_check(pthread_mutex_lock(&r->gate_mu), "pthread_mutex_lock");
	sys_check(pthread_cond_broadcast(&r->gate_cv), "pthread_cond_broadcast");
	sys_check(pthread_mutex_unlock(&r->gate_mu), "pthread_mutex_unlock");
}

/* ---- steps (step.h) ------------------------------------------------------ */

/* Report the current step's lock wait, once. */
static void report_wait(struct worker *w)
{
	if (!w->waiting) {
		w->waiting = 1;
		w->lock_waits++;
		emit(w, EV_WAIT, w->step, NULL, NULL, 0, NULL);
	}
}

/* The backend's lock-wait callback: report the wait once, give up if stopping.
 * In a scheduled run the scheduler decides (and reports through the hooks). */
static int on_wait(void *arg)
{
	struct worker *w = arg;

	if (w->run->sched)
		return sched_wait(w->run->sched, w->thread);
	report_wait(w);
	return atomic_load(&w->run->stopping);
}

static void lose_database(struct run *r, const char *why)
{
	sys_check(pthread_mutex_lock(&r->err_mu), "pthread_mutex_lock");
	if (!r->error[0])
		snprintf(r->error, sizeof r->error, "%s", why);
	sys_check(pthread_mutex_unlock(&r->err_mu), "pthread_mutex_unlock");
	atomic_store(&r->lost, 1);
	run_stop(r);
}

static enum step_rc run_sql(struct worker *w, const char *step, const char *sql,
                            const db_value *args, int nargs, db_result *res)
{
	enum db_status st;

	emit(w, EV_STEP, step, sql, args, nargs, NULL);
	w->step = step;
	w->waiting = 0;
	st = w->run->db->exec(w->conn, sql, args, nargs, res, w->err);
	switch (st) {
	case DB_OK:
		emit_done(w, step, res);
		return STEP_OK;
	case DB_RETRY:
		emit(w, EV_FAIL, step, NULL, NULL, 0, w->err);
		return STEP_RETRY;
	case DB_ERROR:
		emit(w, EV_FAIL, step, NULL, NULL, 0, w->err);
		return STEP_FAIL;
	case DB_GONE:
		emit(w, EV_FAIL, step, NULL, NULL, 0, w->err);
		lose_database(w->run, w->err);
		return STEP_STOP;
	}
	return STEP_FAIL;
}

enum step_rc step_sql(struct worker *w, const char *step, const char *sql,
                      const db_value *args, int nargs, db_result *res)
{
	db_result dummy;
	enum step_rc rc = gate_pass(w, step, sql, args, nargs);

	if (rc != STEP_OK)
		return rc;
	return run_sql(w, step, sql, args, nargs, res ? res : &dummy);
}

enum step_rc step_begin(struct worker *w)
{
	enum step_rc rc = step_sql(w, "begin", w->run->db->begin_locked, NULL, 0, NULL);

	if (rc == STEP_OK)
		w->in_txn = 1;
	return rc;
}

enum step_rc step_commit(struct worker *w)
{
	enum step_rc rc = step_sql(w, "commit", "COMMIT", NULL, 0, NULL);

	if (rc == STEP_OK)
		w->in_txn = 0;
	return rc;
}

/* A skipped step takes its turn in a schedule, so that the trace shows it where
 * the schedule put it ("step t2.redeem: skipped"); free runs do not pace it, and
 * step mode does not make a person press a key for a step that runs nothing. */
void step_skip(struct worker *w, const char *step)
{
	struct run *r = w->run;

	if (r->sched && !r->cfg.step &&
	    sched_gate(r->sched, w->thread, step_index(w, step)) != 0)
		return;         /* stopping: the next step_*() says so */
	emit(w, EV_SKIP, step, NULL, NULL, 0, NULL);
}

enum step_rc step_think(struct worker *w)
{
	int ms = w->run->cfg.think_ms;

	if (ms <= 0)
		return STEP_OK;
	emit(w, EV_THINK, NULL, NULL, NULL, 0, NULL);
	return gate_sleep(w->run, ms) ? STEP_STOP : STEP_OK;
}

void step_committed(struct worker *w)
{
	w->effects++;
}

int step_thread(const struct worker *w)
{
	return w->thread;
}

int step_op(const struct worker *w)
{
	return w->op;
}

const db_backend *step_db(const struct worker *w)
{
	return w->run->db;
}

/* ---- workers ------------------------------------------------------------- */

static void rollback(struct worker *w)
{
	db_result res;

	w->in_txn = 0;
	emit(w, EV_STEP, "rollback", "ROLLBACK", NULL, 0, NULL);
	if (w->run->db->exec(w->conn, "ROLLBACK", NULL, 0, &res, w->err) == DB_OK)
		emit_done(w, "rollback", &res);
	else
		emit(w, EV_FAIL, "rollback", NULL, NULL, 0, w->err);
}

/* One operation, retried until it commits, fails, or the run stops. */
static void do_op(struct worker *w)
{
	const struct demo_strategy *s = w->lane->strategy;

	for (int tries = 0;; tries++) {
		enum step_rc rc;

		w->effects = 0;
		rc = s->op(w);
		w->committed += w->effects;     /* what committed stays committed */
		if (rc == STEP_OK) {
			emit_commit(w);
			return;
		}
		if (w->in_txn)
			rollback(w);
		if (rc == STEP_RETRY && tries < MAX_RETRIES && !atomic_load(&w->run->stopping)) {
			w->retries++;
			emit(w, EV_RETRY, NULL, NULL, NULL, 0, w->err);
			continue;
		}
		/* An operation cut short by a stop is not the database's error. */
		if ((rc == STEP_FAIL || rc == STEP_RETRY) && !atomic_load(&w->run->stopping))
			w->errors++;
		emit(w, EV_ABORT, NULL, NULL, NULL, 0, w->err);
		return;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	const struct demo *d = r->cfg.demo;

	if (barrier_wait(&r->start, r, w->thread) == 0) {
		for (int op = 0; op < r->cfg.ops && !atomic_load(&r->stopping); op++) {
			w->op = op;
			if (d->rounds && barrier_wait(&w->lane->round, r, w->thread) != 0)
				break;
			w->attempted++;
			do_op(w);
		}
	}
	if (d->rounds)
		barrier_leave(&w->lane->round);
	w->end_ns = sys_now_ns() - r->t0_ns;
	emit(w, EV_EXIT, NULL, NULL, NULL, 0, NULL);
	if (r->sched)
		sched_exit(r->sched, w->thread);
	atomic_fetch_add(&r->exited, 1);
	return NULL;
}

/* ---- the scheduler's hooks (scheduled runs have one lane) ----------------- */

static struct worker *sched_worker(struct run *r, int thread)
{
	return &r->lanes[0].workers[thread - 1];
}

static void hook_waiting(void *arg, int thread)
{
	report_wait(sched_worker(arg, thread));
}

static int hook_blocked(void *arg, int thread)
{
	struct run *r = arg;
	char err[DB_ERRLEN];

	return r->db->blocked(sched_worker(r, thread)->conn, err);
}

static void hook_deadlock(void *arg, int self, const char *text)
{
	emit(sched_worker(arg, self), EV_DEADLOCK, NULL, NULL, NULL, 0, text);
}

/* Set up the scheduler for cfg->schedule and step mode (without a schedule:
 * thread order). */
static int sched_setup(struct run *r, char *err)
{
	const struct demo_strategy *s = r->lanes[0].strategy;
	struct sched_hooks hooks = { r, hook_waiting, NULL, hook_deadlock };
	struct sched_spec spec = { 0 };

	if (r->cfg.nstrategies != 1) {
		snprintf(err, DB_ERRLEN, "a schedule runs exactly one strategy");
		return -1;
	}
	if (r->cfg.schedule && sched_parse(r->cfg.schedule, s->name, s->steps, r->cfg.threads,
	                                   1, &spec, err, DB_ERRLEN) != 0)
		return -1;
	if (r->db->blocked)
		hooks.blocked = hook_blocked;
	r->sched = sched_new(&spec, s->steps, r->cfg.threads, r->cfg.seed, &hooks);
	sched_spec_done(&spec);
	if (!r->sched || (r->cfg.step &&
	                  sched_set_replay(r->sched, r->cfg.replay, r->cfg.nreplay) != 0)) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return -1;
	}
	sched_set_manual(r->sched, r->cfg.step);
	r->cfg.replay = NULL;           /* the scheduler has its own copy */
	r->cfg.nreplay = 0;
	r->start.sched = r->sched;
	r->lanes[0].round.sched = r->sched;
	return 0;
}

/* ---- the run ------------------------------------------------------------- */

struct run *run_new(const struct run_config *cfg, char *err, enum run_status *status)
{
	struct run *r = calloc(1, sizeof *r);
	int ring = 0;

	*status = RUN_INTERNAL;
	if (!r) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	r->cfg = *cfg;
	r->db = cfg->db;
	atomic_store(&r->pace_ms, cfg->pace_ms);
	atomic_store(&r->paused, cfg->paused);
	sys_check(pthread_mutex_init(&r->gate_mu, NULL), "pthread_mutex_init");
	sys_check(pthread_cond_init(&r->gate_cv, NULL), "pthread_cond_init");
	sys_check(pthread_mutex_init(&r->err_mu, NULL), "pthread_mutex_init");
	r->nworkers = cfg->nstrategies * cfg->threads;
	barrier_init(&r->start, r->nworkers);
	for (int i = 0; i < cfg->nstrategies; i++) {
		struct lane *l = &r->lanes[i];

		l->strategy = &cfg->demo->strategies[cfg->strategies[i]];
		l->index = i;
		l->result.strategy = l->strategy;
		barrier_init(&l->round, cfg->threads);
	}
	if (ev_stream_init(&r->events, r->nworkers, RING_SLOTS) != 0) {
		snprintf(err, DB_ERRLEN, "out of memory");
		goto fail;
	}
	if ((cfg->schedule || cfg->step) && sched_setup(r, err) != 0)
		goto fail;

	*status = RUN_UNAVAILABLE;
	r->site = r->db->site_open(cfg->where, err);
	if (!r->site)
		goto fail;
	for (int i = 0; i < cfg->nstrategies; i++) {
		struct lane *l = &r->lanes[i];
		char label[64];

		snprintf(label, sizeof label, "%s_%s", cfg->demo->name, l->strategy->name);
		if (!(l->area = r->db->area_create(r->site, label, err)))
			goto fail;
		if (!(l->check = r->db->connect(l->area, NULL, NULL, err)))
			goto fail;
		if (cfg->demo->setup(r->db, l->check, cfg->ops, err) != DB_OK)
			goto fail;
		l->workers = calloc((size_t)cfg->threads, sizeof *l->workers);
		if (!l->workers) {
			*status = RUN_INTERNAL;
			snprintf(err, DB_ERRLEN, "out of memory");
			goto fail;
		}
		for (int t = 0; t < cfg->threads; t++) {
			struct worker *w = &l->workers[t];

			w->run = r;
			w->lane = l;
			w->thread = t + 1;
			w->ring = ring++;
			if (!(w->conn = r->db->connect(l->area, on_wait, w, err))) {
				size_t len = strlen(err);

				/* Say what the run needs: each worker holds a connection, plus
				 * one per strategy for setup and checks, plus the site's own. */
				snprintf(err + len, DB_ERRLEN - len, " (this run opens %d connections)",
				         r->nworkers + cfg->nstrategies + 1);
				goto fail;
			}
		}
	}
	*status = RUN_OK;
	return r;
fail:
	run_free(r);
	return NULL;
}

enum run_status run_start(struct run *r)
{
	r->t0_ns = sys_now_ns();
	for (int i = 0; i < r->cfg.nstrategies; i++)
		for (int t = 0; t < r->cfg.threads; t++) {
			struct worker *w = &r->lanes[i].workers[t];
			int rc = pthread_create(&w->tid, NULL, worker_main, w);

			if (rc != 0) {
				snprintf(r->error, sizeof r->error, "cannot start a thread: %s",
				         strerror(rc));
				run_stop(r);
				/* The threads that did start see the stop and exit. */
				atomic_fetch_add(&r->exited,
				                 r->nworkers - (i * r->cfg.threads + t));
				return RUN_INTERNAL;
			}
			w->started = 1;
		}
	return RUN_OK;
}

int run_finished(struct run *r)
{
	return atomic_load(&r->exited) >= r->nworkers;
}

void run_stop(struct run *r)
{
	atomic_store(&r->stopping, 1);
	gate_changed(r);
	if (r->sched)
		sched_stop(r->sched);
	barrier_wake(&r->start);
	for (int i = 0; i < r->cfg.nstrategies; i++)
		barrier_wake(&r->lanes[i].round);
}

int run_stopping(struct run *r)
{
	return atomic_load(&r->stopping);
}

size_t run_drain(struct run *r, ev_fn fn, void *arg)
{
	return ev_drain(&r->events, fn, arg);
}

void run_set_pace(struct run *r, int ms)
{
	atomic_store(&r->pace_ms, ms < 0 ? 0 : ms);
	gate_changed(r);
}

void run_set_paused(struct run *r, int paused)
{
	atomic_store(&r->paused, paused);
	gate_changed(r);
}

enum sched_grant run_step(struct run *r, int thread, int *granted)
{
	*granted = 0;
	if (!r->sched || !r->cfg.step)
		return SCHED_STOPPED;
	return sched_grant(r->sched, thread, granted);
}

void run_set_step(struct run *r, int on)
{
	if (r->sched && r->cfg.step)
		sched_set_manual(r->sched, on);
}

int run_step_awaiting(struct run *r)
{
	return r->sched && r->cfg.step && sched_awaiting(r->sched);
}

int run_replaying(struct run *r)
{
	return r->sched && r->cfg.step && sched_replay_left(r->sched) > 0;
}

int run_steps_taken(struct run *r, int *buf, int max)
{
	return r->sched && r->cfg.step ? sched_taken(r->sched, buf, max) : 0;
}

static void collect(struct run *r, struct lane *l)
{
	struct run_result *res = &l->result;
	int64_t rounds = 0, end = 0;
	char err[DB_ERRLEN];

	for (int t = 0; t < r->cfg.threads; t++) {
		struct worker *w = &l->workers[t];

		res->attempted += w->attempted;
		res->committed += w->committed;
		res->retries += w->retries;
		res->lock_waits += w->lock_waits;
		res->errors += w->errors;
		if (w->attempted > rounds)
			rounds = w->attempted;
		if (w->end_ns > end)
			end = w->end_ns;
	}
	res->elapsed_s = (double)end / 1e9;
	res->ops_per_s = res->elapsed_s > 0 ? (double)res->attempted / res->elapsed_s : 0;
	if (r->cfg.demo->check(r->db, l->check, res->committed, (int)rounds, &res->check,
	                       err) == DB_OK) {
		res->checked = 1;
		r->cfg.demo->verdict(&res->check, res->committed, res->verdict,
		                     sizeof res->verdict);
	} else {
		lose_database(r, err);
		snprintf(res->verdict, sizeof res->verdict, "not checked: %.180s", err);
	}
}

enum run_status run_wait(struct run *r)
{
	/* Producers may block on a full ring; nobody drains after this point. */
	ev_close(&r->events);
	for (int i = 0; i < r->cfg.nstrategies; i++)
		for (int t = 0; t < r->cfg.threads; t++) {
			struct worker *w = &r->lanes[i].workers[t];

			if (w->started) {
				sys_check(pthread_join(w->tid, NULL), "pthread_join");
				w->started = 0;
			}
		}
	for (int i = 0; i < r->cfg.nstrategies; i++)
		collect(r, &r->lanes[i]);
	if (atomic_load(&r->lost))
		return RUN_UNAVAILABLE;
	return r->error[0] ? RUN_INTERNAL : RUN_OK;
}

const char *run_error(struct run *r)
{
	return r->error[0] ? r->error : NULL;
}

const struct run_result *run_result(struct run *r, int i)
{
	return &r->lanes[i].result;
}

const struct run_config *run_config(struct run *r)
{
	return &r->cfg;
}

const char *run_site_name(struct run *r)
{
	return r->site ? r->db->site_name(r->site) : "";
}

void run_free(struct run *r)
{
	if (!r)
		return;
	run_stop(r);
	ev_close(&r->events);
	for (int i = 0; i < r->cfg.nstrategies; i++) {
		struct lane *l = &r->lanes[i];

		for (int t = 0; l->workers && t < r->cfg.threads; t++) {
			if (l->workers[t].started)
				pthread_join(l->workers[t].tid, NULL);
			r->db->disconnect(l->workers[t].conn);
		}
		free(l->workers);
		r->db->disconnect(l->check);
		if (l->area)
			r->db->area_drop(l->area);
		barrier_done(&l->round);
	}
	if (r->site)
		r->db->site_close(r->site);
	ev_stream_done(&r->events);
	sched_free(r->sched);
	barrier_done(&r->start);
	pthread_mutex_destroy(&r->gate_mu);
	pthread_cond_destroy(&r->gate_cv);
	pthread_mutex_destroy(&r->err_mu);
	free(r);
}
