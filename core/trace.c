/*
 * trace.c: trace lines from events; see trace.h.
 */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int trace_init(struct trace *t, const char *const *names, int nstrategies, int nthreads,
               trace_out out, void *arg)
{
	t->names = names;
	t->prefix = nstrategies > 1;
	t->nthreads = nthreads;
	t->out = out;
	t->arg = arg;
	t->pending = calloc((size_t)nstrategies * (size_t)nthreads, sizeof *t->pending);
	return t->pending ? 0 : -1;
}

void trace_done(struct trace *t)
{
	free(t->pending);
	t->pending = NULL;
}

void trace_lines_add(const char *line, void *arg)
{
	struct trace_lines *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **more = realloc(l->v, cap * sizeof *more);

		if (!more)
			return;
		l->v = more;
		l->cap = cap;
	}
	if ((l->v[l->n] = strdup(line)))
		l->n++;
}

void trace_lines_clear(struct trace_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* S as an SQL string literal in BUF: quoted, a quote inside written twice. */
static void sql_literal(char *buf, size_t n, const char *s)
{
	size_t k = 0;

	buf[k++] = '\'';
	for (; *s && k + 3 < n; s++) {
		if (*s == '\'')
			buf[k++] = '\'';
		buf[k++] = *s;
	}
	buf[k++] = '\'';
	buf[k] = '\0';
}

void trace_render_sql(const char *sql, const struct ev_arg *args, int nargs, char *buf,
                      size_t n)
{
	size_t len = 0;

	if (!n)
		return;
	for (const char *p = sql; *p && len + 1 < n; p++) {
		if (*p == '$' && p[1] >= '1' && p[1] <= '9') {
			int i = (int)strtol(p + 1, (char **)&p, 10) - 1;
			char val[64];

			p--;
			if (i < nargs && args[i].type == DB_INT)
				snprintf(val, sizeof val, "%lld", (long long)args[i].i);
			else if (i < nargs && args[i].type == DB_TEXT)
				sql_literal(val, sizeof val, args[i].s);
			else
				snprintf(val, sizeof val, "NULL");
			len += (size_t)snprintf(buf + len, n - len, "%s", val);
			if (len >= n)
				len = n - 1;
		} else {
			buf[len++] = *p;
		}
	}
	buf[len] = '\0';
}

static void emit_line(struct trace *t, const struct event *e, const char *fmt,
                      const char *a, const char *b)
{
	char line[TRACE_LINE * 2];
	int k = 0;

	if (t->prefix)
		k = snprintf(line, sizeof line, "[%s] ", t->names[e->strategy]);
	snprintf(line + k, sizeof line - (size_t)k, fmt, a, b);
	t->out(line, t->arg);
}

static const char *result_text(const struct event *e, char *buf, size_t n)
{
	if (e->has_value)
		snprintf(buf, n, " -> %lld", (long long)e->value);
	else
		buf[0] = '\0';
	return buf;
}

void trace_event(const struct event *e, void *arg)
{
	struct trace *t = arg;
	struct trace_pending *p = &t->pending[e->strategy * t->nthreads + e->thread - 1];
	char sql[TRACE_LINE], res[64], head[TRACE_LINE];

	switch (e->kind) {
	case EV_STEP:
		trace_render_sql(e->sql, e->args, e->nargs, sql, sizeof sql);
		snprintf(p->head, sizeof p->head, "step t%d.%.20s: %.480s", e->thread, e->step, sql);
		p->active = 1;
		p->waited = 0;
		break;
	case EV_WAIT:
		if (p->active && !p->waited) {
			emit_line(t, e, "%s <waiting ...>", p->head, "");
			p->waited = 1;
		}
		break;
	case EV_DONE:
		result_text(e, res, sizeof res);
		if (p->waited) {
			snprintf(head, sizeof head, "step t%d.%s:", e->thread, e->step);
			emit_line(t, e, "%s <... completed>%s", head, res);
		} else {
			emit_line(t, e, "%s%s", p->head, res);
		}
		p->active = 0;
		break;
	case EV_FAIL:
		snprintf(head, sizeof head, "step t%d.%s:", e->thread, e->step);
		if (p->waited)
			emit_line(t, e, "%s <... completed> ERROR: %s", head, e->text);
		else
			emit_line(t, e, "%s ERROR: %s", p->head, e->text);
		p->active = 0;
		break;
	case EV_SKIP:
		snprintf(head, sizeof head, "step t%d.%s:", e->thread, e->step);
		emit_line(t, e, "%s skipped%s", head, "");
		break;
	case EV_RETRY:
		snprintf(head, sizeof head, "t%d", e->thread);
		emit_line(t, e, "retry %s: the operation starts again%s", head, "");
		break;
	case EV_DEADLOCK:
		emit_line(t, e, "deadlock: every remaining step waits: %s%s", e->text, "");
		break;
	default:
		break;
	}
}
