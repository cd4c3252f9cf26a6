/*
 * room.c: a classroom racing on one shared PostgreSQL: the room's tables, the
 * students' steps, and the projector's model of them; see room.h.
 *
 * DESIGN: the room's schema holds three tables of its own besides the scenario's:
 *
 *   room      one row: the scenario, the strategy, operations per round, the
 *             round number and its state.  Only the owner (the instructor) writes.
 *   students  one row per student who joined: the name (data, never SQL), the
 *             server process of the connection that joined (pid, set by default
 *             to pg_backend_pid() and checked by a policy, so a row cannot claim
 *             another connection) and of the one that runs the steps.
 *   steps     one row per thing a student did: (student, n) is the key, n counts
 *             1, 2, 3 … per student; kind says begin, wait, done, skip, abort,
 *             end.  A policy lets a connection insert rows only for the student
 *             it joined as.
 *
 * A student's steps run on a connection of their own (step_pid), so what the
 * scenario's SQL does is exactly what an application server's connection does;
 * the rows that report it go on the control connection, which also LISTENs.  A
 * row is written after its step completes (a wait row before, if the step is
 * slow to answer), so a step's row never runs inside the student's transaction.
 *
 * One NOTIFY payload letter per kind of news: 'j' a student joined, 's' steps,
 * 'r' the room changed, 'c' the room closed.
 */
#include "room.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "sys.h"

#define CONNECT_TIMEOUT "10"

struct room_conn {
	PGconn *pg;
	char name[256];         /* host, port, dbname, user: safe to print */
	char schema[32];        /* racelab_room_<code>, once entered */
	char ident[48];         /* the same, quoted */
	char channel[32];       /* the NOTIFY channel: the schema's name */
	unsigned news;          /* payload letters seen since the last ask */
	int nested;             /* a scenario's transactions open inside ours (savepoints) */
};

/* ---- codes and names ------------------------------------------------------------ */

int room_code_valid(const char *code)
{
	if (!code || strlen(code) != ROOM_CODE_LEN)
		return 0;
	for (const char *p = code; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

void room_code_new(char *code)
{
	unsigned char b[ROOM_CODE_LEN];

	if (getentropy(b, sizeof b) != 0) {
		uint64_t x = (uint64_t)sys_now_ns() ^ (uint64_t)getpid() << 32;

		for (int i = 0; i < ROOM_CODE_LEN; i++, x >>= 8)
			b[i] = (unsigned char)x;
	}
	/* The first digit is never 0, so the code reads as a number too. */
	code[0] = (char)('1' + b[0] % 9);
	for (int i = 1; i < ROOM_CODE_LEN; i++)
		code[i] = (char)('0' + b[i] % 10);
	code[ROOM_CODE_LEN] = '\0';
}

/* The length of the character at P if it is valid UTF-8 and no control
 * character (C0, DEL, C1 would move a terminal's cursor), else 0. */
static int printable_char(const unsigned char *p)
{
	int len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
	          : (*p & 0xf8) == 0xf0 ? 4 : 0;
	uint32_t cp;

	if (!len)
		return 0;
	cp = len == 1 ? *p : (uint32_t)(*p & (0x7f >> len));
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp < 0xe000) ||
	    (len > 1 && cp < (len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u)))
		return 0;
	return len;
}

int room_name_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	int chars = 0, len;

	if (!name)
		return 0;
	for (; *p; p += len, chars++)
		if (!(len = printable_char(p)))
			return 0;
	return chars >= 1 && chars <= ROOM_NAME_MAX;
}

/* NAME as the projector shows it: a name that reached the table some other way
 * than racelab's client (psql, as the students' role) is still only text. */
static void printable_name(char *out, size_t n, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t used = 0;
	int chars = 0;

	while (*p && chars < ROOM_NAME_MAX) {
		int len = printable_char(p);

		if (used + (size_t)(len ? len : 1) + 1 > n)
			break;
		if (len) {
			memcpy(out + used, p, (size_t)len);
			used += (size_t)len;
			p += len;
		} else {
			/* one '?' for the whole character, if it is one */
			int skip = *p >= 0xc0 && *p < 0xf8 ? (*p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4) : 1;

			for (int i = 1; i < skip; i++)
				if ((p[i] & 0xc0) != 0x80)
					skip = 1;
			out[used++] = '?';
			p += skip;
		}
		chars++;
	}
	out[used] = '\0';
}

/* ---- connections ---------------------------------------------------------------- */

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

