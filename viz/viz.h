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
struct trace_lines;

/* --schedule all on the dashboard: the orders to step through.  Each plays as a
 * scheduled run on a fresh database, one after another. */
struct viz_order {
	const char *schedule;           /* "t1.read t2.read t1.write t2.write" */
	int strategy;                   /* index into the scenario's strategies */
	int index, count;               /* its number among its strategy's orders (from
	                                   1), and how many that strategy has */
};

struct viz_orders {
	const struct viz_order *v;
	int n;
	/* Order I has been played to its end: R is its run, waited for and checked
	 * (the dashboard frees it), TRACE its trace lines.  Called again if the
	 * order is played again. */
	void (*played)(void *arg, int i, struct run *r, const struct trace_lines *trace);
	void *arg;
};

/* -b sqlite,postgres on the dashboard: one run per backend at once, their panels
 * side by side.  When the dashboard closes, report() gets every side's run,
 * waited for but not finished (it calls run_finish on each), and returns the
 * exit status. */
struct viz_side_end {
	struct run *run;
	enum run_status st;
	const struct trace_lines *trace;        /* a scheduled run's trace, else NULL */
	const char *schedule;           /* the steps taken, as a schedule, or NULL */
	int cut_short;                  /* quit before the run was over */
};

struct viz_sides {
	const db_backend *db[2];
	const char *where[2];           /* -d for each (NULL: its default) */
	int (*report)(void *arg, struct viz_side_end *ends, int n, int interrupted);
	void *arg;
};

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
	const struct viz_orders *orders;        /* --schedule all, or NULL */
	const struct viz_sides *sides;          /* -b sqlite,postgres, or NULL */
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

/* With host->orders: step through the orders, each played like a --schedule run
 * (] and [ move to the next and previous; an order that finishes moves on by
 * itself unless in step mode).  The caller prints the orders played and the
 * summary; the status is 69, 70 or 130 if something went wrong, else 0.
 * With host->sides: the run on both backends at once (host->sides->report
 * prints the reports).  Neither goes with --record, --svg or --present. */

#endif
