/*
 * step.c: the step helpers a scenario calls (step.h), and the events each step
 * emits into its worker's ring of the event stream.
 *
 * Every event carries the step's role and effects as the scenario declared them,
 * so that whoever reads the stream (the trace, the dashboard, a history check)
 * knows what a step means without knowing which scenario it belongs to.
 */
#include <stdio.h>
#include <string.h>

#include "runpriv.h"
#include "sched.h"
#include "sys.h"

/* The harness's own steps, for strategies that do not declare them. */
static const struct scn_step harness_begin = { .name = "begin", .role = ROLE_BEGIN,
                                                .effects = EFF_LOCKS };
static const struct scn_step harness_commit = { .name = "commit", .role = ROLE_COMMIT };
static const struct scn_step harness_rollback = { .name = "rollback",
                                                   .role = ROLE_ROLLBACK };
static const struct scn_step undeclared = { .name = NULL, .role = ROLE_OTHER };

static const struct scn_step *declaration(const struct worker *w, const char *step)
{
	const struct scn_step *d = step ? scn_step(w->lane->strategy, step) : NULL;

	if (d)
		return d;
	if (step && !strcmp(step, harness_begin.name))
		return &harness_begin;
	if (step && !strcmp(step, harness_commit.name))
		return &harness_commit;
	if (step && !strcmp(step, harness_rollback.name))
		return &harness_rollback;
	return &undeclared;
}

/* Copy SRC into DST[N], cut short if need be: cheaper than snprintf on the hot path. */
static void copy_text(char *dst, size_t n, const char *src)
{
	size_t len = src ? strnlen(src, n - 1) : 0;

	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
}

static void head(struct event *e, const struct worker *w, enum ev_kind kind,
                 const char *step, const struct scn_step *decl)
{
	e->t_ns = sys_now_ns() - w->run->t0_ns;
	e->kind = kind;
	e->strategy = w->lane->index;
	e->thread = w->thread;
	e->op = w->op;
	e->step = step;
	e->role = decl ? (int)decl->role : ROLE_OTHER;
	e->effects = decl ? decl->effects : 0;
	e->key_arg = decl ? decl->key_arg : 0;
	e->value_arg = decl ? decl->value_arg : 0;
}

void step_emit(struct worker *w, enum ev_kind kind, const char *step, const char *sql,
               const db_value *args, int nargs, const char *text)
{
	struct event e;

	head(&e, w, kind, step, step ? (step == w->step ? w->decl : declaration(w, step))
	                             : NULL);
	e.sql = sql;
	e.nargs = nargs < EV_ARGS ? nargs : EV_ARGS;
	for (int i = 0; i < e.nargs; i++) {
		e.args[i].type = args[i].type;
		e.args[i].i = args[i].i;
		copy_text(e.args[i].s, sizeof e.args[i].s,
		          args[i].type == DB_TEXT ? args[i].s : NULL);
	}
	e.has_value = 0;
	e.value = 0;
	e.changes = 0;
	copy_text(e.text, sizeof e.text, text);
	ev_emit(&w->run->events, w->ring, &e);
}

void step_emit_done(struct worker *w, const char *step, const db_result *res)
{
	struct event e = { 0 };

	head(&e, w, EV_DONE, step, step == w->step ? w->decl : declaration(w, step));
	e.has_value = res->has_row;
	e.value = res->value;
	e.changes = res->changes;
	ev_emit(&w->run->events, w->ring, &e);
}

/* The operation finished; its value is the number of effects it committed. */
void step_emit_commit(struct worker *w)
{
	struct event e = { 0 };

	head(&e, w, EV_COMMIT, NULL, NULL);
	e.has_value = 1;
	e.value = w->effects;
	ev_emit(&w->run->events, w->ring, &e);
}

/* Report the current step's lock wait, once. */
void step_report_wait(struct worker *w)
{
	if (!w->waiting) {
		w->waiting = 1;
		w->lock_waits++;
		step_emit(w, EV_WAIT, w->step, NULL, NULL, 0, NULL);
	}
}

