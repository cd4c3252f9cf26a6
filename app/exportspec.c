/*
 * exportspec.c: --export-spec FILE, a scheduled run written as a spec file in
 * PostgreSQL's isolation-tester language (DESIGN.md, "Spec files").
 *
 * DESIGN: the spec is a recording of one run, not a translation of the code.
 * The schedule runs first, exactly as --schedule runs it.  Every statement a
 * thread sent becomes a step of that thread's session, with the values the
 * application bound written in as literals, as the trace shows them; the order
 * in which the statements were sent becomes the one permutation line.  A step
 * of a session is sent only after the session's previous step completed, in the
 * run as in the tester, and both move on past a step that waits for a lock, so
 * the tester takes the same locks in the same order and prints the same trace:
 * the same waits, values and errors, and, from a last step that reads what
 * check() judges, the same final rows.
 *
 * What the application did in C between statements is not SQL, and a spec has
 * no variables or branches to hold it: the new number_sold (what the read
 * returned, plus one), the seat a request found, the decision to skip a step or
 * to retry an operation.  The file holds what those decisions sent, and its
 * comments say where each computed value came from.  It replays this run,
 * faithfully; in another permutation the reads may return other values while
 * the writes keep this run's, so other orders are other exports.
 *
 * The setup is the scenario's own: its setup() runs against a recorder that
 * keeps each statement, with its values written in, instead of a database.
 */
#include "exportspec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/finish.h"
#include "../core/report.h"
#include "../core/spec.h"
#include "../core/trace.h"

#define XS_SQL 1024             /* one statement, values written in */
#define XS_NOTE 320             /* a comment before a step */

/* One statement a thread sent, as a spec step. */
struct xstep {
	int thread;
	const char *step;               /* the strategy's (or harness's) step name */
	char name[64];                  /* its spec name: s1_read; s2_begin_2 the second */
	char sql[XS_SQL];
	int role;                       /* enum scn_role */
	unsigned effects;
	int key_arg, value_arg;
	struct ev_arg args[EV_ARGS];
	int nargs;
	int waited, failed, has_value;
	int64_t value;
	char note[XS_NOTE];             /* said in a comment before the step */
};

/* What the run's events tell, collected for the file. */
struct collect {
	struct xstep *v;
	int n, cap;
	int *cur;                       /* per thread (1-based): its step running, or -1 */
	char **pending;                 /* per thread: a note for its next step */
	int nthreads;
	int deadlock;                   /* every remaining step waited at some point */
	int victim;                     /* the thread the database failed to break it */
	int oom;
	int multi_wait;                 /* a step ended while two or more others waited:
	                                   which of them goes on is the database's choice */
	struct trace *trace;            /* the trace, printed or kept; NULL: none */
};

static void append_note(char **note, const char *text)
{
	size_t old = *note ? strlen(*note) : 0;
	char *more = realloc(*note, old + strlen(text) + 2);

	if (!more)
		return;
	if (!old)
		more[0] = '\0';
	else
		strcat(more, "\n");
	strcat(more, text);
	*note = more;
}

/* How many threads' steps wait for a lock now. */
static int waiting(const struct collect *c)
{
	int n = 0;

	for (int t = 1; t <= c->nthreads; t++)
		n += c->cur[t] >= 0 && c->v[c->cur[t]].waited;
	return n;
}

