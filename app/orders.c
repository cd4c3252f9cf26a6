/*
 * orders.c: every interleaving (orders.h).
 *
 * A race that shows up "usually" proves little either way; all orders prove it.
 * Two threads of naive's read and write have six orders, and four lose a sale:
 * the proof that naive is wrong.  The safe strategies go through every order
 * too, on a real database each time, and none loses: the proof, for these
 * threads and steps, that they are right.
 *
 * An order is a listed schedule (sched.h): a step that blocks on a lock is
 * followed the way the server resolves it, and a token for a waiting thread is
 * taken as soon as it can go, so different orders can run the same way.  Each
 * line says which order ran how; runs that went the same way are counted once as
 * "distinct executions".
 */
#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/finish.h"
#include "../core/report.h"
#include "../core/trace.h"

long orders_count(int threads, int nsteps)
{
	/* (threads * nsteps)! / (nsteps!)^threads, built up one thread at a time:
	 * C(k * nsteps, nsteps) ways to place each further thread's steps. */
	long total = 1;

	for (int t = 1; t < threads; t++) {
		long c = 1;
		int n = (t + 1) * nsteps;

		for (int k = 1; k <= nsteps; k++) {
			c = c * (n - nsteps + k) / k;
			if (c > ORDERS_MAX * 10L)
				return ORDERS_MAX * 10L;
		}
		total *= c;
		if (total > ORDERS_MAX * 10L)
			return ORDERS_MAX * 10L;
	}
	return total;
}

struct order {
	char *schedule;         /* "t1.read t2.read ..." */
	int played;             /* it ran to its end (on the dashboard, not every one does) */
	char *trace;            /* what ran, as one string */
	char result[256];
	int64_t anomalies;
	int same_as;            /* 1-based order that ran the same way; 0: none */
};

struct strategy_orders {
	int strategy;
	struct order *orders;
	long n;
	int64_t failing, distinct, played;
};

/* Build every order into OUT: sequences of thread numbers in which thread t
 * appears NSTEPS times, in lexicographic order. */
static void enumerate(int threads, int nsteps, int *left, int *seq, int pos, int len,
                      const char *const *names, struct strategy_orders *so)
{
	if (pos == len) {
		int taken[ORDERS_THREADS + 1] = { 0 };
		size_t longest = 0, size;
		char *s;

		for (int i = 0; i < nsteps; i++)
			if (strlen(names[i]) > longest)
				longest = strlen(names[i]);
		size = (longest + 8) * (size_t)len + 1;    /* "tN.name " each */
		if (!(s = malloc(size)))
			return;
		s[0] = '\0';
		for (int i = 0; i < len; i++) {
			int t = seq[i];

			snprintf(s + strlen(s), size - strlen(s), "%st%d.%s", i ? " " : "", t,
			         names[taken[t]++]);
		}
		so->orders[so->n++].schedule = s;
		return;
	}
	for (int t = 1; t <= threads; t++) {
		if (!left[t])
			continue;
		left[t]--;
		seq[pos] = t;
		enumerate(threads, nsteps, left, seq, pos + 1, len, names, so);
		left[t]++;
	}
}

struct collect {
	char *buf;
	size_t len, cap;
};

static void collect_line(const char *line, void *arg)
{
	struct collect *c = arg;
	size_t n = strlen(line);

	if (c->len + n + 2 > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		char *more;

		while (cap < c->len + n + 2)
			cap *= 2;
		if (!(more = realloc(c->buf, cap)))
			return;
		c->buf = more;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, line, n);
	c->len += n;
	c->buf[c->len++] = '\n';
	c->buf[c->len] = '\0';
}

/* Order O ran to its end as run R (waited for), its trace TRACE (malloc'd, or
 * NULL: out of memory; O takes it): what it showed. */
static void order_ran(struct order *o, struct run *r, char *trace)
{
	struct report rep = { .cfg = run_config(r), .nresults = 1 };

	rep.results[0] = run_result(r, 0);
	if (report_result(&rep, o->result, sizeof o->result) != 0)
		snprintf(o->result, sizeof o->result, "not checked");
	o->anomalies = rep.results[0]->check.anomalies;
	free(o->trace);
	o->trace = trace ? trace : strdup("");
	o->played = 1;
}

