/*
 * model.c: the dashboard's model of a run, built from events; see model.h.
 *
 * DESIGN: the lost update is found the way a person would find it on the lanes.
 * number_sold holds whatever the last completed write left there.  A thread that
 * read R and now writes R + 1 over a counter that already holds C > R erases C - R
 * sales: the ones committed between its read and its write.  Summed over every
 * write this is exactly committed - final value, so the live "lost so far" and the
 * database's count at the end agree whenever the events arrive in the order the
 * database applied the writes (they may not, by a hair: a thread can be preempted
 * between its UPDATE and its event; hence "so far", and the verdict from the
 * database).
 *
 * For coupons, every redemption of a coupon after its first is extra, and costs
 * the coupon's discount.
 *
 * Who waits for whom, in step mode, is read off the lanes too: a waiting thread
 * waits for the one that took the lock and has not committed — on SQLite the
 * thread inside BEGIN IMMEDIATE … COMMIT (the whole database's write lock), on
 * PostgreSQL the one whose SELECT … FOR UPDATE got the row.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int viz_model_init(struct viz_model *m, const struct run_config *cfg)
{
	memset(m, 0, sizeof *m);
	m->cfg = cfg;
	m->coupon = cfg->demo->rounds;
	m->cost = cfg->demo->anomaly_cost;
	m->step = cfg->step;
	m->row_locks = cfg->db && cfg->db->row_locks;
	m->npanels = cfg->nstrategies;
	m->nthreads = cfg->threads;
	for (int i = 0; i < m->npanels; i++) {
		struct viz_panel *p = &m->panels[i];

		p->strategy = &cfg->demo->strategies[cfg->strategies[i]];
		p->lanes = calloc((size_t)m->nthreads, sizeof *p->lanes);
		if (!p->lanes) {
			viz_model_done(m);
			return -1;
		}
		for (int k = 0; k < VIZ_ROUNDS; k++)
			p->rounds[k].op = -1;
	}
	return 0;
}

void viz_model_done(struct viz_model *m)
{
	for (int i = 0; i < DEMO_STRATEGIES; i++) {
		free(m->panels[i].lanes);
		m->panels[i].lanes = NULL;
	}
}

const struct viz_op *viz_lane_op(const struct viz_lane *lane, int i)
{
	if (i < 0 || i >= lane->nops || i >= VIZ_OPS_KEPT)
		return NULL;
	return &lane->ops[(lane->nops - 1 - i) % VIZ_OPS_KEPT];
}

static struct viz_op *newest(struct viz_lane *lane)
{
	return lane->nops ? &lane->ops[(lane->nops - 1) % VIZ_OPS_KEPT] : NULL;
}

static struct viz_op *open_op(struct viz_lane *lane, int op)
{
	struct viz_op *o = &lane->ops[lane->nops++ % VIZ_OPS_KEPT];

	memset(o, 0, sizeof *o);
	o->op = op;
	return o;
}

/* The operation event E belongs to: the newest, unless that one is over. */
static struct viz_op *op_for(struct viz_lane *lane, const struct event *e)
{
	struct viz_op *o = newest(lane);

	if (!o || o->done || o->op != e->op) {
		o = open_op(lane, e->op);
		lane->has_read = 0;
		lane->in_txn = lane->pending = lane->holds_lock = 0;
	}
	return o;
}

static struct viz_token *push(struct viz_op *o, enum viz_tok_kind kind, const char *step)
{
	struct viz_token *t;

	if (o->ntok == VIZ_TOKENS) {    /* a long story: keep its end */
		memmove(&o->tok[0], &o->tok[1], (VIZ_TOKENS - 1) * sizeof o->tok[0]);
		o->ntok--;
	}
	t = &o->tok[o->ntok++];
	memset(t, 0, sizeof *t);
	t->kind = kind;
	t->state = kind == TOK_STEP ? TS_RUNNING : TS_DONE;
	t->step = step;
	return t;
}

/* The step in flight on this lane, or NULL. */
static struct viz_token *running(struct viz_lane *lane)
{
	struct viz_op *o = newest(lane);

	if (!o || !o->ntok)
		return NULL;
	struct viz_token *t = &o->tok[o->ntok - 1];
	return t->kind == TOK_STEP && (t->state == TS_RUNNING || t->state == TS_WAITING)
	       ? t : NULL;
}