static void on_event(const struct event *e, void *arg)
{
	struct collect *c = arg;
	struct xstep *x;
	char line[XS_NOTE];

	if (c->trace)
		trace_event(e, c->trace);
	if (e->strategy != 0 || e->thread < 1 || e->thread > c->nthreads)
		return;
	x = c->cur[e->thread] >= 0 ? &c->v[c->cur[e->thread]] : NULL;
	switch (e->kind) {
	case EV_STEP:
		if (c->n == c->cap) {
			int cap = c->cap ? 2 * c->cap : 64;
			struct xstep *more = realloc(c->v, (size_t)cap * sizeof *more);

			if (!more) {
				c->oom = 1;
				return;
			}
			c->v = more;
			c->cap = cap;
		}
		x = &c->v[c->n];
		memset(x, 0, sizeof *x);
		x->thread = e->thread;
		x->step = e->step ? e->step : "step";
		trace_render_sql(e->sql ? e->sql : "", e->args, e->nargs, x->sql, sizeof x->sql);
		x->role = e->role;
		x->effects = e->effects;
		x->key_arg = e->key_arg;
		x->value_arg = e->value_arg;
		x->nargs = e->nargs < EV_ARGS ? e->nargs : EV_ARGS;
		memcpy(x->args, e->args, sizeof x->args);
		if (c->pending[e->thread]) {
			snprintf(x->note, sizeof x->note, "%s", c->pending[e->thread]);
			free(c->pending[e->thread]);
			c->pending[e->thread] = NULL;
		}
		c->cur[e->thread] = c->n++;
		break;
	case EV_WAIT:
		if (x)
			x->waited = 1;
		break;
	case EV_DONE:
		if (x && !x->waited && waiting(c) >= 2)
			c->multi_wait = 1;      /* it may have freed a lock several wait for */
		if (x) {
			x->has_value = e->has_value;
			x->value = e->value;
		}
		c->cur[e->thread] = -1;
		break;
	case EV_FAIL:
		if (x && !x->waited && waiting(c) >= 2)
			c->multi_wait = 1;
		if (x) {
			x->failed = 1;
			if (c->deadlock && !c->victim)
				c->victim = e->thread;
		}
		c->cur[e->thread] = -1;
		break;
	case EV_SKIP:
		snprintf(line, sizeof line, "t%d skipped %s here, and sent nothing: the application"
		         " decided so in C,\nfrom what its steps had returned", e->thread,
		         e->step ? e->step : "?");
		append_note(&c->pending[e->thread], line);
		break;
	case EV_RETRY:
		snprintf(line, sizeof line, "t%d's operation failed and was rolled back (%.96s);\n"
		         "it starts again here: the statements of its next attempt", e->thread,
		         e->text);
		append_note(&c->pending[e->thread], line);
		break;
	case EV_DEADLOCK:
		c->deadlock = 1;
		break;
	default:
		break;
	}
}

/* The thread's last read of the same row before step I, or -1: where a value
 * written from a read (EFF_FROM_READ) came from. */
static int source_read(const struct collect *c, int i)
{
	const struct xstep *w = &c->v[i];

	for (int j = i - 1; j >= 0; j--) {
		const struct xstep *r = &c->v[j];

		if (r->thread != w->thread || !r->has_value ||
		    (r->role != ROLE_READ && r->role != ROLE_LOCK))
			continue;
		if (w->key_arg > 0 && r->key_arg > 0 && w->key_arg <= w->nargs &&
		    r->key_arg <= r->nargs) {
			const struct ev_arg *a = &w->args[w->key_arg - 1], *b = &r->args[r->key_arg - 1];

			if (a->type != b->type || (a->type == DB_INT && a->i != b->i) ||
			    (a->type == DB_TEXT && strcmp(a->s, b->s)))
				continue;
		}
		return j;
	}
	return -1;
}

/* Name every step: sN_STEP, and sN_STEP_K for the K-th time thread N sent it. */
static void name_steps(struct collect *c)
{
	for (int i = 0; i < c->n; i++) {
		int k = 1;

		for (int j = 0; j < i; j++)
			k += c->v[j].thread == c->v[i].thread && !strcmp(c->v[j].step, c->v[i].step);
		if (k == 1)
			snprintf(c->v[i].name, sizeof c->v[i].name, "s%d_%s", c->v[i].thread,
			         c->v[i].step);
		else
			snprintf(c->v[i].name, sizeof c->v[i].name, "s%d_%s_%d", c->v[i].thread,
			         c->v[i].step, k);
	}
}

