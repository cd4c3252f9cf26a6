/*
 * model.c: the dashboard's model of a run, built from events; see model.h.
 *
 * DESIGN: anomalies are found from what each step is declared to do (its role and
 * effects, scenario.h), the way a person would find them on the lanes — never
 * from the scenario's name, its step names or its SQL.
 *
 * An overwrite (EFF_FROM_READ): a row holds whatever the last completed write
 * left there.  A thread that read R and now writes R + 1 over a row that already
 * holds C > R erases C - R effects: the ones committed between its read and its
 * write (R - C for a row counting down).  Summed over every write this is exactly committed - final value, so the
 * live "lost so far" and the database's count at the end agree whenever the events
 * arrive in the order the database applied the writes (they may not, by a hair: a
 * thread can be preempted between its UPDATE and its event; hence "so far", and
 * the verdict from the database).
 *
 * A second use (EFF_USES): every use of a resource after its first is extra, and
 * costs the scenario's anomaly_cost.
 *
 * Inside a transaction a step's effect is seen by the others only at COMMIT, so
 * it waits there (lane->pending).
 *
 * Who waits for whom, in step mode, is read off the lanes too: a waiting thread
 * waits for the one that took the lock and has not committed — on a backend
 * without row locks the thread inside a locking BEGIN (EFF_LOCKS) … COMMIT, the
 * whole database's write lock; with row locks the one whose ROLE_LOCK step got
 * the row.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int viz_model_init(struct viz_model *m, const struct run_config *cfg)
{
	memset(m, 0, sizeof *m);
	m->cfg = cfg;
	m->scenario = cfg->scenario;
	m->cost = cfg->scenario->anomaly_cost;
	m->step = cfg->step;
	m->row_locks = cfg->db && cfg->db->row_locks;
	m->nthreads = cfg->threads;
	return viz_model_add(m, cfg);
}

int viz_model_add(struct viz_model *m, const struct run_config *cfg)
{
	int first = m->npanels;

	if (first + cfg->nstrategies > VIZ_PANELS || cfg->threads != m->nthreads) {
		viz_model_done(m);
		return -1;
	}
	m->npanels += cfg->nstrategies;
	for (int i = first; i < m->npanels; i++) {
		struct viz_panel *p = &m->panels[i];

		p->strategy = &cfg->scenario->strategies[cfg->strategies[i - first]];
		p->uses_resources = scn_has_effect(p->strategy, EFF_USES);
		p->row_locks = cfg->db && cfg->db->row_locks;
		p->lanes = calloc((size_t)m->nthreads, sizeof *p->lanes);
		if (!p->lanes) {
			viz_model_done(m);
			return -1;
		}
	}
	if (++m->nruns > 1)     /* several backends: every panel says which it is */
		for (int i = 0; i < m->npanels; i++)
			m->panels[i].backend = i < first ? m->cfg->db->title : cfg->db->title;
	return 0;
}

