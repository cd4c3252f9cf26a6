/*
 * record.h: what a run leaves for a talk: chapter markers in a recording
 * (--record) and the steps a swimlane picture is drawn from (--svg).  Fed the
 * same events as the dashboard or the text report, it keeps a model of its own
 * (model.h) to see anomalies the way the dashboard sees them.  No curses here:
 * the text report records through it too.
 */
#ifndef RACELAB_VIZ_RECORD_H
#define RACELAB_VIZ_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "../core/cast.h"
#include "../core/run.h"
#include "model.h"

#define VIZ_REC_MAX_STEPS 100000 /* steps kept for --svg (about 10 MB) */

/* One step as the picture shows it. */
struct viz_rec_step {
	int panel;
	int thread;
	int op;
	const char *step;       /* static string from the demo */
	int col;                /* its place in time order (0: the panel's first step) */
	int end_col;            /* the column in which it completed (> col: it waited) */
	int waited;
	int done, failed, skipped;
	int dml;                /* its role writes rows (scenario.h) */
	char key[EV_TEXT];      /* the row or resource it touches (its key_arg), or "" */
	int has_value;          /* what it read */
	int64_t value;
	int has_arg;            /* what it wrote */
	int64_t arg;
	int64_t changes;
	int overwrote;          /* index of the step whose effect it undid, or -1 */
	int64_t lost;           /* EFF_FROM_READ: effects it erased */
	int nth;                /* EFF_USES: its rank (2+: an extra use) */
};

struct viz_rec {
	const struct run_config *cfg;
	struct cast *cast;              /* the recording, or NULL */
	int scheduled;                  /* one step at a time: mark every step */
	int64_t t0_ns;                  /* the recording's clock when the run began */
	struct viz_model model;
	int seen_marks[SCN_STRATEGIES];
	int keep_steps;                 /* --svg: keep every step */
	struct viz_rec_step *steps;
	int nsteps, cap;
	int cols[SCN_STRATEGIES];      /* steps started per panel */
	int open[SCN_STRATEGIES][RACELAB_MAX_THREADS];     /* each lane's running step, -1 */
	const struct run_result *results[SCN_STRATEGIES];
	char result[256];               /* a scheduled run's result line, or "" */
	int finished;
};

/* Begin recording a run of CFG (which must outlive it) into CAST (NULL: none),
 * keeping its steps if KEEP_STEPS.  Returns 0, or -1 out of memory. */
int viz_rec_init(struct viz_rec *r, const struct run_config *cfg, struct cast *cast,
                 int keep_steps);
void viz_rec_done(struct viz_rec *r);

/* Feed one event (an ev_fn): the clock, the step and anomaly markers. */
void viz_rec_event(const struct event *e, void *rec);

/* The run clock as the recording tells it: virtual time since the run began. */
int64_t viz_rec_run_ns(struct viz_rec *r);

/* The run is over and checked: the verdicts become markers.  RESULT is the
 * scheduled run's result line, or NULL. */
void viz_rec_finish(struct viz_rec *r, const struct run_result *const *results,
                    const char *result);

/* A marker of the user's own (the presenter's m key). */
void viz_rec_marker(struct viz_rec *r, const char *label);

enum viz_svg_theme { SVG_LIGHT, SVG_DARK };

/* Write the swimlane picture of the kept steps into F (svg.c). */
void viz_svg_write(const struct viz_rec *r, FILE *f, enum viz_svg_theme theme);

#endif