struct room_conn *room_connect(const char *conninfo, const char *password,
                               int *needs_password, char *err)
{
	const char *keys[] = { "connect_timeout", "dbname", "fallback_application_name",
	                       password ? "password" : NULL, NULL };
	const char *vals[] = { CONNECT_TIMEOUT, conninfo ? conninfo : "", "racelab-room",
	                       password, NULL };
	struct room_conn *c;
	char *perr = NULL;

	if (needs_password)
		*needs_password = 0;
	if (conninfo && *conninfo && (strchr(conninfo, '=') || strstr(conninfo, "://"))) {
		PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);

		if (!opts) {
			/* libpq's message may quote the string, password and all */
			snprintf(err, ROOM_ERRLEN, "cannot parse the connection string given"
			         " with -d%s", strstr(conninfo, "assword") ? "" : perr ? ": " : "");
			if (perr && !strstr(conninfo, "assword"))
				msg_first_line(err + strlen(err), ROOM_ERRLEN - strlen(err), "", perr);
			PQfreemem(perr);
			return NULL;
		}
		PQconninfoFree(opts);
	}
	if (!(c = calloc(1, sizeof *c))) {
		snprintf(err, ROOM_ERRLEN, "out of memory");
		return NULL;
	}
	if (getenv("PGCONNECT_TIMEOUT"))
		vals[0] = "";
	c->pg = PQconnectdbParams(keys, vals, 1);
	msg_add_field(c->name, sizeof c->name, "host", PQhost(c->pg));
	msg_add_field(c->name, sizeof c->name, "port", PQport(c->pg));
	msg_add_field(c->name, sizeof c->name, "dbname", PQdb(c->pg));
	msg_add_field(c->name, sizeof c->name, "user", PQuser(c->pg));
	if (PQstatus(c->pg) != CONNECTION_OK) {
		char why[ROOM_ERRLEN];

		if (needs_password)
			*needs_password = PQconnectionNeedsPassword(c->pg);
		msg_first_line(why, ROOM_ERRLEN, "", c->pg ? PQerrorMessage(c->pg) : "out of memory");
		snprintf(err, ROOM_ERRLEN, "cannot connect to PostgreSQL at %.100s: %.110s",
		         c->name[0] ? c->name : "the default server", why);
		room_disconnect(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
	return c;
}

void room_disconnect(struct room_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	free(c);
}

const char *room_conn_name(struct room_conn *c)
{
	return c->name;
}

int room_conn_socket(struct room_conn *c)
{
	return PQsocket(c->pg);
}

int room_conn_pid(struct room_conn *c)
{
	return PQbackendPID(c->pg);
}

const char *room_conn_host(struct room_conn *c)
{
	return PQhost(c->pg);
}

const char *room_conn_port(struct room_conn *c)
{
	return PQport(c->pg);
}

const char *room_conn_db(struct room_conn *c)
{
	return PQdb(c->pg);
}

int room_conn_notified(struct room_conn *c)
{
	PGnotify *n;
	int count = 0;

	if (!PQconsumeInput(c->pg))
		return -1;
	while ((n = PQnotifies(c->pg))) {
		if (n->extra[0] >= 'a' && n->extra[0] <= 'z')
			c->news |= 1u << (n->extra[0] - 'a');
		PQfreemem(n);
		count++;
	}
	return count;
}

unsigned room_conn_news(struct room_conn *c)
{
	unsigned news = c->news;

	c->news = 0;
	return news;
}

/* Run SQL with NARGS text ARGS and wait; RES gets the result if wanted (else it
 * is cleared).  0, or -1 with the server's message after WHAT in err. */
static int run(struct room_conn *c, const char *sql, int nargs, const char *const *args,
               PGresult **res, const char *what, char *err)
{
	PGresult *r = PQexecParams(c->pg, sql, nargs, NULL, args, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char prefix[96];

		snprintf(prefix, sizeof prefix, "%s: ", what);
		msg_first_line(err, ROOM_ERRLEN, prefix, r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
		PQclear(r);
		return -1;
	}
	if (res)
		*res = r;
	else
		PQclear(r);
	return 0;
}

int room_exec(struct room_conn *c, const char *sql, char *err)
{
	return run(c, sql, 0, NULL, NULL, sql, err);
}

/* ---- the room in the database ----------------------------------------------------- */

/* Name C's room schema and channel after CODE (six digits: nothing to escape,
 * but quoted all the same). */
static int name_room(struct room_conn *c, const char *code, char *err)
{
	char *q;

	if (!room_code_valid(code)) {
		snprintf(err, ROOM_ERRLEN, "a room's code is six digits");
		return -1;
	}
	snprintf(c->schema, sizeof c->schema, "racelab_room_%s", code);
	snprintf(c->channel, sizeof c->channel, "%s", c->schema);
	if (!(q = PQescapeIdentifier(c->pg, c->schema, strlen(c->schema)))) {
		msg_first_line(err, ROOM_ERRLEN, "cannot quote a schema name: ", PQerrorMessage(c->pg));
		return -1;
	}
	snprintf(c->ident, sizeof c->ident, "%s", q);
	PQfreemem(q);
	return 0;
}

/* SET search_path to the room and LISTEN to it (if LISTEN: a connection that
 * listens must read what comes, or libpq keeps it). */
static int use_room(struct room_conn *c, int listen, char *err)
{
	char sql[160];

	snprintf(sql, sizeof sql, "SET search_path TO %s", c->ident);
	if (run(c, sql, 0, NULL, NULL, "cannot use the room's schema", err))
		return -1;
	if (!listen)
		return 0;
	snprintf(sql, sizeof sql, "LISTEN %s", c->ident);
	return run(c, sql, 0, NULL, NULL, "cannot listen to the room", err);
}

static int notify(struct room_conn *c, const char *what, char *err)
{
	const char *args[] = { c->channel, what };

	return run(c, "SELECT pg_notify($1, $2)", 2, args, NULL, "cannot notify the room", err);
}

static const char *const room_tables[] = {
	"CREATE TABLE room (code text NOT NULL, scenario text NOT NULL,"
	" strategy text NOT NULL, ops integer NOT NULL, round integer NOT NULL DEFAULT 0,"
	" state text NOT NULL DEFAULT 'idle')",
	"CREATE TABLE students (id serial PRIMARY KEY,"
	" name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64"
	"   AND name !~ '[[:cntrl:]]'),"
	" pid integer NOT NULL DEFAULT pg_backend_pid(), step_pid integer NOT NULL,"
	" joined timestamptz NOT NULL DEFAULT now())",
	"CREATE TABLE steps (student integer NOT NULL REFERENCES students,"
	" n integer NOT NULL, round integer NOT NULL, op integer NOT NULL,"
	" step text NOT NULL, kind \"char\" NOT NULL, value bigint NOT NULL DEFAULT 0,"
	" changes bigint NOT NULL DEFAULT 0, effect integer NOT NULL DEFAULT 0,"
	" t_key bigint NOT NULL DEFAULT 0, PRIMARY KEY (student, n))",
	/* A student's connection may add itself, and rows for itself only; the
	 * owner (the instructor) is not bound by these policies. */
	"ALTER TABLE students ENABLE ROW LEVEL SECURITY",
	"CREATE POLICY see ON students FOR SELECT USING (true)",
	"CREATE POLICY join_as_self ON students FOR INSERT WITH CHECK (pid = pg_backend_pid())",
	"ALTER TABLE steps ENABLE ROW LEVEL SECURITY",
	"CREATE POLICY see ON steps FOR SELECT USING (true)",
	"CREATE POLICY own_steps ON steps FOR INSERT WITH CHECK (EXISTS (SELECT 1"
	" FROM students s WHERE s.id = student AND s.pid = pg_backend_pid()))",
	NULL,
};

/* Let the students' role use the scenario's data: every table in the room's
 * schema that is not the room's own (its SQL may read, insert, update, delete;
 * only the owner may drop, truncate or alter). */
static const char grant_data[] =
	"DO $$ DECLARE t name; BEGIN"
	" FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	"   AND tablename NOT IN ('room', 'students', 'steps') LOOP"
	"   EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO PUBLIC', t);"
	" END LOOP; END $$";

/* The scenario's data as new (FRESH, on C in the room's schema) for STRATEGY
 * (NULL: INFO's), and the students' role allowed to use it. */
static int fresh_data(struct room_conn *c, struct room_info *info, const char *strategy,
                      room_fresh_fn fresh, void *arg, char *err)
{
	if (strategy)           /* the round about to start plays this one */
		snprintf(info->strategy, sizeof info->strategy, "%s", strategy);
	c->nested = 0;          /* whatever an earlier failure left open was rolled back */
	if (fresh(c, info, arg, err))
		return -1;
	return run(c, grant_data, 0, NULL, NULL, "cannot let the students use the data", err);
}

static int run_all(struct room_conn *c, const char *const *sql, char *err)
{
	for (; *sql; sql++)
		if (run(c, *sql, 0, NULL, NULL, "cannot create the room", err))
			return -1;
	return 0;
}

int room_create(struct room_conn *c, const char *code, const char *scenario,
                const char *strategy, int ops, room_fresh_fn fresh, void *arg, char *err)
{
	char sql[256], nops[16];
	const char *args[] = { code, scenario, strategy, nops };
	struct room_info info = { .ops = ops, .state = ROOM_IDLE };

	if (name_room(c, code, err))
		return -1;
	snprintf(info.scenario, sizeof info.scenario, "%s", scenario);
	snprintf(info.strategy, sizeof info.strategy, "%s", strategy);
	snprintf(nops, sizeof nops, "%d", ops);
	if (run(c, "BEGIN", 0, NULL, NULL, "cannot create the room", err))
		return -1;
	snprintf(sql, sizeof sql, "CREATE SCHEMA %s", c->ident);
	if (run(c, sql, 0, NULL, NULL, "cannot create the room", err))
		goto fail;
	snprintf(sql, sizeof sql, "SET LOCAL search_path TO %s", c->ident);
	if (run(c, sql, 0, NULL, NULL, "cannot create the room", err) ||
	    run_all(c, room_tables, err) ||
	    run(c, "INSERT INTO room (code, scenario, strategy, ops) VALUES ($1, $2, $3, $4)",
	        4, args, NULL, "cannot create the room", err) ||
	    fresh_data(c, &info, NULL, fresh, arg, err))
		goto fail;
	snprintf(sql, sizeof sql, "GRANT USAGE ON SCHEMA %s TO PUBLIC", c->ident);
	if (run(c, sql, 0, NULL, NULL, "cannot create the room", err) ||
	    run(c, "GRANT SELECT ON room TO PUBLIC", 0, NULL, NULL, "cannot create the room",
	        err) ||
	    run(c, "GRANT SELECT, INSERT ON students, steps TO PUBLIC", 0, NULL, NULL,
	        "cannot create the room", err) ||
	    run(c, "GRANT USAGE ON SEQUENCE students_id_seq TO PUBLIC", 0, NULL, NULL,
	        "cannot create the room", err) ||
	    run(c, "COMMIT", 0, NULL, NULL, "cannot create the room", err))
		goto fail;
	return use_room(c, 1, err);
fail:
	{
		char ignore[ROOM_ERRLEN];

		run(c, "ROLLBACK", 0, NULL, NULL, "", ignore);
	}
	return -1;
}

int room_enter(struct room_conn *c, const char *code, int listen, char *err)
{
	const char *args[] = { c->schema };
	PGresult *r;
	int found;

	if (name_room(c, code, err))
		return -1;
	if (run(c, "SELECT 1 FROM pg_namespace WHERE nspname = $1", 1, args, &r,
	        "cannot look for the room", err))
		return -1;
	found = PQntuples(r) == 1;
	PQclear(r);
	if (!found)
		return 0;
	return use_room(c, listen, err) ? -1 : 1;
}

int room_drop(struct room_conn *c, const char *code, char *err)
{
	char sql[160];

	if (name_room(c, code, err))
		return -1;
	snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", c->ident);
	if (run(c, sql, 0, NULL, NULL, "cannot drop the room", err))
		return -1;
	return notify(c, "c", err);
}

static enum room_state state_of(const char *s)
{
	return !strcmp(s, "running") ? ROOM_RUNNING : !strcmp(s, "ending") ? ROOM_ENDING
	       : ROOM_IDLE;
}

int room_info(struct room_conn *c, struct room_info *out, char *err)
{
	PGresult *r = PQexec(c->pg, "SELECT scenario, strategy, ops, round, state FROM room");
	int rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		/* the schema (and so the table) is gone: the room was closed */
		if (state && (!strcmp(state, "42P01") || !strcmp(state, "3F000"))) {
			out->state = ROOM_CLOSED;
		} else {
			msg_first_line(err, ROOM_ERRLEN, "cannot read the room: ",
			           r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
			rc = -1;
		}
	} else if (PQntuples(r) != 1) {
		out->state = ROOM_CLOSED;
	} else {
		snprintf(out->scenario, sizeof out->scenario, "%s", PQgetvalue(r, 0, 0));
		snprintf(out->strategy, sizeof out->strategy, "%s", PQgetvalue(r, 0, 1));
		out->ops = atoi(PQgetvalue(r, 0, 2));
		out->round = atoi(PQgetvalue(r, 0, 3));
		out->state = state_of(PQgetvalue(r, 0, 4));
	}
	PQclear(r);
	return rc;
}

/* Run SQL (a change of the room's row, with its arguments) and, if FRESH is not
 * NULL, the scenario's fresh data for STRATEGY (NULL: the room's), in one
 * transaction, then notify 'r'. */
static int change(struct room_conn *c, const char *sql, int nargs, const char *const *args,
                  const char *strategy, room_fresh_fn fresh, void *arg, char *err)
{
	struct room_info info = { .state = ROOM_IDLE };
	char ignore[ROOM_ERRLEN];

	if (run(c, "BEGIN", 0, NULL, NULL, "cannot change the room", err))
		return -1;
	if (room_info(c, &info, err) || info.state == ROOM_CLOSED ||
	    (fresh && fresh_data(c, &info, strategy, fresh, arg, err)) ||
	    run(c, sql, nargs, args, NULL, "cannot change the room", err) ||
	    notify(c, "r", err) ||
	    run(c, "COMMIT", 0, NULL, NULL, "cannot change the room", err)) {
		if (info.state == ROOM_CLOSED)
			snprintf(err, ROOM_ERRLEN, "the room is gone");
		run(c, "ROLLBACK", 0, NULL, NULL, "", ignore);
		return -1;
	}
	return 0;
}

int room_start(struct room_conn *c, const char *strategy, room_fresh_fn fresh, void *arg,
               char *err)
{
	const char *args[] = { strategy };

	return change(c, "UPDATE room SET round = round + 1, strategy = $1, state = 'running'",
	              1, args, strategy, fresh, arg, err);
}

int room_end(struct room_conn *c, char *err)
{
	return change(c, "UPDATE room SET state = 'ending' WHERE state = 'running'", 0, NULL,
	              NULL, NULL, NULL, err);
}

int room_over(struct room_conn *c, char *err)
{
	return change(c, "UPDATE room SET state = 'idle'", 0, NULL, NULL, NULL, NULL, err);
}

int room_reset(struct room_conn *c, room_fresh_fn fresh, void *arg, char *err)
{
	return change(c, "UPDATE room SET state = 'idle'", 0, NULL, NULL, fresh, arg, err);
}

/* ---- a student -------------------------------------------------------------------- */

int room_join(struct room_conn *c, const char *name, int step_pid, int *id, char *err)
{
	char pid[16];
	const char *args[] = { name, pid, c->channel };
	PGresult *r;

	if (!room_name_valid(name)) {
		snprintf(err, ROOM_ERRLEN, "a name is 1 to %d characters, none of them"
		         " control characters", ROOM_NAME_MAX);
		return -1;
	}
	snprintf(pid, sizeof pid, "%d", step_pid);
	if (run(c, "WITH s AS (INSERT INTO students (name, step_pid) VALUES ($1, $2)"
	        " RETURNING id) SELECT id, pg_notify($3, 'j') FROM s", 3, args, &r,
	        "cannot join the room", err))
		return -1;
	*id = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int room_log(struct room_conn *c, const struct room_row *row, char *err)
{
	char v[10][24], kind[2] = { (char)row->kind, '\0' };
	const char *args[] = { v[0], v[1], v[2], v[3], row->step, kind, v[4], v[5], v[6], v[7],
	                       c->channel };

	snprintf(v[0], sizeof v[0], "%d", row->student);
	snprintf(v[1], sizeof v[1], "%d", row->n);
	snprintf(v[2], sizeof v[2], "%d", row->round);
	snprintf(v[3], sizeof v[3], "%d", row->op);
	snprintf(v[4], sizeof v[4], "%" PRId64, row->value);
	snprintf(v[5], sizeof v[5], "%" PRId64, row->changes);
	snprintf(v[6], sizeof v[6], "%d", row->effect);
	snprintf(v[7], sizeof v[7], "%" PRId64, row->t_key);
	return run(c, "WITH i AS (INSERT INTO steps (student, n, round, op, step, kind, value,"
	           " changes, effect, t_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
	           " RETURNING 1) SELECT pg_notify($11, 's') FROM i", 11, args, NULL,
	           "cannot report a step", err);
}

int room_send(struct room_conn *c, const char *sql, int nargs, const char *const *args,
              char *err)
{
	if (!PQsendQueryParams(c->pg, sql, nargs, NULL, args, NULL, NULL, 0)) {
		msg_first_line(err, ROOM_ERRLEN, "cannot send a step: ", PQerrorMessage(c->pg));
		return -1;
	}
	return 0;
}

int room_result(struct room_conn *c, int64_t *value, int64_t *changes, int *failed,
                char *err)
{
	PGresult *r;

	if (!PQconsumeInput(c->pg)) {
		msg_first_line(err, ROOM_ERRLEN, "the connection was lost: ", PQerrorMessage(c->pg));
		return -1;
	}
	if (PQisBusy(c->pg))
		return 0;
	*value = *changes = 0;
	*failed = 0;
	while ((r = PQgetResult(c->pg))) {
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
			*value = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			*changes = strtoll(PQcmdTuples(r), NULL, 10);
		else if (!*failed) {
			*failed = 1;
			msg_first_line(err, ROOM_ERRLEN, "", PQresultErrorMessage(r));
		}
		PQclear(r);
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		msg_first_line(err, ROOM_ERRLEN, "the connection was lost: ", PQerrorMessage(c->pg));
		return -1;
	}
	return 1;
}

void room_cancel(struct room_conn *c)
{
	PGcancel *k = PQgetCancel(c->pg);
	char buf[256];

	if (k) {
		PQcancel(k, buf, sizeof buf);
		PQfreeCancel(k);
	}
}

/* ---- the projector's model ------------------------------------------------------- */

void room_model_init(struct room_model *m)
{
	memset(m, 0, sizeof *m);
}

void room_model_done(struct room_model *m)
{
	free(m->seats);
	free(m->lags);
	memset(m, 0, sizeof *m);
}

struct room_seat *room_model_seat(struct room_model *m, int id)
{
	/* seats are kept in id order: a binary search */
	int lo = 0, hi = m->nseats - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (m->seats[mid].id == id)
			return &m->seats[mid];
		if (m->seats[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int room_model_join(struct room_model *m, int id, const char *name, int pid)
{
	struct room_seat *s;
	int at;

	if (room_model_seat(m, id))
		return 0;
	if (m->nseats == m->cap) {
		int cap = m->cap ? m->cap * 2 : 32;
		struct room_seat *seats = realloc(m->seats, (size_t)cap * sizeof *seats);

		if (!seats)
			return -1;
		m->seats = seats;
		m->cap = cap;
	}
	for (at = m->nseats; at > 0 && m->seats[at - 1].id > id; at--)
		;
	memmove(&m->seats[at + 1], &m->seats[at], (size_t)(m->nseats - at) * sizeof *s);
	m->nseats++;
	s = &m->seats[at];
	memset(s, 0, sizeof *s);
	s->id = id;
	s->pid = pid;
	printable_name(s->name, sizeof s->name, name);
	return 1;
}

static void lane_push(struct room_seat *s, const struct room_row *row)
{
	struct room_lane_step *l;

	/* a step that waited, now done: the same place on the lane */
	if (s->nlane && row->kind == ROOM_ROW_DONE && s->lane[s->nlane - 1].kind == ROOM_ROW_WAIT &&
	    !strcmp(s->lane[s->nlane - 1].step, row->step) && s->lane[s->nlane - 1].op == row->op) {
		l = &s->lane[s->nlane - 1];
		l->kind = row->kind;
		l->value = row->value;
		l->effect = row->effect;
		l->waited = 1;
		return;
	}
	if (s->nlane == ROOM_LANE) {
		memmove(&s->lane[0], &s->lane[1], (ROOM_LANE - 1) * sizeof *s->lane);
		s->nlane--;
	}
	l = &s->lane[s->nlane++];
	snprintf(l->step, sizeof l->step, "%s", row->step);
	l->kind = row->kind;
	l->value = row->value;
	l->op = row->op;
	l->effect = row->effect;
	l->waited = 0;
}

static void keep_lag(struct room_model *m, int64_t lag)
{
	if (m->nlags == m->caplags) {
		size_t cap = m->caplags * 2;
		int64_t *v = realloc(m->lags, cap * sizeof *v);

		if (!v)
			return;
		m->lags = v;
		m->caplags = cap;
	}
	m->lags[m->nlags++] = lag;
}

int room_model_apply(struct room_model *m, const struct room_row *row, int64_t now_ns)
{
	struct room_seat *s = room_model_seat(m, row->student);
	int current;

	if (!s) {
		m->out_of_order++;
		return -1;
	}
	if (row->n <= s->last_n)
		return 0;
	if (row->n != s->last_n + 1) {
		m->out_of_order++;
		return -1;
	}
	s->last_n = row->n;
	m->total_rows++;
	current = row->round == m->info.round;
	switch (row->kind) {
	case ROOM_ROW_BEGIN:
		s->round = row->round;
		s->finished = 0;
		s->waiting = 0;
		break;
	case ROOM_ROW_END:
		if (row->round == s->round)
			s->finished = 1;
		s->waiting = 0;
		break;
	case ROOM_ROW_WAIT:
		s->waiting = 1;
		if (current)
			lane_push(s, row);
		break;
	case ROOM_ROW_DONE:
	case ROOM_ROW_SKIP:
		s->waiting = 0;
		if (current) {
			s->steps++;
			m->steps++;
			if (row->effect) {
				s->effects++;
				m->effects++;
			}
			lane_push(s, row);
		}
		if (m->caplags && row->t_key > 0)
			keep_lag(m, now_ns - row->t_key);
		break;
	case ROOM_ROW_ABORT:
		s->waiting = 0;
		if (current)
			lane_push(s, row);
		break;
	}
	return 1;
}

void room_model_new_round(struct room_model *m, int round)
{
	m->info.round = round;
	m->steps = m->effects = 0;
	m->checked = 0;
	memset(&m->check, 0, sizeof m->check);
	for (int i = 0; i < m->nseats; i++) {
		m->seats[i].steps = m->seats[i].effects = 0;
		m->seats[i].nlane = 0;
		m->seats[i].waiting = 0;
	}
}

int room_model_round_done(const struct room_model *m)
{
	for (int i = 0; i < m->nseats; i++) {
		const struct room_seat *s = &m->seats[i];

		if (!s->gone && !(s->round == m->info.round && s->finished))
			return 0;
	}
	return 1;
}

static int fetch_students(struct room_conn *c, struct room_model *m, room_seat_fn seat,
                          void *arg, char *err)
{
	PGresult *r;

	if (run(c, "SELECT id, name, pid FROM students ORDER BY id", 0, NULL, &r,
	        "cannot read the students", err))
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		int id = atoi(PQgetvalue(r, i, 0));
		int added = room_model_join(m, id, PQgetvalue(r, i, 1), atoi(PQgetvalue(r, i, 2)));

		if (added < 0) {
			snprintf(err, ROOM_ERRLEN, "out of memory");
			PQclear(r);
			return -1;
		}
		if (added && seat)
			seat(m, room_model_seat(m, id), "joined", arg);
	}
	PQclear(r);
	return 0;
}

static int fetch_gone(struct room_conn *c, struct room_model *m, room_seat_fn seat,
                      void *arg, char *err)
{
	PGresult *r;

	/* A student whose connection the server no longer has has gone; its open
	 * transaction, if any, was rolled back with it. */
	if (run(c, "SELECT s.id FROM students s WHERE NOT EXISTS (SELECT 1"
	        " FROM pg_stat_activity a WHERE a.pid = s.pid)", 0, NULL, &r,
	        "cannot see who has gone", err))
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct room_seat *s = room_model_seat(m, atoi(PQgetvalue(r, i, 0)));

		if (s && !s->gone) {
			s->gone = 1;
			s->waiting = 0;
			if (seat)
				seat(m, s, "gone", arg);
		}
	}
	PQclear(r);
	return 0;
}

int room_model_poll(struct room_conn *c, struct room_model *m, int what,
                    room_show_fn show, room_seat_fn seat, void *arg, char *err)
{
	char *last = NULL;
	size_t len = 0, cap = 0;
	PGresult *r;
	int applied = 0, maxid;
	int64_t now;

	if ((what & ROOM_POLL_STUDENTS) && fetch_students(c, m, seat, arg, err))
		return -1;
	/* '{3,0,7}': the last row applied of students 1, 2, 3 … as an array the
	 * query indexes by student id; each student's new rows come by its key.
	 * A student not known yet is -1: its rows wait until it is. */
	maxid = m->nseats ? m->seats[m->nseats - 1].id : 0;
	cap = (size_t)maxid * 12 + 4;
	if (!(last = malloc(cap))) {
		snprintf(err, ROOM_ERRLEN, "out of memory");
		return -1;
	}
	last[len++] = '{';
	for (int id = 1; id <= maxid; id++) {
		struct room_seat *s = room_model_seat(m, id);

		len += (size_t)snprintf(last + len, cap - len, "%s%d", id > 1 ? "," : "",
		                        s ? s->last_n : -1);
	}
	snprintf(last + len, cap - len, "}");
	{
		const char *args[] = { last };

		if (run(c, "SELECT t.student, t.n, t.round, t.op, t.step, t.kind, t.value,"
		        " t.changes, t.effect, t.t_key"
		        " FROM unnest($1::integer[]) WITH ORDINALITY AS k(last, student)"
		        " CROSS JOIN LATERAL (SELECT * FROM steps s WHERE s.student = k.student"
		        " AND s.n > k.last ORDER BY s.n) t WHERE k.last >= 0"
		        " ORDER BY t.student, t.n", 1, args, &r,
		        "cannot read the steps", err)) {
			free(last);
			return -1;
		}
	}
	free(last);
	now = m->polled_ns = sys_now_ns();
	for (int i = 0; i < PQntuples(r); i++) {
		struct room_row row = { 0 };

		row.student = atoi(PQgetvalue(r, i, 0));
		row.n = atoi(PQgetvalue(r, i, 1));
		row.round = atoi(PQgetvalue(r, i, 2));
		row.op = atoi(PQgetvalue(r, i, 3));
		snprintf(row.step, sizeof row.step, "%s", PQgetvalue(r, i, 4));
		row.kind = (enum room_row_kind)PQgetvalue(r, i, 5)[0];
		row.value = strtoll(PQgetvalue(r, i, 6), NULL, 10);
		row.changes = strtoll(PQgetvalue(r, i, 7), NULL, 10);
		row.effect = atoi(PQgetvalue(r, i, 8));
		row.t_key = strtoll(PQgetvalue(r, i, 9), NULL, 10);
		if (room_model_apply(m, &row, now) == 1) {
			applied++;
			if (show)
				show(m, room_model_seat(m, row.student), &row, arg);
		}
	}
	PQclear(r);
	if ((what & ROOM_POLL_GONE) && fetch_gone(c, m, seat, arg, err))
		return -1;
	return applied;
}

/* For make bench: keep every key press → applied delay. */
int room_model_keep_lags(struct room_model *m)
{
	if (!m->lags && !(m->lags = malloc(1024 * sizeof *m->lags)))
		return -1;
	m->caplags = 1024;
	return 0;
}

/* ---- the room's connection as a backend ------------------------------------------ */

/* A scenario's setup() and check() speak core/db.h; in a room they run on the
 * instructor's (or a student's control) connection, in the room's schema.  Only
 * exec is needed: a room has no sites, areas or sessions of its own.
 *
 * The instructor's change of the room runs in one transaction; a setup that
 * wraps its rows in a transaction of its own gets a savepoint inside it instead,
 * since its COMMIT would end the room's transaction half way. */
static const char *nested(struct room_conn *c, const char *sql)
{
	int in_txn = PQtransactionStatus(c->pg) == PQTRANS_INTRANS;

	if (!strcmp(sql, "BEGIN") && (in_txn || c->nested)) {
		c->nested++;
		return "SAVEPOINT racelab_scenario";
	}
	if (c->nested && !strcmp(sql, "COMMIT")) {
		c->nested--;
		return "RELEASE SAVEPOINT racelab_scenario";
	}
	if (c->nested && !strcmp(sql, "ROLLBACK")) {
		c->nested--;
		return "ROLLBACK TO SAVEPOINT racelab_scenario";
	}
	return sql;
}

static enum db_status room_db_exec(db_conn *conn, const char *sql, const db_value *args,
                                   int nargs, db_result *res, char *err)
{
	struct room_conn *c = (struct room_conn *)(void *)conn;
	char nums[16][DB_INT_TEXT];
	const char *vals[16];
	const char *state;
	PGresult *r;
	ExecStatusType st;
	enum db_status rc = DB_OK;

	if (res)
		memset(res, 0, sizeof *res);
	if (nargs > 16) {
		snprintf(err, DB_ERRLEN, "too many arguments (%d) for one statement", nargs);
		return DB_ERROR;
	}
	db_args_text(args, nargs, nums, vals);
	r = PQexecParams(c->pg, nested(c, sql), nargs, NULL, vals, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		if (res) {
			res->has_row = st == PGRES_TUPLES_OK && PQntuples(r) > 0;
			if (res->has_row && !PQgetisnull(r, 0, 0))
				res->value = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			if (res->has_row && PQnfields(r) > 1 && !PQgetisnull(r, 0, 1))
				res->value2 = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
			res->changes = strtoll(PQcmdTuples(r), NULL, 10);
		}
	} else if (PQstatus(c->pg) == CONNECTION_BAD) {
		msg_first_line(err, DB_ERRLEN, "connection to PostgreSQL lost: ",
		               PQerrorMessage(c->pg));
		rc = DB_GONE;
	} else {
		state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		msg_first_line(err, DB_ERRLEN, "",
		               r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
		if (res && state)
			snprintf(res->code, sizeof res->code, "%s", state);
		rc = state && (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
		               !strcmp(state, "55P03")) ? DB_RETRY : DB_ERROR;
	}
	PQclear(r);
	return rc;
}

static const db_backend room_backend = {
	.name = "postgres",
	.title = "PostgreSQL",
	.row_locks = 1,
	.begin_locked = "BEGIN",
	.exec = room_db_exec,
};

const db_backend *room_db(void)
{
	return &room_backend;
}

db_conn *room_db_conn(struct room_conn *c)
{
	return (db_conn *)(void *)c;
}
