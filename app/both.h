/*
 * both.h: -b sqlite,postgres: the same run or schedule on both backends, one
 * after the other, set side by side.
 */
#ifndef RACELAB_BOTH_H
#define RACELAB_BOTH_H

#include "../core/run.h"
#include "cli.h"
#include "../viz/viz.h"

/* Run CFG on SQLite (a private directory) and on PostgreSQL (cli->where); print
 * both reports and, for a schedule, each step's outcome on both side by side.
 * With DASHBOARD (a terminal), both run at once on the dashboard, side by side,
 * and the same is printed when it closes.  Returns the more serious of the two
 * exit statuses. */
int both_run(const struct cli *cli, struct run_config *cfg, void (*watch)(struct run *),
             int (*interrupted)(void), const struct viz_host *dashboard);

#endif
