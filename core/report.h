/*
 * report.h: the end-of-run reports: a text table with a verdict per strategy,
 * and the JSON report whose fields DESIGN.md fixes.
 */
#ifndef RACELAB_REPORT_H
#define RACELAB_REPORT_H

#include <stdio.h>

#include "run.h"

/* Everything a report needs to say about a finished run. */
struct report {
	const struct run_config *cfg;
	const struct run_result *results[SCN_STRATEGIES];
	int nresults;
	const char *site;               /* where the databases were, safe to print */
	int kept;                       /* -d was given: the files/schemas were kept */
	int interrupted;
	int paced;                      /* the mean pace in ms, if the run was paced; 0 */
	const char *schedule;           /* --schedule as given, or NULL */
	char *const *trace;             /* --schedule: the trace lines, in order */
	size_t ntrace;
	const char *result;             /* --schedule: the result line, or NULL */
};

void report_text(FILE *f, const struct report *r);
void report_json(FILE *f, const struct report *r);

/* Whether a strategy kept its invariant: no anomaly, and the database holds
 * exactly what the invariant demands (check.observed == check.expected). */
int report_kept_invariant(const struct run_result *res);

/* The result line of a scheduled run's trace (without "result: "), from the
 * first strategy's check; 0, or -1 if it was not checked. */
int report_result(const struct report *r, char *buf, size_t n);

/* 0, or 1 if a safe strategy broke its invariant (the exit status). */
int report_status(const struct report *r);

/* Write S as a JSON string literal. */
void report_json_string(FILE *f, const char *s);

#endif
