/*
 * history.c: the history checker, an event-stream consumer; see history.h.
 *
 * Each thread's statements are kept as records until they are known to have
 * committed: at once outside a transaction, at the COMMIT's completion inside
 * one.  The checks run after the run, on sorted copies, so feeding an event costs
 * a copy and at most an append.
 */
#include "history.h"

#include "scenario.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a statement did, as far as the history goes. */
enum kind {
	K_NONE,
	K_WRITE,                /* EFF_FROM_READ */
	K_ADD,                  /* EFF_ADDS */
	K_CLAIM,                /* ROLE_CLAIM */
	K_USE,                  /* EFF_USES */
};

struct record {
	enum kind kind;
	int thread;
	int64_t value;          /* K_WRITE: the value written */
	int64_t read;           /* K_WRITE: the value the thread read last, if it did */
	int has_read;
	int64_t changes;        /* rows the statement changed */
	char res[EV_TEXT];      /* K_CLAIM, K_USE: the resource */
	char who[EV_TEXT];      /* K_USE: for whom (a text argument, else tN) */
};

struct records {
	struct record *v;
	size_t n, cap;
};

struct thread_state {
	int in_txn;
	int role;                       /* of the step under way (enum scn_role) */
	unsigned effects;
	int key_arg, value_arg;
	struct ev_arg args[EV_ARGS];    /* its arguments, from its EV_STEP */
	int nargs;
	int64_t read;                   /* the value its last read returned */
	int has_read;
	struct records pending;         /* done inside the open transaction */
};

struct strategy_history {
	struct records committed;
	int64_t effects;
	int claims_seen;                /* the strategy claims before it uses */
	int oom;
};

struct history {
	int nstrategies, nthreads;
	struct thread_state *threads;   /* [strategy][thread - 1] */
	struct strategy_history *s;
};

struct history *hist_new(int nstrategies, int nthreads)
{
	struct history *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	h->nstrategies = nstrategies;
	h->nthreads = nthreads;
	h->threads = calloc((size_t)nstrategies * (size_t)nthreads, sizeof *h->threads);
	h->s = calloc((size_t)nstrategies, sizeof *h->s);
	if (!h->threads || !h->s) {
		hist_free(h);
		return NULL;
	}
	return h;
}

void hist_free(struct history *h)
{
	if (!h)
		return;
	for (int i = 0; h->threads && i < h->nstrategies * h->nthreads; i++)
		free(h->threads[i].pending.v);
	for (int i = 0; h->s && i < h->nstrategies; i++)
		free(h->s[i].committed.v);
	free(h->threads);
	free(h->s);
	free(h);
}

static int append(struct records *r, const struct record *rec)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		struct record *v = realloc(r->v, cap * sizeof *v);

		if (!v)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *rec;
	return 0;
}

static void commit_pending(struct strategy_history *s, struct thread_state *t)
{
	for (size_t i = 0; i < t->pending.n; i++)
		if (append(&s->committed, &t->pending.v[i]) != 0)
			s->oom = 1;
	t->pending.n = 0;
}

/* Argument I (1-based) of the step under way, as text; "" if there is none. */
static void copy_arg(char *dst, const struct thread_state *t, int i)
{
	if (i < 1 || i > t->nargs)
		dst[0] = '\0';
	else if (t->args[i - 1].type == DB_TEXT)
		snprintf(dst, EV_TEXT, "%s", t->args[i - 1].s);
	else
		snprintf(dst, EV_TEXT, "%lld", (long long)t->args[i - 1].i);
}

static enum kind kind_of(const struct thread_state *t)
{
	if (t->effects & EFF_USES)
		return K_USE;
	if (t->effects & EFF_FROM_READ)
		return K_WRITE;
	if (t->effects & EFF_ADDS)
		return K_ADD;
	if (t->role == ROLE_CLAIM)
		return K_CLAIM;
	return K_NONE;
}

