/*
 * report.c: the text and JSON reports.  What a scenario adds to them (its nouns,
 * its own figures, a strategy's note for a backend) comes from its declaration.
 */
#include "report.h"

#include <string.h>

#include "status.h"

int report_kept_invariant(const struct run_result *res)
{
	/* What the database holds is what the invariant demands (the sales committed,
	 * one use per resource, a conserved total). */
	return res->checked && res->check.anomalies == 0 &&
	       res->check.observed == res->check.expected;
}

int report_status(const struct report *r)
{
	for (int i = 0; i < r->nresults; i++)
		if (r->results[i]->strategy->safe && !report_kept_invariant(r->results[i]))
			return 1;
	return 0;
}

int report_result(const struct report *r, char *buf, size_t n)
{
	const struct run_result *res = r->results[0];

	if (!r->nresults || !res->checked)
		return -1;
	r->cfg->scenario->result(&res->check, res->committed, buf, n);
	return 0;
}

/* A column of the scenario's own figures: as wide as it says, and its heading. */
static int extra_width(const struct scn_extra *x)
{
	int n = (int)strlen(x->column), w = x->width ? x->width : 8;

	return n > w ? n : w;
}

void report_text(FILE *f, const struct report *r)
{
	const struct run_config *cfg = r->cfg;
	const struct scenario *s = cfg->scenario;
	int name_w = 8;

	fprintf(f, "racelab %s: %s: %s\n", RACELAB_VERSION, s->name, s->title);
	fprintf(f, "backend %s, %d %s x %d %s per strategy, think %d ms, seed %llu\n",
	        cfg->db->name, cfg->threads, cfg->procs ? "processes" : "threads", cfg->ops,
	        scn_ops(s, cfg->ops), cfg->think_ms, (unsigned long long)cfg->seed);
	if (r->schedule)
		fprintf(f, "schedule: %s\n", r->schedule);
	if (r->kept)
		fprintf(f, "databases kept in %s\n", r->site);
	if (r->interrupted)
		fprintf(f, "interrupted: the counts below are for what ran\n");
	if (r->paced)
		fprintf(f, "paced: every step waited about %d ms, so ops/s measures the pace\n",
		        r->paced);
	for (int i = 0; i < r->nresults; i++)   /* as wide as the longest name */
		if ((int)strlen(r->results[i]->strategy->name) > name_w)
			name_w = (int)strlen(r->results[i]->strategy->name);
	fprintf(f, "\n%-*s %9s %9s %9s %9s %8s %10s %7s", name_w, "strategy", "expected", "observed",
	        "anomalies", "ops/s", "retries", "lock waits", "failed");
	for (int k = 0; k < SCN_EXTRAS && s->extras[k].json; k++)
		if (s->extras[k].column)
			fprintf(f, " %*s", extra_width(&s->extras[k]), s->extras[k].column);
	fputc('\n', f);
	for (int i = 0; i < r->nresults; i++) {
		const struct run_result *res = r->results[i];

		fprintf(f, "%-*s %9lld %9lld %9lld %9.0f %8lld %10lld %7lld", name_w, res->strategy->name,
		        (long long)res->check.expected, (long long)res->check.observed,
		        (long long)res->check.anomalies, res->ops_per_s,
		        (long long)res->retries, (long long)res->lock_waits,
		        (long long)res->errors);
		for (int k = 0; k < SCN_EXTRAS && s->extras[k].json; k++)
			if (s->extras[k].column)
				fprintf(f, " %*lld", extra_width(&s->extras[k]),
				        (long long)res->check.extra[k]);
		fputc('\n', f);
	}
	fputc('\n', f);
	for (int i = 0; i < r->nresults; i++) {
		const struct run_result *res = r->results[i];
		const char *mark = !res->checked ? "n/a"
		                   : report_kept_invariant(res) ? "ok"
		                   : res->strategy->safe ? "BUG" : "race";

		/* (the names of the first three kept their 7 columns here) */
		fprintf(f, "%-*s %-4s %s\n", name_w > 8 ? name_w : 7, res->strategy->name, mark,
		        res->verdict);
		if (res->errors) {      /* the cost of a fix, apart from its anomalies */
			fprintf(f, "%-*s %lld failed:", name_w + 4, "", (long long)res->errors);
			for (int k = 0; k < res->nfailures; k++)
				fprintf(f, "%s %s x %lld", k ? "," : "", res->failures[k].code,
				        (long long)res->failures[k].n);
			fputc('\n', f);
		}
		if (res->refused)       /* handled, so not failed: but a cost all the same */
			fprintf(f, "%-*s %lld refused by the database and answered by the"
			        " application\n", name_w + 4, "", (long long)res->refused);
	}
	if (!cfg->db->row_locks)
		for (int i = 0; i < r->nresults; i++)
			if (r->results[i]->strategy->db_lock_report)
				fprintf(f, "\n%s on %s: %s.\n", r->results[i]->strategy->name,
				        cfg->db->title, r->results[i]->strategy->db_lock_report);
}

