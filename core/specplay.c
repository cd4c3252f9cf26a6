/*
 * specplay.c: a spec played one step at a time on a thread of its own; see
 * specplay.h.
 *
 * DESIGN: the player's thread (the driver) owns the engine (specrun_open and
 * the specrun_perm_* calls), the area and the text being written; nobody else
 * touches them.  The UI thread posts one request at a time (take a step, start
 * a play) under the lock and the driver carries it out; while steps wait and
 * nothing is asked, the driver looks at them again and again (each look is a
 * 10 ms slice and a question to the server), so a wait ends on the screen when
 * it ends in the database.  What the engine reports goes, through its event
 * hook, into the state the UI reads, under the same lock.  A request that
 * replaces the play sets the stop flag, which makes any engine call return at
 * once with its steps cancelled.
 */
#include "specplay.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sys.h"

#define POLL_MS 20              /* between two looks at the waiting steps */

struct specplay {
	const struct spec *sp;
	const db_backend *db;
	db_site *site;
	struct specplay_opts opts;
	pthread_t thread;
	int started;                    /* the thread runs */
	pthread_mutex_t mu;
	pthread_cond_t cv;

	/* Guarded by mu. */
	struct specplay_state st;
	int quit;
	int want_start, start_perm, *start_order, start_n;
	int want_take;                  /* pstep to take, or -1 */
	char **texts;                   /* per permutation: its last play's text, or NULL */
	atomic_int stop;                /* cancels the engine's calls (set under mu) */

	/* The driver's alone. */
	db_area *area;
	struct specrun *run;
	struct specrun_opts ropts;
	struct spec_perm played;        /* the psteps taken, in order; grows */
	int *step_item, *result_item;   /* per played pstep: its SPI_STEP item, where
	                                 * its results go */
	FILE *out;
	char *buf;
	size_t len;
	long body;                      /* where the permutation's text starts in buf */
	struct specrun_seen *seen;
};

/* ---- the state, from the engine's events (on the driver, under mu) ---- */

static struct specplay_item *add_item(struct specplay *p, enum specplay_item_kind kind,
                                      int session, int step)
{
	struct specplay_state *st = &p->st;
	struct specplay_item *items = realloc(st->items, (size_t)(st->nitems + 1) * sizeof *items);

	if (!items)
		return NULL;
	st->items = items;
	items = &st->items[st->nitems++];
	memset(items, 0, sizeof *items);
	items->kind = kind;
	items->session = session;
	items->step = step;
	return items;
}

static void free_items(struct specplay_state *st)
{
	for (int i = 0; i < st->nitems; i++) {
		struct specplay_item *it = &st->items[i];

		for (int r = 0; r < it->nresults; r++) {
			struct specplay_result *res = &it->results[r];

			free(res->error);
			for (int k = 0; k < res->ncols; k++)
				free(res->names[k]);
			for (int k = 0; k < res->ncols * res->nrows; k++)
				free(res->cells[k]);
			free(res->names);
			free(res->cells);
		}
		free(it->results);
		free(it->text);
	}
	free(st->items);
	st->items = NULL;
	st->nitems = 0;
}

static struct specplay_result *add_result(struct specplay_item *it)
{
	struct specplay_result *r = realloc(it->results, (size_t)(it->nresults + 1) * sizeof *r);

