/*
 * sched.h: the schedule gate of a scheduled run: which worker takes the next step.
 *
 * A free run has no scheduler: the operating system interleaves the workers as it
 * likes.  A scheduled run (--schedule) lets exactly one worker move at a time, as
 * PostgreSQL's isolation tester does with its sessions.  Every step waits at the
 * gate until the scheduler grants it; the scheduler decides only when nothing is
 * moving, so the same schedule gives the same trace every time:
 *
 *   a list     "t1.read t2.read t1.write t2.write": steps in the order given, then
 *              the remaining steps in thread order;
 *   random     the seed picks each next step among the threads that can take one.
 *
 * A step that waits for a lock does not stop the schedule: the scheduler moves on
 * and, after every later step, asks whether the waiter can go on (probing it) —
 * on SQLite by letting its busy handler retry the lock once, on PostgreSQL by
 * asking the server (pg_blocking_pids).  When every remaining step waits, that is
 * a deadlock: the scheduler reports it and lets the database break it.
 *
 * Step mode (the dashboard's --step, "you are the scheduler") is a manual policy:
 * once everything has come to rest, the scheduler waits for sched_grant() to
 * name the thread that goes next (or to ask for the policy's own pick: the
 * listed schedule, then thread order; or the seed).  Probes of waiting threads
 * and deadlocks are still handled without asking.  An undo replays: a new run's
 * scheduler is given the grants of the old one, minus the last, and takes them
 * by itself before it waits for the next — the same grants in the same order
 * give the same trace, so the replay ends in the same state.
 *
 * One limit is PostgreSQL's own: when two or more sessions wait for the same row
 * and its holder updates it, the server wakes them all to race for the new row
 * version (EvalPlanQual) before any client hears of it, so which waiter goes
 * first is not ours to order.  Counts are the same every time; the trace can
 * differ from that point.  One waiter per lock — every canonical schedule — is
 * exact; SQLite, whose waiters take the lock only when the scheduler lets them
 * retry, is exact always.
 *
 * The scheduler knows nothing of databases or events: the run gives it hooks.
 */
#ifndef RACELAB_SCHED_H
#define RACELAB_SCHED_H

#include <stddef.h>
#include <stdint.h>

/* One token of a listed schedule: thread THREAD takes step STEP. */
struct sched_token {
	int thread;             /* 1-based */
	int step;               /* index into the strategy's step names */
};

/* A parsed --schedule. */
struct sched_spec {
	int random;             /* "random": the seed picks every step */
	struct sched_token *tokens;
	int ntokens;
	int threads;            /* the highest thread a token names (0 for random) */
};

/* Parse TEXT ("random", or tokens tN.STEP separated by white space) for the
 * strategy NAME whose steps are STEPS (NULL-terminated).  MAX_THREADS is the
 * number of threads the run has (-t) or may have; THREADS_GIVEN says which, for
 * the message.  Returns 0, or -1 with one line naming the bad token in err. */
int sched_parse(const char *text, const char *name, const char *const *steps,
                int max_threads, int threads_given, struct sched_spec *out, char *err,
                size_t errlen);
void sched_spec_done(struct sched_spec *spec);

/* What a step that waits for a lock should do next (the db_wait_fn contract). */
enum sched_wait {
	SCHED_KEEP = 0,         /* keep waiting */
	SCHED_GIVE_UP = 1,      /* give up: the run stops, or this wait breaks a deadlock */
	SCHED_NOW = -1,         /* try the lock again at once (SQLite: one probe) */
};

struct sched_hooks {
	void *arg;
	/* THREAD's step has begun to wait for a lock: report it.  Called on THREAD. */
	void (*waiting)(void *arg, int thread);
	/* Does THREAD's statement wait for a lock?  1 yes, 0 no, -1 cannot tell (taken
	 * as yes).  NULL for a backend that reports a wait only while its connection
	 * is blocked, and can retry the lock when asked (SQLite's busy handler). */
	int (*blocked)(void *arg, int thread);
	/* Every remaining step waits; TEXT lists them ("t1.lock t2.lock").  Called on
	 * thread SELF, the one that found it. */
	void (*deadlock)(void *arg, int self, const char *text);
};

