/*
 * run.h: one run of a scenario: N worker threads per selected strategy, all
 * strategies at once, each strategy on its own area of the database.
 *
 * The caller (main, the dashboard, a test) creates the run, starts it, drains its
 * event stream until every worker has exited, then waits for the results:
 *
 *     struct run *r = run_new(&cfg, err, &status);
 *     run_start(r);
 *     while (!run_finished(r)) { run_drain(r, show, arg); sleep a little; }
 *     run_drain(r, show, arg);
 *     run_wait(r);                 // joins, checks every invariant
 *     ... run_result(r, i) ...
 *     run_free(r);                 // drops the areas, removes a temp directory
 */
#ifndef RACELAB_RUN_H
#define RACELAB_RUN_H

#include <stdint.h>

#include "db.h"
#include "events.h"
#include "scenario.h"
#include "sched.h"
#include "status.h"

struct run_config {
	const struct scenario *scenario;
	const db_backend *db;
	const char *where;              /* -d: directory or conninfo; NULL for the default */
	int strategies[SCN_STRATEGIES]; /* indices into scenario->strategies, panel order */
	int nstrategies;
	int threads;                    /* workers per strategy, 1..RACELAB_MAX_THREADS */
	int ops;                        /* operations (or rounds) per thread */
	int think_ms;                   /* think time between a read and its write */
	int latency_us;                 /* round trip between application and database,
	                                   added to every statement (--latency) */
	int procs;                      /* workers are processes, each with its own
	                                   connection, as application servers are */
	uint64_t seed;
	int pace_ms;                    /* mean delay before every step, jittered per
	                                   thread (gate.c); 0 is full speed */
	int paused;                     /* start paused */
	const char *schedule;           /* --schedule: "random" or tokens; NULL: a free
	                                   run.  Needs one strategy; a listed schedule
	                                   wants ops = 1 and think_ms = 0 (sched.h) */
	int step;                       /* step mode (--step): a scheduled run whose next
	                                   step run_step() grants; one strategy */
	const int *replay;              /* step mode: grants to take first (an undo), */
	int nreplay;                    /* as run_step's THREAD arguments; copied */
};

#define RUN_FAILURE_KINDS 8      /* reasons for failure counted apart */

struct run_result {
	const struct scn_strategy *strategy;
	int64_t attempted;              /* operations started (retries not counted) */
	int64_t committed;              /* effects the application committed */
	int64_t retries;                /* operations rolled back and done again */
	int64_t lock_waits;             /* statements that waited for another's lock */
	int64_t errors;                 /* operations that failed: the database refused
	                                   them, and the user would see an error */
	int64_t refused;                /* operations the database refused (a unique
	                                   violation) and the application answered
	                                   itself: neither an anomaly nor a failure */
	struct run_failure {
		char code[32];          /* the reason: SQLSTATE or SQLite result code */
		int64_t n;
	} failures[RUN_FAILURE_KINDS];  /* errors by reason, most frequent kinds first */
	int nfailures;
	struct scn_check check;         /* what the database holds; valid when checked */
	int checked;
	double elapsed_s;
	double ops_per_s;               /* operations finished per second */
	int paced;                      /* the run was paced: ops_per_s measures the pace */
	char verdict[200];
};

/* Why run_new or run_wait failed. */
enum run_status {
	RUN_OK,
	RUN_UNAVAILABLE,                /* the database cannot be opened or was lost */
	RUN_INTERNAL,                   /* out of memory, a thread could not start */
};

struct run;

/* Open the site, create one area per strategy with the scenario's schema, and
 * connect every worker.  On failure returns NULL, sets *status and writes one line
 * into err (DB_ERRLEN bytes). */
struct run *run_new(const struct run_config *cfg, char *err, enum run_status *status);
enum run_status run_start(struct run *r);

/* Every worker has exited (done, stopped, or lost its database). */
int run_finished(struct run *r);
/* Ask the workers to stop after the step they are in; safe from any thread. */
void run_stop(struct run *r);
int run_stopping(struct run *r);

/* Deliver the events produced so far, in order (consumer thread only). */
size_t run_drain(struct run *r, ev_fn fn, void *arg);

/* Start R, deliver every event to FN (may be NULL) until every worker has
 * exited, then run_wait: the whole of a run that nobody watches live but the
 * caller's FN.  Between drains the calling thread sleeps a moment, so it stays off
 * the workers' cores (the rings hold far more than they produce meanwhile). */
enum run_status run_to_end(struct run *r, ev_fn fn, void *arg);

/* Join the workers and check each strategy's invariant.  RUN_UNAVAILABLE if the
 * database was lost during the run (run_error says why); results stay valid for
 * everything that was committed. */
enum run_status run_wait(struct run *r);
const char *run_error(struct run *r);
/* The result of the I-th selected strategy (0 ≤ I < cfg.nstrategies). */
const struct run_result *run_result(struct run *r, int i);
const struct run_config *run_config(struct run *r);
const char *run_site_name(struct run *r);
/* Whether the databases stay after the run (a -d directory on SQLite). */
int run_site_kept(struct run *r);
/* The pace now (ms; 0: full speed). */
int run_pace(struct run *r);

/* Live controls for the dashboard. */
void run_set_pace(struct run *r, int ms);
void run_set_paused(struct run *r, int paused);
/* A paused run: let each strategy take one more step (whichever of its threads
 * gets there first, as the operating system decides), up to RUN_ADVANCE_AHEAD
 * steps ahead.  The presenter's "next step" for a free run. */
void run_advance(struct run *r);
#define RUN_ADVANCE_AHEAD 4

/* Step mode (cfg.step).  Every worker that reaches the gate emits EV_READY with
 * the step it will take and its SQL, then waits for its turn; a skipped step
 * does not wait.  run_step lets THREAD (1-based; 0: the schedule's next step, or
 * thread order) take one step, when nothing else is moving (else SCHED_BUSY:
 * ask again); safe from any thread.  run_set_step turns the waiting off (the
 * run goes on by itself, in the schedule's order) and on again. */
enum sched_grant run_step(struct run *r, int thread, int *granted);
void run_set_step(struct run *r, int on);
int run_step_awaiting(struct run *r);   /* waiting for run_step */
int run_replaying(struct run *r);       /* replayed grants are still being taken */
/* The steps taken so far, as run_step's THREAD arguments: what cfg.replay must
 * hold for a new run to get to the same point (sched_taken). */
int run_steps_taken(struct run *r, int *buf, int max);

void run_free(struct run *r);

#endif