void hist_event(const struct event *e, void *arg)
{
	struct history *h = arg;
	struct strategy_history *s;
	struct thread_state *t;
	struct record rec;

	if (e->strategy < 0 || e->strategy >= h->nstrategies || e->thread < 1 ||
	    e->thread > h->nthreads)
		return;
	s = &h->s[e->strategy];
	t = &h->threads[e->strategy * h->nthreads + e->thread - 1];
	switch (e->kind) {
	case EV_STEP:
		t->role = e->role;
		t->effects = e->effects;
		t->key_arg = e->key_arg;
		t->value_arg = e->value_arg;
		t->nargs = e->nargs < EV_ARGS ? e->nargs : EV_ARGS;
		memcpy(t->args, e->args, sizeof t->args);
		if (t->role == ROLE_CLAIM)
			s->claims_seen = 1;
		return;
	case EV_DONE:
		break;
	case EV_RETRY:
	case EV_ABORT:          /* rolled back: what it did never happened */
		t->in_txn = 0;
		t->pending.n = 0;
		t->has_read = 0;
		return;
	case EV_COMMIT:
		s->effects += e->value;
		return;
	default:
		return;
	}
	if ((t->role == ROLE_READ || t->role == ROLE_LOCK) && e->has_value) {
		t->read = e->value;
		t->has_read = 1;
	} else if (t->role == ROLE_BEGIN) {
		t->in_txn = 1;
		t->pending.n = 0;
	} else if (t->role == ROLE_COMMIT) {
		commit_pending(s, t);
		t->in_txn = 0;
	} else if (t->role == ROLE_ROLLBACK) {
		t->in_txn = 0;
		t->pending.n = 0;
	} else if (kind_of(t) != K_NONE && (e->changes > 0 || kind_of(t) == K_CLAIM)) {
		/* A statement that changed no row wrote, added and used nothing (an
		 * optimistic write that found a newer version, say). */
		memset(&rec, 0, sizeof rec);
		rec.kind = kind_of(t);
		rec.thread = e->thread;
		rec.changes = e->changes;
		if (t->value_arg >= 1 && t->value_arg <= t->nargs)
			rec.value = t->args[t->value_arg - 1].i;
		rec.read = t->read;
		rec.has_read = t->has_read;
		copy_arg(rec.res, t, t->key_arg);
		/* For whom: the first other text argument (a customer), for messages. */
		for (int i = 1; i <= t->nargs && !rec.who[0]; i++)
			if (i != t->key_arg && t->args[i - 1].type == DB_TEXT)
				copy_arg(rec.who, t, i);
		if (!rec.who[0])
			snprintf(rec.who, sizeof rec.who, "t%d", e->thread);
		if (append(t->in_txn ? &t->pending : &s->committed, &rec) != 0)
			s->oom = 1;
	}
	t->role = ROLE_OTHER;   /* one record per statement */
	t->effects = 0;
}

static int cmp_res(const void *a, const void *b)
{
	const struct record *x = *(const struct record *const *)a;
	const struct record *y = *(const struct record *const *)b;

	return strcmp(x->res, y->res);
}

/* Append a sentence to OUT->text (the first violation found is the one named). */
__attribute__((format(printf, 2, 3)))
static void say(struct hist_result *out, const char *fmt, ...)
{
	size_t len = strlen(out->text);
	va_list ap;

	if (len + 3 >= sizeof out->text)
		return;
	if (len)
		len += (size_t)snprintf(out->text + len, sizeof out->text - len, "; ");
	va_start(ap, fmt);
	vsnprintf(out->text + len, sizeof out->text - len, fmt, ap);
	va_end(ap);
}

static int cmp_write(const void *a, const void *b)
{
	const struct record *x = *(const struct record *const *)a;
	const struct record *y = *(const struct record *const *)b;
	int c = strcmp(x->res, y->res);

	return c ? c : (x->value > y->value) - (x->value < y->value);
}

/* The committed writes of a counter (each wrote the value it read, plus one):
 * per key, distinct values, exactly 1..N.  Writes of another shape (a balance
 * moved by any amount can come back to a value it had) are counted, not checked. */
