/*
 * runpriv.h: the insides of a run, shared by the files that make one up and by
 * nothing else:
 *
 *   run.c    the run's lifecycle: workers, the scheduler's hooks, results
 *   gate.c   the gate every step passes (pacing, pause, schedule) and barriers
 *   step.c   the step helpers the scenarios call (step.h) and the events they emit
 *
 * DESIGN: data flows one way.  A strategy calls step_sql(); the step passes the gate;
 * the backend runs the SQL on the worker's own connection; the worker emits events
 * into its own ring of the event stream.  Workers keep their own counters and never
 * share them while running; the run adds them up after pthread_join, so the final
 * counts need no locks at all.
 */
#ifndef RACELAB_RUNPRIV_H
#define RACELAB_RUNPRIV_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "run.h"

/* A barrier that a stopping run releases and that threads may leave for good. */
struct barrier {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int parties;            /* threads still taking part */
	int arrived;            /* 0 ≤ arrived < parties between releases */
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
	pid_t pid;              /* --procs: the worker's own process, until reaped; 0 */
	_Atomic int finished;   /* --procs: the process has left worker_main */
	_Atomic int counted;    /* counted in run->exited (by itself, or when reaped) */
	int server_id;          /* the database's number for conn (db->conn_id) */
	int in_txn;             /* a BEGIN is open */
	int waiting;            /* the current step has reported a lock wait */
	const char *step;       /* the current step, for the wait event */
	const struct scn_step *decl;    /* ... and its declaration (role, effects) */
	uint64_t pace_rng;      /* this thread's own jitter (gate.c), from the seed */
	int64_t effects;        /* effects committed by the current operation */
	int64_t attempted, committed, retries, lock_waits, errors, refused;
	char code[32];          /* the last failed statement's reason */
	struct run_failure failures[RUN_FAILURE_KINDS]; /* errors by reason */
	int nfailures;
	int paced;              /* some step of this worker was paced */
	int64_t start_ns, end_ns;       /* past the start barrier; done (run clock) */
	char err[DB_ERRLEN];
};

struct lane {
	const struct scn_strategy *strategy;
	const char *names[SCN_STEPS + 1];       /* the strategy's step names, for sched */
	int index;              /* panel position */
	db_area *area;
	db_conn *check;         /* the harness's own connection: setup and check */
	struct barrier round;
	int tokens;             /* a paused run: steps this lane may take (run_advance);
	                           guarded by run->gate_mu */
	struct worker *workers;
	struct run_result result;
};

struct run {
	struct run_config cfg;
	struct sys_arena *arena;/* --procs: everything below that workers touch lives
	                           in memory shared with their processes; else NULL */
	const db_backend *db;
	db_site *site;
	struct lane lanes[SCN_STRATEGIES];
	int nworkers;
	struct ev_stream events;
	struct barrier start;
	int64_t t0_ns;
	struct sched *sched;    /* scheduled runs only; NULL lets every step pass */

	_Atomic int stopping;
	_Atomic int exited;     /* workers that have finished */
	_Atomic int pace_ms;
	_Atomic int paused;
	pthread_mutex_t gate_mu;        /* guards nothing but the waits in gate.c */
	pthread_cond_t gate_cv;         /* signalled on pause, pace and stop changes */

	pthread_mutex_t err_mu;
	char error[DB_ERRLEN];  /* first reason the database was lost */
	_Atomic int lost;
	int64_t recheck_until;  /* lost: when to stop reconnecting for the check */
};

/* gate.c */
void barrier_init(struct barrier *b, int parties, const struct sys_arena *arena);
void barrier_done(struct barrier *b, const struct sys_arena *arena);
int barrier_wait(struct barrier *b, struct run *r, int thread);
void barrier_leave(struct barrier *b);
void barrier_wake(struct barrier *b);
void gate_init(struct worker *w);
enum step_rc gate_pass(struct worker *w, const char *step, const char *sql,
                       const db_value *args, int nargs);
int gate_sleep(struct run *r, int ms);
int gate_sleep_us(struct run *r, int64_t us);
void gate_changed(struct run *r);

/* step.c */
void step_emit(struct worker *w, enum ev_kind kind, const char *step, const char *sql,
               const db_value *args, int nargs, const char *text);
void step_emit_done(struct worker *w, const char *step, const db_result *res);
void step_emit_commit(struct worker *w);
void step_report_wait(struct worker *w);
void step_rollback(struct worker *w);

/* run.c */
void run_lose_database(struct run *r, const char *why);

#endif
