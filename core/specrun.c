/*
 * specrun.c: runs a spec's permutations the way PostgreSQL's isolation tester
 * does, so that its output is the tester's, byte for byte (DESIGN.md, "Spec
 * files").  Written for racelab after reading the tester's isolationtester.c for
 * its rules; the code is our own.
 *
 * DESIGN: one thread drives every session.  A step is sent, then awaited in
 * slices of 10 ms; after each empty slice the control session asks the database
 * whether the step waits for a lock one of the spec's sessions holds (PostgreSQL:
 * pg_isolation_test_session_is_blocked; SQLite: the busy handler, after a fresh
 * try).  A step that waits is printed "<waiting ...>" and the next step is sent;
 * after every step, the waiting ones are looked at again, and one that has
 * finished is printed "<... completed>" with its results.  A step of a session
 * whose previous step still waits first waits for that one.  At the end, the
 * steps still waiting are awaited for good.
 *
 * Step markers: "(*)" prints a step as waiting when it starts, whatever it does;
 * "(s2a)" keeps a finished step from being reported while step s2a is active;
 * "(s2a notices N)" until s2a's session has sent N more notices.
 *
 * Where the tester would wait for its 300 s timeout (a step waits for a lock
 * that only an idle session holds, and no step is left that could release it),
 * racelab cancels the step at once and says so in one line.
 */
#include "specrun.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sys.h"

#define SLICE_MS 10                     /* the tester looks every 10 ms */
#define GIVE_UP_NS (30LL * 1000000000LL)/* a step blocked this long in a final wait */

struct specrun;

struct sink_ctx {                       /* one per session, and one for control */
	struct specrun *r;
	int session;                    /* -1: the control session */
	db_sink sink;
};

struct specrun {
	const struct spec *sp;
	const db_backend *db;
	const struct specrun_opts *opts;
	FILE *out, *errf;
	db_sess *ctl;
	db_sess **sess;
	struct sink_ctx *ctx;           /* [0] control, [1 + i] session i */
	const struct spec_perm *perm;
	int *active;                    /* per session: its active pstep, or -1 */
	int *notices;                   /* per session: notices received */
	int any_notice;
	int **targets;                  /* per pstep, per blocker: notices to reach */
	int capture;                    /* errors are captured, not printed (setup) */
	char captured[DB_ERRLEN];
	int cur_step;                   /* the step whose results are being taken, or -1 */
	int cur_pstep;                  /* ... and its place in the permutation, or -1 */
	char err[DB_ERRLEN];

	/* The permutation being run (specrun_perm_begin .. _end). */
	int cap;                        /* psteps it may grow to */
	int *waiting, nwaiting;         /* psteps reported waiting, not yet complete */
	int *queue, nqueue;             /* deferred psteps (opts->defer) */
	int in_perm;                    /* between begin and end, or a failure */
};

/* ---- events (specrun_opts.on_event) ---- */

static void emit(struct specrun *r, enum specrun_event_kind kind, int pstep, int session,
                 int completed, const db_table *t, const char *text)
{
	struct specrun_event e = { .kind = kind, .pstep = pstep, .step = -1,
	                           .session = session, .completed = completed, .table = t,
	                           .text = text };

	if (!r->opts || !r->opts->on_event)
		return;
	if (pstep >= 0 && r->perm) {
		e.step = r->perm->steps[pstep].step;
		e.session = r->sp->steps[e.step].session;
	}
	r->opts->on_event(&e, r->opts->event_arg);
}

/* A line racelab or the tester says outside a step's results, to ERRF (or OUT),
 * and to the event hook. */