	if (!r)
		return NULL;
	it->results = r;
	r = &it->results[it->nresults++];
	memset(r, 0, sizeof *r);
	return r;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void copy_table(struct specplay_result *r, const db_table *t)
{
	size_t n = (size_t)t->ncols * (size_t)t->nrows;

	r->names = calloc((size_t)t->ncols + 1, sizeof *r->names);
	r->cells = calloc(n + 1, sizeof *r->cells);
	if (!r->names || !r->cells)
		return;                 /* shown as an empty table */
	r->ncols = t->ncols;
	r->nrows = t->nrows;
	for (int k = 0; k < t->ncols; k++)
		r->names[k] = dup_or_null(t->names[k]);
	for (size_t k = 0; k < n; k++)
		r->cells[k] = dup_or_null(t->cells[k]);
}

static void on_event(const struct specrun_event *e, void *arg)
{
	struct specplay *p = arg;
	struct specplay_state *st = &p->st;
	struct specplay_item *it;
	struct specplay_result *res;

	sys_lock(&p->mu);
	switch (e->kind) {
	case SPECRUN_EV_START:
		st->running[e->session] = 1;
		p->step_item[e->pstep] = p->result_item[e->pstep] = st->nitems;
		add_item(p, SPI_STEP, e->session, e->step);
		break;
	case SPECRUN_EV_WAITING:
		if (p->step_item[e->pstep] >= 0 && p->step_item[e->pstep] < st->nitems)
			st->items[p->step_item[e->pstep]].waiting =
			st->items[p->step_item[e->pstep]].waited = 1;
		break;
	case SPECRUN_EV_DONE:
		st->running[e->session] = 0;
		if (!e->completed)
			break;
		if (p->step_item[e->pstep] >= 0 && p->step_item[e->pstep] < st->nitems)
			st->items[p->step_item[e->pstep]].waiting = 0;
		p->result_item[e->pstep] = st->nitems;
		add_item(p, SPI_COMPLETED, e->session, e->step);
		break;
	case SPECRUN_EV_TABLE:
	case SPECRUN_EV_ERROR:
		if (e->pstep < 0 || p->result_item[e->pstep] < 0 ||
		    p->result_item[e->pstep] >= st->nitems)
			break;          /* a setup's output: not a step's */
		it = &st->items[p->result_item[e->pstep]];
		if (!(res = add_result(it)))
			break;
		if (e->kind == SPECRUN_EV_ERROR) {
			res->error = dup_or_null(e->text);
			it->failed = 1;
		} else {
			copy_table(res, e->table);
		}
		break;
	case SPECRUN_EV_NOTICE:
	case SPECRUN_EV_NOTE:
		if ((it = add_item(p, e->kind == SPECRUN_EV_NOTE ? SPI_NOTE : SPI_NOTICE,
		                   e->session, -1)))
			it->text = dup_or_null(e->text);
		break;
	}
	sys_unlock(&p->mu);
}

/* ---- plays (on the driver) ---- */

/* Close the play's engine and area, and keep its text for specplay_print. */
static void play_end(struct specplay *p)
{
	const struct spec_perm *pm = &p->sp->perms[p->st.perm];
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (p->run)
		specrun_close(p->run);
	p->run = NULL;
	if (p->area)
		p->db->area_drop(p->area);
	p->area = NULL;
	if (!p->out)
		return;
	fclose(p->out);
	p->out = NULL;
	/* A play that took no step and said nothing (left for another at once)
	 * ran nothing worth printing. */
	if (p->body >= 0 && (p->st.ntaken > 0 || p->buf[p->body]) &&
	    (f = open_memstream(&text, &len))) {
		fputs("\nstarting permutation:", f);
		sys_lock(&p->mu);
		/* The steps in the order taken, then those not taken in the spec's. */
		for (int j = 0; j < p->st.ntaken; j++)
			fprintf(f, " %s", p->sp->steps[pm->steps[p->st.order[j]].step].name);
		for (int k = 0; k < p->st.nsteps; k++)
			if (!p->st.taken[k])
				fprintf(f, " %s", p->sp->steps[pm->steps[k].step].name);
		sys_unlock(&p->mu);
		fprintf(f, "\n%s", p->buf + p->body);
		fclose(f);
		sys_lock(&p->mu);
		free(p->texts[p->st.perm]);
		p->texts[p->st.perm] = text;
		sys_unlock(&p->mu);
	}
	free(p->buf);
	p->buf = NULL;
	p->len = 0;
}

/* The play is over, as ST says: show it. */
static void play_finished(struct specplay *p, enum specrun_status st)
{
	char err[DB_ERRLEN];

	snprintf(err, sizeof err, "%s", p->run ? specrun_error(p->run) : "");
	play_end(p);
	sys_lock(&p->mu);
	p->st.finished = 1;
	p->st.status = st;
	p->st.busy = p->st.replaying = p->st.ending = 0;
	p->st.seen = p->seen;
	if (st == SPECRUN_LOST && !p->st.error[0])
		snprintf(p->st.error, sizeof p->st.error, "%s", err);
	sys_unlock(&p->mu);
}

/* An engine call returned ST: go on, or end the play. */
static int after(struct specplay *p, enum specrun_status st)
{
	int replaced;

	if (st == SPECRUN_OK)
		return 0;
	sys_lock(&p->mu);
	replaced = p->want_start || p->quit;
	sys_unlock(&p->mu);
	if (replaced && st == SPECRUN_INTERRUPTED)
		play_end(p);            /* another play, or none, comes next */
	else
		play_finished(p, st);
	return -1;
}

/* Take pstep K of the permutation; when it was the last, end the permutation. */
static int take_one(struct specplay *p, int k)
{
	const struct spec_perm *pm = &p->sp->perms[p->st.perm];
	int all;

	sys_lock(&p->mu);
	p->st.taken[k] = 1;
	p->st.order[p->st.ntaken++] = k;
	all = p->st.ntaken == p->st.nsteps;
	sys_unlock(&p->mu);
	p->step_item[p->played.nsteps] = p->result_item[p->played.nsteps] = -1;
	p->played.steps[p->played.nsteps++] = pm->steps[k];
	if (after(p, specrun_perm_step(p->run, p->played.nsteps - 1)))
		return -1;
	if (!all)
		return 0;
	sys_lock(&p->mu);
	p->st.ending = 1;
	sys_unlock(&p->mu);
	if (after(p, specrun_perm_end(p->run)))
		return -1;
	play_finished(p, SPECRUN_OK);
	return -1;
}

/* Start permutation PERM afresh and take ORDER[0..N-1]. */
static void play_begin(struct specplay *p, int perm, const int *order, int n)
{
	const struct spec_perm *pm = &p->sp->perms[perm];
	struct specplay_state *st = &p->st;
	char err[DB_ERRLEN] = "";

	sys_lock(&p->mu);
	free_items(st);
	free(st->order);
	free(st->taken);
	st->perm = perm;
	st->nsteps = pm->nsteps;
	st->ntaken = 0;
	st->order = calloc((size_t)pm->nsteps + 1, sizeof *st->order);
	st->taken = calloc((size_t)pm->nsteps + 1, sizeof *st->taken);
	memset(st->running, 0, (size_t)p->sp->nsessions * sizeof *st->running);
	st->busy = st->replaying = 1;
	st->ending = st->finished = 0;
	st->status = SPECRUN_OK;
	st->error[0] = '\0';
	st->seen = NULL;
	atomic_store(&p->stop, 0);
	sys_unlock(&p->mu);
	free(p->seen);
	free(p->played.steps);
	free(p->step_item);
	free(p->result_item);
	p->seen = calloc((size_t)p->sp->nsteps + 1, sizeof *p->seen);
	p->played.nsteps = 0;
	p->played.steps = calloc((size_t)pm->nsteps + 1, sizeof *p->played.steps);
	p->step_item = calloc((size_t)pm->nsteps + 1, sizeof *p->step_item);
	p->result_item = calloc((size_t)pm->nsteps + 1, sizeof *p->result_item);
	p->body = -1;
	if (!st->order || !st->taken || !p->seen || !p->played.steps || !p->step_item ||
	    !p->result_item) {
		snprintf(err, sizeof err, "out of memory");
		goto lost;
	}
	p->ropts = (struct specrun_opts){ .prelude = p->opts.prelude, .perm = perm,
	                                  .defer = p->opts.defer, .seen = p->seen,
	                                  .stop = &p->stop, .on_event = on_event,
	                                  .event_arg = p };
	if (!(p->area = p->db->area_create(p->site, p->opts.label ? p->opts.label : "spec",
	                                   err)))
		goto lost;
	if (!(p->out = open_memstream(&p->buf, &p->len))) {
		snprintf(err, sizeof err, "out of memory");
		goto lost;
	}
	if (!(p->run = specrun_open(p->sp, p->db, p->area, &p->ropts, p->out, p->out, err)))
		goto lost;
	fflush(p->out);
	p->body = (long)p->len;
	if (after(p, specrun_perm_begin(p->run, &p->played, pm->nsteps, 0)))
		return;
	for (int i = 0; i < n; i++)
		if (take_one(p, order[i]))
			return;
	sys_lock(&p->mu);
	st->busy = st->replaying = 0;
	sys_unlock(&p->mu);
	return;
lost:
	sys_lock(&p->mu);
	snprintf(st->error, sizeof st->error, "%s", err);
	sys_unlock(&p->mu);
	play_finished(p, SPECRUN_LOST);
}

static void *driver(void *arg)
{
	struct specplay *p = arg;

	sys_lock(&p->mu);
	for (;;) {
		if (p->quit)
			break;
		if (p->want_start) {
			int perm = p->start_perm, n = p->start_n, *order = p->start_order;

			p->want_start = 0;
			p->start_order = NULL;
			sys_unlock(&p->mu);
			play_end(p);
			play_begin(p, perm, order, n);
			free(order);
			sys_lock(&p->mu);
			continue;
		}
		if (p->want_take >= 0) {
			int k = p->want_take;

			p->want_take = -1;
			sys_unlock(&p->mu);
			if (!p->run || !take_one(p, k)) {
				sys_lock(&p->mu);
				p->st.busy = 0;
			} else {
				sys_lock(&p->mu);
			}
			continue;
		}
		if (p->run && specrun_waiting(p->run)) {
			struct timespec until;

			sys_unlock(&p->mu);
			after(p, specrun_perm_poll(p->run));
			sys_lock(&p->mu);
			/* Look again soon, or at once when asked for something. */
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += POLL_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			if (!p->quit && !p->want_start && p->want_take < 0)
				sys_timedwait(&p->cv, &p->mu, &until);
			continue;
		}
		sys_wait(&p->cv, &p->mu);
	}
	sys_unlock(&p->mu);
	play_end(p);
	return NULL;
}

/* ---- the UI's side ---- */

struct specplay *specplay_new(const struct spec *sp, const db_backend *db, db_site *site,
                              const struct specplay_opts *opts, char *err)
{
	struct specplay *p = calloc(1, sizeof *p);
	sigset_t block, old;
	int rc;

	if (!p || !(p->texts = calloc((size_t)sp->nperms + 1, sizeof *p->texts)) ||
	    !(p->st.running = calloc((size_t)sp->nsessions + 1, sizeof *p->st.running))) {
		snprintf(err, DB_ERRLEN, "out of memory");
		if (p)
			free(p->texts);
		free(p);
		return NULL;
	}
	p->sp = sp;
	p->db = db;
	p->site = site;
	if (opts)
		p->opts = *opts;
	p->want_take = -1;
	p->body = -1;
	p->st.finished = 1;             /* nothing is playing yet */
	sys_mutex_init(&p->mu, NULL, 0);
	sys_cond_init(&p->cv, NULL);
	/* The driver, and the session threads it starts, inherit this mask: resizes
	 * and Ctrl-Z go to the UI thread, which handles them. */
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTSTP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&p->thread, NULL, driver, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, DB_ERRLEN, "cannot start the player's thread");
		specplay_free(p);
		return NULL;
	}
	p->started = 1;
	return p;
}

