/*
 * scenario.c: a scenario that racelab does not ship — likes on two posts, each
 * counted the naive way and the atomic way — declared here and nowhere else, run
 * through everything a shipped one goes through: a free run, the text and JSON
 * reports, the dashboard drawn headless, and a schedule with its trace.  If any
 * shared code asked which scenario it runs, this file could not pass without a
 * line changed elsewhere.
 *
 * The anomaly is the lost update on a keyed row: two threads read post 1's likes,
 * both write what they read plus one, and one like is gone.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../core/finish.h"
#include "../core/report.h"
#include "../core/run.h"
#include "../core/trace.h"
#include "../viz/draw.h"
#include "../viz/model.h"
#include "../viz/screen.h"
#include "tap.h"

/* ---- the scenario ------------------------------------------------------ */

/* Operation N of a thread likes post N % 2 + 1: in a schedule, post 1. */
static int64_t post_of(struct worker *w)
{
	return step_op(w) % 2 + 1;
}

static enum step_rc naive(struct worker *w)
{
	int64_t post = post_of(w);
	db_result r;

	TRY(step_sql(w, "read", "SELECT likes FROM posts WHERE id = $1",
	             (db_value[]){ DB_I(post) }, 1, &r));
	TRY(step_sql(w, "write", "UPDATE posts SET likes = $2 WHERE id = $1",
	             (db_value[]){ DB_I(post), DB_I(r.value + 1) }, 2, NULL));
	step_committed(w);
	return STEP_OK;
}

static enum step_rc atomic(struct worker *w)
{
	TRY(step_sql(w, "add", "UPDATE posts SET likes = likes + 1 WHERE id = $1",
	             (db_value[]){ DB_I(post_of(w)) }, 1, NULL));
	step_committed(w);
	return STEP_OK;
}

static enum db_status setup(const struct scenario *s, const db_backend *db, db_conn *conn,
                            int ops, char *err)
{
	static const char *const schema[] = {
		"DROP TABLE IF EXISTS posts",
		"CREATE TABLE posts (id INTEGER PRIMARY KEY, likes INTEGER NOT NULL)",
		"INSERT INTO posts (id, likes) VALUES (1, 0), (2, 0)",
		NULL,
	};

	(void)s;
	(void)ops;
	return db_exec_all(db, conn, schema, err);
}

static enum db_status check(const struct scenario *s, const db_backend *db, db_conn *conn,
                            int64_t committed, int rounds, struct scn_check *out, char *err)
{
	db_result r;
	enum db_status st = db->exec(conn, "SELECT SUM(likes) FROM posts", NULL, 0, &r, err);

	(void)s;
	(void)rounds;
	out->expected = committed;
	out->observed = r.value;
	out->anomalies = committed - r.value;
	out->extra[0] = 2;              /* posts */
	return st;
}

static void verdict(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	snprintf(buf, n, "%lld of %lld likes lost", (long long)c->anomalies,
	         (long long)committed);
}

static void result(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	(void)committed;
	snprintf(buf, n, "likes = %lld, expected %lld", (long long)c->observed,
	         (long long)c->expected);
}

static const struct scenario likes = {
	.name = "likes",
	.title = "likes on two posts",
	.words = {
		.effect = "like", .effects = "likes", .op = "operation", .ops = "operations",
		.value = "likes", .anomaly = "lost like", .anomalies = "lost likes",
		.none = "no like lost", .goal = "Goal: lose a like", .bug = "a like was lost",
		.help = { { "R 3", "read: the post had 3 likes" } },
	},
	.default_ops = 100,
	.dashboard_ops = 4,
	.extras = { { .json = "posts", .column = "posts" } },
	.strategies = {
		{ .name = "naive", .summary = "read the likes, write them plus one",
		  .django = "post.likes += 1; post.save()",
		  .steps = { { "read", ROLE_READ, 0, .key_arg = 1 },
		             { "write", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 } },
		  .op = naive },
		{ .name = "atomic", .safe = 1, .summary = "UPDATE likes = likes + 1",
		  .django = "post.likes = F('likes') + 1; post.save()",
		  .why_safe = "One statement reads and writes.",
		  .steps = { { "add", ROLE_UPDATE, EFF_ADDS, .key_arg = 1 } },
		  .op = atomic },
	},
	.setup = setup,
	.check = check,
	.verdict = verdict,
	.result = result,
};

