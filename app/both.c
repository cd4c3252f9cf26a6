/*
 * both.c: one schedule, two databases (both.h).
 *
 * The same eight steps of locked make the second thread wait on both backends,
 * but not at the same step: SQLite's BEGIN IMMEDIATE takes the whole database's
 * lock at begin, PostgreSQL's SELECT ... FOR UPDATE takes the row's at lock.  Side
 * by side, the difference is one glance: a row per step, a column per backend.
 */
#include "both.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/finish.h"
#include "../core/report.h"
#include "../core/trace.h"

#define STEPS_MAX 256           /* steps a side-by-side table shows */

struct side {
	const db_backend *db;
	struct trace_lines lines;
	char *report;           /* its report, as it would print alone */
	size_t size;
	int status;
};

/* What one trace line says of its step: "-> 0", "waits", "<... completed> -> 1". */
static void outcome(const char *line, char *token, size_t tn, char *what, size_t wn)
{
	const char *colon = strstr(line, ": "), *arrow;
	size_t len;

	token[0] = what[0] = '\0';
	if (strncmp(line, "step ", 5) || !colon)
		return;
	len = (size_t)(colon - line - 5);
	snprintf(token, tn, "%.*s", (int)(len < tn ? len : tn - 1), line + 5);
	colon += 2;
	arrow = strstr(colon, " -> ");
	if (strstr(colon, "<waiting ...>"))
		snprintf(what, wn, "waits");
	else if (!strncmp(colon, "<... completed>", 15))
		snprintf(what, wn, "then completes%s%s", arrow ? " " : "", arrow ? arrow + 1 : "");
	else if (!strcmp(colon, "skipped"))
		snprintf(what, wn, "skipped");
	else if (arrow)
		snprintf(what, wn, "%s", arrow + 1);
	else
		snprintf(what, wn, "done");
}

/* Where each backend made a thread wait, in one sentence. */
static void waits_sentence(const struct side *s, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "%s:", s->db->title);
	int any = 0;

	for (size_t i = 0; i < s->lines.n && len < n; i++) {
		char token[64], what[128];

		outcome(s->lines.v[i], token, sizeof token, what, sizeof what);
		if (!strcmp(what, "waits")) {
			char *dot = strchr(token, '.');

			if (dot)
				*dot = '\0';
			len += (size_t)snprintf(buf + len, n - len, "%s %s waits at %s", any ? "," : "",
			                        token, dot ? dot + 1 : "?");
			any = 1;
		}
	}
	if (!any && len < n)
		snprintf(buf + len, n - len, " no step waits");
}

static void table(const struct side *a, const struct side *b)
{
	char tokens[STEPS_MAX][64], cols[2][STEPS_MAX][160];
	const struct side *sides[2] = { a, b };
	int ntok = 0;

	memset(cols, 0, sizeof cols);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < sides[k]->lines.n; i++) {
			char token[64], what[128];
			int j = 0;

			outcome(sides[k]->lines.v[i], token, sizeof token, what, sizeof what);
			if (!token[0])
				continue;
			while (j < ntok && strcmp(tokens[j], token))
				j++;
			if (j == ntok) {
				if (ntok == STEPS_MAX)
					continue;
				snprintf(tokens[ntok++], sizeof tokens[0], "%s", token);
			}
			size_t len = strlen(cols[k][j]);
			snprintf(cols[k][j] + len, sizeof cols[k][j] - len, "%s%s", len ? ", " : "",
			         what);
		}
	printf("== side by side: the same %d steps\n", ntok);
	printf("%-16s %-30s %s\n", "step", a->db->name, b->db->name);
	for (int j = 0; j < ntok; j++)
		printf("%-16s %-30s %s\n", tokens[j], cols[0][j], cols[1][j]);
}

/* The more serious of two exit statuses: 69, 70 and 130 (the run itself went
 * wrong) before 1 (a safe strategy broke) before 0. */
static int worse(int a, int b)
{
	return a > b ? a : b;
}

/* Side S's report, as it would print alone, into S->report: the trace first for
 * a schedule (text), then the report.  Finishes R.  Returns its exit status. */
