/*
 * both.h: -b sqlite,postgres: the same run or schedule on both backends, one
 * after the other, set side by side.
 */
#ifndef RACELAB_BOTH_H
#define RACELAB_BOTH_H

#include "../core/run.h"
#include "cli.h"

/* Run CFG on SQLite (a private directory) and on PostgreSQL (cli->where); print
 * both reports and, for a schedule, each step's outcome on both side by side.
 * Returns the more serious of the two exit statuses. */
int both_run(const struct cli *cli, struct run_config *cfg, void (*watch)(struct run *),
             int (*interrupted)(void));

#endif
