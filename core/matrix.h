/*
 * matrix.h: the anomaly matrix (racelab matrix): Hermitage's ten anomalies,
 * each a spec file in specs/matrix/, run live under every isolation level of
 * PostgreSQL and every transaction mode of SQLite, each cell saying how the
 * anomaly was prevented or that it happened, and, for PostgreSQL, whether that
 * agrees with Hermitage's published table.
 */
#ifndef RACELAB_MATRIX_H
#define RACELAB_MATRIX_H

#include <stdio.h>

#include "db.h"
#include "spec.h"
#include "specrun.h"

#define MATRIX_ANOMALIES 10
#define MATRIX_LEVELS 8
#define MATRIX_CONDS 4                  /* "anomaly if" lines per anomaly */

struct matrix_level {
	const char *name;               /* "repeatable read", "immediate/WAL" */
	const char *backend;            /* "postgres" or "sqlite" */
	const char *begin;              /* what a step "BEGIN;" becomes */
	const char *journal;            /* SQLite: the journal_mode pragma; else NULL */
};

extern const struct matrix_level matrix_levels[MATRIX_LEVELS];

struct matrix_anomaly {
	const char *id;                 /* "G2-item" */
	const char *file;               /* "g2-item.spec" */
	char title[64];                 /* from the spec's "#! anomaly" line */
	struct spec spec;
	char *conds[MATRIX_CONDS];      /* "t1_r = 10 and no errors", any one suffices */
	int nconds;
};

struct matrix_cell {
	int ran;
	int happened;                   /* the anomaly's condition held */
	int waited;                     /* some step was reported waiting */
	char code[16];                  /* the first error's SQLSTATE / SQLite code */
	char how[64];                   /* "happened", "blocked, then 40001", ... */
	int hermitage;                  /* PostgreSQL: 1 Hermitage says it happens, 0
	                                   prevented; -1 no published cell (SQLite) */
	char *trace;                    /* the spec's output for this cell (malloc'd) */
	double seconds;
};

struct matrix {
	struct matrix_anomaly anomalies[MATRIX_ANOMALIES];
	struct matrix_cell cells[MATRIX_ANOMALIES][MATRIX_LEVELS];
	char versions[2][64];           /* [0] PostgreSQL's, [1] SQLite's; "" not run */
	double seconds;                 /* the whole run */
};

/* Load the ten spec files from DIR.  0, or -1 with one line in err. */
int matrix_load(struct matrix *m, const char *dir, char *err, size_t n);
void matrix_free(struct matrix *m);

/* Index of an anomaly ("p4", case-insensitive) or level, or -1. */
int matrix_anomaly_index(const char *id);
int matrix_level_index(const char *name);

/* Run anomaly A at level L on DB, in a fresh area of SITE.  0, or -1 with
 * err when the database failed (not when the anomaly did). */
int matrix_run_cell(struct matrix *m, int a, int l, const db_backend *db, db_site *site,
                    char *err);

/* Cell (A, L)'s spec: set its "BEGIN;" steps to level L's own begin, keeping the
 * originals in SAVED (spec.nsteps entries); _undo puts them back. */
void matrix_cell_spec(struct matrix *m, int a, int l, char **saved);
void matrix_cell_spec_undo(struct matrix *m, int a, char **saved);
/* Judge cell (A, L) from what its steps did (SEEN) and how the run ended (ST). */
void matrix_judge(struct matrix *m, int a, int l, const struct specrun_seen *seen,
                  enum specrun_status st);

/* Print the cells that ran: a table per backend, as text or Markdown; or JSON. */
void matrix_print_text(FILE *out, const struct matrix *m, int markdown);
void matrix_print_json(FILE *out, const struct matrix *m);

#endif
