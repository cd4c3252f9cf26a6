/*
 * specdash.h: a spec file on the dashboard (racelab spec, racelab matrix
 * --show), as app/speccmd.c sees it.  No curses types here.
 *
 * One lane per session, side by side, time going down: each step on its
 * session's lane when it is sent, with its SQL, its rows and its errors; a step
 * that waits for a lock highlighted for as long as it waits, and its "<...
 * completed>" where it ends.  Played at a pace, or by the learner one step at a
 * time (the keys 1-9 choose which session goes next), with undo as a replay on a
 * fresh database.
 */
#ifndef RACELAB_VIZ_SPECDASH_H
#define RACELAB_VIZ_SPECDASH_H

#include <stddef.h>

#include "../core/specplay.h"

struct viz_spec_host {
	const struct spec *spec;
	const char *title;              /* "spec two-writers.spec", "matrix: P4 ..." */
	const char *backend;            /* "sqlite" */
	const char *version;            /* "PostgreSQL 15.8" */
	int perm;                       /* the permutation to play first */
	int step;                       /* --step: open in step mode */
	int (*interrupted)(void);       /* SIGINT, SIGTERM or SIGHUP has arrived */
	/* The end of a permutation in a sentence ("P4: happened"), or NULL: none.
	 * BAD is set when it is bad news (the anomaly happened). */
	int (*verdict)(void *arg, const struct specplay_state *st, char *buf, size_t n,
	               int *bad);
	void *verdict_arg;
};

/* Play the spec on the dashboard with P until the user quits (q) or a signal
 * comes.  Returns the status of the last permutation played (SPECRUN_INTERRUPTED
 * after a signal).  The caller then stops P and prints what ran. */
enum specrun_status viz_spec_run(struct specplay *p, const struct viz_spec_host *host);

#endif
