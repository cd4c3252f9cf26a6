/*
 * record.c: chapter markers and the steps of a swimlane picture, from the event
 * stream; see record.h.  The picture itself is drawn by svg.c.
 *
 * An anomaly is found by the model (model.c), exactly as the dashboard finds
 * it; this file only notices that a panel has a new mark, names it in words,
 * and, for the picture, finds the step it undid: for an overwrite, the victim
 * thread's last step of the same kind; for an extra use, the first use of the
 * same resource (the same operation number).
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#define SECOND_NS 1000000000LL

int viz_rec_init(struct viz_rec *r, const struct run_config *cfg, struct cast *cast,
                 int keep_steps)
{
	memset(r, 0, sizeof *r);
	r->cfg = cfg;
	r->cast = cast;
	r->scheduled = cfg->schedule != NULL || cfg->step;
	r->keep_steps = keep_steps;
	r->t0_ns = cast ? cast_now_ns(cast) : 0;
	memset(r->open, -1, sizeof r->open);
	return viz_model_init(&r->model, cfg);
}

void viz_rec_done(struct viz_rec *r)
{
	viz_model_done(&r->model);
	free(r->steps);
	r->steps = NULL;
}

int64_t viz_rec_run_ns(struct viz_rec *r)
{
	return r->cast ? cast_now_ns(r->cast) - r->t0_ns : 0;
}

void viz_rec_marker(struct viz_rec *r, const char *label)
{
	if (r->cast)
		cast_marker(r->cast, label);
}

static const char *ordinal(int n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}


/* The newest kept step of THREAD in PANEL named STEP that wrote, before index
 * BEFORE; or, with OP >= 0, the oldest of another thread that used the same
 * resource (the same key, or without one the same operation: the same round). */
static int find_step(const struct viz_rec *r, int panel, int thread, const char *step,
                     int op, int before)
{
	if (op >= 0) {
		const struct viz_rec_step *use = &r->steps[before];

		for (int i = 0; i < before; i++) {
			const struct viz_rec_step *s = &r->steps[i];

			if (s->panel == panel && s->thread != thread && s->done && s->changes > 0 &&
			    s->step && step && !strcmp(s->step, step) &&
			    (use->key[0] ? !strcmp(s->key, use->key) : s->op == op))
				return i;
		}
		return -1;
	}
	for (int i = before - 1; i >= 0; i--) {
		const struct viz_rec_step *s = &r->steps[i];

		if (s->panel == panel && s->thread == thread && s->done && s->dml &&
		    s->step && step && !strcmp(s->step, step))
			return i;
	}
	return -1;
}

/* A new anomaly in panel P: a marker, and the arrow for the picture. */
static void note_mark(struct viz_rec *r, int p, const struct viz_mark *mk)
{
	const char *noun = r->cfg->scenario->words.effect;
	char label[160], prefix[32] = "";
	int at = -1;

	if (r->model.npanels > 1)
		snprintf(prefix, sizeof prefix, "%s: ", r->model.panels[p].strategy->name);
	if (mk->tok.lost > 0 && mk->tok.lost == 1)
		snprintf(label, sizeof label, "%sT%d overwrote T%d's %s", prefix, mk->thread,
		         mk->tok.victim, noun);
	else if (mk->tok.lost > 0)
		snprintf(label, sizeof label, "%sT%d overwrote T%d's write: %lld %ss lost", prefix,
		         mk->thread, mk->tok.victim, (long long)mk->tok.lost, noun);
	else
		snprintf(label, sizeof label, "%sT%d: a %d%s %s where one is allowed", prefix,
		         mk->thread, mk->tok.nth, ordinal(mk->tok.nth), noun);
	viz_rec_marker(r, label);
	if (!r->keep_steps)
		return;
	for (int i = r->nsteps - 1; i >= 0; i--)
		if (r->steps[i].panel == p && r->steps[i].thread == mk->thread &&
		    r->steps[i].done && r->steps[i].step && mk->tok.step &&
		    !strcmp(r->steps[i].step, mk->tok.step)) {
			at = i;
			break;
		}
	if (at < 0)
		return;
	r->steps[at].lost = mk->tok.lost;
	r->steps[at].nth = mk->tok.nth;
	r->steps[at].overwrote = mk->tok.lost > 0
		? find_step(r, p, mk->tok.victim, mk->tok.step, -1, at)
		: find_step(r, p, mk->thread, mk->tok.step, mk->op, at);
}