void report_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void report_json(FILE *f, const struct report *r)
{
	const struct run_config *cfg = r->cfg;

	fprintf(f, "{\"racelab\": \"%s\", \"scenario\": \"%s\", \"backend\": \"%s\","
	        " \"threads\": %d,\n \"ops_per_thread\": %d, \"think_ms\": %d, \"seed\": %llu,"
	        " \"interrupted\": %s, \"procs\": %s,\n \"strategies\": [",
	        RACELAB_VERSION, cfg->scenario->name, cfg->db->name, cfg->threads, cfg->ops,
	        cfg->think_ms, (unsigned long long)cfg->seed,
	        r->interrupted ? "true" : "false", cfg->procs ? "true" : "false");
	for (int i = 0; i < r->nresults; i++) {
		const struct run_result *res = r->results[i];

		fprintf(f, "%s\n  {\"strategy\": \"%s\", \"safe\": %s, \"attempted\": %lld,"
		        " \"committed\": %lld, \"expected\": %lld,\n   \"observed\": %lld,"
		        " \"anomalies\": %lld, \"retries\": %lld, \"lock_waits\": %lld,"
		        " \"errors\": %lld,\n   \"elapsed_s\": %.3f, \"ops_per_s\": %.1f,",
		        i ? "," : "", res->strategy->name, res->strategy->safe ? "true" : "false",
		        (long long)res->attempted, (long long)res->committed,
		        (long long)res->check.expected, (long long)res->check.observed,
		        (long long)res->check.anomalies, (long long)res->retries,
		        (long long)res->lock_waits, (long long)res->errors, res->elapsed_s,
		        res->ops_per_s);
		fprintf(f, " \"failed\": %lld, \"failures\": {", (long long)res->errors);
		for (int k = 0; k < res->nfailures; k++) {
			fprintf(f, "%s", k ? ", " : "");
			report_json_string(f, res->failures[k].code);
			fprintf(f, ": %lld", (long long)res->failures[k].n);
		}
		fprintf(f, "}, \"refused\": %lld,", (long long)res->refused);
		for (int k = 0; k < SCN_EXTRAS && cfg->scenario->extras[k].json; k++)
			fprintf(f, " \"%s\": %lld,", cfg->scenario->extras[k].json,
			        (long long)res->check.extra[k]);
		if (res->paced)
			fprintf(f, " \"paced\": true,");
		fprintf(f, "\n   \"invariant_kept\": %s, \"verdict\": ",
		        report_kept_invariant(res) ? "true" : "false");
		report_json_string(f, res->verdict);
		fputc('}', f);
	}
	fprintf(f, "\n ]");
	if (r->schedule) {
		fprintf(f, ",\n \"schedule\": ");
		report_json_string(f, r->schedule);
		fprintf(f, ",\n \"trace\": [");
		for (size_t i = 0; i < r->ntrace; i++) {
			fprintf(f, "%s\n  ", i ? "," : "");
			report_json_string(f, r->trace[i]);
		}
		fprintf(f, "%s],\n \"result\": ", r->ntrace ? "\n " : "");
		if (r->result)
			report_json_string(f, r->result);
		else
			fprintf(f, "null");
	}
	fprintf(f, "}\n");
}