/* Run one order; fill O.  Returns RUN_OK or why not (ERR says). */
static enum run_status run_order(struct run_config *cfg, struct order *o,
                                 void (*watch)(struct run *), char *err)
{
	const char *names[1] = { cfg->scenario->strategies[cfg->strategies[0]].name };
	struct collect lines = { 0 };
	struct finish_opts quiet = { .quiet = 1 };
	struct trace trace;
	enum run_status st;
	struct run *r;

	cfg->schedule = o->schedule;
	if (!(r = run_new(cfg, err, &st)))
		return st;
	if (trace_init(&trace, names, 1, cfg->threads, collect_line, &lines) != 0) {
		run_free(r);
		snprintf(err, DB_ERRLEN, "out of memory");
		return RUN_INTERNAL;
	}
	watch(r);
	st = run_to_end(r, trace_event, &trace);
	watch(NULL);
	order_ran(o, r, lines.buf);
	if (st != RUN_OK && run_error(r))
		snprintf(err, DB_ERRLEN, "%s", run_error(r));
	trace_done(&trace);
	run_finish(r, st, &quiet);
	return st;
}

static void print_json_string(const char *s)
{
	report_json_string(stdout, s);
}

/* The dashboard's orders, and where what each showed goes. */
struct dash_orders {
	struct strategy_orders *all;
	int nsel;
	struct viz_order *v;            /* the orders of every strategy, in turn */
	int *of;                        /* ... and which strategy_orders each is of */
	long *k;                        /* ... its index there */
};

static void dash_played(void *arg, int i, struct run *r, const struct trace_lines *trace)
{
	struct dash_orders *d = arg;
	struct collect lines = { 0 };

	for (size_t j = 0; j < trace->n; j++)
		collect_line(trace->v[j], &lines);
	order_ran(&d->all[d->of[i]].orders[d->k[i]], r, lines.buf);
}

/* Play the orders on the dashboard; fill what ALL shows of those played.
 * Returns the dashboard's status (0, or 69, 70, 130). */
static int on_dashboard(struct strategy_orders *all, int nsel, struct run_config *cfg,
                        const struct viz_host *host)
{
	struct dash_orders d = { .all = all, .nsel = nsel };
	struct viz_orders orders = { .played = dash_played, .arg = &d };
	struct viz_host h = *host;
	long total = 0;
	int n = 0, status;

	for (int i = 0; i < nsel; i++)
		total += all[i].n;
	d.v = calloc((size_t)total, sizeof *d.v);
	d.of = calloc((size_t)total, sizeof *d.of);
	d.k = calloc((size_t)total, sizeof *d.k);
	if (!d.v || !d.of || !d.k) {
		free(d.v);
		free(d.of);
		free(d.k);
		fprintf(stderr, "racelab: out of memory\n");
		return EX_SOFTWARE;
	}
	for (int i = 0; i < nsel; i++)
		for (long k = 0; k < all[i].n; k++, n++) {
			d.v[n] = (struct viz_order){ .schedule = all[i].orders[k].schedule,
			                             .strategy = all[i].strategy,
			                             .index = (int)k + 1, .count = (int)all[i].n };
			d.of[n] = i;
			d.k[n] = k;
		}
	orders.v = d.v;
	orders.n = n;
	h.orders = &orders;
	h.threads_given = h.ops_given = 1;      /* the orders fix both */
	status = viz_run(cfg, &h);
	free(d.v);
	free(d.of);
	free(d.k);
	return status;
}

