/*
 * exportspec.h: --export-spec FILE: one scheduled run of one strategy, written as
 * a PostgreSQL isolation-tester spec file that racelab spec (and, for the
 * PostgreSQL backend, PostgreSQL's own isolationtester) replays to the same trace.
 */
#ifndef RACELAB_EXPORTSPEC_H
#define RACELAB_EXPORTSPEC_H

#include "../core/run.h"
#include "cli.h"

/* Run CFG's schedule (one strategy), print its trace and report as --schedule
 * does (not with "-": the spec alone goes to stdout), and write the spec to
 * cli->export_spec.  WATCH tells the program which run a signal should stop.
 * Returns the exit status: the run's, or 64 for a file that cannot be written
 * or a run too large for a spec, 69 for an unavailable database. */
int exportspec_run(const struct cli *cli, struct run_config *cfg,
                   void (*watch)(struct run *), int (*interrupted)(void));

#endif