static void note(struct specrun *r, FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct specrun *r, FILE *f, const char *fmt, ...)
{
	char line[DB_ERRLEN + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (f == r->errf)
		fflush(r->out);
	fprintf(f, "%s\n", line);
	emit(r, SPECRUN_EV_NOTE, -1, -1, 0, NULL, line);
}

/* ---- output ---- */

/* Does V look like a number to PQprint?  Digits, '.', 'e', 'E', ' ' and '-'
 * only, not starting with an 'e' and ending in a digit.  An empty value says
 * nothing. */
static int looks_numeric(const char *v)
{
	char last = '0';

	for (const char *p = v; *p; p++) {
		last = *p;
		if (!((last >= '0' && last <= '9') || last == '.' || last == 'E' ||
		      last == 'e' || last == ' ' || last == '-'))
			return 0;
	}
	return !(*v == 'E' || *v == 'e' || !(last >= '0' && last <= '9'));
}

void specrun_print_table(FILE *out, const db_table *t)
{
	int nc = t->ncols;
	size_t *width;
	char *text;

	if (nc <= 0)
		return;
	width = calloc((size_t)nc, sizeof *width);
	text = calloc((size_t)nc, 1);   /* a column with a non-numeric value */
	if (!width || !text) {
		free(width);
		free(text);
		return;
	}
	for (int j = 0; j < nc; j++) {
		width[j] = strlen(t->names[j]);
		for (int i = 0; i < t->nrows; i++) {
			const char *v = t->cells[i * nc + j];

			if (!v || !*v)
				continue;
			if (!text[j] && !looks_numeric(v))
				text[j] = 1;
			if (strlen(v) > width[j])
				width[j] = strlen(v);
		}
	}
	for (int j = 0; j < nc; j++)
		fprintf(out, text[j] ? "%-*s%s" : "%*s%s", (int)width[j], t->names[j],
		        j + 1 < nc ? "|" : "\n");
	for (int j = 0; j < nc; j++) {
		for (size_t k = 0; k < width[j]; k++)
			fputc('-', out);
		fputs(j + 1 < nc ? "+" : "\n", out);
	}
	for (int i = 0; i < t->nrows; i++)
		for (int j = 0; j < nc; j++) {
			const char *v = t->cells[i * nc + j];

			fprintf(out, text[j] ? "%-*s%s" : "%*s%s", (int)width[j], v ? v : "",
			        j + 1 < nc ? "|" : "\n");
		}
	fprintf(out, "(%d row%s)\n\n", t->nrows, t->nrows == 1 ? "" : "s");
	free(width);
	free(text);
}

static struct specrun_seen *seen_of(struct specrun *r)
{
	if (!r->opts || !r->opts->seen || r->cur_step < 0)
		return NULL;
	return &r->opts->seen[r->cur_step];
}

static void on_table(void *arg, const db_table *t)
{
	struct sink_ctx *c = arg;
	struct specrun_seen *seen = seen_of(c->r);

	specrun_print_table(c->r->out, t);
	emit(c->r, SPECRUN_EV_TABLE, c->r->cur_pstep, c->session, 0, t, NULL);
	if (seen) {
		seen->rows = t->nrows;
		seen->has_value = t->nrows > 0 && t->ncols > 0 && t->cells[0];
		snprintf(seen->value, sizeof seen->value, "%s",
		         seen->has_value ? t->cells[0] : "");
	}
}

static void on_error(void *arg, const char *severity, const char *message,
                     const char *code)
{
	struct sink_ctx *c = arg;
	struct specrun *r = c->r;
	struct specrun_seen *seen = seen_of(r);

	if (r->capture) {
		if (!r->captured[0])
			snprintf(r->captured, sizeof r->captured, "%s%s%s", severity ? severity : "",
			         severity ? ":  " : "", message);
		return;
	}
	char line[DB_ERRLEN + 64];

	if (severity)
		snprintf(line, sizeof line, "%s:  %s", severity, message);
	else
		snprintf(line, sizeof line, "%s", message);
	if (severity)
		fprintf(r->out, "%s:  %s\n", severity, message);
	else
		fprintf(r->out, "%s\n", message);
	emit(r, SPECRUN_EV_ERROR, r->cur_pstep, c->session, 0, NULL, line);
	if (seen && !seen->code[0]) {
		snprintf(seen->code, sizeof seen->code, "%s", code ? code : "?");
		snprintf(seen->error, sizeof seen->error, "%s", message);
	}
}

static void on_notice(void *arg, const char *text)
{
	struct sink_ctx *c = arg;

	if (c->session < 0)
		return;                 /* the control session's notices are not shown */
	fprintf(c->r->out, "%s: %s", c->r->sp->sessions[c->session].name, text);
	emit(c->r, SPECRUN_EV_NOTICE, -1, c->session, 0, NULL, text);
	c->r->notices[c->session]++;
	c->r->any_notice = 1;
}

/* ---- running SQL outside the steps (setup, teardown) ---- */

static int stopping(struct specrun *r)
{
	return r->opts && r->opts->stop && *r->opts->stop;
}

/* Run SQL on S to the end; tables are printed, the first error is kept in
 * r->captured.  0 ran (see captured), -1 the session is lost or we are asked to
 * stop. */
static int run_whole(struct specrun *r, db_sess *s, const char *sql)
{
	int rc = 0;

	r->capture = 1;
	r->captured[0] = '\0';
	r->cur_step = r->cur_pstep = -1;
	if (r->db->sess_send(s, sql, r->err))
		rc = -1;
	while (rc == 0 && (rc = r->db->sess_ready(s, SLICE_MS, r->err)) == 0)
		if (stopping(r))
			r->db->sess_cancel(s);
	if (rc < 0 || r->db->sess_take(s, r->err))
		rc = -1;
	r->capture = 0;
	return rc < 0 || stopping(r) ? -1 : 0;
}

/* ---- steps ---- */

#define STEP_NONBLOCK 0x1       /* return as soon as the step waits for a lock */
#define STEP_RETRY 0x2          /* the step was looked at before */

/* Does a marker keep pstep P from being reported complete? */
static int held_by_marker(struct specrun *r, int p)
{
	const struct spec_pstep *ps = &r->perm->steps[p];

	for (int k = 0; k < ps->nblockers; k++) {
		const struct spec_blocker *b = &ps->blockers[k];
		int s = b->type == SPEC_BLOCK_ONCE ? -1 : r->sp->steps[b->step].session;

		if (b->type == SPEC_BLOCK_STEP && r->active[s] >= 0 &&
		    r->perm->steps[r->active[s]].step == b->step)
			return 1;
		if (b->type == SPEC_BLOCK_NOTICES && r->notices[s] < r->targets[p][k])
			return 1;
	}
	return 0;
}

static void print_waiting(struct specrun *r, int p)
{
	const struct spec_step *st = &r->sp->steps[r->perm->steps[p].step];

	fprintf(r->out, "step %s: %s <waiting ...>\n", st->name, st->sql);
	if (r->opts && r->opts->seen)
		r->opts->seen[r->perm->steps[p].step].waited = 1;
	emit(r, SPECRUN_EV_WAITING, p, -1, 0, NULL, NULL);
}

/* Is any session but S running a step? */
static int others_active(struct specrun *r, int s)
{
	for (int i = 0; i < r->sp->nsessions; i++)
		if (i != s && r->active[i] >= 0)
			return 1;
	return 0;
}

/* Look at pstep P, which was sent.  1: not complete (waiting for a lock when
 * STEP_NONBLOCK, or held by a marker), 0: complete and printed, -1: lost. */
static int try_complete(struct specrun *r, int p, int flags)
{
	const struct spec_pstep *ps = &r->perm->steps[p];
	const struct spec_step *st = &r->sp->steps[ps->step];
	int s = st->session;
	db_sess *conn = r->sess[s];
	int64_t blocked_since = 0;
	int slices = 0;

	if (!(flags & STEP_RETRY))
		for (int k = 0; k < ps->nblockers; k++)
			if (ps->blockers[k].type == SPEC_BLOCK_ONCE) {
				print_waiting(r, p);
				return 1;
			}
	for (;;) {
		int rc = r->db->sess_ready(conn, SLICE_MS, r->err), b;

		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
		if (stopping(r)) {
			r->db->sess_cancel(conn);
			continue;       /* the cancelled step ends; its results are dropped */
		}
		slices++;
		if (!(flags & STEP_NONBLOCK) && slices % 100)
			continue;       /* a blocking wait looks once a second, for a dead end */
		b = r->db->sess_blocked(r->ctl, conn, r->sess, r->sp->nsessions, r->err);
		if (b < 0)
			return -1;
		if (b && (flags & STEP_NONBLOCK)) {
			/* Notices (or the result) may have come while we asked. */
			if ((rc = r->db->sess_ready(conn, 0, r->err)) < 0)
				return -1;
			if (rc > 0)
				break;
			if (!(flags & STEP_RETRY))
				print_waiting(r, p);
			return 1;
		}
		if (!b) {
			blocked_since = 0;
			continue;
		}
		if (!blocked_since)
			blocked_since = sys_now_ns();
		if (!others_active(r, s) || sys_now_ns() - blocked_since > GIVE_UP_NS) {
			note(r, r->out, "racelab: canceling step %s: it waits for a lock that no"
			     " running step will release", st->name);
			r->db->sess_cancel(conn);
			blocked_since = sys_now_ns() + GIVE_UP_NS;     /* once is enough */
		}
	}
	if (held_by_marker(r, p)) {
		if (!(flags & STEP_RETRY))
			print_waiting(r, p);
		return 1;
	}
	if (stopping(r)) {
		r->cur_step = r->cur_pstep = -1;
		r->capture = 1;         /* not shown */
		r->db->sess_take(conn, r->err);
		r->capture = 0;
		r->active[s] = -1;
		return -1;
	}
	if (flags & STEP_RETRY)
		fprintf(r->out, "step %s: <... completed>\n", st->name);
	else
		fprintf(r->out, "step %s: %s\n", st->name, st->sql);
	emit(r, SPECRUN_EV_DONE, p, -1, (flags & STEP_RETRY) != 0, NULL, NULL);
	r->cur_step = ps->step;
	r->cur_pstep = p;
	if (r->opts && r->opts->seen) {
		struct specrun_seen *seen = &r->opts->seen[ps->step];
		int waited = seen->waited;

		memset(seen, 0, sizeof *seen);
		seen->waited = waited;
		seen->ran = 1;
	}
	if (r->db->sess_take(conn, r->err))
		return -1;
	r->cur_step = r->cur_pstep = -1;
	r->active[s] = -1;
	return 0;
}

/* Look at every waiting step; remove those that completed.  Returns the new
 * count, or -1 when lost. */
static int try_complete_all(struct specrun *r, int *waiting, int n, int flags)
{
	int before, held;

	do {
		int w = 0;

		r->any_notice = 0;
		before = n;
		held = 0;
		while (w < n) {
			int rc = try_complete(r, waiting[w], flags);

			if (rc < 0)
				return -1;
			if (rc) {
				if (r->perm->steps[waiting[w]].nblockers > 0)
					held = 1;
				w++;
			} else {
				memmove(&waiting[w], &waiting[w + 1], (size_t)(n - w - 1) * sizeof *waiting);
				n--;
			}
		}
		/* A completion or a notice may have released a step held by a marker
		 * that was looked at earlier in the list. */
	} while (held && (n < before || r->any_notice));
	return n;
}

static void remove_waiting(int *waiting, int *n, int p)
{
	for (int w = 0; w < *n; w++)
		if (waiting[w] == p) {
			memmove(&waiting[w], &waiting[w + 1], (size_t)(*n - w - 1) * sizeof *waiting);
			(*n)--;
			return;
		}
}

/* Send pstep J and look at it and at the waiting steps once. */
static int start_step(struct specrun *r, int j, int *waiting, int *nwaiting)
{
	const struct spec_pstep *ps = &r->perm->steps[j];
	const struct spec_step *st = &r->sp->steps[ps->step];
	int must_wait;

	if (r->db->sess_send(r->sess[st->session], st->sql, r->err)) {
		note(r, r->out, "failed to send query for step %s: %s", st->name, r->err);
		return -1;
	}
	r->active[st->session] = j;
	emit(r, SPECRUN_EV_START, j, -1, 0, NULL, NULL);
	if (ps->nblockers && !r->targets[j] &&
	    !(r->targets[j] = calloc((size_t)ps->nblockers, sizeof **r->targets))) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	for (int k = 0; k < ps->nblockers; k++)
		if (ps->blockers[k].type == SPEC_BLOCK_NOTICES)
			r->targets[j][k] = ps->blockers[k].notices +
			                   r->notices[r->sp->steps[ps->blockers[k].step].session];
	if ((must_wait = try_complete(r, j, STEP_NONBLOCK)) < 0)
		return -1;
	if ((*nwaiting = try_complete_all(r, waiting, *nwaiting, STEP_NONBLOCK | STEP_RETRY)) < 0)
		return -1;
	if (must_wait)
		waiting[(*nwaiting)++] = j;
	return 0;
}

static int queued_for(struct specrun *r, const int *queue, int nqueue, int s)
{
	for (int q = 0; q < nqueue; q++)
		if (r->sp->steps[r->perm->steps[queue[q]].step].session == s)
			return 1;
	return 0;
}

/* Start the deferred steps whose sessions are free, earliest first, until
 * none can start. */
static int drain(struct specrun *r, int *queue, int *nqueue, int *waiting, int *nwaiting)
{
	for (int q = 0; q < *nqueue; q++) {
		int j = queue[q], s = r->sp->steps[r->perm->steps[j].step].session, earlier = 0;

		for (int e = 0; e < q; e++)
			earlier |= r->sp->steps[r->perm->steps[queue[e]].step].session == s;
		if (earlier || r->active[s] >= 0)
			continue;
		memmove(&queue[q], &queue[q + 1], (size_t)(*nqueue - q - 1) * sizeof *queue);
		(*nqueue)--;
		if (start_step(r, j, waiting, nwaiting))
			return -1;
		q = -1;         /* that may have freed others: look again from the start */
	}
	return 0;
}

/* ---- one permutation: begin, steps, end ---- */

/* The permutation is over (finished or failed): free its state.  A run that is
 * asked to stop first lets every session go idle. */
static enum specrun_status perm_over(struct specrun *r, enum specrun_status st)
{
	if (st == SPECRUN_LOST && stopping(r))
		st = SPECRUN_INTERRUPTED;
	if (st == SPECRUN_INTERRUPTED)          /* let every session go idle */
		for (int i = 0; i < r->sp->nsessions; i++)
			if (r->active[i] >= 0) {
				r->db->sess_cancel(r->sess[i]);
				r->capture = 1;
				r->db->sess_take(r->sess[i], r->err);
				r->capture = 0;
				r->active[i] = -1;
			}
	if (r->targets)
		for (int j = 0; j < r->cap; j++)
			free(r->targets[j]);
	free(r->targets);
	free(r->waiting);
	free(r->queue);
	r->targets = NULL;
	r->waiting = r->queue = NULL;
	r->nwaiting = r->nqueue = 0;
	r->in_perm = 0;
	return st;
}

enum specrun_status specrun_perm_begin(struct specrun *r, const struct spec_perm *pm, int cap,
                                       int header)
{
	const struct spec *sp = r->sp;

	if (cap < pm->nsteps)
		cap = pm->nsteps;
	r->perm = pm;
	r->cap = cap;
	r->in_perm = 1;
	r->waiting = calloc((size_t)sp->nsessions + 1, sizeof *r->waiting);
	r->queue = calloc((size_t)cap + 1, sizeof *r->queue);
	r->targets = calloc((size_t)cap + 1, sizeof *r->targets);
	if (!r->waiting || !r->queue || !r->targets) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return perm_over(r, SPECRUN_LOST);
	}
	for (int i = 0; i < sp->nsessions; i++)
		r->active[i] = -1;
	if (r->opts && r->opts->seen)
		memset(r->opts->seen, 0, (size_t)sp->nsteps * sizeof *r->opts->seen);

	if (header) {
		fputs("\nstarting permutation:", r->out);
		for (int j = 0; j < pm->nsteps; j++)
			fprintf(r->out, " %s", sp->steps[pm->steps[j].step].name);
		fputc('\n', r->out);
	}

	for (int i = 0; i < sp->nsetup; i++) {
		if (run_whole(r, r->ctl, sp->setup[i]))
			return perm_over(r, SPECRUN_LOST);
		if (r->captured[0]) {
			note(r, r->errf, "setup failed: %s", r->captured);
			return perm_over(r, SPECRUN_FAILED);
		}
	}
	for (int i = 0; i < sp->nsessions; i++) {
		if (!sp->sessions[i].setup)
			continue;
		if (run_whole(r, r->sess[i], sp->sessions[i].setup))
			return perm_over(r, SPECRUN_LOST);
		if (r->captured[0]) {
			note(r, r->errf, "setup of session %s failed: %s", sp->sessions[i].name,
			     r->captured);
			return perm_over(r, SPECRUN_FAILED);
		}
	}
	return SPECRUN_OK;
}