/* The scenario's setup, as statements: setup() run against a recorder. */
struct recorder {
	char **sql;
	int n, cap;
	int oom;
};

static enum db_status record_exec(db_conn *conn, const char *sql, const db_value *args,
                                  int nargs, db_result *res, char *err)
{
	struct recorder *rec = (struct recorder *)(void *)conn;
	struct ev_arg ea[EV_ARGS];
	char buf[XS_SQL];

	(void)err;
	if (res)
		memset(res, 0, sizeof *res);
	memset(ea, 0, sizeof ea);
	for (int i = 0; i < nargs && i < EV_ARGS; i++) {
		ea[i].type = args[i].type;
		ea[i].i = args[i].i;
		if (args[i].type == DB_TEXT)
			snprintf(ea[i].s, sizeof ea[i].s, "%s", args[i].s);
	}
	trace_render_sql(sql, ea, nargs < EV_ARGS ? nargs : EV_ARGS, buf, sizeof buf);
	if (rec->n == rec->cap) {
		int cap = rec->cap ? 2 * rec->cap : 16;
		char **more = realloc(rec->sql, (size_t)cap * sizeof *more);

		if (!more) {
			rec->oom = 1;
			return DB_OK;
		}
		rec->sql = more;
		rec->cap = cap;
	}
	if (!(rec->sql[rec->n] = strdup(buf)))
		rec->oom = 1;
	else
		rec->n++;
	return DB_OK;
}

static void recorder_free(struct recorder *rec)
{
	for (int i = 0; i < rec->n; i++)
		free(rec->sql[i]);
	free(rec->sql);
}

/* Does SQL start with the words of PREFIX (case-insensitive)? */
static int starts_with(const char *sql, const char *prefix)
{
	return !strncasecmp(sql, prefix, strlen(prefix));
}

/* The table a CREATE TABLE statement creates, into NAME; 0 if it is not one. */
static int created_table(const char *sql, char *name, size_t n)
{
	const char *p;
	size_t len = 0;

	if (!starts_with(sql, "CREATE TABLE "))
		return 0;
	p = sql + strlen("CREATE TABLE ");
	if (starts_with(p, "IF NOT EXISTS "))
		p += strlen("IF NOT EXISTS ");
	while ((isalnum((unsigned char)p[len]) || p[len] == '_' || p[len] == '"' ||
	        p[len] == '.') && len + 1 < n)
		len++;
	memcpy(name, p, len);
	name[len] = '\0';
	return len > 0;
}

/* The command that reproduces the run, for the file's first lines. */
static void command_line(const struct cli *cli, const struct run_config *cfg, char *buf,
                         size_t n)
{
	const struct scn_strategy *st = &cfg->scenario->strategies[cfg->strategies[0]];
	int random = !strcmp(cfg->schedule, "random");
	size_t len;

	len = (size_t)snprintf(buf, n, "racelab %s -s %s -t %d", cfg->scenario->name, st->name,
	                       cfg->threads);
	if (random && len < n)
		len += (size_t)snprintf(buf + len, n - len, " -n %d --seed %llu", cfg->ops,
		                        (unsigned long long)cfg->seed);
	if (cfg->db != db_sqlite() && len < n)
		len += (size_t)snprintf(buf + len, n - len, " -b %s", cfg->db->name);
	if (len < n)
		snprintf(buf + len, n - len, random ? " --schedule %s --export-spec %s"
		         : " --schedule \"%s\" --export-spec %s", cfg->schedule, cli->export_spec);
}

/* Write a comment: each line of TEXT after "# " (lines of TEXT end in '\n'). */
static void comment(FILE *f, const char *text)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		fprintf(f, len ? "# %.*s\n" : "#\n", (int)len, p);
		p += len + (nl != NULL);
	}
}

