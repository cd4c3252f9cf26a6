/*
 * sweep.c: a latency sweep (sweep.h).
 *
 * The article's race is between application servers and a database some way off.
 * Every statement's round trip widens the window between a naive read and its
 * write, and stretches how long a lock is held (the lock is taken at the server,
 * and released only after the COMMIT's request has travelled there).  So as the
 * latency grows, naive loses more and locked serialises on the network: a sweep
 * shows both, with numbers from this machine.
 */
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/finish.h"
#include "../core/report.h"

#define BAR 30                  /* columns of the longest bar */

struct point {
	int latency_ms;
	struct run_result res[SCN_STRATEGIES];
};

/* One run at one latency; its results copied into P.  Returns RUN_OK or why not. */
static enum run_status one(struct run_config *cfg, struct point *p,
                           void (*watch)(struct run *), char *err)
{
	enum run_status st;
	struct run *r = run_new(cfg, err, &st);
	struct finish_opts quiet = { .quiet = 1 };

	if (!r)
		return st;
	watch(r);
	st = run_to_end(r, NULL, NULL);
	watch(NULL);
	for (int i = 0; i < cfg->nstrategies; i++)
		p->res[i] = *run_result(r, i);
	if (st != RUN_OK && run_error(r))
		snprintf(err, DB_ERRLEN, "%s", run_error(r));
	run_finish(r, st, &quiet);
	return st;
}

/* A bar of V against MAX on a log scale, so 50 and 50 000 ops/s both show. */
static void bar(char *buf, double v, double max)
{
	int n = v >= 1 && max > 1 ? (int)(BAR * log10(v + 1) / log10(max + 1) + 0.5) : 0;

	memset(buf, '#', (size_t)n);
	buf[n] = '\0';
}

static void print_text(const struct run_config *cfg, const struct point *pts, int n)
{
	const struct scenario *s = cfg->scenario;
	double max = 1;
	char b[BAR + 1];

	printf("racelab %s: %s: latency sweep, backend %s, %d threads x %d %s per strategy,"
	       " think %d ms, seed %llu\n\n", RACELAB_VERSION, s->name, cfg->db->name,
	       cfg->threads, cfg->ops, scn_ops(s, cfg->ops), cfg->think_ms,
	       (unsigned long long)cfg->seed);
	printf("%-8s", "latency");
	for (int i = 0; i < cfg->nstrategies; i++)
		printf(" %22s", pts[0].res[i].strategy->name);
	printf("\n");
	for (int k = 0; k < n; k++) {
		printf("%5d ms ", pts[k].latency_ms);
		for (int i = 0; i < cfg->nstrategies; i++) {
			const struct run_result *r = &pts[k].res[i];
			char cell[64];

			if (r->check.anomalies > 0)
				snprintf(cell, sizeof cell, "%.0f/s, %lld/%lld %s", r->ops_per_s,
				         (long long)r->check.anomalies, (long long)r->check.expected,
				         r->strategy->safe ? "BUG" : "lost");
			else
				snprintf(cell, sizeof cell, "%.0f/s, none lost", r->ops_per_s);
			printf(" %22s", cell);
			if (r->ops_per_s > max)
				max = r->ops_per_s;
		}
		printf("\n");
	}
	printf("\nthroughput (ops/s, log scale)\n");
	for (int i = 0; i < cfg->nstrategies; i++)
		for (int k = 0; k < n; k++) {
			const struct run_result *r = &pts[k].res[i];

			bar(b, r->ops_per_s, max);
			printf("%-8s %5d ms |%-*s %.0f\n", k ? "" : r->strategy->name,
			       pts[k].latency_ms, BAR, b, r->ops_per_s);
		}
	printf("\n%s (%% of what the invariant expects)\n", s->words.anomalies);
	for (int i = 0; i < cfg->nstrategies; i++) {
		if (pts[0].res[i].strategy->safe)
			continue;
		for (int k = 0; k < n; k++) {
			const struct run_result *r = &pts[k].res[i];
			double pct = r->check.expected > 0
			             ? 100.0 * (double)r->check.anomalies / (double)r->check.expected : 0;
			int w = (int)(BAR * pct / 100 + 0.5);

			memset(b, '#', (size_t)(w > BAR ? BAR : w < 0 ? 0 : w));
			b[w > BAR ? BAR : w < 0 ? 0 : w] = '\0';
			printf("%-8s %5d ms |%-*s %.1f%%\n", k ? "" : r->strategy->name,
			       pts[k].latency_ms, BAR, b, pct);
		}
	}
}

static void print_json(const struct run_config *cfg, const struct point *pts, int n)
{
	printf("{\"racelab\": \"%s\", \"scenario\": \"%s\", \"backend\": \"%s\", \"threads\": %d,"
	       " \"ops_per_thread\": %d, \"think_ms\": %d, \"seed\": %llu,\n \"sweep\": [",
	       RACELAB_VERSION, cfg->scenario->name, cfg->db->name, cfg->threads, cfg->ops,
	       cfg->think_ms, (unsigned long long)cfg->seed);
	for (int k = 0; k < n; k++) {
		printf("%s\n  {\"latency_ms\": %d, \"strategies\": [", k ? "," : "",
		       pts[k].latency_ms);
		for (int i = 0; i < cfg->nstrategies; i++) {
			const struct run_result *r = &pts[k].res[i];

			printf("%s{\"strategy\": \"%s\", \"safe\": %s, \"committed\": %lld,"
			       " \"expected\": %lld, \"observed\": %lld, \"anomalies\": %lld,"
			       " \"failed\": %lld, \"retries\": %lld, \"lock_waits\": %lld,"
			       " \"ops_per_s\": %.1f}", i ? ", " : "", r->strategy->name,
			       r->strategy->safe ? "true" : "false", (long long)r->committed,
			       (long long)r->check.expected, (long long)r->check.observed,
			       (long long)r->check.anomalies, (long long)r->errors,
			       (long long)r->retries, (long long)r->lock_waits, r->ops_per_s);
		}
		printf("]}");
	}
	printf("\n ]}\n");
}

int sweep_run(const struct cli *cli, struct run_config *cfg, void (*watch)(struct run *),
              int (*interrupted)(void))
{
	struct point pts[CLI_LATENCIES];
	char err[DB_ERRLEN];
	int status = 0;

	if (!cli->ops)
		cfg->ops = SWEEP_OPS;
	for (int k = 0; k < cli->nlatencies; k++) {
		enum run_status st;

		memset(&pts[k], 0, sizeof pts[k]);
		pts[k].latency_ms = cli->latencies[k];
		cfg->latency_us = cli->latencies[k] * 1000;
		err[0] = '\0';
		st = one(cfg, &pts[k], watch, err);
		if (interrupted()) {
			fprintf(stderr, "racelab: interrupted; the databases were cleaned up\n");
			return EX_INTERRUPTED;
		}
		if (st != RUN_OK) {
			fprintf(stderr, "racelab: %s\n", err[0] ? err : "internal error");
			return st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
		}
		for (int i = 0; i < cfg->nstrategies; i++)
			if (pts[k].res[i].strategy->safe && !report_kept_invariant(&pts[k].res[i]))
				status = EX_ANOMALY;
	}
	if (cli->output == OUT_JSON)
		print_json(cfg, pts, cli->nlatencies);
	else
		print_text(cfg, pts, cli->nlatencies);
	fflush(stdout);
	return status;
}