/* Held by a marker that nothing running can release: the tester would wait for
 * its timeout; we say so now. */
static enum specrun_status stuck(struct specrun *r)
{
	note(r, r->errf, "a step cannot complete: its marker waits for a step that is not"
	     " running");
	return perm_over(r, SPECRUN_FAILED);
}

enum specrun_status specrun_perm_step(struct specrun *r, int j)
{
	const struct spec *sp = r->sp;
	int s = sp->steps[r->perm->steps[j].step].session;
	int defer = r->opts && r->opts->defer;

	if (!r->in_perm)
		return SPECRUN_FAILED;
	/* A schedule's rule (opts->defer): a step of a session that still waits is
	 * taken as soon as the session is free, and the others go on. */
	if (defer && (r->active[s] >= 0 || queued_for(r, r->queue, r->nqueue, s))) {
		r->queue[r->nqueue++] = j;
		return SPECRUN_OK;
	}
	/* The tester's rule: the session is still on an earlier step, so wait for it
	 * (and keep looking at the others, which may be what releases it). */
	while (r->active[s] >= 0) {
		int old = r->active[s], rc = try_complete(r, old, STEP_RETRY);

		if (rc < 0)
			return perm_over(r, SPECRUN_LOST);
		if (rc == 0)
			remove_waiting(r->waiting, &r->nwaiting, old);
		if (rc > 0 && !others_active(r, s))
			return stuck(r);
		if ((r->nwaiting = try_complete_all(r, r->waiting, r->nwaiting,
		                                    STEP_NONBLOCK | STEP_RETRY)) < 0)
			return perm_over(r, SPECRUN_LOST);
	}
	if (start_step(r, j, r->waiting, &r->nwaiting) ||
	    (defer && drain(r, r->queue, &r->nqueue, r->waiting, &r->nwaiting)))
		return perm_over(r, SPECRUN_LOST);
	return SPECRUN_OK;
}