struct spec_doc {
	const struct cli *cli;
	const struct run_config *cfg;
	const struct collect *c;
	const struct recorder *setup;
	char *const *trace;             /* the run's trace lines and its result */
	size_t ntrace;
	const char *result;
	const char *version;            /* the database's, for the comments */
	int db_only;                    /* holds SQL only this backend accepts */
};

static void write_spec(FILE *f, const struct spec_doc *d)
{
	const struct run_config *cfg = d->cfg;
	const struct scenario *scn = cfg->scenario;
	const struct scn_strategy *st = &scn->strategies[cfg->strategies[0]];
	const struct collect *c = d->c;
	const char *file = strcmp(d->cli->export_spec, "-") ? d->cli->export_spec : "FILE.spec";
	int pg = cfg->db->row_locks, pin = pg && c->deadlock && c->victim, nowait = 0;
	char cmd[1024], tables[16][64], word[64];
	int ntables = 0;

	command_line(d->cli, cfg, cmd, sizeof cmd);
	for (int i = 0; i < c->n && !pg; i++)
		nowait |= (c->v[i].effects & EFF_NOWAIT) != 0;
	fprintf(f, "# racelab %s, strategy %s: one schedule, as a spec file for PostgreSQL's\n"
	        "# isolation tester.  Exported by racelab %s from the run of\n#\n#   %s\n#\n",
	        scn->name, st->name, RACELAB_VERSION, cmd);
	fprintf(f, "# %s: %s.\n# %s: %s", scn->name, scn->title, st->name, st->summary);
	if (st->django)
		fprintf(f, "\n#   (Django: %s)", st->django);
	fprintf(f, ".\n#\n# What that run printed, on %s:\n#\n", d->version);
	for (size_t i = 0; i < d->ntrace; i++)
		fprintf(f, "#   %s\n", d->trace[i]);
	if (d->result)
		fprintf(f, "#   result: %s\n", d->result);
	comment(f, "\n"
	        "How the run became this file.  Thread tN is session sN; every statement it\n"
	        "sent is a step sN_STEP (sN_STEP_2 the second time), with the values the\n"
	        "application bound written in, as the trace shows them.  The permutation\n"
	        "is the order in which the statements were sent.  A step that waits for a\n"
	        "lock is printed <waiting ...> and the tester sends the next one, as the\n"
	        "schedule did; a session's next step waits for its previous one to finish,\n"
	        "as the thread did.  The last step, final_state, reads what the scenario's\n"
	        "invariant is judged on.\n"
	        "\n"
	        "What the application computed in C between two statements (a value plus\n"
	        "one, the row it found, skipping a step, retrying after an error) is no SQL\n"
	        "a spec can hold: it has no variables and no branches.  So each statement\n"
	        "holds the value the application really sent in this run, and a comment\n"
	        "before it says where the value came from.  Run in this order the file\n"
	        "replays the run faithfully; in another order the reads may return other\n"
	        "values while the writes keep this run's (export that order instead).\n");
	fprintf(f, "#\n# Run it:\n#\n");
	if (pg) {
		fprintf(f, "#   racelab spec %s -b postgres -d CONNINFO\n", file);
		fprintf(f, "#   isolationtester CONNINFO < %s\n#\n", file);
		comment(f, "(isolationtester is in PostgreSQL's lib/pgxs/src/test/isolation/, e.g.\n"
		        "/usr/lib/postgresql/15/lib/pgxs/src/test/isolation/isolationtester; it\n"
		        "creates the tables in the first schema of the search_path, so give it a\n"
		        "schema of its own: PGOPTIONS='-c search_path=NAME'.)  The two print the\n"
		        "same text, byte for byte.\n");
	} else {
		fprintf(f, "#   racelab spec %s\n#\n", file);
		fprintf(f, "# The SQL is %s's, as this run sent it to %s", cfg->db->title,
		        cfg->db->title);
		if (d->db_only)
			fprintf(f, ":\n# %s takes the whole database's write lock, where PostgreSQL"
			        " locks rows\n# (SELECT ... FOR UPDATE), and PostgreSQL has no %s:"
			        " there each\n# such step fails with a syntax error, and this file"
			        " does not replay the\n# run.  For PostgreSQL, export the schedule with"
			        " -b postgres.\n", cfg->db->begin_locked, cfg->db->begin_locked);
		else
			fprintf(f, ".  PostgreSQL accepts every statement\n# too, but decides for"
			        " itself: it locks rows, not the database, so there\n# the waits and"
			        " errors may differ from this trace, and a step that waits\n# where"
			        " SQLite failed may wait for a step this order sends only later\n#"
			        " (the tester then waits for its timeout).  For PostgreSQL's own run,\n#"
			        " export the schedule with -b postgres.\n");
	}
	if (c->multi_wait)
		comment(f, "\n"
		        "Caution: in this run several sessions waited at the same time.  Which of\n"
		        "them the database lets go first when the lock comes free is its choice,\n"
		        "not this file's: SQLite keeps no queue (whichever waiter tries first takes\n"
		        "the lock), and on PostgreSQL the waiters for a row another transaction\n"
		        "updated race for its new version.  The trace above is what happened in\n"
		        "the run; a replay may let another waiter go first.\n");
	if (pin)
		comment(f, "\n"
		        "In a deadlock, the trace above shows the failed session's ROLLBACK before\n"
		        "the other session's <... completed> (racelab holds the survivor's line\n"
		        "until the victim has rolled back, so the cause comes first); the tester\n"
		        "prints the survivor's completion first, since it looks at every waiting\n"
		        "step while it waits for the victim's.  The same steps, results and\n"
		        "errors; those two lines change places.\n");
	if (nowait)
		comment(f, "\n"
		        "A step marked to take its lock only if it is free now (NOWAIT) cannot\n"
		        "say so in SQLite's SQL: racelab's busy handler gives up at its first\n"
		        "call instead.  Its session's setup says it for the session: PRAGMA\n"
		        "busy_timeout = 0 turns every busy handler off, so a lock another holds\n"
		        "fails the statement at once (SQLITE_BUSY), as it did in the run.\n");
	if (pin)
		comment(f, "\n"
		        "The run ended in a deadlock, and the database broke it by failing one\n"
		        "waiting step.  PostgreSQL fails the session whose deadlock_timeout runs\n"
		        "out first while the cycle stands, so each session's setup sets its\n"
		        "deadlock_timeout: 1s for the session that failed in this run, 60s for\n"
		        "the others (SET deadlock_timeout needs a superuser, or SET privilege on\n"
		        "it; PostgreSQL 15 manual, 20.12).\n");

	/* The scenario's setup, without DROP ... IF EXISTS (the tester starts clean,
	 * and a notice it would print is no part of the trace), then the
	 * strategy's own statements. */
	fprintf(f, "\nsetup\n{\n");
	for (int i = 0; i < d->setup->n; i++) {
		const char *sql = d->setup->sql[i];

		if (starts_with(sql, "DROP TABLE IF EXISTS "))
			continue;
		if (created_table(sql, word, sizeof word) && ntables < 16)
			snprintf(tables[ntables++], sizeof tables[0], "%s", word);
		fprintf(f, "  %s;\n", sql);
	}
	for (int i = 0; st->schema && st->schema[i]; i++)
		fprintf(f, "  %s;\n", st->schema[i]);
	fprintf(f, "}\n\nteardown\n{\n");
	for (int i = ntables - 1; i >= 0; i--)
		fprintf(f, "  DROP TABLE %s;\n", tables[i]);
	fprintf(f, "}\n");

	for (int t = 1; t <= c->nthreads; t++) {
		fprintf(f, "\nsession s%d\n", t);
		if (pin)
			fprintf(f, "setup { SET deadlock_timeout = '%s'; }\n", t == c->victim ? "1s"
			        : "60s");
		for (int i = 0; i < c->n && nowait; i++)
			if (c->v[i].thread == t && (c->v[i].effects & EFF_NOWAIT)) {
				fprintf(f, "setup { PRAGMA busy_timeout = 0; }\n");
				break;
			}
		for (int i = 0; i < c->n; i++) {
			const struct xstep *x = &c->v[i];
			int from;

			if (x->thread != t)
				continue;
			if (x->note[0])
				comment(f, x->note);
			if ((x->effects & EFF_FROM_READ) && x->value_arg > 0 && x->value_arg <= x->nargs &&
			    (from = source_read(c, i)) >= 0) {
				const struct ev_arg *a = &x->args[x->value_arg - 1];

				if (a->type == DB_INT)
					fprintf(f, "# %lld: the application computed it from the %lld that"
					        " %s returned\n", (long long)a->i,
					        (long long)c->v[from].value, c->v[from].name);
			}
			fprintf(f, "step %s { %s }\n", x->name, x->sql);
		}
		if (c->pending[t])
			comment(f, c->pending[t]);
	}
	if (scn->final_sql)
		fprintf(f, "\nsession final\nstep final_state { %s }\n", scn->final_sql);
	fprintf(f, "\npermutation");
	for (int i = 0; i < c->n; i++)
		fprintf(f, " %s", c->v[i].name);
	fprintf(f, "%s\n", scn->final_sql ? " final_state" : "");
}

