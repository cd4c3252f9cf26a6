/*
 * specrun.h: running a parsed spec (spec.h) on a backend's spec sessions, and
 * printing what PostgreSQL's isolation tester prints for it: "starting
 * permutation: ...", "step s1: SQL", "<waiting ...>", "<... completed>", result
 * tables as libpq's PQprint aligns them, "ERROR:  message" lines.  One thread
 * drives every session, as the tester does, so the output depends only on the
 * spec and on what the database decides, never on timing.
 */
#ifndef RACELAB_SPECRUN_H
#define RACELAB_SPECRUN_H

#include <stdatomic.h>
#include <stdio.h>

#include "db.h"
#include "spec.h"

#define SPECRUN_VALUELEN 64

/* What one step did in the last permutation run (for the anomaly matrix). */
struct specrun_seen {
	int ran;                        /* the step completed */
	int waited;                     /* it was reported <waiting ...> */
	char code[16];                  /* its first error's SQLSTATE / SQLite code; "" none */
	char error[128];                /* that error's message */
	char value[SPECRUN_VALUELEN];   /* first value of its last result set; "" none */
	int has_value;
	int rows;                       /* rows in its last result set */
};

enum specrun_event_kind {
	SPECRUN_EV_START,               /* a step was sent */
	SPECRUN_EV_WAITING,             /* ... and is reported <waiting ...> */
	SPECRUN_EV_DONE,                /* ... is reported complete; its results follow */
	SPECRUN_EV_TABLE,               /* a result set of the step being completed */
	SPECRUN_EV_ERROR,               /* an error of the step being completed */
	SPECRUN_EV_NOTICE,              /* a notice from a session */
	SPECRUN_EV_NOTE,                /* a line of the runner's own (setup failed, ...) */
};

struct specrun_event {
	enum specrun_event_kind kind;
	int pstep;                      /* its place in the permutation, or -1 */
	int step;                       /* index into spec->steps, or -1 */
	int session;                    /* index into spec->sessions, or -1 */
	int completed;                  /* DONE: it was reported waiting first */
	const db_table *table;          /* TABLE */
	const char *text;               /* ERROR "ERROR:  ...", NOTICE, NOTE: one line */
};

struct specrun_opts {
	/* SQL run once on the control session before the spec's sessions connect
	 * (the matrix sets SQLite's journal mode so); NULL-terminated, may be NULL. */
	const char *const *prelude;
	int perm;                       /* run only permutation PERM (0-based); -1 all */
	/* A step whose session still waits is deferred until the session is free,
	 * and the next steps go on (racelab's --schedule rule), instead of waiting
	 * for the session (the tester's rule).  The matrix runs so, because
	 * SQLite's BEGIN IMMEDIATE waits where PostgreSQL's waits later. */
	int defer;
	struct specrun_seen *seen;      /* NULL, or spec->nsteps entries, filled */
	/* Set (by a signal handler, or another thread) to stop: the running steps
	 * are cancelled and specrun returns SPECRUN_INTERRUPTED.  NULL: never. */
	atomic_int *stop;
	/* Told of every step as it starts, waits, completes, and of what it returns
	 * (specplay.c draws the dashboard from these); NULL: nobody.  Called on the
	 * thread that drives the spec, in the order the text is printed. */
	void (*on_event)(const struct specrun_event *e, void *arg);
	void *event_arg;
};

enum specrun_status {
	SPECRUN_OK = 0,
	SPECRUN_FAILED,                 /* a setup failed, or steps blocked each other */
	SPECRUN_LOST,                   /* the database was lost (err) */
	SPECRUN_INTERRUPTED,            /* opts->stop was set */
};

/* Refuse, by name, what racelab cannot run on DB: 0, or -1 with one line. */
int specrun_check(const struct spec *spec, const db_backend *db, char *err, size_t n);

/* Run SPEC's permutations on DB in AREA, printing to OUT as the tester would
 * ("Parsed test spec with N sessions" first).  Errors of setup and teardown go to
 * ERRF (stderr), as the tester's do. */
enum specrun_status specrun(const struct spec *spec, const db_backend *db, db_area *area,
                            const struct specrun_opts *opts, FILE *out, FILE *errf,
                            char *err);

/* ---- one permutation, a step at a time (specplay.c; specrun above is these
 * in a loop) ----
 *
 * specrun_open connects the spec's sessions to AREA (and prints "Parsed test
 * spec ..." to OUT); specrun_perm_begin runs the setups of permutation PM, which
 * may grow by psteps appended up to CAP while it runs (a learner choosing the
 * order); specrun_perm_step takes pstep J, printing as the tester would;
 * specrun_perm_poll looks at the waiting steps once; specrun_perm_end waits for
 * them and runs the teardowns.  A status other than SPECRUN_OK ends the
 * permutation.  Every call comes from one thread. */
struct specrun;
struct specrun *specrun_open(const struct spec *spec, const db_backend *db, db_area *area,
                             const struct specrun_opts *opts, FILE *out, FILE *errf,
                             char *err);
enum specrun_status specrun_perm_begin(struct specrun *r, const struct spec_perm *pm,
                                       int cap, int header);
enum specrun_status specrun_perm_step(struct specrun *r, int j);
enum specrun_status specrun_perm_poll(struct specrun *r);
enum specrun_status specrun_perm_end(struct specrun *r);
/* The pstep SESSION is running (sent, not yet reported complete), or -1. */
int specrun_active(const struct specrun *r, int session);
/* Steps waiting or deferred: a poll may have something to report. */
int specrun_waiting(const struct specrun *r);
const char *specrun_error(const struct specrun *r);
void specrun_close(struct specrun *r);

/* Print table T as libpq's PQprint does with header, align and fieldSep "|"
 * (the isolation tester's settings); nothing for a table without columns. */
void specrun_print_table(FILE *out, const db_table *t);

#endif
