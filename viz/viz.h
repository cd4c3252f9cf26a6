/*
 * viz.h: the ncurses dashboard, as main.c sees it.  No curses types here: only
 * viz/ includes curses.
 *
 * The dashboard runs the scenario like run_headless does, but paced so a room can
 * follow it, with one panel per strategy side by side: each thread's steps on its
 * own lane, the lost updates marked, live counts, and at the end the verdict from
 * the real database.
 */
#ifndef RACELAB_VIZ_H
#define RACELAB_VIZ_H

#include "../core/run.h"

#include <stdio.h>

struct cast;

/* What the dashboard needs from the program around it: the signal plumbing,
 * and what the command line fixed. */
struct viz_host {
	void (*watch)(struct run *r);   /* the run a signal should stop (NULL: none) */
	int (*interrupted)(void);       /* SIGINT, SIGTERM or SIGHUP has arrived */
	const char *caption;            /* lines shown under the panels (a lesson's
	                                 * "what to look at"), '\n'-separated; or NULL */
	int threads_given;              /* -t was given: step mode keeps it if it can */
	int ops_given;                  /* -n was given: else the scenario's dashboard_ops */
	int present;                    /* --present: the presenter's screen */
	const char *hidden;             /* --present: the strategies it does not show */
	void (*marker)(const char *label);      /* m: a marker in the recording, or NULL */
	struct cast *cast;              /* --record: the recording, or NULL */
	FILE *svg;                      /* --svg: where the last run's picture goes */
	int svg_dark;                   /* --svg-theme dark */
};

#define VIZ_PACE_MS 250         /* default mean delay before every step: a room can follow */
#define VIZ_STEP_THREADS 9      /* step mode: the keys 1 to 9 name the threads */
#define VIZ_PRESENT_PANELS 2    /* --present shows at most this many strategies */

/* stdin and stdout are terminals, and TERM names one that can position the
 * cursor: the dashboard can run. */
int viz_available(void);

/* Run the scenario on the dashboard until the user quits; returns the exit status
 * (the same as the text report's: 0, 1, 69, 70 or 130).  When the dashboard closes
 * it prints the last run's text report, so the numbers stay in the scrollback.
 * The environment variable RACELAB_PACE_MS, if set, replaces the default pace. */
int viz_run(struct run_config *cfg, const struct viz_host *host);

#endif
