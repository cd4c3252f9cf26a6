/*
 * compare.c: racelab compare [SCENARIO], the cost table (compare.h).
 *
 * DESIGN: each strategy runs alone, one after another, rather than all at once
 * as on the dashboard: on a machine with two cores, six strategies of four
 * threads each would share the cores, and the fastest fix would look slow
 * because of its neighbours.  Alone, committed/s is what that fix costs.  Each
 * run is an ordinary free run (run.h), unpaced, on a fresh database; the table
 * is drawn from the runs' results and from the scenario's declaration alone.
 */
#include "compare.h"

#include <stdlib.h>
#include <string.h>

#include "../core/report.h"

/* Without -n, a quarter of a demo's operations: the table takes seconds, not
 * minutes, on PostgreSQL's slowest strategy too. */
#define COMPARE_SHARE 4

static double per_s(int64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

void compare_table(FILE *out, const struct run_config *cfg, const struct run_result *res,
                   int n)
{
	const struct scenario *s = cfg->scenario;
	int name_w = 8;
	int refused = 0;

	for (int i = 0; i < n; i++) {
		if ((int)strlen(res[i].strategy->name) > name_w)
			name_w = (int)strlen(res[i].strategy->name);
		refused |= res[i].refused > 0;
	}
	fprintf(out, "racelab %s: compare: %s on %s, %d threads x %d %s per strategy,"
	        " think %d ms, seed %llu\n", RACELAB_VERSION, s->name, cfg->db->name,
	        cfg->threads, cfg->ops, scn_ops(s, cfg->ops), cfg->think_ms,
	        (unsigned long long)cfg->seed);
	fprintf(out, "Each strategy ran alone, at full speed, on a database of its own.\n\n");
	fprintf(out, "%-*s %-9s %9s %11s %10s %8s %10s %7s  %s\n", name_w, "strategy",
	        "invariant", "anomalies", "committed/s", "requests/s", "retries", "lock waits",
	        "failed", "failures by reason");
	for (int i = 0; i < n; i++) {
		const struct run_result *r = &res[i];
		const char *kept = !r->checked ? "n/a"
		                   : report_kept_invariant(r) ? "kept"
		                   : r->strategy->safe ? "BUG" : "broken";

		fprintf(out, "%-*s %-9s %9lld %11.0f %10.0f %8lld %10lld %7lld ", name_w,
		        r->strategy->name, kept, (long long)r->check.anomalies,
		        per_s(r->committed, r->elapsed_s), r->ops_per_s, (long long)r->retries,
		        (long long)r->lock_waits, (long long)r->errors);
		for (int k = 0; k < r->nfailures; k++)
			fprintf(out, "%s %s x %lld", k ? "," : "", r->failures[k].code,
			        (long long)r->failures[k].n);
		if (r->refused)
			fprintf(out, "%s refused x %lld", r->nfailures ? "," : "",
			        (long long)r->refused);
		if (!r->nfailures && !r->refused)
			fprintf(out, " -");
		fputc('\n', out);
	}
	fprintf(out, "\nbroken: the invariant failed, a %s (BUG, exit 1, if the fix is safe)\n",
	        s->words.anomaly);
	fprintf(out, "committed/s: %s; requests/s: every request, committed or not\n",
	        s->words.effects);
	fprintf(out, "failed: requests that ended in an error the user sees, a safe fix's cost\n");
	if (refused)
		fprintf(out, "refused: the database refused, the application answered"
		        " (\"already used\")\n");
	if (!cfg->db->row_locks)
		for (int i = 0; i < n; i++)
			if (res[i].strategy->db_lock_report)
				fprintf(out, "%s on %s: %s.\n", res[i].strategy->name, cfg->db->title,
				        res[i].strategy->db_lock_report);
}

/* Run one strategy of CFG alone; *RES gets its result.  Returns RUN_OK, or why
 * not, with a message on stderr. */
static enum run_status run_one(const struct run_config *cfg, const struct compare_host *host,
                               struct run_result *res)
{
	enum run_status st;
	char err[DB_ERRLEN];
	struct run *r = run_new(cfg, err, &st);

	if (!r) {
		fprintf(stderr, "racelab: %s\n", err);
		return st;
	}
	host->set_current(r);
	st = run_to_end(r, NULL, NULL);
	host->set_current(NULL);
	*res = *run_result(r, 0);
	if (st != RUN_OK)
		fprintf(stderr, "racelab: %s\n", run_error(r) ? run_error(r) : "internal error");
	run_free(r);
	return st;
}

int compare_run(const struct cli *cli, const struct compare_host *host, FILE *out)
{
	const struct scenario *s = cli->scenario;
	struct run_config cfg = { 0 };
	struct run_result res[SCN_STRATEGIES];
	struct report rep = { 0 };
	int n = 0, status;

	cfg.scenario = s;
	cfg.db = cli->db;
	cfg.where = cli->where;
	cfg.threads = cli->threads;
	cfg.ops = cli->ops ? cli->ops : (s->default_ops + COMPARE_SHARE - 1) / COMPARE_SHARE;
	cfg.think_ms = cli->think_ms >= 0 ? cli->think_ms : s->default_think_ms;
	cfg.seed = cli->seed;
	cfg.latency_us = cli->nlatencies ? cli->latencies[0] * 1000 : 0;
	cfg.procs = cli->procs;
	cfg.nstrategies = 1;
	for (int i = 0; i < cli->nstrategies && !host->interrupted(); i++) {
		enum run_status st;

		cfg.strategies[0] = cli->strategies[i];
		st = run_one(&cfg, host, &res[n]);
		if (st == RUN_UNAVAILABLE)
			return EX_UNAVAILABLE;
		if (st != RUN_OK)
			return EX_SOFTWARE;
		n++;
	}
	if (host->interrupted()) {
		fprintf(stderr, "racelab: interrupted; the databases were cleaned up\n");
		return EX_INTERRUPTED;
	}
	/* The report of all of them, as if one run: the same scenario, backend,
	 * threads, operations and seed. */
	memcpy(cfg.strategies, cli->strategies, sizeof cfg.strategies);
	cfg.nstrategies = n;
	rep.cfg = &cfg;
	rep.nresults = n;
	for (int i = 0; i < n; i++)
		rep.results[i] = &res[i];
	if (cli->output == OUT_JSON)
		report_json(out, &rep);
	else
		compare_table(out, &cfg, res, n);
	fflush(out);
	status = report_status(&rep) ? EX_ANOMALY : 0;
	return status;
}