/* ---- running it -------------------------------------------------------- */

static struct run *start(struct run_config *cfg)
{
	char err[DB_ERRLEN];
	enum run_status st;
	struct run *r = run_new(cfg, err, &st);

	if (!r) {
		printf("Bail out! cannot create the run: %s\n", err);
		exit(1);
	}
	run_start(r);
	return r;
}

static void drain_all(struct run *r, ev_fn fn, void *arg)
{
	while (!run_finished(r))
		run_drain(r, fn, arg);
	run_drain(r, fn, arg);
}

/* The whole output of FN(stream, report) as a string (static). */
static const char *report_of(struct run *r, const struct run_config *cfg, int json)
{
	static char buf[16384];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	struct report rep = { .cfg = cfg, .nresults = cfg->nstrategies, .site = "" };

	for (int i = 0; i < rep.nresults; i++)
		rep.results[i] = run_result(r, i);
	if (json)
		report_json(f, &rep);
	else
		report_text(f, &rep);
	fclose(f);
	return buf;
}

static const char *screen_row(int y)
{
	static char buf[4096];
	wchar_t w[1024];
	int n = mvwinnwstr(stdscr, y, 0, w, 1023);

	w[n < 0 ? 0 : n] = 0;
	if (wcstombs(buf, w, sizeof buf) == (size_t)-1)
		buf[0] = '\0';
	return buf;
}

static int on_screen(const char *text)
{
	for (int y = 0; y < LINES; y++)
		if (strstr(screen_row(y), text))
			return 1;
	return 0;
}

static void free_run(struct run *r)
{
	struct finish_opts quiet = { .out = fopen("/dev/null", "w") };

	run_finish(r, RUN_OK, &quiet);
	fclose(quiet.out);
}