struct sched;

struct sys_arena;

/* A scheduler for NTHREADS workers taking STEPS (NULL-terminated, kept, not
 * copied); SPEC is copied.  Every thread starts out moving.  In ARENA (memory
 * shared with worker processes, sys.h) or, if NULL, on the heap.  NULL if out of
 * memory. */
struct sched *sched_new(const struct sched_spec *spec, const char *const *steps,
                        int nthreads, uint64_t seed, const struct sched_hooks *hooks,
                        struct sys_arena *arena);
void sched_free(struct sched *s);

/* THREAD asks to take step STEP (an index into the steps; DEMO_STEPS-like values
 * past the end are fine).  Blocks until granted.  Returns 0, or -1 if stopping. */
int sched_gate(struct sched *s, int thread, int step);

/* THREAD's statement is waiting for a lock (called from the backend's on_wait).
 * Blocks while the scheduler lets others move; returns what the backend should do. */
enum sched_wait sched_wait(struct sched *s, int thread);

/* THREAD's statement has ended, FAILED or not, and its thread is about to say so.
 * A deadlock ends when the database fails one waiter (the victim); the others'
 * steps complete because it gave up, and both answers reach their threads at
 * once, so the order of their events would be a race.  After a deadlock, a step
 * that completes waits here until the victim's failure has been reported: the
 * trace gives the cause first, every time.  Call it after reporting a failure
 * and before reporting a success. */
void sched_step_ended(struct sched *s, int thread, int failed);

/* THREAD waits at a barrier AT; sched_release moves every thread waiting at AT
 * again (called by the thread that releases the barrier, before it does). */
void sched_park(struct sched *s, int thread, const void *at);
void sched_release(struct sched *s, const void *at);

/* THREAD has finished its work. */
void sched_exit(struct sched *s, int thread);

/* Wake every thread: the run is stopping. */
void sched_stop(struct sched *s);

/* ---- step mode --------------------------------------------------------------- */

/* Manual (ON) or automatic (0) choice of the next step.  Turning it off while
 * the scheduler waits for a grant lets the policy pick at once. */
void sched_set_manual(struct sched *s, int on);

/* Step mode, before the threads start: take these N grants (as sched_grant's
 * THREAD arguments) by themselves first; copied.  From then on the scheduler
 * also keeps the list of every grant it makes (see sched_taken), so that a new
 * run can replay them.  Returns 0, or -1 out of memory. */
int sched_set_replay(struct sched *s, const int *grants, int n);

/* Step mode: the grants made so far, followed by the replayed ones still to be
 * taken — what a new run must replay to get here — as sched_grant's THREAD
 * arguments (a pick of the policy, made by itself or asked for, is 0).  Copies
 * up to MAX into BUF (may be NULL); returns how many there are, or -1 if some
 * could not be kept (out of memory). */
int sched_taken(struct sched *s, int *buf, int max);

/* What sched_grant did. */
enum sched_grant {
	SCHED_GRANTED = 0,      /* the thread takes its next step */
	SCHED_BUSY,             /* something is still moving (or replaying): ask again */
	SCHED_WAITING,          /* that thread waits for a lock */
	SCHED_FINISHED,         /* that thread has finished its work */
	SCHED_AT_BARRIER,       /* that thread waits for the others at a barrier */
	SCHED_NO_THREAD,        /* there is no such thread */
	SCHED_STOPPED,          /* the run is stopping */
};

/* Manual mode: let THREAD (1-based) take its next step; THREAD 0 lets the policy
 * pick (the listed schedule's next token, else thread order; or the seed).  Only
 * while the scheduler waits for a grant; *GRANTED gets the thread that goes.
 * Safe from any thread (the dashboard's UI thread calls it). */
enum sched_grant sched_grant(struct sched *s, int thread, int *granted);

/* Manual mode waits for a grant: everything is at rest, a thread is ready. */
int sched_awaiting(struct sched *s);
/* Replayed grants not yet taken. */
int sched_replay_left(struct sched *s);

/* splitmix64: a tiny, portable generator, so a seed means the same on every
 * machine and C library (rand() does not). */
uint64_t sched_rand(uint64_t *state);

#endif
