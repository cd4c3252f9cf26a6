/*
 * sweep.h: --latency 0,1,5,20: the same free run at each latency, and a chart of
 * what the distance to the database does to each strategy.
 */
#ifndef RACELAB_SWEEP_H
#define RACELAB_SWEEP_H

#include "../core/run.h"
#include "cli.h"

#define SWEEP_OPS 50            /* -n of a sweep when not given: 20 ms is slow */

/* Run CFG once per latency in CLI, at full speed; print the table and chart (or
 * the JSON) on stdout.  WATCH tells the program which run a signal should stop;
 * INTERRUPTED says whether one has.  Returns the exit status. */
int sweep_run(const struct cli *cli, struct run_config *cfg, void (*watch)(struct run *),
              int (*interrupted)(void));

#endif
