/*
 * events.h: the event stream from worker threads to whoever watches the run
 * (the text report, the trace, the dashboard).
 *
 * DESIGN: each worker owns one single-producer single-consumer ring, so producers
 * never contend with each other: emitting is a copy into a preallocated slot and one
 * release store, no lock and no malloc.  One consumer drains all rings; a global
 * sequence number (one relaxed fetch-add per event) lets it restore the order in
 * which things happened, so a step that caused another is always shown first.
 * A full ring makes its producer wait for the consumer: events are never dropped,
 * because the trace and the dashboard must tell the whole truth.
 */
#ifndef RACELAB_EVENTS_H
#define RACELAB_EVENTS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

enum ev_kind {
	EV_STEP,        /* a step is about to run its SQL */
	EV_WAIT,        /* the step is waiting for a lock another thread holds */
	EV_DONE,        /* the step finished; value/changes hold its result */
	EV_SKIP,        /* the thread's own logic skipped this step */
	EV_FAIL,        /* the step failed; text holds the database's message */
	EV_THINK,       /* application think time between a read and its write */
	EV_RETRY,       /* the operation is rolled back and starts again */
	EV_COMMIT,      /* the operation finished and its effect is committed */
	EV_ABORT,       /* the operation gave up (error or stop) */
	EV_EXIT,        /* the thread finished its work */
	EV_DEADLOCK,    /* scheduled runs: every remaining step waits; text lists them */
	EV_READY,       /* step mode: at the gate, waiting for its turn to take step
	                   STEP with SQL and args (its SQL is known before it runs) */
};

#define EV_ARGS 3
#define EV_TEXT 24

struct ev_arg {
	enum db_type type;
	int64_t i;
	char s[EV_TEXT];
};

struct event {
	uint64_t seq;           /* global order of emission */
	int64_t t_ns;           /* since the run started */
	enum ev_kind kind;
	int strategy;           /* index into the run's strategies */
	int thread;             /* 1-based within its strategy */
	int op;                 /* 0-based operation (or round) number */
	const char *step;       /* step name: static string, or NULL */
	int role;               /* the step's enum scn_role (scenario.h); 0: none */
	unsigned effects;       /* the step's EFF_* flags */
	int key_arg, value_arg; /* which of args name its row and the value it writes
	                           (1-based; 0: none), as the scenario declares them */
	const char *sql;        /* the SQL as sent: static string, or NULL */
	struct ev_arg args[EV_ARGS];
	int nargs;
	int has_value;          /* EV_DONE: the statement returned a row */
	int64_t value;          /* EV_DONE: its value; EV_COMMIT: the op's outcome */
	int64_t changes;        /* EV_DONE: rows changed */
	char text[96];          /* EV_FAIL, EV_RETRY: the database's message */
};

struct ev_ring {
	_Atomic size_t head;    /* next slot the producer writes */
	_Atomic size_t tail;    /* next slot the consumer reads */
	size_t cap;             /* a power of two */
	struct event *slots;
};

struct ev_stream {
	struct ev_ring *rings;
	int nrings;
	_Atomic uint64_t seq;
	_Atomic int closed;     /* the consumer is gone: producers stop waiting for space */
	uint64_t next;          /* consumer: the next sequence number to deliver */
	struct sys_arena *arena;/* where the rings live; NULL: the heap */
};

struct sys_arena;

/* One ring per producer, each with CAP slots (rounded up to a power of two), in
 * ARENA (shared with worker processes) or, if NULL, on the heap. */
int ev_stream_init(struct ev_stream *s, int nrings, size_t cap, struct sys_arena *arena);
void ev_stream_done(struct ev_stream *s);

/* Producer side: copy E into ring R; fills in E's seq. */
void ev_emit(struct ev_stream *s, int r, struct event *e);

/* Consumer side: take every event published so far, in sequence order, and call
 * FN (if not NULL) on each.  Events come out in one unbroken sequence across
 * drains: one published after an earlier-numbered event that is not yet visible
 * waits for the next drain.  Returns the number of events delivered. */
typedef void (*ev_fn)(const struct event *e, void *arg);
size_t ev_drain(struct ev_stream *s, ev_fn fn, void *arg);

/* Tell producers no one will drain any more (they then drop instead of waiting). */
void ev_close(struct ev_stream *s);

#endif