void specplay_stop(struct specplay *p)
{
	if (!p || !p->started)
		return;
	sys_lock(&p->mu);
	p->quit = 1;
	atomic_store(&p->stop, 1);
	pthread_cond_broadcast(&p->cv);
	sys_unlock(&p->mu);
	sys_check(pthread_join(p->thread, NULL), "pthread_join");
	p->started = 0;
}

void specplay_free(struct specplay *p)
{
	if (!p)
		return;
	specplay_stop(p);
	sys_mutex_done(&p->mu, NULL);
	sys_cond_done(&p->cv, NULL);
	free_items(&p->st);
	free(p->st.order);
	free(p->st.taken);
	free(p->st.running);
	for (int k = 0; k < p->sp->nperms; k++)
		free(p->texts[k]);
	free(p->texts);
	free(p->start_order);
	free(p->seen);
	free(p->played.steps);
	free(p->step_item);
	free(p->result_item);
	free(p);
}

int specplay_start(struct specplay *p, int perm, const int *order, int n)
{
	int *copy = calloc((size_t)n + 1, sizeof *copy);

	if (!copy)
		return -1;
	if (n)
		memcpy(copy, order, (size_t)n * sizeof *copy);
	sys_lock(&p->mu);
	free(p->start_order);
	p->start_order = copy;
	p->start_n = n;
	p->start_perm = perm;
	p->want_start = 1;
	p->want_take = -1;
	p->st.busy = p->st.replaying = 1;
	atomic_store(&p->stop, 1);      /* whatever the engine is doing ends now */
	pthread_cond_broadcast(&p->cv);
	sys_unlock(&p->mu);
	return 0;
}

