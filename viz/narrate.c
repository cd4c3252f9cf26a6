/*
 * narrate.c: what the last step did and why it matters, in words (model.h's
 * viz_narrate), for the presenter's narration line.
 *
 * Every sentence is made from the step's declared role and effects and from the
 * scenario's own words: the narration of a scenario added tomorrow needs no line
 * here.  The sentences say what a speaker would: not the SQL, but what the
 * thread now holds and what that means for the others.
 */
#include "model.h"

#include <stdio.h>
#include <string.h>

/* Another thread that read the same value of the same row in its current
 * operation and has not finished it: the two will act on one value.  0: none. */
static int same_read(const struct viz_model *m, const struct viz_panel *p, int self,
                     const struct viz_token *t)
{
	for (int i = 1; i <= m->nthreads; i++) {
		const struct viz_lane *l = &p->lanes[i - 1];
		const struct viz_op *o = viz_lane_op(l, 0);

		if (i == self || !o || o->done)
			continue;
		for (int k = 0; k < l->nreads; k++)
			if (l->reads[k].key == t->key && l->reads[k].value == t->value)
				return i;
	}
	return 0;
}

static void done(const struct viz_model *m, int panel, char *buf, size_t n)
{
	const struct viz_panel *p = &m->panels[panel];
	const struct viz_token *t = &p->last;
	const struct scn_words *w = &m->scenario->words;
	const char *used = w->used ? w->used : "used";
	const char *what = t->key_text[0] ? t->key_text : w->resource ? w->resource : "it";
	int self = p->last_thread, other;

	switch (t->role) {
	case ROLE_READ:
	case ROLE_LOCK:
		if (t->role == ROLE_LOCK && p->row_locks)
			snprintf(buf, n, "T%d read %s = %lld under the row's lock: the others wait"
			         " at theirs until T%d commits", self, w->value, (long long)t->value,
			         self);
		else if ((other = same_read(m, p, self, t)) && scn_has_effect(p->strategy,
		                                                            EFF_FROM_READ))
			snprintf(buf, n, "T%d read %s = %lld; T%d read the same and has not written"
			         " yet: both will write the same new value, and one %s will be lost",
			         self, w->value, (long long)t->value, other, w->effect);
		else if (other && scn_has_effect(p->strategy, EFF_USES))
			snprintf(buf, n, "T%d read %s = %lld; T%d saw the same and has not acted yet:"
			         " both will go on as if they were first", self, w->value,
			         (long long)t->value, other);
		else
			snprintf(buf, n, "T%d read %s = %lld", self, w->value, (long long)t->value);
		return;
	case ROLE_WRITE:
		if (t->lost > 0)
			snprintf(buf, n, "T%d wrote %lld over T%d's %lld: T%d's %s is lost", self,
			         (long long)t->arg, t->victim, (long long)t->victim_value, t->victim,
			         w->effect);
		else if (t->has_arg)
			snprintf(buf, n, "T%d wrote %lld, the value it computed from its read", self,
			         (long long)t->arg);
		else
			snprintf(buf, n, "T%d wrote its %s", self, t->step ? t->step : "row");
		return;
	case ROLE_UPDATE:
		snprintf(buf, n, "T%d's %s: one statement reads and writes %s, so nothing"
		         " can come between", self, t->step ? t->step : "update", w->value);
		return;
	case ROLE_CLAIM:
		if (t->no_rows)
			snprintf(buf, n, "T%d's %s changed 0 rows: another request was first, so"
			         " T%d stops", self, t->step ? t->step : "claim", self);
		else
			snprintf(buf, n, "T%d claimed %s: the check and the write were one"
			         " statement", self, what);
		return;
	case ROLE_INSERT:
	case ROLE_DELETE:
		if (t->nth > 1 && m->cost)
			snprintf(buf, n, "T%d %s %s again: a %d%s use, and $%d given away", self,
			         used, what, t->nth, t->nth == 2 ? "nd" : t->nth == 3 ? "rd" : "th",
			         m->cost);
		else if (t->nth > 1)
			snprintf(buf, n, "T%d %s %s again: a second use", self, used, what);
		else if (t->effects & EFF_USES)
			snprintf(buf, n, "T%d %s %s", self, used, what);
		else
			snprintf(buf, n, "T%d's %s", self, t->step ? t->step : "write");
		return;
	case ROLE_BEGIN:
		if ((t->effects & EFF_LOCKS) && !p->row_locks)
			snprintf(buf, n, "T%d began and took the database's write lock: the others"
			         " wait at their BEGIN until it commits", self);
		else
			snprintf(buf, n, "T%d began a transaction", self);
		return;
	case ROLE_COMMIT:
		snprintf(buf, n, "T%d committed: the others see its writes now, and its locks"
		         " are free", self);
		return;
	case ROLE_ROLLBACK:
		snprintf(buf, n, "T%d rolled back: nothing it wrote stays", self);
		return;
	default:
		snprintf(buf, n, "T%d: %s", self, t->step ? t->step : "a step");
		return;
	}
}

void viz_narrate(const struct viz_model *m, int panel, char *buf, size_t n)
{
	const struct viz_panel *p = &m->panels[panel];
	const struct viz_token *t = &p->last;
	int holder;

	buf[0] = '\0';
	if (!p->last_thread)
		return;
	if (t->kind == TOK_SKIP) {
		snprintf(buf, n, "T%d skips %s: what it read says another request was first",
		         p->last_thread, t->step ? t->step : "the rest");
	} else if (t->state == TS_WAITING) {
		holder = viz_lane_waits_for(m, panel, p->last_thread);
		if (holder > 0)
			snprintf(buf, n, "T%d waits: T%d holds the lock until it commits",
			         p->last_thread, holder);
		else
			snprintf(buf, n, "T%d waits for a lock another connection holds",
			         p->last_thread);
	} else if (t->state == TS_FAILED) {
		snprintf(buf, n, "T%d's %s failed: %s", p->last_thread, t->step ? t->step : "step",
		         t->text);
	} else {
		done(m, panel, buf, n);
	}
}