/* What a trace line is kept in, for the file's comments. */
struct lines_sink {
	FILE *print;
	struct trace_lines kept;
};

static void line_out(const char *line, void *arg)
{
	struct lines_sink *s = arg;

	if (s->print)
		fprintf(s->print, "%s\n", line);
	trace_lines_add(line, &s->kept);
}

int exportspec_run(const struct cli *cli, struct run_config *cfg,
                   void (*watch)(struct run *), int (*interrupted)(void))
{
	const struct scenario *scn = cfg->scenario;
	const struct scn_strategy *st = &scn->strategies[cfg->strategies[0]];
	const char *names[1] = { st->name };
	int to_stdout = !strcmp(cli->export_spec, "-"), status, sessions, nfinal;
	struct recorder setup = { 0 };
	struct collect c = { 0 };
	struct lines_sink sink = { 0 };
	struct trace trace;
	struct finish_opts fin = { .json = cli->output == OUT_JSON, .out = stdout };
	struct spec_doc doc = { .cli = cli, .cfg = cfg, .c = &c, .setup = &setup };
	char err[DB_ERRLEN], version[128], result[256];
	enum run_status rs;
	db_backend recording;
	struct run *r;
	FILE *f = NULL;

	nfinal = scn->final_sql != NULL;
	if (cfg->threads + nfinal > SPEC_MAX_SESSIONS) {
		fprintf(stderr, "racelab: --export-spec: a spec file holds at most %d sessions, one"
		        " per thread: -t %d is too many (allowed 1 to %d)\n", SPEC_MAX_SESSIONS,
		        cfg->threads, SPEC_MAX_SESSIONS - nfinal);
		return EX_USAGE;
	}
	/* The scenario's own setup, recorded; no database is touched. */
	recording = *cfg->db;
	recording.exec = record_exec;
	if (scn->setup(scn, &recording, (db_conn *)(void *)&setup, cfg->ops, err) != DB_OK ||
	    setup.oom) {
		fprintf(stderr, "racelab: out of memory\n");
		recorder_free(&setup);
		return EX_SOFTWARE;
	}
	if (!to_stdout && !(f = fopen(cli->export_spec, "we"))) {
		fprintf(stderr, "racelab: cannot write the spec file '%s': %s\n", cli->export_spec,
		        strerror(errno));
		recorder_free(&setup);
		return EX_USAGE;
	}

	c.nthreads = cfg->threads;
	c.cur = malloc(((size_t)cfg->threads + 1) * sizeof *c.cur);
	c.pending = calloc((size_t)cfg->threads + 1, sizeof *c.pending);
	if (!c.cur || !c.pending ||
	    trace_init(&trace, names, 1, cfg->threads, line_out, &sink) != 0) {
		fprintf(stderr, "racelab: out of memory\n");
		status = EX_SOFTWARE;
		goto out;
	}
	for (int t = 0; t <= cfg->threads; t++)
		c.cur[t] = -1;
	c.trace = &trace;
	sink.print = to_stdout || fin.json ? NULL : stdout;

	if (!(r = run_new(cfg, err, &rs))) {
		fprintf(stderr, "racelab: %s\n", err);
		status = rs == RUN_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE;
		goto out_trace;
	}
	watch(r);
	rs = run_to_end(r, on_event, &c);
	watch(NULL);
	{
		struct report rep = { .cfg = cfg, .nresults = 1 };

		rep.results[0] = run_result(r, 0);
		doc.result = report_result(&rep, result, sizeof result) == 0 ? result : NULL;
	}
	fin.schedule = cfg->schedule;
	fin.trace = sink.kept.v;
	fin.ntrace = sink.kept.n;
	fin.trace_printed = sink.print != NULL;
	fin.quiet = to_stdout;
	fin.interrupted = interrupted();
	status = run_finish(r, rs, &fin);
	if (status != 0 && status != EX_ANOMALY)
		goto out_trace;         /* run_finish said why */
	if (c.oom) {
		fprintf(stderr, "racelab: out of memory\n");
		status = EX_SOFTWARE;
		goto out_trace;
	}
	if (c.n + nfinal > SPEC_MAX_STEPS) {
		fprintf(stderr, "racelab: --export-spec: the run sent %d statements, and a spec file"
		        " holds at most %d steps: use fewer threads or operations (-t, -n)\n",
		        c.n, SPEC_MAX_STEPS - nfinal);
		status = EX_USAGE;
		goto out_trace;
	}
	name_steps(&c);
	for (int i = 0; i < c.n; i++)
		if (!strcasecmp(c.v[i].sql, cfg->db->begin_locked) &&
		    strcasecmp(cfg->db->begin_locked, db_postgres()->begin_locked))
			doc.db_only = 1;
	snprintf(version, sizeof version, "%s", cfg->db->title);
	{
		db_site *site = cfg->db->site_open(cfg->where, err);

		if (site) {
			cfg->db->version(site, version, sizeof version);
			cfg->db->site_close(site);
		}
	}
	doc.version = version;
	doc.trace = sink.kept.v;
	doc.ntrace = sink.kept.n;
	write_spec(f ? f : stdout, &doc);
	if (f) {
		int bad = ferror(f) | (fclose(f) != 0);

		f = NULL;
		if (bad) {
			fprintf(stderr, "racelab: writing the spec file '%s' failed\n",
			        cli->export_spec);
			unlink(cli->export_spec);
			status = EX_SOFTWARE;
			goto out_trace;
		}
		sessions = cfg->threads + nfinal;
		if (!fin.json)
			printf("exported: %s, %d steps in %d sessions; replay it with: racelab spec"
			       " %s%s\n", cli->export_spec, c.n + nfinal, sessions, cli->export_spec,
			       cfg->db == db_sqlite() ? "" : " -b postgres");
	} else {
		fflush(stdout);
	}
	if (doc.db_only)
		fprintf(stderr, "racelab: note: the spec holds %s's %s, which PostgreSQL does not"
		        " have: for PostgreSQL's isolationtester, export with -b postgres\n",
		        cfg->db->title, cfg->db->begin_locked);
out_trace:
	trace_done(&trace);
out:
	if (f) {
		fclose(f);
		unlink(cli->export_spec);
	}
	trace_lines_clear(&sink.kept);
	for (int t = 0; c.pending && t <= cfg->threads; t++)
		free(c.pending[t]);
	free(c.pending);
	free(c.cur);
	free(c.v);
	recorder_free(&setup);
	return status;
}