void viz_model_done(struct viz_model *m)
{
	for (int i = 0; i < VIZ_PANELS; i++) {
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

static void forget_reads(struct viz_lane *lane)
{
	lane->has_read = 0;
	lane->nreads = 0;
}

/* The lane read VALUE from row KEY. */
static void remember_read(struct viz_lane *lane, int64_t key, int64_t value)
{
	int i = 0;

	while (i < lane->nreads && lane->reads[i].key != key)
		i++;
	if (i == VIZ_LANE_KEYS)         /* full: the oldest read makes room */
		memmove(&lane->reads[0], &lane->reads[1], (--i) * sizeof lane->reads[0]);
	lane->reads[i].key = key;
	lane->reads[i].value = value;
	if (i == lane->nreads)
		lane->nreads++;
	lane->last_read = value;
	lane->has_read = 1;
}

/* What the lane read from row KEY in its current operation: 1 and *value, or 0. */
static int read_of(const struct viz_lane *lane, int64_t key, int64_t *value)
{
	for (int i = 0; i < lane->nreads; i++)
		if (lane->reads[i].key == key) {
			*value = lane->reads[i].value;
			return 1;
		}
	return 0;
}

/* The operation event E belongs to: the newest, unless that one is over. */
static struct viz_op *op_for(struct viz_lane *lane, const struct event *e)
{
	struct viz_op *o = newest(lane);

	if (!o || o->done || o->op != e->op) {
		o = open_op(lane, e->op);
		forget_reads(lane);
		lane->in_txn = lane->holds_lock = lane->nlocked = 0;
		lane->pending = 0;
	}
	return o;
}

static struct viz_token *push(struct viz_lane *lane, struct viz_op *o, enum viz_tok_kind kind,
                              const char *step)
{
	struct viz_token *t;

	if (o->ntok == VIZ_TOKENS) {    /* a long story: keep its end */
		memmove(&o->tok[0], &o->tok[1], (VIZ_TOKENS - 1) * sizeof o->tok[0]);
		o->ntok--;
		lane->pending >>= 1;    /* the oldest token's effect is forgotten */
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

/* FNV-1a: a text key ("C0001") as a number. */
static int64_t text_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (int64_t)(h >> 1) | 1;   /* never 0: that is the scenario's one row */
}

const struct viz_key *viz_panel_key(const struct viz_panel *p, int64_t key)
{
	for (int i = 0; i < p->nkeys && i < VIZ_KEYS; i++)
		if (p->keys[i].key == key)
			return &p->keys[i];
	return NULL;
}

/* KEY's row, made if the panel has not seen it (replacing the oldest one). */
static struct viz_key *key_of(struct viz_panel *p, int64_t key)
{
	struct viz_key *k = (struct viz_key *)viz_panel_key(p, key);

	if (k)
		return k;
	k = &p->keys[p->nkeys++ % VIZ_KEYS];
	memset(k, 0, sizeof *k);
	k->key = key;
	return k;
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

/* A write of a value the thread computed from its read (EFF_FROM_READ): did it
 * erase what other threads wrote since that read? */
static void overwrite(struct viz_panel *p, struct viz_lane *lane, struct viz_token *t,
                      const struct event *e)
{
	struct viz_key *k = key_of(p, t->key);
	int64_t read;

	/* lost: how far the row had moved since the read (up or down: a balance's
	 * debit over another's credit erases the credit) */
	if (read_of(lane, t->key, &read) && k->writer && k->value != read) {
		t->lost = k->value > read ? k->value - read : read - k->value;
		t->victim = k->writer;
		t->victim_value = k->value;
		p->lost += t->lost;
		add_mark(p, e, t);
	}
	p->counter += t->arg - k->value;
	k->value = t->arg;
	k->known = 1;
	k->writer = p->last_writer = e->thread;
}

/* A use of a resource (EFF_USES): its rank among the resource's uses. */
static void use(struct viz_model *m, struct viz_panel *p, struct viz_token *t,
                const struct event *e)
{
	struct viz_key *k = key_of(p, t->key);

	t->nth = ++k->uses;
	p->uses++;
	if (t->nth == 1) {
		p->used++;
	} else {
		p->extra++;
		p->money += m->cost;
		add_mark(p, e, t);
	}
}

/* A step's effect on what the database holds, as the others can now see it. */
static void take_effect(struct viz_model *m, struct viz_panel *p, struct viz_lane *lane,
                        struct viz_token *t, const struct event *e, int64_t changes)
{
	/* A conditional write that matched no row (a stale version) erased nothing. */
	if ((t->effects & EFF_FROM_READ) && t->has_arg && changes > 0) {
		overwrite(p, lane, t, e);
	} else if (t->effects & EFF_ADDS) {
		struct viz_key *k = key_of(p, t->key);

		k->value += changes;    /* the database added to the row itself */
		p->counter += changes;
		k->writer = p->last_writer = e->thread;
	}
	if ((t->effects & EFF_USES) && changes > 0)
		use(m, p, t, e);
}

static void step_done(struct viz_model *m, struct viz_panel *p, struct viz_lane *lane,
                      struct viz_token *t, const struct event *e)
{
	struct viz_op *o = newest(lane);

	end_wait(p, t, e->t_ns);
	t->state = TS_DONE;
	t->has_value = e->has_value;
	t->value = e->value;
	t->changes = e->changes;
	t->no_rows = t->dml && e->changes == 0;
	if (e->key_arg == SCN_KEY_RESULT && e->has_value) {     /* RETURNING id */
		t->key = e->value;
		snprintf(t->key_text, sizeof t->key_text, "%lld", (long long)e->value);
	}
	if (e->has_value)
		remember_read(lane, t->key, e->value);
	if (e->has_value && m->scenario->conserved && e->key_arg > 0) {
		struct viz_key *k = key_of(p, t->key);

		if (!k->known) {        /* what the row held before any write seen */
			k->value = e->value;
			k->known = 1;
		}
	}
	/* With row locks, a row locked or written inside a transaction is held until
	 * COMMIT or ROLLBACK: whoever waits for it waits for this lane. */
	if (lane->in_txn && p->row_locks && (t->role == ROLE_LOCK || scn_role_writes(t->role)) &&
	    lane->nlocked < VIZ_LANE_KEYS) {
		int held = 0;

		for (int i = 0; i < lane->nlocked; i++)
			held |= lane->locked[i] == t->key;
		if (!held)
			lane->locked[lane->nlocked++] = t->key;
	}
	switch (t->role) {
	case ROLE_BEGIN:
		lane->in_txn = 1;
		lane->pending = 0;
		lane->holds_lock = (t->effects & EFF_LOCKS) && !p->row_locks;
		return;
	case ROLE_COMMIT:
		/* Inside a transaction, others see the writes only now. */
		for (int i = 0; i < o->ntok && i < VIZ_TOKENS; i++)
			if (lane->pending & (1u << i))
				take_effect(m, p, lane, &o->tok[i], e, o->tok[i].changes);
		lane->in_txn = lane->holds_lock = lane->nlocked = 0;
		lane->pending = 0;
		return;
	case ROLE_ROLLBACK:
		lane->in_txn = lane->holds_lock = lane->nlocked = 0;
		lane->pending = 0;
		return;
	case ROLE_LOCK:
		if (lane->in_txn && p->row_locks)
			lane->holds_lock = 1;   /* SELECT … FOR UPDATE */
		break;
	default:
		break;
	}
	if (lane->in_txn && t->effects && e->changes > 0)
		lane->pending |= 1u << (t - o->tok);
	else if (!lane->in_txn)
		take_effect(m, p, lane, t, e, e->changes);
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
	if (m->scenario->rounds && e->op > p->round && e->kind != EV_EXIT)
		p->round = e->op;

	switch (e->kind) {
	case EV_READY:
		if ((o = newest(lane)) && (o->done || o->op != e->op))
			forget_reads(lane);             /* a new operation: nothing read yet */
		lane->ready = 1;
		lane->next_step = e->step;
		lane->next_sql = e->sql;
		lane->next_nargs = e->nargs;
		memcpy(lane->next_args, e->args, sizeof lane->next_args);
		break;
	case EV_STEP:
		lane->ready = 0;
		t = push(lane, op_for(lane, e), TOK_STEP, e->step);
		t->role = e->role;
		t->effects = e->effects;
		t->dml = scn_role_writes(e->role);
		if (e->key_arg > 0 && e->key_arg <= e->nargs) {
			const struct ev_arg *a = &e->args[e->key_arg - 1];

			if (a->type == DB_TEXT) {
				snprintf(t->key_text, sizeof t->key_text, "%s", a->s);
				t->key = text_key(a->s);
			} else {
				snprintf(t->key_text, sizeof t->key_text, "%lld", (long long)a->i);
				t->key = a->i;
			}
		}
		if (e->value_arg > 0 && e->value_arg <= e->nargs &&
		    e->args[e->value_arg - 1].type == DB_INT) {
			t->has_arg = 1;
			t->arg = e->args[e->value_arg - 1].i;
		}
		break;
	case EV_WAIT:
		if ((t = running(lane)) && t->state == TS_RUNNING) {
			t->state = TS_WAITING;
			t->waited = 1;
			t->wait_from_ns = e->t_ns;
			p->waits++;
			p->waiting++;
			p->last = *t;
			p->last_thread = e->thread;
		}
		break;
	case EV_DONE:
		if ((t = running(lane))) {
			step_done(m, p, lane, t, e);
			p->last = *t;
			p->last_thread = e->thread;
		}
		break;
	case EV_FAIL:
		if ((t = running(lane))) {
			end_wait(p, t, e->t_ns);
			t->state = TS_FAILED;
			snprintf(t->text, sizeof t->text, "%.*s", (int)sizeof t->text - 1, e->text);
			p->last = *t;
			p->last_thread = e->thread;
		}
		p->fails++;
		lane->refused_step = 1;
		break;
	case EV_SKIP:
		o = op_for(lane, e);
		if (o->ntok && o->tok[o->ntok - 1].kind == TOK_SKIP)
			o->tok[o->ntok - 1].nskips++;
		else
			push(lane, o, TOK_SKIP, e->step)->nskips = 1;
		p->last = o->tok[o->ntok - 1];
		p->last_thread = e->thread;
		break;
	case EV_THINK:
	case EV_DEADLOCK:       /* scheduled runs: the trace says it (sched.c) */
		break;
	case EV_RETRY:
		if ((o = newest(lane)))
			o->done = 1;
		p->retries++;
		lane->refused_step = 0;
		push(lane, open_op(lane, e->op), TOK_RETRY, NULL);
		forget_reads(lane);
		lane->in_txn = lane->holds_lock = lane->nlocked = 0;
		lane->pending = 0;
		break;
	case EV_COMMIT:
		op_for(lane, e)->done = 1;
		p->ops_done++;
		p->committed += e->value;
		p->refused += lane->refused_step;       /* refused, and answered */
		lane->refused_step = 0;
		forget_reads(lane);             /* the operation is over: it holds nothing */
		break;
	case EV_ABORT:
		o = op_for(lane, e);
		push(lane, o, TOK_ABORT, NULL);
		o->done = 1;
		p->ops_done++;
		p->aborts++;
		lane->refused_step = 0;
		break;
	case EV_EXIT:
		if (lane->exited)
			break;
		lane->exited = 1;
		lane->ready = lane->holds_lock = lane->nlocked = 0;
		if ((o = newest(lane)))
			o->done = 1;
		o = open_op(lane, -1);
		push(lane, o, TOK_EXIT, NULL);
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
	const struct viz_token *t;

	if (!o || !o->ntok || o->tok[o->ntok - 1].kind != TOK_STEP ||
	    o->tok[o->ntok - 1].state != TS_WAITING)
		return 0;
	t = &o->tok[o->ntok - 1];
	/* With row locks: the lane that holds the very row this step waits for. */
	for (int i = 1; i <= m->nthreads; i++) {
		const struct viz_lane *l = &p->lanes[i - 1];

		for (int k = 0; i != thread && k < l->nlocked; k++)
			if (l->locked[k] == t->key)
				return i;
	}
	for (int i = 1; i <= m->nthreads; i++)
		if (i != thread && p->lanes[i - 1].holds_lock)
			return i;
	return -1;
}

int viz_lane_cycle(const struct viz_model *m, int panel, int thread, int *cycle)
{
	int n = 0, at = thread;

	while (n < m->nthreads && n < VIZ_CYCLE) {
		cycle[n++] = at;
		at = viz_lane_waits_for(m, panel, at);
		if (at <= 0)
			return 0;
		if (at == thread)
			return n;
		for (int i = 0; i < n; i++)
			if (cycle[i] == at)
				return 0;       /* a cycle THREAD waits into, not one it is in */
	}
	return 0;
}

int viz_panel_won(const struct viz_model *m, const struct viz_panel *p)
{
	(void)m;
	return p->lost + p->extra > 0;
}

void viz_panel_figures(const struct viz_model *m, const struct viz_panel *p,
                       int64_t *expected, int64_t *observed, int64_t *anomalies)
{
	if (p->uses_resources) {
		/* one use per resource in play: per round started, or per resource used */
		*expected = m->scenario->rounds ? p->round + (p->ops_done || p->uses ? 1 : 0)
		                                : p->used;
		*observed = p->uses;
		*anomalies = p->extra;
	} else if (m->scenario->conserved) {
		*expected = m->scenario->conserved;
		*observed = m->scenario->conserved + p->counter;
		*anomalies = p->nmarks;         /* overwrites: each erased another's write */
	} else {
		*expected = p->committed;
		*observed = p->counter;
		*anomalies = p->lost;
	}
}

void viz_model_finish(struct viz_model *m, const struct run_result *const *results)
{
	for (int i = 0; i < m->npanels; i++)
		m->panels[i].result = results[i];
	m->finished = 1;
}