enum specplay_take specplay_take(struct specplay *p, int j)
{
	enum specplay_take rc = SPT_OK;

	sys_lock(&p->mu);
	if (p->st.busy || p->want_start || p->want_take >= 0)
		rc = SPT_BUSY;
	else if (p->st.finished)
		rc = SPT_FINISHED;
	else if (j < 0 || j >= p->st.nsteps || p->st.taken[j])
		rc = SPT_NO_STEPS;
	if (rc == SPT_OK) {
		p->want_take = j;
		p->st.busy = 1;
		pthread_cond_broadcast(&p->cv);
	}
	sys_unlock(&p->mu);
	return rc;
}

int specplay_next(const struct specplay_state *st, const struct spec *sp)
{
	(void)sp;
	for (int k = 0; st->taken && k < st->nsteps; k++)
		if (!st->taken[k])
			return k;
	return -1;
}

int specplay_session_next(const struct specplay_state *st, const struct spec *sp, int s)
{
	const struct spec_perm *pm = &sp->perms[st->perm];

	for (int k = 0; st->taken && k < st->nsteps; k++)
		if (!st->taken[k] && sp->steps[pm->steps[k].step].session == s)
			return k;
	return -1;
}

void specplay_lock(struct specplay *p)
{
	sys_lock(&p->mu);
}

void specplay_unlock(struct specplay *p)
{
	sys_unlock(&p->mu);
}

const struct specplay_state *specplay_state(const struct specplay *p)
{
	return &p->st;
}

void specplay_print(struct specplay *p, FILE *out)
{
	sys_lock(&p->mu);
	fprintf(out, "Parsed test spec with %d sessions\n", p->sp->nsessions);
	for (int k = 0; k < p->sp->nperms; k++)
		if (p->texts[k])
			fputs(p->texts[k], out);
	sys_unlock(&p->mu);
	fflush(out);
}
