/*
 * specplay.h: a spec played one step at a time, for the spec dashboard
 * (viz/specdash.c): the steps of one permutation taken on real sessions when
 * somebody asks (a key, or the dashboard's pace), what each step does reported
 * as it happens (sent, <waiting ...>, completed, its rows, its errors), and the
 * isolation tester's text of what ran kept for the end.
 *
 * DESIGN: one thread of the player's own drives the sessions through specrun's
 * engine (specrun.h: specrun_perm_step and friends), so a step that waits for a
 * lock, or a permutation's end that waits for the server to break a deadlock,
 * never holds up the screen; the UI thread only posts requests and reads the
 * state under the player's lock.  Every play starts from scratch on a fresh area
 * (a new SQLite file, a new PostgreSQL schema): undo is a replay of the steps
 * taken but the last, real SQL again.
 */
#ifndef RACELAB_SPECPLAY_H
#define RACELAB_SPECPLAY_H

#include <stdio.h>

#include "db.h"
#include "spec.h"
#include "specrun.h"

struct specplay;

struct specplay_opts {
	const char *const *prelude;     /* as specrun_opts.prelude (the matrix's journal mode) */
	int defer;                      /* as specrun_opts.defer (the matrix's rule) */
	const char *label;              /* the areas' label ("spec") */
};

/* One result of a step: a table, or an error line. */
struct specplay_result {
	char *error;                    /* "ERROR:  ...", or NULL: a table */
	int ncols, nrows;
	char **names;                   /* ncols */
	char **cells;                   /* nrows * ncols; NULL is NULL */
};

enum specplay_item_kind {
	SPI_STEP,                       /* a step was sent (its results, if it did not wait) */
	SPI_COMPLETED,                  /* a step that waited completed (its results) */
	SPI_NOTICE,                     /* a session's notice */
	SPI_NOTE,                       /* a line of the runner's (setup failed, ...) */
};

/* One entry of the timeline, in the order things happened. */
struct specplay_item {
	enum specplay_item_kind kind;
	int session;                    /* -1 for a note */
	int step;                       /* index into spec->steps, or -1 */
	int waiting;                    /* SPI_STEP: reported waiting, not yet complete */
	int waited;                     /* SPI_STEP: it was reported waiting */
	int failed;                     /* an error among its results */
	int nresults;
	struct specplay_result *results;
	char *text;                     /* SPI_NOTICE, SPI_NOTE */
};

/* What the dashboard reads, under specplay_lock. */
struct specplay_state {
	int perm;                       /* the permutation played (index into spec->perms) */
	int nsteps;                     /* its steps */
	int ntaken;                     /* how many were taken, in the order order[] */
	int *order;                     /* psteps of spec->perms[perm], in the order taken */
	int *taken;                     /* per pstep: taken */
	int *running;                   /* per session: its step was sent and is not complete */
	int nitems;
	struct specplay_item *items;
	int busy;                       /* a request is being carried out */
	int replaying;                  /* ... a replay (start, undo) */
	int ending;                     /* every step is taken: the last waits, teardown */
	int finished;                   /* the permutation is over */
	enum specrun_status status;     /* how it ended (finished) */
	char error[DB_ERRLEN];          /* SPECRUN_LOST: why */
	const struct specrun_seen *seen;/* finished: what each step did (spec->nsteps) */
};

/* Start the player on SITE; it plays nothing until specplay_start.  NULL with
 * err on failure (out of memory, no thread). */
struct specplay *specplay_new(const struct spec *sp, const db_backend *db, db_site *site,
                              const struct specplay_opts *opts, char *err);
/* Stop whatever runs (its steps cancelled), drop the area, end the thread; what
 * ran can still be printed.  Safe to call twice. */
void specplay_stop(struct specplay *p);
/* Stop, and free everything.  NULL: nothing. */
void specplay_free(struct specplay *p);

/* Play permutation PERM from scratch on a fresh area, first taking, without a
 * pause, its psteps ORDER[0..N-1] (a replay); whatever was playing is stopped. */
int specplay_start(struct specplay *p, int perm, const int *order, int n);

enum specplay_take {
	SPT_OK,                         /* the step is on its way */
	SPT_BUSY,                       /* a request is still being carried out: later */
	SPT_RUNNING,                    /* that session's step has not completed */
	SPT_NO_STEPS,                   /* that session has no step left */
	SPT_FINISHED,                   /* the permutation is over */
};

/* Take pstep J of the permutation (it must be the next of its session's). */
enum specplay_take specplay_take(struct specplay *p, int j);
/* The pstep the permutation takes next (-1: none left), and session S's next (-1). */
int specplay_next(const struct specplay_state *st, const struct spec *sp);
int specplay_session_next(const struct specplay_state *st, const struct spec *sp, int s);

void specplay_lock(struct specplay *p);
void specplay_unlock(struct specplay *p);
/* The state; read it only between specplay_lock and specplay_unlock. */
const struct specplay_state *specplay_state(const struct specplay *p);

/* Print what ran, as the isolation tester prints it: "Parsed test spec with N
 * sessions", then every permutation played (its last play), in the spec's
 * order, headed by its steps: those taken in the order taken, then the others
 * in the spec's order. */
void specplay_print(struct specplay *p, FILE *out);

#endif
