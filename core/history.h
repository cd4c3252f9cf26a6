/*
 * history.h: checking a free run's history, not only its final count.
 *
 * The final count says how many effects survived; the history says which ones
 * committed and what each wrote, so it can show why (Jepsen checks histories the
 * same way).  The checker is one more consumer of the event stream (an ev_fn):
 * it follows each thread's attempts, keeps what committed — a statement outside
 * a transaction when it completes, one inside when its COMMIT completes; a
 * rollback, retry or abort drops the rest — and, after the run, checks:
 *
 *   a write of a value computed from a read (EFF_FROM_READ, the value in its
 *   value_arg), when every one wrote the value read plus one (a counter):
 *       per key, the committed writes wrote distinct values, exactly 1..N.
 *       Each value read must have been committed before, so 1..N each once
 *       means the writes came in order and none was lost; a value written twice
 *       means a write was overwritten: a lost update;
 *   the database adding to a value itself (EFF_ADDS):
 *       counted, to compare with the report (the value each wrote is the
 *       database's: it is not in the events, and asking for it with RETURNING
 *       would change the SQL the traces show);
 *   a resource used up (EFF_USES, the resource named by its key_arg):
 *       each resource is used at most once; where the strategy claims first
 *       (ROLE_CLAIM on the same key; a changed row is a win), at most one claim
 *       per resource wins, and the use is made by the thread whose claim won.
 *
 * Roles and effects come with the events, as the scenario declares them
 * (scenario.h): the checker never asks which scenario it reads.
 */
#ifndef RACELAB_HISTORY_H
#define RACELAB_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"

struct history;

/* What the history of one strategy shows. */
struct hist_result {
	int64_t effects;        /* effects the harness reported committed (EV_COMMIT) */
	int64_t writes;         /* committed EFF_FROM_READ statements */
	int64_t distinct;       /* ... distinct values among them */
	int64_t adds;           /* committed EFF_ADDS statements */
	int64_t uses;           /* committed EFF_USES statements */
	int64_t resources;      /* ... distinct resources among them */
	int64_t reused;         /* resources used more than once */
	int64_t violations;     /* everything the checks above refuse */
	char text[240];         /* one line: what was checked and the first violation */
};

struct history *hist_new(int nstrategies, int nthreads);
void hist_free(struct history *h);

/* Feed one event (an ev_fn; ARG is the struct history). */
void hist_event(const struct event *e, void *arg);

/* Check strategy S's history.  Returns the number of violations (0: the history
 * is sound); -1 if the checker ran out of memory, with nothing to say. */
int64_t hist_check(struct history *h, int s, struct hist_result *out);

#endif
