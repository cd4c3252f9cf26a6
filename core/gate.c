/*
 * gate.c: the gate every step passes before it runs, and the barriers that start
 * the workers (and each round) together.
 *
 * Free runs go straight through the gate and take no lock at all.  The dashboard
 * paces and pauses them.  A scheduled run (--schedule, step mode) waits for its
 * turn from the scheduler (sched.c) first.
 *
 * DESIGN: pacing is per thread.  Every thread draws the delay before each of its
 * steps from its own generator, seeded from the run's seed: a random delay between
 * half and one and a half times the pace.  With one fixed delay for everyone the
 * threads would march in lock-step after the start barrier — all read, then all
 * write — and a paced run would lose the same number of sales on every run and
 * every seed, which no real server does.  With jitter, requests arrive at
 * different moments, as they do on a real server: which ones overlap changes from
 * seed to seed, and the same seed paces the same way.  A scheduled run orders its
 * steps by the scheduler before any pacing, so pacing never changes its trace.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "runpriv.h"
#include "sched.h"
#include "sys.h"

void barrier_init(struct barrier *b, int parties, const struct sys_arena *arena)
{
	sys_mutex_init(&b->mu, arena, 0);
	sys_cond_init(&b->cv, arena);
	b->parties = parties;
	b->arrived = 0;
	b->generation = 0;
	b->sched = NULL;
}

void barrier_done(struct barrier *b, const struct sys_arena *arena)
{
	sys_mutex_done(&b->mu, arena);
	sys_cond_done(&b->cv, arena);
}

static void barrier_release(struct barrier *b)
{
	assert(b->arrived > 0 && b->arrived >= b->parties);
	if (b->sched)
		sched_release(b->sched, b);
	b->arrived = 0;
	b->generation++;
	sys_check(pthread_cond_broadcast(&b->cv), "pthread_cond_broadcast");
}

/* Wait until every party has arrived.  Returns -1 if the run stopped instead. */
int barrier_wait(struct barrier *b, struct run *r, int thread)
{
	int rc = 0;

	sys_lock(&b->mu);
	assert(b->arrived < b->parties);
	unsigned gen = b->generation;
	if (++b->arrived >= b->parties)
		barrier_release(b);
	else if (b->sched)
		sched_park(b->sched, thread, b);        /* under b->mu: before any release */
	while (gen == b->generation && !atomic_load(&r->stopping))
		sys_wait(&b->cv, &b->mu);
	if (gen == b->generation)
		rc = -1;
	sys_unlock(&b->mu);
	return rc;
}

/* A thread that will not come back: the others must no longer wait for it. */
void barrier_leave(struct barrier *b)
{
	sys_lock(&b->mu);
	assert(b->parties > 0);
	b->parties--;
	if (b->arrived > 0 && b->arrived >= b->parties)
		barrier_release(b);
	sys_unlock(&b->mu);
}

void barrier_wake(struct barrier *b)
{
	sys_lock(&b->mu);
	sys_check(pthread_cond_broadcast(&b->cv), "pthread_cond_broadcast");
	sys_unlock(&b->mu);
}

/* Seed the worker's own pacing generator: the run's seed, its panel, its thread. */
void gate_init(struct worker *w)
{
	w->pace_rng = w->run->cfg.seed * 0x9e3779b97f4a7c15ULL +
	              (uint64_t)w->lane->index * 1000003u + (uint64_t)w->thread;
}

/* Sleep up to MS milliseconds, waking early when the gate's state changes.
 * Returns nonzero if the run is stopping. */
int gate_sleep(struct run *r, int ms)
{
	return gate_sleep_us(r, (int64_t)ms * 1000);
}

int gate_sleep_us(struct run *r, int64_t us)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += us / 1000000;
	until.tv_nsec += (long)(us % 1000000) * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	sys_lock(&r->gate_mu);
	int rc = 0;
	while (!atomic_load(&r->stopping) && rc != ETIMEDOUT)
		rc = sys_timedwait(&r->gate_cv, &r->gate_mu, &until);
	sys_unlock(&r->gate_mu);
	return atomic_load(&r->stopping);
}

/* The delay before this worker's next step, from the worker's own generator (see
 * DESIGN above): exponentially distributed with mean PACE, as the gaps between
 * independent arrivals are, and cut at four times PACE so that no lane stalls. */
static int paced_delay(struct worker *w, int pace)
{
	double u = (double)(sched_rand(&w->pace_rng) >> 11) / 9007199254740992.0; /* [0,1) */
	double d = -log(1.0 - u) * pace;

	return d > 4.0 * pace ? 4 * pace : (int)d;
}

enum step_rc gate_pass(struct worker *w, const char *step, const char *sql,
                       const db_value *args, int nargs)
{
	struct run *r = w->run;
	int pace;

	if (atomic_load(&r->stopping))
		return STEP_STOP;
	if (r->cfg.step)
		step_emit(w, EV_READY, step, sql, args, nargs, NULL);
	if (r->sched && sched_gate(r->sched, w->thread,
	                           scn_step_index(w->lane->strategy, step)) != 0)
		return STEP_STOP;
	if (atomic_load(&r->paused)) {
		/* Paused: wait, unless run_advance lets this lane take a step. */
		sys_lock(&r->gate_mu);
		while (atomic_load(&r->paused) && !atomic_load(&r->stopping) && !w->lane->tokens)
			sys_wait(&r->gate_cv, &r->gate_mu);
		if (atomic_load(&r->paused) && w->lane->tokens > 0) {
			w->lane->tokens--;
			sys_unlock(&r->gate_mu);
			return atomic_load(&r->stopping) ? STEP_STOP : STEP_OK;
		}
		sys_unlock(&r->gate_mu);
	}
	pace = atomic_load(&r->pace_ms);
	if (pace > 0) {
		w->paced = 1;
		if (gate_sleep(r, r->sched ? pace : paced_delay(w, pace)))
			return STEP_STOP;
	}
	return atomic_load(&r->stopping) ? STEP_STOP : STEP_OK;
}

void gate_changed(struct run *r)
{
	sys_lock(&r->gate_mu);
	sys_check(pthread_cond_broadcast(&r->gate_cv), "pthread_cond_broadcast");
	sys_unlock(&r->gate_mu);
}