static int check_writes(const struct records *c, struct hist_result *out)
{
	const struct record **v = malloc((c->n ? c->n : 1) * sizeof *v);
	int64_t n = 0, outside = 0, dup = 0, counter = 1;

	if (!v)
		return -1;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].kind == K_WRITE) {
			v[n++] = &c->v[i];
			if (!c->v[i].has_read || c->v[i].value != c->v[i].read + 1)
				counter = 0;
		}
	out->writes = n;
	if (!counter) {
		say(out, "%lld writes, not of a counter: their values are not checked",
		    (long long)n);
		free(v);
		return 0;
	}
	qsort(v, (size_t)n, sizeof *v, cmp_write);
	for (int64_t first = 0, end; first < n; first = end) {
		/* One key's writes, v[first..end): their own 1..N. */
		for (end = first + 1; end < n && !strcmp(v[end]->res, v[first]->res); end++)
			;
		for (int64_t i = first; i < end; i++) {
			if (i > first && v[i]->value == v[i - 1]->value) {
				if (!dup++)
					say(out, "value %lld written more than once: an update was lost",
					    (long long)v[i]->value);
				continue;
			}
			out->distinct++;
			if ((v[i]->value < 1 || v[i]->value > end - first) && !outside++)
				say(out, "value %lld written, outside 1..%lld", (long long)v[i]->value,
				    (long long)(end - first));
		}
	}
	out->violations += dup + outside;
	if (n && !dup && !outside)
		say(out, "%lld writes, values 1..N each once", (long long)n);
	free(v);
	return 0;
}

/* The database adds: count what committed (a statement that changed no row
 * added nothing and is not kept); the caller compares it with the report. */
static void check_adds(const struct records *c, struct hist_result *out)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].kind == K_ADD)
			out->adds++;
	if (out->adds)
		say(out, "%lld updates, each changed a row", (long long)out->adds);
}

/* The committed uses (and winning claims), grouped by resource. */
static int check_uses(const struct records *c, int claims_seen, struct hist_result *out)
{
	const struct record **use = malloc((c->n ? c->n : 1) * sizeof *use);
	const struct record **win = malloc((c->n ? c->n : 1) * sizeof *win);
	size_t nuse = 0, nwin = 0, w = 0;
	int64_t extra = 0, wins2 = 0, wrong = 0;

	if (!use || !win) {
		free(use);
		free(win);
		return -1;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].kind == K_USE)
			use[nuse++] = &c->v[i];
		else if (c->v[i].kind == K_CLAIM && c->v[i].changes >= 1)
			win[nwin++] = &c->v[i];
	}
	qsort(use, nuse, sizeof *use, cmp_res);
	qsort(win, nwin, sizeof *win, cmp_res);
	for (size_t i = 1; i < nwin; i++)
		if (!strcmp(win[i]->res, win[i - 1]->res) && !wins2++)
			say(out, "%s claimed twice, by t%d and t%d", win[i]->res, win[i - 1]->thread,
			    win[i]->thread);
	out->uses = (int64_t)nuse;
	for (size_t i = 0; i < nuse; i++) {
		if (i > 0 && !strcmp(use[i]->res, use[i - 1]->res)) {
			if (!extra++)
				say(out, "%s used more than once: by %s and %s", use[i]->res,
				    use[i - 1]->who, use[i]->who);
			if (i == 1 || strcmp(use[i - 1]->res, use[i - 2]->res))
				out->reused++;
		} else {
			out->resources++;
		}
		if (!claims_seen)
			continue;
		while (w < nwin && strcmp(win[w]->res, use[i]->res) < 0)
			w++;
		if (w == nwin || strcmp(win[w]->res, use[i]->res)) {
			if (!wrong++)
				say(out, "%s used by %s, but no claim of it won", use[i]->res,
				    use[i]->who);
		} else if (win[w]->thread != use[i]->thread) {
			if (!wrong++)
				say(out, "%s used by %s (t%d), but t%d's claim won", use[i]->res,
				    use[i]->who, use[i]->thread, win[w]->thread);
		}
	}
	out->violations += extra + wins2 + wrong;
	if (nuse && !extra && !wins2 && !wrong)
		say(out, "%zu uses of %lld resources, each used once%s", nuse,
		    (long long)out->resources, claims_seen ? ", by the thread whose claim won" : "");
	free(use);
	free(win);
	return 0;
}

int64_t hist_check(struct history *h, int s, struct hist_result *out)
{
	struct strategy_history *sh;

	memset(out, 0, sizeof *out);
	if (s < 0 || s >= h->nstrategies || h->s[s].oom)
		return -1;
	sh = &h->s[s];
	out->effects = sh->effects;
	if (check_writes(&sh->committed, out) != 0)
		return -1;
	check_adds(&sh->committed, out);
	if (check_uses(&sh->committed, sh->claims_seen, out) != 0)
		return -1;
	if (!out->text[0])
		say(out, "nothing committed");
	return out->violations;
}