/* --svg: the steps, each with its column in time order. */
static void keep(struct viz_rec *r, const struct event *e)
{
	int p = e->strategy, *open = &r->open[p][e->thread - 1];
	const struct scn_step *decl;
	struct viz_rec_step *s;

	if (e->kind == EV_STEP || e->kind == EV_SKIP) {
		if (r->nsteps == VIZ_REC_MAX_STEPS)
			return;                 /* a long free run: the picture needs its start */
		if (r->nsteps == r->cap) {
			int cap = r->cap ? 2 * r->cap : 64;
			struct viz_rec_step *v = realloc(r->steps, (size_t)cap * sizeof *v);

			if (!v)
				return;         /* out of memory: the picture ends short */
			r->steps = v;
			r->cap = cap;
		}
		s = &r->steps[r->nsteps];
		memset(s, 0, sizeof *s);
		s->panel = p;
		s->thread = e->thread;
		s->op = e->op;
		s->step = e->step;
		s->col = s->end_col = r->cols[p]++;
		s->overwrote = -1;
		decl = e->step ? scn_step(r->model.panels[p].strategy, e->step) : NULL;
		s->dml = decl && scn_role_writes(decl->role);
		if (decl && decl->value_arg > 0 && decl->value_arg <= e->nargs &&
		    e->args[decl->value_arg - 1].type == DB_INT) {
			s->has_arg = 1;
			s->arg = e->args[decl->value_arg - 1].i;
		}
		if (decl && decl->key_arg > 0 && decl->key_arg <= e->nargs) {
			const struct ev_arg *k = &e->args[decl->key_arg - 1];

			if (k->type == DB_INT)
				snprintf(s->key, sizeof s->key, "%lld", (long long)k->i);
			else
				snprintf(s->key, sizeof s->key, "%s", k->s);
		}
		if (e->kind == EV_SKIP)
			s->skipped = s->done = 1;
		else
			*open = r->nsteps;
		r->nsteps++;
		return;
	}
	if (*open < 0)
		return;
	s = &r->steps[*open];
	switch (e->kind) {
	case EV_WAIT:
		s->waited = 1;
		break;
	case EV_DONE:
		s->done = 1;
		s->has_value = e->has_value;
		s->value = e->value;
		s->changes = e->changes;
		s->end_col = r->cols[p] - 1 > s->col ? r->cols[p] - 1 : s->col;
		*open = -1;
		break;
	case EV_FAIL:
		s->failed = 1;
		s->end_col = r->cols[p] - 1 > s->col ? r->cols[p] - 1 : s->col;
		*open = -1;
		break;
	default:
		break;
	}
}

void viz_rec_event(const struct event *e, void *rec)
{
	struct viz_rec *r = rec;
	struct event copy;

	if (e->strategy < 0 || e->strategy >= r->model.npanels || e->thread < 1 ||
	    e->thread > r->model.nthreads)
		return;
	if (r->cast && e->kind == EV_STEP) {
		char label[64];

		cast_step(r->cast);
		if (r->scheduled) {
			if (r->model.npanels > 1)
				snprintf(label, sizeof label, "%s t%d.%s",
				         r->model.panels[e->strategy].strategy->name, e->thread,
				         e->step ? e->step : "?");
			else
				snprintf(label, sizeof label, "t%d.%s", e->thread,
				         e->step ? e->step : "?");
			cast_marker(r->cast, label);
		}
	}
	if (r->keep_steps)
		keep(r, e);
	copy = *e;
	if (r->cast && cast_clock_kind(r->cast) == CAST_VIRTUAL)
		copy.t_ns = viz_rec_run_ns(r);
	viz_model_event(&copy, &r->model);
	for (int p = 0; p < r->model.npanels; p++) {
		const struct viz_panel *panel = &r->model.panels[p];

		for (; r->seen_marks[p] < panel->nmarks; r->seen_marks[p]++)
			note_mark(r, p, &panel->marks[r->seen_marks[p] % VIZ_MARKS]);
	}
}

void viz_rec_finish(struct viz_rec *r, const struct run_result *const *results,
                    const char *result)
{
	char label[300];

	for (int i = 0; i < r->model.npanels; i++)
		r->results[i] = results[i];
	viz_model_finish(&r->model, results);
	snprintf(r->result, sizeof r->result, "%s", result ? result : "");
	r->finished = 1;
	if (!r->cast)
		return;
	cast_pause(r->cast, SECOND_NS / 2);
	if (result) {
		snprintf(label, sizeof label, "result: %s", result);
		cast_marker(r->cast, label);
	}
	for (int i = 0; i < r->model.npanels; i++) {
		snprintf(label, sizeof label, "%s: %s", results[i]->strategy->name,
		         results[i]->verdict);
		cast_marker(r->cast, label);
	}
}
