/*
 * run.c: one run's lifecycle: the worker threads and their operations (retried,
 * rolled back, counted), the scheduler's hooks, and the invariant checks at the
 * end.  The gate is in gate.c, the step helpers in step.c; runpriv.h says how the
 * three share a run.
 *
 * Scheduled runs (--schedule) add a scheduler (sched.c) behind the gate: it lets
 * one step move at a time, and hears from the barriers and the lock-wait callback
 * whenever a thread comes to rest.  Free runs have none.
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
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runpriv.h"
#include "sched.h"
#include "sys.h"

#define RING_SLOTS 1024         /* events a worker may be ahead of the consumer */
#define MAX_RETRIES 1000        /* an operation retried this often counts as an error */
#define RECHECK_NS (5LL * 1000000000LL) /* a lost server gets this long to come back
                                           for the check (a restart takes about 1 s) */

/* The backend's lock-wait callback: report the wait once, give up if stopping.
 * In a scheduled run the scheduler decides (and reports through the hooks). */
static int on_wait(void *arg)
{
	struct worker *w = arg;

	/* No step yet: the connection is being opened (--procs: a worker process
	 * opens its own while the others run, and SQLite may be busy for a moment).
	 * Not a step's wait: keep waiting unless the run stops. */
	if (!w->decl)
		return atomic_load(&w->run->stopping);
	/* A NOWAIT step where the SQL cannot say NOWAIT (no row locks: SQLite's busy
	 * handler, which calls us only while the lock is held): no wait at all. */
	if ((w->decl->effects & EFF_NOWAIT) && !w->run->db->row_locks)
		return 1;
	if (w->run->sched)
		return sched_wait(w->run->sched, w->thread);
	step_report_wait(w);
	return atomic_load(&w->run->stopping);
}

void run_lose_database(struct run *r, const char *why)
{
	sys_lock(&r->err_mu);
	if (!r->error[0])
		snprintf(r->error, sizeof r->error, "%s", why);
	sys_unlock(&r->err_mu);
	atomic_store(&r->lost, 1);
	run_stop(r);
}

/* ---- workers ------------------------------------------------------------- */

/* Add N failures for reason CODE to a list of LIST[*n] kinds; the list keeps the
 * first RUN_FAILURE_KINDS reasons and counts the rest as "other". */
static void count_failure(struct run_failure *list, int *n, const char *code, int64_t k)
{
	int i = 0;

	while (i < *n && strcmp(list[i].code, code))
		i++;
	if (i == RUN_FAILURE_KINDS) {
		i = RUN_FAILURE_KINDS - 1;
		snprintf(list[i].code, sizeof list[i].code, "other");
	} else if (i == *n) {
		snprintf(list[i].code, sizeof list[i].code, "%s", code);
		(*n)++;
	}
	list[i].n += k;
}

static int most_first(const void *a, const void *b)
{
	const struct run_failure *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->code, y->code);
}

/* A retry loop's pause before retry TRIES (0 first): 50 µs doubling up to about
 * 3 ms, times a jitter in [0.5, 1.5) from the thread's own generator.  Scheduled
 * runs do not sleep: the schedule alone decides who goes next. */
static void backoff(struct worker *w, int tries)
{
	long ns = 50000L << (tries < 6 ? tries : 6);
	struct timespec pause = { 0, 0 };
	uint64_t x;

	if (w->run->sched)
		return;
	x = sched_rand(&w->pace_rng);
	pause.tv_nsec = ns / 2 + (long)(x % (uint64_t)ns);
	nanosleep(&pause, NULL);
}