enum specrun_status specrun_perm_poll(struct specrun *r)
{
	if (!r->in_perm)
		return SPECRUN_FAILED;
	if (!r->nwaiting && !r->nqueue)
		return SPECRUN_OK;
	if ((r->nwaiting = try_complete_all(r, r->waiting, r->nwaiting,
	                                    STEP_NONBLOCK | STEP_RETRY)) < 0 ||
	    (r->opts && r->opts->defer && drain(r, r->queue, &r->nqueue, r->waiting,
	                                        &r->nwaiting)))
		return perm_over(r, SPECRUN_LOST);
	return SPECRUN_OK;
}

enum specrun_status specrun_perm_end(struct specrun *r)
{
	const struct spec *sp = r->sp;

	if (!r->in_perm)
		return SPECRUN_FAILED;
	if (r->opts && r->opts->defer) {
		while (r->nwaiting) {
			int old = r->waiting[0], rc = try_complete(r, old, STEP_RETRY);

			if (rc < 0)
				return perm_over(r, SPECRUN_LOST);
			if (rc == 0)
				remove_waiting(r->waiting, &r->nwaiting, old);
			if (rc > 0 && !others_active(r, sp->steps[r->perm->steps[old].step].session))
				return stuck(r);
			if ((r->nwaiting = try_complete_all(r, r->waiting, r->nwaiting,
			                                    STEP_NONBLOCK | STEP_RETRY)) < 0 ||
			    drain(r, r->queue, &r->nqueue, r->waiting, &r->nwaiting))
				return perm_over(r, SPECRUN_LOST);
		}
	}
	if ((r->nwaiting = try_complete_all(r, r->waiting, r->nwaiting, STEP_RETRY)) < 0)
		return perm_over(r, SPECRUN_LOST);
	if (r->nwaiting) {
		note(r, r->errf, "failed to complete permutation due to mutually-blocking"
		     " steps");
		return perm_over(r, SPECRUN_FAILED);
	}
	for (int i = 0; i < sp->nsessions; i++) {
		if (!sp->sessions[i].teardown)
			continue;
		if (run_whole(r, r->sess[i], sp->sessions[i].teardown))
			return perm_over(r, SPECRUN_LOST);
		if (r->captured[0])
			note(r, r->errf, "teardown of session %s failed: %s", sp->sessions[i].name,
			     r->captured);
	}
	if (sp->teardown) {
		if (run_whole(r, r->ctl, sp->teardown))
			return perm_over(r, SPECRUN_LOST);
		if (r->captured[0])
			note(r, r->errf, "teardown failed: %s", r->captured);
	}
	return perm_over(r, SPECRUN_OK);
}