static int is_dml(const char *sql)
{
	return sql && (!strncmp(sql, "UPDATE", 6) || !strncmp(sql, "INSERT", 6) ||
	               !strncmp(sql, "DELETE", 6));
}

static void add_mark(struct viz_panel *p, const struct event *e, const struct viz_token *t)
{
	struct viz_mark *mk = &p->marks[p->nmarks++ % VIZ_MARKS];

	mk->thread = e->thread;
	mk->op = e->op;
	mk->tok = *t;
	mk->t_ns = e->t_ns;
}

static void end_wait(struct viz_panel *p, struct viz_token *t, int64_t now)
{
	if (t->state == TS_WAITING) {
		p->waiting--;
		t->wait_ns = now - t->wait_from_ns;
	}
}

/* A write of an absolute value (product): did it erase other threads' sales? */
static void product_write(struct viz_panel *p, struct viz_lane *lane, struct viz_token *t,
                          const struct event *e)
{
	if (lane->has_read && p->last_writer && p->counter > lane->last_read) {
		t->lost = p->counter - lane->last_read;
		t->victim = p->last_writer;
		t->victim_value = p->counter;
		p->lost += t->lost;
		add_mark(p, e, t);
	}
	p->counter = t->arg;
	p->last_writer = e->thread;
}

/* A redemption (coupon): its rank among this coupon's redemptions. */
static void coupon_redeem(struct viz_panel *p, struct viz_token *t, const struct event *e,
                          int cost)
{
	int slot = -1;

	for (int k = 0; k < VIZ_ROUNDS; k++)
		if (p->rounds[k].op == e->op)
			slot = k;
	if (slot < 0) {
		slot = e->op % VIZ_ROUNDS;
		p->rounds[slot].op = e->op;
		p->rounds[slot].count = 0;
	}
	t->nth = ++p->rounds[slot].count;
	p->redemptions++;
	if (t->nth == 1) {
		p->coupons_used++;
	} else {
		p->extra++;
		p->money += cost;
		add_mark(p, e, t);
	}
}

/* A step's effect on what the database holds: a write of an absolute value
 * (product), a database-side increment (atomic), a redemption (coupon). */
static void take_effect(struct viz_model *m, struct viz_panel *p, struct viz_lane *lane,
                        struct viz_token *t, const struct event *e, int64_t changes)
{
	if (!m->coupon && t->has_arg) {
		product_write(p, lane, t, e);
	} else if (!m->coupon && t->dml) {
		p->counter += changes;          /* atomic: the database added one */
		p->last_writer = e->thread;
	} else if (m->coupon && t->step && !strcmp(t->step, "redeem") && changes > 0) {
		coupon_redeem(p, t, e, m->cost);
	}
}

static void step_done(struct viz_model *m, struct viz_panel *p, struct viz_lane *lane,
                      struct viz_token *t, const struct event *e)
{
	struct viz_op *o = newest(lane);

	end_wait(p, t, e->t_ns);
	t->state = TS_DONE;
	t->has_value = e->has_value;
	t->value = e->value;
	t->no_rows = t->dml && e->changes == 0;
	if (e->has_value) {
		lane->last_read = e->value;
		lane->has_read = 1;
	}
	if (t->step && !strcmp(t->step, "begin")) {
		lane->in_txn = 1;
		lane->pending = 0;
		lane->holds_lock = !m->row_locks;       /* BEGIN IMMEDIATE */
	} else if (t->step && !strcmp(t->step, "commit")) {
		/* Inside a transaction, others see the write only now. */
		if (lane->pending && lane->pending_tok < o->ntok)
			take_effect(m, p, lane, &o->tok[lane->pending_tok], e, 1);
		lane->in_txn = lane->pending = lane->holds_lock = 0;
	} else if (t->step && !strcmp(t->step, "rollback")) {
		lane->in_txn = lane->pending = lane->holds_lock = 0;
	} else if (t->step && !strcmp(t->step, "lock") && lane->in_txn && m->row_locks) {
		lane->holds_lock = 1;                   /* SELECT … FOR UPDATE */
	} else if (lane->in_txn && t->dml && e->changes > 0 && !(m->coupon && lane->pending)) {
		lane->pending = 1;
		lane->pending_tok = (int)(t - o->tok);
	} else if (!lane->in_txn) {
		take_effect(m, p, lane, t, e, e->changes);
	}
}

