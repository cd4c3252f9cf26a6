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
	/* Set (by a signal handler) to stop: the running steps are cancelled and
	 * specrun returns SPECRUN_INTERRUPTED.  NULL: never. */
	volatile int *stop;
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

/* Print table T as libpq's PQprint does with header, align and fieldSep "|"
 * (the isolation tester's settings); nothing for a table without columns. */
void specrun_print_table(FILE *out, const db_table *t);

#endif