static enum step_rc run_sql(struct worker *w, const char *step, const char *sql,
                            const db_value *args, int nargs, db_result *res)
{
	enum db_status st;

	int64_t half = w->run->cfg.latency_us / 2;

	step_emit(w, EV_STEP, step, sql, args, nargs, NULL);
	w->waiting = 0;
	/* --latency: the request travels to the database, and the answer back.  Locks
	 * the statement takes are held for the way back too, as on a real network. */
	if (half > 0 && gate_sleep_us(w->run, half))
		return STEP_STOP;
	st = w->run->db->exec(w->conn, sql, args, nargs, res, w->err);
	if (half > 0 && st == DB_OK)
		gate_sleep_us(w->run, half);
	if (st != DB_OK)
		memcpy(w->code, res->code, sizeof w->code);
	switch (st) {
	case DB_OK:
		if (w->run->sched)
			sched_step_ended(w->run->sched, w->thread, 0);
		step_emit_done(w, step, res);
		return STEP_OK;
	case DB_RETRY:
		step_emit(w, EV_FAIL, step, NULL, NULL, 0, w->err);
		if (w->run->sched)
			sched_step_ended(w->run->sched, w->thread, 1);
		return STEP_RETRY;
	case DB_ERROR:
		step_emit(w, EV_FAIL, step, NULL, NULL, 0, w->err);
		if (w->run->sched)
			sched_step_ended(w->run->sched, w->thread, 1);
		return STEP_FAIL;
	case DB_GONE:
		step_emit(w, EV_FAIL, step, NULL, NULL, 0, w->err);
		run_lose_database(w->run, w->err);
		return STEP_STOP;
	}
	return STEP_FAIL;
}

enum step_rc step_sql(struct worker *w, const char *step, const char *sql,
                      const db_value *args, int nargs, db_result *res)
{
	db_result dummy;
	enum step_rc rc;

	w->step = step;
	w->decl = declaration(w, step);
	rc = gate_pass(w, step, sql, args, nargs);
	if (rc != STEP_OK)
		return rc;
	return run_sql(w, step, sql, args, nargs, res ? res : &dummy);
}

enum step_rc step_begin(struct worker *w)
{
	enum step_rc rc = step_sql(w, "begin", w->run->db->begin_locked, NULL, 0, NULL);

	if (rc == STEP_OK)
		w->in_txn = 1;
	return rc;
}

enum step_rc step_begin_with(struct worker *w, const char *sql)
{
	enum step_rc rc = step_sql(w, "begin", sql, NULL, 0, NULL);

	if (rc == STEP_OK)
		w->in_txn = 1;
	return rc;
}

enum step_rc step_commit(struct worker *w)
{
	enum step_rc rc = step_sql(w, "commit", "COMMIT", NULL, 0, NULL);

	if (rc == STEP_OK)
		w->in_txn = 0;
	return rc;
}

/* A skipped step takes its turn in a schedule, so that the trace shows it where
 * the schedule put it ("step t2.redeem: skipped"); free runs do not pace it, and
 * step mode does not make a person press a key for a step that runs nothing. */
void step_skip(struct worker *w, const char *step)
{
	struct run *r = w->run;

	if (r->sched && !r->cfg.step &&
	    sched_gate(r->sched, w->thread, scn_step_index(w->lane->strategy, step)) != 0)
		return;         /* stopping: the next step_*() says so */
	step_emit(w, EV_SKIP, step, NULL, NULL, 0, NULL);
}

enum step_rc step_fail(struct worker *w, const char *reason)
{
	copy_text(w->code, sizeof w->code, reason);
	copy_text(w->err, sizeof w->err, reason);
	return STEP_FAIL;
}

enum step_rc step_think(struct worker *w)
{
	int ms = w->run->cfg.think_ms;

	if (ms <= 0)
		return STEP_OK;
	step_emit(w, EV_THINK, NULL, NULL, NULL, 0, NULL);
	return gate_sleep(w->run, ms) ? STEP_STOP : STEP_OK;
}

void step_refused(struct worker *w)
{
	w->refused++;
}

void step_committed(struct worker *w)
{
	w->effects++;
}

int step_thread(const struct worker *w)
{
	return w->thread;
}

int step_op(const struct worker *w)
{
	return w->op;
}

const db_backend *step_db(const struct worker *w)
{
	return w->run->db;
}

const char *step_failure(const struct worker *w)
{
	return w->code;
}

const void *step_data(const struct worker *w)
{
	return w->lane->strategy->data;
}

/* Roll back the open transaction, as the harness's own step "rollback". */
void step_rollback(struct worker *w)
{
	db_result res;

	w->in_txn = 0;
	w->step = "rollback";
	w->decl = &harness_rollback;
	step_emit(w, EV_STEP, "rollback", "ROLLBACK", NULL, 0, NULL);
	if (w->run->db->exec(w->conn, "ROLLBACK", NULL, 0, &res, w->err) == DB_OK)
		step_emit_done(w, "rollback", &res);
	else
		step_emit(w, EV_FAIL, "rollback", NULL, NULL, 0, w->err);
}