int orders_run(const struct cli *cli, struct run_config *cfg, void (*watch)(struct run *),
               int (*interrupted)(void), const struct viz_host *dashboard)
{
	struct strategy_orders all[SCN_STRATEGIES] = { { 0 } };
	const struct scenario *scn = cfg->scenario;
	int nsel = cfg->nstrategies, status = 0, json = cli->output == OUT_JSON;
	int selected[SCN_STRATEGIES], partial = 0, any = 0;
	char err[DB_ERRLEN];

	memcpy(selected, cfg->strategies, sizeof selected);
	cfg->ops = 1;
	cfg->think_ms = 0;
	cfg->nstrategies = 1;
	for (int i = 0; i < nsel; i++) {
		const struct scn_strategy *st = &scn->strategies[selected[i]];
		const char *names[SCN_STEPS + 1];
		int nsteps, left[ORDERS_THREADS + 1], seq[ORDERS_THREADS * SCN_STEPS];
		long total;

		scn_step_names(st, names);
		for (nsteps = 0; names[nsteps]; nsteps++)
			;
		total = orders_count(cfg->threads, nsteps);
		all[i].strategy = selected[i];
		if (!(all[i].orders = calloc((size_t)total, sizeof *all[i].orders))) {
			fprintf(stderr, "racelab: out of memory\n");
			status = EX_SOFTWARE;
			goto out;
		}
		for (int t = 1; t <= cfg->threads; t++)
			left[t] = nsteps;
		enumerate(cfg->threads, nsteps, left, seq, 0, cfg->threads * nsteps, names, &all[i]);
	}
	if (dashboard) {
		/* Whatever was played is printed, even after Ctrl-C: the scrollback
		 * keeps what the screen showed. */
		status = on_dashboard(all, nsel, cfg, dashboard);
	} else {
		for (int i = 0; i < nsel; i++) {
			cfg->strategies[0] = selected[i];
			for (long k = 0; k < all[i].n; k++) {
				struct order *o = &all[i].orders[k];
				enum run_status rs = run_order(cfg, o, watch, err);

				if (interrupted()) {
					fprintf(stderr, "racelab: interrupted; the databases were cleaned"
					        " up\n");
					status = EX_INTERRUPTED;
					goto out;
				}
				if (rs != RUN_OK) {
					fprintf(stderr, "racelab: order %s: %s\n", o->schedule, err);
					status = rs == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
					goto out;
				}
			}
		}
	}
	for (int i = 0; i < nsel; i++) {
		for (long k = 0; k < all[i].n; k++) {
			struct order *o = &all[i].orders[k];

			if (!o->played)
				continue;
			for (long j = 0; j < k && !o->same_as; j++)
				if (all[i].orders[j].played && !strcmp(all[i].orders[j].trace, o->trace))
					o->same_as = (int)j + 1;
			all[i].failing += o->anomalies > 0;
			all[i].distinct += !o->same_as;
			all[i].played++;
		}
		partial |= all[i].played < all[i].n;
		any |= all[i].played > 0;
		if (scn->strategies[all[i].strategy].safe && all[i].failing && !status)
			status = EX_ANOMALY;
	}
	if (!any && status > EX_ANOMALY)
		goto out;               /* the dashboard could not play one: it said why */

	if (json) {
		printf("{\"racelab\": \"%s\", \"scenario\": \"%s\", \"backend\": \"%s\","
		       " \"threads\": %d, \"schedule\": \"all\",\n \"strategies\": [", RACELAB_VERSION,
		       scn->name, cfg->db->name, cfg->threads);
		for (int i = 0; i < nsel; i++) {
			printf("%s\n  {\"strategy\": \"%s\", \"safe\": %s, \"orders\": %ld,"
			       " \"failing\": %lld, \"distinct\": %lld, \"runs\": [", i ? "," : "",
			       scn->strategies[all[i].strategy].name,
			       scn->strategies[all[i].strategy].safe ? "true" : "false", all[i].n,
			       (long long)all[i].failing, (long long)all[i].distinct);
			for (long k = 0; k < all[i].n; k++) {
				const struct order *o = &all[i].orders[k];

				printf("%s\n   {\"order\": ", k ? "," : "");
				print_json_string(o->schedule);
				printf(", \"anomalies\": %lld, \"same_as\": %d, \"result\": ",
				       (long long)o->anomalies, o->same_as);
				print_json_string(o->result);
				printf("}");
			}
			printf("]}");
		}
		printf("\n ]}\n");
	} else {
		printf("racelab %s: %s: every order of %d threads' steps, backend %s, each on a"
		       " fresh database\n", RACELAB_VERSION, scn->name, cfg->threads, cfg->db->name);
		for (int i = 0; i < nsel; i++) {
			const char *name = scn->strategies[all[i].strategy].name;

			printf("\n");
			for (long k = 0; k < all[i].n; k++) {
				const struct order *o = &all[i].orders[k];

				if (!o->played)
					continue;
				printf("%-8s %4ld  %s  %s %s", name, k + 1, o->schedule,
				       o->anomalies > 0 ? "->" : "  ", o->result);
				if (o->same_as)
					printf("  (ran as order %d)", o->same_as);
				printf("\n");
			}
		}
		printf("\n");
		for (int i = 0; i < nsel; i++) {
			const char *name = scn->strategies[all[i].strategy].name;

			if (!all[i].played) {
				printf("%s: none of its %ld orders was played\n", name, all[i].n);
				continue;
			}
			printf("%s: %lld of %lld orders show a %s (%lld distinct executions)", name,
			       (long long)all[i].failing, (long long)all[i].played,
			       scn->words.anomaly, (long long)all[i].distinct);
			if (all[i].played < all[i].n)
				printf("; %lld of its %ld orders were not played",
				       (long long)(all[i].n - all[i].played), all[i].n);
			printf("\n");
		}
		if (partial)
			printf("(the dashboard closed before every order had played:"
			       " --no-ui runs them all)\n");
	}
out:
	for (int i = 0; i < nsel; i++) {
		for (long k = 0; k < all[i].n; k++) {
			free(all[i].orders[k].schedule);
			free(all[i].orders[k].trace);
		}
		free(all[i].orders);
	}
	fflush(stdout);
	return status;
}