void viz_model_event(const struct event *e, void *model)
{
	struct viz_model *m = model;
	struct viz_panel *p;
	struct viz_lane *lane;
	struct viz_token *t;
	struct viz_op *o;

	if (e->strategy < 0 || e->strategy >= m->npanels || e->thread < 1 ||
	    e->thread > m->nthreads)
		return;
	p = &m->panels[e->strategy];
	lane = &p->lanes[e->thread - 1];
	m->events++;
	if (e->t_ns > m->now_ns)
		m->now_ns = e->t_ns;
	if (m->coupon && e->op > p->round && e->kind != EV_EXIT)
		p->round = e->op;

	switch (e->kind) {
	case EV_READY:
		if ((o = newest(lane)) && (o->done || o->op != e->op))
			lane->has_read = 0;             /* a new operation: nothing read yet */
		lane->ready = 1;
		lane->next_step = e->step;
		lane->next_sql = e->sql;
		lane->next_nargs = e->nargs;
		memcpy(lane->next_args, e->args, sizeof lane->next_args);
		break;
	case EV_STEP:
		lane->ready = 0;
		t = push(op_for(lane, e), TOK_STEP, e->step);
		t->dml = is_dml(e->sql);
		if (e->nargs > 0 && e->args[0].type == DB_INT) {
			t->has_arg = 1;
			t->arg = e->args[0].i;
		}
		break;
	case EV_WAIT:
		if ((t = running(lane)) && t->state == TS_RUNNING) {
			t->state = TS_WAITING;
			t->waited = 1;
			t->wait_from_ns = e->t_ns;
			p->waits++;
			p->waiting++;
		}
		break;
	case EV_DONE:
		if ((t = running(lane)))
			step_done(m, p, lane, t, e);
		break;
	case EV_FAIL:
		if ((t = running(lane))) {
			end_wait(p, t, e->t_ns);
			t->state = TS_FAILED;
			snprintf(t->text, sizeof t->text, "%.*s", (int)sizeof t->text - 1, e->text);
		}
		p->fails++;
		break;
	case EV_SKIP:
		o = op_for(lane, e);
		if (o->ntok && o->tok[o->ntok - 1].kind == TOK_SKIP)
			o->tok[o->ntok - 1].nskips++;
		else
			push(o, TOK_SKIP, e->step)->nskips = 1;
		break;
	case EV_THINK:
	case EV_DEADLOCK:       /* scheduled runs: the trace says it (sched.c) */
		break;
	case EV_RETRY:
		if ((o = newest(lane)))
			o->done = 1;
		p->retries++;
		push(open_op(lane, e->op), TOK_RETRY, NULL);
		lane->has_read = 0;
		lane->in_txn = lane->pending = lane->holds_lock = 0;
		break;
	case EV_COMMIT:
		op_for(lane, e)->done = 1;
		p->ops_done++;
		p->committed += e->value;
		lane->has_read = 0;             /* the operation is over: it holds nothing */
		break;
	case EV_ABORT:
		o = op_for(lane, e);
		push(o, TOK_ABORT, NULL);
		o->done = 1;
		p->ops_done++;
		break;
	case EV_EXIT:
		if (lane->exited)
			break;
		lane->exited = 1;
		lane->ready = lane->holds_lock = 0;
		if ((o = newest(lane)))
			o->done = 1;
		o = open_op(lane, -1);
		push(o, TOK_EXIT, NULL);
		o->done = 1;
		if (++p->exited == m->nthreads)
			p->end_ns = e->t_ns;
		break;
	}
}

int viz_lane_waits_for(const struct viz_model *m, int panel, int thread)
{
	const struct viz_panel *p = &m->panels[panel];
	const struct viz_op *o = viz_lane_op(&p->lanes[thread - 1], 0);

	if (!o || !o->ntok || o->tok[o->ntok - 1].kind != TOK_STEP ||
	    o->tok[o->ntok - 1].state != TS_WAITING)
		return 0;
	for (int i = 1; i <= m->nthreads; i++)
		if (i != thread && p->lanes[i - 1].holds_lock)
			return i;
	return -1;
}

int viz_panel_won(const struct viz_model *m, const struct viz_panel *p)
{
	return m->coupon ? p->extra > 0 : p->lost > 0;
}

void viz_model_finish(struct viz_model *m, const struct run_result *const *results)
{
	for (int i = 0; i < m->npanels; i++)
		m->panels[i].result = results[i];
	m->finished = 1;
}