int specrun_active(const struct specrun *r, int session)
{
	return r->active[session];
}

int specrun_waiting(const struct specrun *r)
{
	return r->in_perm ? r->nwaiting + r->nqueue : 0;
}

const char *specrun_error(const struct specrun *r)
{
	return r->err;
}

static enum specrun_status run_perm(struct specrun *r, const struct spec_perm *pm)
{
	enum specrun_status st = specrun_perm_begin(r, pm, pm->nsteps, 1);

	for (int j = 0; j < pm->nsteps && st == SPECRUN_OK; j++)
		st = specrun_perm_step(r, j);
	return st == SPECRUN_OK ? specrun_perm_end(r) : st;
}

/* Whole words, case-insensitive: is WORD in SQL? */
static int has_word(const char *sql, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = sql; (p = strcasestr(p, word)); p += n) {
		int before = p > sql && (p[-1] == '_' || (unsigned)((p[-1] | 32) - 'a') < 26u);
		int after = p[n] == '_' || (unsigned)((p[n] | 32) - 'a') < 26u;

		if (!before && !after)
			return 1;
	}
	return 0;
}

int specrun_check(const struct spec *sp, const db_backend *db, char *err, size_t n)
{
	if (!db->sess_open) {
		snprintf(err, n, "the %s backend cannot run spec files", db->name);
		return -1;
	}
	for (int i = 0; i < sp->nsteps; i++)
		if (has_word(sp->steps[i].sql, "LISTEN") || has_word(sp->steps[i].sql, "NOTIFY")) {
			snprintf(err, n, "step \"%.60s\" uses LISTEN/NOTIFY, which racelab spec does"
			         " not support (it does not print notifications)", sp->steps[i].name);
			return -1;
		}
	return 0;
}

