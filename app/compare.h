/*
 * compare.h: racelab compare [SCENARIO]: the cost table.  Every strategy of a
 * scenario, one after another on the same backend, each free-running at full
 * speed on its own database, and one table of what each costs: anomalies,
 * committed and requests per second, retries, lock waits, failed requests by
 * reason.  "Which fix should I pick?" answered on the learner's own machine.
 */
#ifndef RACELAB_COMPARE_H
#define RACELAB_COMPARE_H

#include <stdio.h>

#include "cli.h"
#include "../core/run.h"

/* What main lends the comparison: the run a signal should stop, and whether
 * one came. */
struct compare_host {
	void (*set_current)(struct run *r);
	int (*interrupted)(void);
};

/* Run the comparison CLI describes and print its table (or, with --json, one
 * JSON report holding every strategy) on OUT.  Returns the exit status: 0, 1 if
 * a safe strategy broke its invariant, 69 if the database is unavailable, 70,
 * or 130 if interrupted. */
int compare_run(const struct cli *cli, const struct compare_host *host, FILE *out);

/* Print the table for the N results of CFG's scenario on OUT (compare_run's
 * text, without running anything: tests feed it known results). */
void compare_table(FILE *out, const struct run_config *cfg, const struct run_result *res,
                   int n);

#endif
