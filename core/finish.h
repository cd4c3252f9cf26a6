/*
 * finish.h: the one way a run ends, for the text report and the dashboard alike:
 * the results, the verdicts, the report, the exit status, what is said on stderr,
 * and the cleanup all come from run_finish().
 */
#ifndef RACELAB_FINISH_H
#define RACELAB_FINISH_H

#include <stdio.h>

#include "run.h"

/* How the caller wants a finished run reported. */
struct finish_opts {
	FILE *out;                      /* where the report goes */
	int json;                       /* the JSON report, else the text one */
	const char *schedule;           /* the schedule run (or taken in step mode), or NULL */
	char *const *trace;             /* the trace lines kept for the JSON report */
	size_t ntrace;
	int trace_printed;              /* the trace went to OUT already: "result: ..."
	                                   and a blank line follow it */
	int interrupted;                /* a signal stopped the run */
	int cut_short;                  /* the person ended it early: counts are for what ran */
	int quiet;                      /* no report: the caller has read the results */
};

/* Finish R, whose run_wait() returned ST: print the report, say on stderr what
 * went wrong if anything did, free R (its areas dropped, a temporary directory
 * removed) and return the exit status (status.h). */
int run_finish(struct run *r, enum run_status st, const struct finish_opts *o);

#endif