struct specrun *specrun_open(const struct spec *sp, const db_backend *db, db_area *area,
                             const struct specrun_opts *opts, FILE *out, FILE *errf,
                             char *err)
{
	struct specrun *r = calloc(1, sizeof *r);
	int n = sp->nsessions;

	if (!r) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	*r = (struct specrun){ .sp = sp, .db = db, .opts = opts, .out = out, .errf = errf,
	                       .cur_step = -1, .cur_pstep = -1 };
	r->sess = calloc((size_t)n, sizeof *r->sess);
	r->ctx = calloc((size_t)n + 1, sizeof *r->ctx);
	r->active = calloc((size_t)n, sizeof *r->active);
	r->notices = calloc((size_t)n, sizeof *r->notices);
	if (!r->sess || !r->ctx || !r->active || !r->notices) {
		snprintf(err, DB_ERRLEN, "out of memory");
		goto fail;
	}
	for (int i = 0; i < n; i++)
		r->active[i] = -1;
	for (int i = 0; i <= n; i++) {
		r->ctx[i] = (struct sink_ctx){ r, i - 1,
		                               { on_table, on_error, on_notice, &r->ctx[i] } };
	}
	fprintf(out, "Parsed test spec with %d sessions\n", n);
	if (!(r->ctl = db->sess_open(area, &r->ctx[0].sink, err)))
		goto fail;
	for (int i = 0; opts && opts->prelude && opts->prelude[i]; i++) {
		if (run_whole(r, r->ctl, opts->prelude[i])) {
			snprintf(err, DB_ERRLEN, "%s", r->err);
			goto fail;
		}
		if (r->captured[0]) {
			snprintf(err, DB_ERRLEN, "%s", r->captured);
			goto fail;
		}
	}
	for (int i = 0; i < n; i++)
		if (!(r->sess[i] = db->sess_open(area, &r->ctx[i + 1].sink, err)))
			goto fail;
	return r;
fail:
	specrun_close(r);
	return NULL;
}