/* One operation, retried until it commits, fails, or the run stops. */
static void do_op(struct worker *w)
{
	const struct scn_strategy *s = w->lane->strategy;

	for (int tries = 0;; tries++) {
		enum step_rc rc;

		w->effects = 0;
		rc = s->op(w);
		w->committed += w->effects;     /* what committed stays committed */
		if (rc == STEP_OK) {
			step_emit_commit(w);
			return;
		}
		if (w->in_txn)
			step_rollback(w);
		if (rc == STEP_RETRY && !s->fails_fast && tries < MAX_RETRIES &&
		    !atomic_load(&w->run->stopping)) {
			w->retries++;
			step_emit(w, EV_RETRY, NULL, NULL, NULL, 0, w->err);
			if (s->backoff)
				backoff(w, tries);
			continue;
		}
		/* An operation cut short by a stop is not the database's error. */
		if ((rc == STEP_FAIL || rc == STEP_RETRY) && !atomic_load(&w->run->stopping)) {
			w->errors++;
			count_failure(w->failures, &w->nfailures, w->code[0] ? w->code : "error", 1);
		}
		step_emit(w, EV_ABORT, NULL, NULL, NULL, 0, w->err);
		return;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	const struct scenario *d = r->cfg.scenario;

	if (barrier_wait(&r->start, r, w->thread) == 0) {
		w->start_ns = sys_now_ns() - r->t0_ns;
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
	step_emit(w, EV_EXIT, NULL, NULL, NULL, 0, NULL);
	if (r->sched)
		sched_exit(r->sched, w->thread);
	if (!atomic_exchange(&w->counted, 1))
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
	step_report_wait(sched_worker(arg, thread));
}

static int hook_blocked(void *arg, int thread)
{
	struct run *r = arg;
	char err[DB_ERRLEN];

	return r->db->blocked(r->site, sched_worker(r, thread)->server_id, err);
}

static void hook_deadlock(void *arg, int self, const char *text)
{
	step_emit(sched_worker(arg, self), EV_DEADLOCK, NULL, NULL, NULL, 0, text);
}

/* Set up the scheduler for cfg->schedule and step mode (without a schedule:
 * thread order). */
static int sched_setup(struct run *r, char *err)
{
	const struct scn_strategy *s = r->lanes[0].strategy;
	struct sched_hooks hooks = { r, hook_waiting, NULL, hook_deadlock };
	struct sched_spec spec = { 0 };

	if (r->cfg.nstrategies != 1) {
		snprintf(err, DB_ERRLEN, "a schedule runs exactly one strategy");
		return -1;
	}
	if (r->cfg.schedule && sched_parse(r->cfg.schedule, s->name, r->lanes[0].names, r->cfg.threads,
	                                   1, &spec, err, DB_ERRLEN) != 0)
		return -1;
	if (r->db->blocked)
		hooks.blocked = hook_blocked;
	r->sched = sched_new(&spec, r->lanes[0].names, r->cfg.threads, r->cfg.seed, &hooks,
	                     r->arena);
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

/* What a run shares with its worker processes, generously: the run, the
 * workers, the rings, the scheduler and its list of grants.  Pages are mapped
 * as they are touched. */
static size_t shared_size(const struct run_config *cfg)
{
	size_t workers = (size_t)cfg->nstrategies * (size_t)cfg->threads;

	return ((size_t)4 << 20) + sizeof(struct run) +
	       workers * (sizeof(struct worker) + RING_SLOTS * sizeof(struct event) + 4096);
}

struct run *run_new(const struct run_config *cfg, char *err, enum run_status *status)
{
	struct sys_arena *arena = NULL;
	struct run *r;
	int ring = 0;

	*status = RUN_INTERNAL;
	if (cfg->procs && !(arena = sys_arena_new(shared_size(cfg)))) {
		snprintf(err, DB_ERRLEN, "cannot map memory to share with worker processes");
		return NULL;
	}
	if (!(r = sys_calloc(arena, 1, sizeof *r))) {
		sys_arena_free(arena);
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	r->arena = arena;
	r->cfg = *cfg;
	r->db = cfg->db;
	atomic_store(&r->pace_ms, cfg->pace_ms);
	atomic_store(&r->paused, cfg->paused);
	sys_mutex_init(&r->gate_mu, arena, 0);
	sys_cond_init(&r->gate_cv, arena);
	sys_mutex_init(&r->err_mu, arena, 0);
	r->nworkers = cfg->nstrategies * cfg->threads;
	barrier_init(&r->start, r->nworkers, arena);
	for (int i = 0; i < cfg->nstrategies; i++) {
		struct lane *l = &r->lanes[i];

		assert(cfg->strategies[i] >= 0 &&
		       cfg->strategies[i] < scn_nstrategies(cfg->scenario));
		l->strategy = &cfg->scenario->strategies[cfg->strategies[i]];
		scn_step_names(l->strategy, l->names);
		l->index = i;
		l->result.strategy = l->strategy;
		barrier_init(&l->round, cfg->threads, arena);
	}
	if (ev_stream_init(&r->events, r->nworkers, RING_SLOTS, arena) != 0) {
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

		snprintf(label, sizeof label, "%s_%s", cfg->scenario->name, l->strategy->name);
		if (!(l->area = r->db->area_create(r->site, label, err)))
			goto fail;
		if (!(l->check = r->db->connect(l->area, NULL, NULL, err)))
			goto fail;
		if (cfg->scenario->setup(cfg->scenario, r->db, l->check, cfg->ops, err) != DB_OK)
			goto fail;
		if (l->strategy->schema &&
		    db_exec_all(r->db, l->check, l->strategy->schema, err) != DB_OK)
			goto fail;
		l->workers = sys_calloc(arena, (size_t)cfg->threads, sizeof *l->workers);
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
			gate_init(w);
			if (cfg->procs)
				continue;       /* each process connects for itself */
			if (!(w->conn = r->db->connect(l->area, on_wait, w, err))) {
				size_t len = strlen(err);

				/* Say what the run needs: each worker holds a connection, plus
				 * one per strategy for setup and checks, plus the site's own. */
				snprintf(err + len, DB_ERRLEN - len, " (this run opens %d connections)",
				         r->nworkers + cfg->nstrategies + 1);
				goto fail;
			}
			w->server_id = r->db->conn_id ? r->db->conn_id(w->conn) : 0;
		}
	}
	*status = RUN_OK;
	return r;
fail:
	run_free(r);
	return NULL;
}

/* --procs: the body of a worker's process.  It opens its own connection, does
 * its work as a thread would, and leaves without running the parent's exit
 * handlers (nothing of the terminal, the parent's connections or stdio is
 * touched here). */
static void worker_process(struct worker *w)
{
	struct run *r = w->run;
	char err[DB_ERRLEN];

	prctl(PR_SET_PDEATHSIG, SIGKILL);      /* never outlive racelab */
	if (getppid() == 1)
		_exit(1);
	if (!(w->conn = r->db->connect(w->lane->area, on_wait, w, err)))
		run_lose_database(r, err);
	else
		w->server_id = r->db->conn_id ? r->db->conn_id(w->conn) : 0;
	worker_main(w);
	r->db->disconnect(w->conn);
	atomic_store(&w->finished, 1);
	_exit(0);
}

/* --procs: the parent's connections stay out of the children.  SQLite in
 * particular must not see a connection cross a fork (its locks are the
 * process's), so the harness's own connections close before the workers start
 * and open again after they are gone. */
static int check_connections(struct run *r, int open, char *err)
{
	for (int i = 0; i < r->cfg.nstrategies; i++) {
		struct lane *l = &r->lanes[i];

		if (!open) {
			r->db->disconnect(l->check);
			l->check = NULL;
		} else if (!l->check && !(l->check = r->db->connect(l->area, NULL, NULL, err))) {
			return -1;
		}
	}
	return 0;
}

static enum run_status start_processes(struct run *r)
{
	char err[DB_ERRLEN];

	check_connections(r, 0, err);
	fflush(NULL);           /* nothing buffered is written twice */
	for (int i = 0; i < r->cfg.nstrategies; i++)
		for (int t = 0; t < r->cfg.threads; t++) {
			struct worker *w = &r->lanes[i].workers[t];
			pid_t pid = fork();

			if (pid == 0)
				worker_process(w);
			if (pid < 0) {
				snprintf(r->error, sizeof r->error, "cannot start a worker process: %s",
				         strerror(errno));
				run_stop(r);
				atomic_fetch_add(&r->exited, r->nworkers - (i * r->cfg.threads + t));
				return RUN_INTERNAL;
			}
			w->pid = pid;
		}
	return RUN_OK;
}

/* --procs: reap the worker processes that have ended (all of them if WAIT).  One
 * that died without finishing its work (a crash, a kill) is counted as exited,
 * and the run learns why. */
static void reap(struct run *r, int wait)
{
	for (int i = 0; i < r->cfg.nstrategies; i++)
		for (int t = 0; t < r->cfg.threads; t++) {
			struct worker *w = &r->lanes[i].workers[t];
			int status;
			pid_t got;

			if (w->pid <= 0)
				continue;
			while ((got = waitpid(w->pid, &status, wait ? 0 : WNOHANG)) < 0 &&
			       errno == EINTR)
				;
			if (got != w->pid)
				continue;
			w->pid = 0;
			if (atomic_load(&w->finished))
				continue;
			/* It never reached the end of worker_main: count it out. */
			if (!atomic_exchange(&w->counted, 1))
				atomic_fetch_add(&r->exited, 1);
			sys_lock(&r->err_mu);
			if (!r->error[0])
				snprintf(r->error, sizeof r->error, "worker process T%d of %s died (%s %d)",
				         w->thread, w->lane->strategy->name,
				         WIFSIGNALED(status) ? "signal" : "status",
				         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			sys_unlock(&r->err_mu);
			run_stop(r);
		}
}

enum run_status run_start(struct run *r)
{
	r->t0_ns = sys_now_ns();
	if (r->cfg.procs)
		return start_processes(r);
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
	if (r->cfg.procs)
		reap(r, 0);
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

int run_site_kept(struct run *r)
{
	return r->site && r->db->site_kept(r->site);
}

int run_pace(struct run *r)
{
	return atomic_load(&r->pace_ms);
}

void run_set_pace(struct run *r, int ms)
{
	atomic_store(&r->pace_ms, ms < 0 ? 0 : ms);
	gate_changed(r);
}

void run_advance(struct run *r)
{
	sys_lock(&r->gate_mu);
	for (int i = 0; i < r->cfg.nstrategies; i++)
		if (r->lanes[i].tokens < RUN_ADVANCE_AHEAD)
			r->lanes[i].tokens++;
	sys_unlock(&r->gate_mu);
	gate_changed(r);
}

void run_set_paused(struct run *r, int paused)
{
	sys_lock(&r->gate_mu);
	for (int i = 0; i < r->cfg.nstrategies; i++)
		r->lanes[i].tokens = 0;         /* steps granted ahead lapse either way */
	sys_unlock(&r->gate_mu);
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

/* Check the lane's invariant.  If the check's connection is gone (a server
 * restart, a terminated backend), what did commit is still in the database:
 * connect again, waiting a little for a restarting server to come back, so the
 * report can say exactly what the database holds. */
static enum db_status check_lane(struct run *r, struct lane *l, int rounds, char *err)
{
	const struct scenario *sc = r->cfg.scenario;
	enum db_status st = sc->check(sc, r->db, l->check, l->result.committed, rounds,
	                              &l->result.check, err);
	char again[DB_ERRLEN];

	if (st == DB_GONE && !r->recheck_until)
		r->recheck_until = sys_now_ns() + RECHECK_NS;
	while (st == DB_GONE && sys_now_ns() < r->recheck_until) {
		db_conn *c = r->db->connect(l->area, NULL, NULL, again);

		if (!c) {
			struct timespec pause = { 0, 100000000L };

			nanosleep(&pause, NULL);
			continue;
		}
		r->db->disconnect(l->check);
		l->check = c;
		st = sc->check(sc, r->db, l->check, l->result.committed, rounds, &l->result.check,
		               again);
		if (st != DB_GONE)
			snprintf(err, DB_ERRLEN, "%s", again);
	}
	return st;
}

static void collect(struct run *r, struct lane *l)
{
	struct run_result *res = &l->result;
	int64_t rounds = 0, end = 0, start = -1;
	char err[DB_ERRLEN];

	for (int t = 0; t < r->cfg.threads; t++) {
		struct worker *w = &l->workers[t];

		res->attempted += w->attempted;
		res->committed += w->committed;
		res->retries += w->retries;
		res->lock_waits += w->lock_waits;
		res->errors += w->errors;
		res->refused += w->refused;
		for (int k = 0; k < w->nfailures; k++)
			count_failure(res->failures, &res->nfailures, w->failures[k].code,
			              w->failures[k].n);
		res->paced |= w->paced;
		if (w->attempted > rounds)
			rounds = w->attempted;
		if (w->end_ns > end)
			end = w->end_ns;
		if (w->attempted && (start < 0 || w->start_ns < start))
			start = w->start_ns;
	}
	qsort(res->failures, (size_t)res->nfailures, sizeof *res->failures, most_first);
	/* From the start barrier, so that connecting (a worker process connects for
	 * itself, --procs) is not counted as work. */
	res->elapsed_s = (double)(end - (start > 0 ? start : 0)) / 1e9;
	res->ops_per_s = res->elapsed_s > 0 ? (double)res->attempted / res->elapsed_s : 0;
	if (check_lane(r, l, (int)rounds, err) == DB_OK) {
		res->checked = 1;
		r->cfg.scenario->verdict(&res->check, res->committed, res->verdict,
		                     sizeof res->verdict);
	} else {
		run_lose_database(r, err);
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
	if (r->cfg.procs) {
		char err[DB_ERRLEN];

		reap(r, 1);
		if (check_connections(r, 1, err) != 0)
			run_lose_database(r, err);
	}
	for (int i = 0; i < r->cfg.nstrategies; i++)
		if (r->lanes[i].check)
			collect(r, &r->lanes[i]);
	if (atomic_load(&r->lost))
		return RUN_UNAVAILABLE;
	return r->error[0] ? RUN_INTERNAL : RUN_OK;
}

enum run_status run_to_end(struct run *r, ev_fn fn, void *arg)
{
	struct timespec pause = { 0, 2000000 };

	run_start(r);            /* a failure to start is run_wait's RUN_INTERNAL */
	while (!run_finished(r)) {
		run_drain(r, fn, arg);
		nanosleep(&pause, NULL);
	}
	run_drain(r, fn, arg);
	return run_wait(r);
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
	struct sys_arena *arena;

	if (!r)
		return;
	arena = r->arena;
	run_stop(r);
	ev_close(&r->events);
	if (r->cfg.procs)
		reap(r, 1);     /* they see the stop within one statement */
	for (int i = 0; i < r->cfg.nstrategies; i++) {
		struct lane *l = &r->lanes[i];

		for (int t = 0; l->workers && t < r->cfg.threads; t++) {
			if (l->workers[t].started)
				pthread_join(l->workers[t].tid, NULL);
			if (!r->cfg.procs)      /* a process's connection was its own */
				r->db->disconnect(l->workers[t].conn);
		}
		sys_free(arena, l->workers);
		r->db->disconnect(l->check);
		if (l->area)
			r->db->area_drop(l->area);
		barrier_done(&l->round, arena);
	}
	if (r->site)
		r->db->site_close(r->site);
	ev_stream_done(&r->events);
	sched_free(r->sched);
	barrier_done(&r->start, arena);
	sys_mutex_done(&r->gate_mu, arena);
	sys_cond_done(&r->gate_cv, arena);
	sys_mutex_done(&r->err_mu, arena);
	sys_free(arena, r);
	sys_arena_free(arena);
}
