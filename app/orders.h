/*
 * orders.h: --schedule all: every interleaving of the threads' steps, each run
 * on a fresh database, one line per order and a summary per strategy.
 */
#ifndef RACELAB_ORDERS_H
#define RACELAB_ORDERS_H

#include "../core/run.h"
#include "cli.h"
#include "../viz/viz.h"

#define ORDERS_MAX 5000         /* more orders than this are refused: use fewer threads */
#define ORDERS_THREADS 3        /* --schedule all: at most this many threads */

/* The number of orders of THREADS threads taking NSTEPS steps each. */
long orders_count(int threads, int nsteps);

/* Run every order of every selected strategy of CFG (cfg->threads threads, one
 * operation each); print on stdout (text, or JSON with --json).  WATCH tells the
 * program which run a signal should stop.  With DASHBOARD (a terminal), the
 * orders are stepped through on the dashboard instead, and the text printed when
 * it closes holds the orders played.  Returns the exit status. */
int orders_run(const struct cli *cli, struct run_config *cfg, void (*watch)(struct run *),
               int (*interrupted)(void), const struct viz_host *dashboard);

#endif