int main(void)
{
	struct run_config cfg = { .scenario = &likes, .db = db_sqlite(), .strategies = { 0, 1 },
	                          .nstrategies = 2, .threads = 4, .ops = 300, .seed = 3 };
	struct viz_model m;
	struct viz_view view = { .backend = "sqlite", .clock_ns = 1000000000LL };
	struct trace_lines lines = { 0 };
	struct trace trace;
	const char *names[1] = { "naive" };
	const char *text;
	struct run *r;
	FILE *out, *in;

	setlocale(LC_ALL, "C.UTF-8");

	/* A free run, headless and on the dashboard's model at once. */
	r = start(&cfg);
	if (viz_model_init(&m, run_config(r)) != 0) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	drain_all(r, viz_model_event, &m);
	is_int(run_wait(r), RUN_OK, "likes: a free run of 4 threads x 300 finishes");
	const struct run_result *res[2] = { run_result(r, 0), run_result(r, 1) };
	ok(res[0]->checked && res[1]->checked, "likes: both strategies are checked");
	is_int(res[1]->check.anomalies, 0, "likes/atomic: no like lost");
	is_int(res[1]->check.observed, 1200, "likes/atomic: all 1200 likes counted");
	ok(res[0]->check.anomalies >= 0 && res[0]->check.observed + res[0]->check.anomalies
	   == 1200, "likes/naive: observed + lost = committed");
	diag("likes/naive lost %lld of 1200", (long long)res[0]->check.anomalies);

	text = report_of(r, &cfg, 0);
	ok(strstr(text, "racelab 0.1.0: likes: likes on two posts") != NULL,
	   "text report: the scenario's own title");
	ok(strstr(text, "x 300 operations per strategy") != NULL, "text report: its nouns");
	ok(strstr(text, "posts") && strstr(text, "of 1200 likes lost"),
	   "text report: its extra column and its verdict");
	ok(strstr(text, "atomic  ok") != NULL, "text report: atomic ok");
	text = report_of(r, &cfg, 1);
	ok(strstr(text, "\"scenario\": \"likes\"") && strstr(text, "\"posts\": 2"),
	   "JSON report: the scenario's name and its own field");

	out = fopen("/dev/null", "w");
	in = fopen("/dev/null", "r");
	setenv("LINES", "40", 1);
	setenv("COLUMNS", "132", 1);
	if (!out || !in || viz_screen_open(out, in, "xterm-256color") != 0) {
		printf("Bail out! cannot open a curses screen on /dev/null\n");
		return 1;
	}
	viz_screen_set_utf8(1);
	const struct run_result *results[2] = { res[0], res[1] };
	viz_model_finish(&m, results);
	viz_draw(stdscr, &m, &view);
	ok(on_screen("racelab likes: likes on two posts"), "dashboard: the title");
	ok(on_screen("─ naive ") && on_screen("─ atomic "), "dashboard: a panel per strategy");
	ok(on_screen("expected 1200"), "dashboard: the database's figures");
	ok(on_screen("lost likes"), "dashboard: the anomaly log says what is lost");
	ok(m.panels[1].lost == 0 && m.panels[1].counter == 1200,
	   "dashboard model: atomic's two rows add up to 1200, none lost");
	diag("model: naive lost %lld so far, rows add up to %lld", (long long)m.panels[0].lost,
	     (long long)m.panels[0].counter);
	viz_model_done(&m);
	free_run(r);

	/* A schedule: both threads read post 1, then both write. */
	cfg.strategies[0] = 0;
	cfg.nstrategies = 1;
	cfg.threads = 2;
	cfg.ops = 1;
	cfg.schedule = "t1.read t2.read t1.write t2.write";
	r = start(&cfg);
	viz_model_init(&m, run_config(r));
	trace_init(&trace, names, 1, 2, trace_lines_add, &lines);
	drain_all(r, trace_event, &trace);
	is_int(run_wait(r), RUN_OK, "schedule: the run finishes");
	is_int((int)lines.n, 4, "schedule: four trace lines");
	ok(lines.n == 4 && !strcmp(lines.v[0], "step t1.read: SELECT likes FROM posts WHERE id = 1 -> 0")
	   && !strcmp(lines.v[3], "step t2.write: UPDATE posts SET likes = 1 WHERE id = 1"),
	   "schedule: the trace names the scenario's own steps and SQL");
	for (size_t i = 0; i < lines.n; i++)
		diag("%s", lines.v[i]);
	is_int(run_result(r, 0)->check.anomalies, 1, "schedule: one like lost");
	{
		char line[256];
		struct report rep = { .cfg = &cfg, .nresults = 1, .results = { run_result(r, 0) } };

		report_result(&rep, line, sizeof line);
		is_str(line, "likes = 1, expected 2", "schedule: the result line is the scenario's");
	}
	trace_done(&trace);
	trace_lines_clear(&lines);
	viz_model_done(&m);
	free_run(r);

	/* The same schedule on the dashboard's model: the overwrite is marked. */
	r = start(&cfg);
	viz_model_init(&m, run_config(r));
	drain_all(r, viz_model_event, &m);
	run_wait(r);
	is_int(m.panels[0].lost, 1, "dashboard model: the schedule's lost like is found");
	ok(m.panels[0].nmarks == 1 && m.panels[0].marks[0].thread == 2 &&
	   m.panels[0].marks[0].tok.victim == 1, "dashboard model: T2 overwrote T1's like");
	erase();
	viz_draw(stdscr, &m, &view);
	ok(on_screen("T2 wrote 1 over T1's 1: 1 lost"), "dashboard: the mark in the log");
	viz_model_done(&m);
	free_run(r);

	viz_screen_close();
	fclose(out);
	fclose(in);
	return done_testing();
}
