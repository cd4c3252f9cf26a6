/*
 * step.h: what a demo sees of the harness.
 *
 * A strategy is a C function that performs one operation (one sale, one
 * redemption) as a sequence of named steps.  Each step_*() call passes the gate
 * (which may pace, pause or schedule it), runs its SQL on the worker's own
 * connection with bound values, and emits events that the trace and the dashboard
 * show.  A step that did not return STEP_OK ends the operation: the strategy
 * returns that code at once and the harness rolls back, retries or stops.
 */
#ifndef RACELAB_STEP_H
#define RACELAB_STEP_H

#include "db.h"

struct worker;

enum step_rc {
	STEP_OK = 0,
	STEP_RETRY,     /* lock timeout, serialization failure, deadlock: do the op again */
	STEP_FAIL,      /* the database refused the statement: count an error, move on */
	STEP_STOP,      /* the run is stopping or the database is gone */
};

/* Return from the strategy as soon as a step fails. */
#define TRY(call) do { enum step_rc rc_ = (call); if (rc_ != STEP_OK) return rc_; } while (0)

/* Run SQL as step STEP with NARGS bound ARGS; RES (may be NULL) gets the result. */
enum step_rc step_sql(struct worker *w, const char *step, const char *sql,
                      const db_value *args, int nargs, db_result *res);

/* Start the locking transaction as step "begin" (BEGIN, or SQLite's BEGIN IMMEDIATE). */
enum step_rc step_begin(struct worker *w);

/* Start a transaction as step "begin" with the backend's own SQL for it: "BEGIN"
 * (SQLite: deferred, no lock until the first write), "BEGIN ISOLATION LEVEL
 * SERIALIZABLE", "BEGIN IMMEDIATE".  The strategy declares its "begin" step's
 * role and effects (EFF_LOCKS only if this BEGIN takes the database's lock). */
enum step_rc step_begin_with(struct worker *w, const char *sql);

/* Commit the transaction as step "commit". */
enum step_rc step_commit(struct worker *w);

/* The thread's own logic decided not to take step STEP. */
void step_skip(struct worker *w, const char *step);

/* The database refused the last step (a unique violation) and the application
 * answers the request itself ("already used"): not an anomaly, not a failure,
 * but counted apart ("refused" in the reports), so the cost is seen. */
void step_refused(struct worker *w);
/* The application turns the request away itself after a step that found nothing
 * for it (a sold-out page while seats are still free): the operation fails, counted
 * among the failed requests under REASON ("no seat"), as a database's refusal is
 * under its SQLSTATE.  Returns STEP_FAIL, for the strategy to return. */
enum step_rc step_fail(struct worker *w, const char *reason);

/* Application think time (--think) between a read and the write that depends on it. */
enum step_rc step_think(struct worker *w);

/* Record that the operation has committed one effect (a sale, a redemption). */
void step_committed(struct worker *w);

int step_thread(const struct worker *w);        /* 1-based thread number */
int step_op(const struct worker *w);            /* 0-based operation number */
const db_backend *step_db(const struct worker *w);
const void *step_data(const struct worker *w);  /* the strategy's own data, or NULL */
/* Why the last step that did not return STEP_OK failed, as the database names
 * it ("23505", "SQLITE_BUSY_SNAPSHOT"); "" if none.  A strategy that handles an
 * error itself (a unique violation meaning "already used") returns STEP_OK. */
const char *step_failure(const struct worker *w);

#endif