static int side_report(struct side *s, struct run *r, enum run_status st,
                       struct finish_opts fin, int json)
{
	fin.out = open_memstream(&s->report, &s->size);
	if (!fin.out) {
		run_free(r);
		return EX_SOFTWARE;
	}
	fin.json = json;
	if (s->lines.n && !json) {
		for (size_t i = 0; i < s->lines.n; i++)
			fprintf(fin.out, "%s\n", s->lines.v[i]);
		fin.trace_printed = 1;
	} else if (s->lines.n) {
		fin.trace = s->lines.v;
		fin.ntrace = s->lines.n;
	}
	s->status = run_finish(r, st, &fin);
	fclose(fin.out);
	return s->status;
}

/* Both reports, then, when both ran step by step, the steps side by side and
 * where each backend made a thread wait. */
static void print_sides(struct side *sides, int json)
{
	if (json) {
		printf("{\"racelab\": \"%s\", \"backends\": [\n%s,\n%s]}\n", RACELAB_VERSION,
		       sides[0].report, sides[1].report);
	} else {
		char sentence[2][512];

		for (int k = 0; k < 2; k++)
			printf("== %s\n%s\n", sides[k].db->title, sides[k].report);
		if (sides[0].lines.n && sides[1].lines.n) {
			table(&sides[0], &sides[1]);
			for (int k = 0; k < 2; k++)
				waits_sentence(&sides[k], sentence[k], sizeof sentence[k]);
			printf("\n%s\n%s\n", sentence[0], sentence[1]);
		}
	}
}

/* The dashboard has closed: report what each side's run did. */
struct dash_both {
	struct side *sides;
	const struct run_config *cfg;
};

static int dash_report(void *arg, struct viz_side_end *ends, int n, int interrupted)
{
	struct dash_both *b = arg;
	int status = 0;

	for (int k = 0; k < n && k < 2; k++) {
		struct side *s = &b->sides[k];
		struct finish_opts fin = { .interrupted = interrupted,
		                           .cut_short = ends[k].cut_short };

		/* As the dashboard of one run does: the schedule is the steps taken. */
		fin.schedule = ends[k].schedule ? ends[k].schedule : b->cfg->schedule;
		for (size_t i = 0; ends[k].trace && i < ends[k].trace->n; i++)
			trace_lines_add(ends[k].trace->v[i], &s->lines);
		status = worse(status, side_report(s, ends[k].run, ends[k].st, fin, 0));
	}
	print_sides(b->sides, 0);
	return status;
}

int both_run(const struct cli *cli, struct run_config *cfg, void (*watch)(struct run *),
             int (*interrupted)(void), const struct viz_host *dashboard)
{
	struct side sides[2] = { { .db = db_sqlite() }, { .db = db_postgres() } };
	int json = cli->output == OUT_JSON, status = 0;

	if (dashboard) {
		struct dash_both b = { .sides = sides, .cfg = cfg };
		struct viz_sides vs = { .db = { sides[0].db, sides[1].db },
		                        .where = { NULL, cli->where },
		                        .report = dash_report, .arg = &b };
		struct viz_host h = *dashboard;

		h.sides = &vs;
		status = viz_run(cfg, &h);
		goto out;
	}
	for (int k = 0; k < 2; k++) {
		struct side *s = &sides[k];
		const char *names[SCN_STRATEGIES];
		struct finish_opts fin = { .schedule = cfg->schedule };
		struct run_config c = *cfg;
		char err[DB_ERRLEN];
		enum run_status st;
		struct trace trace;
		struct run *r;

		c.db = s->db;
		c.where = s->db == db_postgres() ? cli->where : NULL;
		if (!(r = run_new(&c, err, &st))) {
			fprintf(stderr, "racelab: %s: %s\n", s->db->name, err);
			status = st == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
			goto out;
		}
		for (int i = 0; i < c.nstrategies; i++)
			names[i] = c.scenario->strategies[c.strategies[i]].name;
		if (trace_init(&trace, names, c.nstrategies, c.threads, trace_lines_add,
		               &s->lines) != 0) {
			run_free(r);
			status = EX_SOFTWARE;
			goto out;
		}
		watch(r);
		st = run_to_end(r, c.schedule ? trace_event : NULL, &trace);
		watch(NULL);
		trace_done(&trace);
		fin.interrupted = interrupted();
		status = worse(status, side_report(s, r, st, fin, json));
		if (fin.interrupted)
			goto out;
	}
	print_sides(sides, json);
out:
	for (int k = 0; k < 2; k++) {
		trace_lines_clear(&sides[k].lines);
		free(sides[k].report);
	}
	fflush(stdout);
	return status;
}