void specrun_close(struct specrun *r)
{
	if (!r)
		return;
	if (r->in_perm)
		perm_over(r, SPECRUN_INTERRUPTED);
	fflush(r->out);
	for (int i = 0; r->sess && i < r->sp->nsessions; i++)
		if (r->sess[i])
			r->db->sess_close(r->sess[i]);
	if (r->ctl)
		r->db->sess_close(r->ctl);
	free(r->sess);
	free(r->ctx);
	free(r->active);
	free(r->notices);
	free(r);
}

enum specrun_status specrun(const struct spec *sp, const db_backend *db, db_area *area,
                            const struct specrun_opts *opts, FILE *out, FILE *errf,
                            char *err)
{
	struct specrun *r = specrun_open(sp, db, area, opts, out, errf, err);
	enum specrun_status st = SPECRUN_OK;

	if (!r) {
		fflush(out);
		return SPECRUN_LOST;
	}
	for (int p = 0; p < sp->nperms && st == SPECRUN_OK; p++) {
		if (opts && opts->perm >= 0 && p != opts->perm)
			continue;
		st = run_perm(r, &sp->perms[p]);
		if (st == SPECRUN_OK && stopping(r))
			st = SPECRUN_INTERRUPTED;
		if (st == SPECRUN_LOST)
			snprintf(err, DB_ERRLEN, "%s", r->err);
	}
	specrun_close(r);
	return st;
}
