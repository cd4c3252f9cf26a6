/*
 * trace.h: turning the event stream into trace lines, in the isolation tester's
 * style:
 *
 *     step t1.read: SELECT n FROM counters WHERE id = 1 -> 0
 *     step t2.lock: SELECT n FROM counters WHERE id = 1 FOR UPDATE <waiting ...>
 *     step t1.commit: COMMIT
 *     step t2.lock: <... completed> -> 1
 *
 * A step's line is written when it completes, or when it starts to wait, so lines
 * come in the order steps completed.
 */
#ifndef RACELAB_TRACE_H
#define RACELAB_TRACE_H

#include <stddef.h>

#include "events.h"

#define TRACE_LINE 512

/* Called with each finished line (no newline). */
typedef void (*trace_out)(const char *line, void *arg);

struct trace_pending {
	int active;             /* a step has started and not yet been written */
	int waited;             /* its <waiting ...> line was written */
	char head[TRACE_LINE];  /* "step t1.read: SQL" */
};

struct trace {
	const char *const *names;       /* strategy names by event.strategy */
	int prefix;                     /* prefix lines with the strategy: several selected */
	int nthreads;
	struct trace_pending *pending;  /* [strategy][thread] */
	trace_out out;
	void *arg;
};

int trace_init(struct trace *t, const char *const *names, int nstrategies, int nthreads,
               trace_out out, void *arg);
void trace_done(struct trace *t);
/* Feed one event (an ev_fn). */
void trace_event(const struct event *e, void *trace);

/* Trace lines kept for later: a scheduled run's JSON report, the trace printed
 * after the dashboard closes. */
struct trace_lines {
	char **v;
	size_t n, cap;
};

/* Append a copy of LINE to the struct trace_lines ARG (a trace_out).  Out of
 * memory, the list ends short and the run goes on. */
void trace_lines_add(const char *line, void *arg);
void trace_lines_clear(struct trace_lines *l);

/* SQL with its bound values written in as SQL literals, for people to read and
 * for a spec file to run: $1 -> 'C0001', a quote inside written twice. */
void trace_render_sql(const char *sql, const struct ev_arg *args, int nargs, char *buf,
                      size_t n);

#endif
