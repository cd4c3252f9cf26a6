/*
 * postgres.c: the PostgreSQL backend, through libpq.
 *
 * A site is a server (a libpq conninfo string or URI; NULL means libpq's defaults
 * and the PG* variables, as psql does).  The site keeps one control connection,
 * which creates and drops the areas.  Each area is a schema of its own,
 * racelab_<label>_<pid>_<6 random hex digits>, so runs never collide and nothing
 * outside it is touched; dropping it (CASCADE) removes everything the run made.
 * Every worker connection sets search_path to its area's schema alone, so the
 * demos' SQL names bare tables.  Each worker thread owns one PGconn, which is all
 * libpq asks of threaded programs.
 *
 * DESIGN: PostgreSQL, unlike SQLite, tells the client nothing while a statement
 * waits for a row lock: the statement just takes longer.  So exec sends the
 * statement asynchronously and polls the socket.  A result not ready within
 * FIRST_WAIT_NS is taken to be a lock wait and reported through on_wait, again
 * every NEXT_WAIT_NS while it lasts.  In free runs this timing heuristic is what
 * counts lock waits on PostgreSQL: a statement slowed by a busy machine rather
 * than a lock counts too.  Scheduled runs take the timing only as a cue to ask
 * the server: the blocked slot asks the control connection for pg_blocking_pids
 * of the db_conn's backend pid.  When on_wait asks to give up (> 0), the
 * statement is cancelled (PQcancel) and, once it has failed, exec returns
 * DB_RETRY.
 *
 * Errors map by SQLSTATE: serialization failures, deadlocks and lock timeouts are
 * retried; a lost connection (or an administrator's pg_terminate_backend) is
 * DB_GONE; anything else is DB_ERROR.
 *
 * -d may hold a password.  No message here quotes it: site_name is built from
 * the host, port, database and user that libpq parsed, and a conninfo that fails
 * to parse is not echoed when it mentions a password.
 */
#include "db.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "sys.h"

#define FIRST_WAIT_NS (2LL * 1000000)          /* no result this soon: a lock wait */
#define NEXT_WAIT_NS (10LL * 1000000)          /* then call on_wait this often */
#define CANCEL_AGAIN_NS (1000LL * 1000000)     /* a cancel that did not land is resent */
#define CANCEL_GIVE_UP_NS (5000LL * 1000000)   /* and after this long the server is gone */
#define CONNECT_TIMEOUT "10"                   /* seconds, unless PGCONNECT_TIMEOUT says */
#define MAX_ARGS 16                            /* bound values per statement */
#define NAMELEN 64                             /* PostgreSQL's NAMEDATALEN */

struct db_site {
	PGconn *control;        /* creates and drops the areas; main thread only */
	pid_t owner;            /* the process that opened it (and control) */
	PGconn *own;            /* a worker process's control connection for blocked():
	                           control's socket is the owner's, never to be shared */
	char *conninfo;         /* -d as given ("" for the defaults); may hold a password */
	char name[256];         /* host, port, dbname, user: safe to print */
	int max_connections;    /* the server's, for a helpful "too many clients" */
	_Atomic int open;       /* our connections to the server, the control one included */
	int unreachable;        /* the control connection was lost and could not be reset */
};

struct db_area {
	db_site *site;
	char schema[NAMELEN];   /* racelab_<label>_<pid>_<hex>: only [a-z0-9_] */
	char ident[NAMELEN + 8];/* the same, quoted as an SQL identifier */
};

#define STMT_CACHE 16          /* statements prepared per connection */

struct db_conn {
	db_site *site;
	PGconn *pg;
	int pid;                /* the server process serving us (pg_blocking_pids) */
	db_wait_fn on_wait;
	void *arg;
	char lost[DB_ERRLEN];   /* the connection died after a statement completed */
	char *stmts[STMT_CACHE];/* SQL prepared on this connection as racelab_<index> */
	int nstmts;
};

/* libpq's reason a connection failed (msg_first_line drops the "connection to
 * server at … failed: " that repeats what the site name already says). */
static void connect_reason(char *out, PGconn *pg)
{
	msg_first_line(out, DB_ERRLEN, "", pg ? PQerrorMessage(pg) : "out of memory");
}

/* Notices (DROP TABLE IF EXISTS's "does not exist, skipping") would land on the
 * dashboard's screen: drop them. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Does libpq read S as a conninfo string or URI, rather than a database name? */
static int is_conninfo(const char *s)
{
	return strchr(s, '=') || !strncmp(s, "postgresql://", 13) ||
	       !strncmp(s, "postgres://", 11);
}

/* A connection to the site's server; NULL only when out of memory.  Check its
 * PQstatus: a failed connection still says where it tried and why it failed. */
static PGconn *open_pg(db_site *site)
{
	/* Keywords are applied in order, and the expanded dbname (the conninfo) comes
	 * after connect_timeout, so a timeout given in -d wins over ours. */
	const char *keys[] = { "connect_timeout", "dbname", "fallback_application_name", NULL };
	const char *vals[] = { CONNECT_TIMEOUT, site->conninfo, "racelab", NULL };
	PGconn *pg;

	if (getenv("PGCONNECT_TIMEOUT"))
		vals[0] = "";           /* an empty value is no value: the variable applies */
	pg = PQconnectdbParams(keys, vals, 1);
	if (pg && PQstatus(pg) == CONNECTION_OK)
		PQsetNoticeProcessor(pg, ignore_notice, NULL);
	return pg;              /* callers check PQstatus: its message says why */
}

/* The site's name from what the connection says (libpq's parsed options, with
 * the defaults filled in, even when it failed), never from the conninfo text. */
static void name_from_conn(db_site *site, PGconn *pg)
{
	site->name[0] = '\0';
	msg_add_field(site->name, sizeof site->name, "host", PQhost(pg));
	msg_add_field(site->name, sizeof site->name, "port", PQport(pg));
	msg_add_field(site->name, sizeof site->name, "dbname", PQdb(pg));
	msg_add_field(site->name, sizeof site->name, "user", PQuser(pg));
	if (!site->name[0])
		snprintf(site->name, sizeof site->name, "the default server");
}

/* Is there a password anywhere in S?  Then libpq's parse errors, which quote
 * pieces of S, must not be shown. */
static int may_hold_password(const char *s)
{
	return strcasestr(s, "password") || (strstr(s, "://") && strchr(s, '@'));
}

/* Run one statement without arguments on the control connection.  A control
 * connection lost while idle (pg_terminate_backend, a server restart) only shows
 * when used: then reconnect once and run the statement again, so that the areas
 * are still dropped at the end.  Returns 0, or -1 with the reason in err. */
static int control_exec(db_site *site, const char *sql, const char *what, char *err)
{
	PGresult *r = NULL;
	char msg[DB_ERRLEN];
	int rc = 0;

	for (int tries = 0; tries < 2; tries++) {
		if (PQstatus(site->control) != CONNECTION_OK) {
			if (site->unreachable)
				break;  /* do not wait out connect_timeout once per area */
			PQreset(site->control);
			PQsetNoticeProcessor(site->control, ignore_notice, NULL);
			site->unreachable = PQstatus(site->control) != CONNECTION_OK;
		}
		PQclear(r);
		r = PQexec(site->control, sql);     /* a NULL r is out of memory: fails below */
		if (PQresultStatus(r) == PGRES_COMMAND_OK ||
		    PQstatus(site->control) == CONNECTION_OK)
			break;
	}
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		msg_first_line(msg, DB_ERRLEN, "", primary ? primary : PQerrorMessage(site->control));
		snprintf(err, DB_ERRLEN, "%.96s: %.100s%s", what, msg,
		         state && !strcmp(state, "42501")
		         ? " (racelab needs the CREATE privilege on the database)" : "");
		rc = -1;
	}
	PQclear(r);
	return rc;
}

static db_site *site_open(const char *where, char *err)
{
	db_site *site = calloc(1, sizeof *site);
	char reason[DB_ERRLEN];
	PGresult *r;

	if (!site || !(site->conninfo = strdup(where ? where : ""))) {
		snprintf(err, DB_ERRLEN, "out of memory");
		goto fail;
	}
	if (is_conninfo(site->conninfo)) {
		char *perr = NULL;
		PQconninfoOption *opts = PQconninfoParse(site->conninfo, &perr);

		if (!opts) {
			if (may_hold_password(site->conninfo))
				snprintf(err, DB_ERRLEN, "invalid PostgreSQL connection string"
				         " (not shown: it holds a password)");
			else
				msg_first_line(err, DB_ERRLEN, "invalid PostgreSQL connection string: ",
				           perr ? perr : "out of memory");
			PQfreemem(perr);
			goto fail;
		}
		PQconninfoFree(opts);
	}
	site->owner = getpid();
	if (!(site->control = open_pg(site))) {
		snprintf(err, DB_ERRLEN, "out of memory");
		goto fail;
	}
	name_from_conn(site, site->control);
	if (PQstatus(site->control) != CONNECTION_OK) {
		connect_reason(reason, site->control);
		snprintf(err, DB_ERRLEN, "cannot connect to PostgreSQL at %.100s: %.120s", site->name,
		         reason);
		goto fail;
	}
	atomic_store(&site->open, 1);
	r = PQexec(site->control, "SHOW max_connections");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		site->max_connections = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return site;
fail:
	if (site) {
		PQfinish(site->control);
		free(site->conninfo);
	}
	free(site);
	return NULL;
}

static const char *site_name(db_site *site)
{
	return site->name;
}

static int site_kept(db_site *site)
{
	(void)site;
	return 0;               /* every schema is dropped, -d or not */
}

static void site_close(db_site *site)
{
	if (!site)
		return;
	PQfinish(site->control);
	free(site->conninfo);
	free(site);
}

/* Six hex digits that another run started in the same second will not share. */
static unsigned random24(void)
{
	unsigned char b[3];

	if (getentropy(b, sizeof b) == 0)
		return (unsigned)b[0] << 16 | (unsigned)b[1] << 8 | b[2];
	return (unsigned)(sys_now_ns() ^ (int64_t)getpid() << 20) & 0xffffff;
}

static db_area *area_create(db_site *site, const char *label, char *err)
{
	db_area *area = calloc(1, sizeof *area);
	char tail[32], sql[sizeof area->ident + 32], what[NAMELEN + 32], *quoted;
	size_t room, len;

	if (!area) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	area->site = site;
	/* racelab_ + label + _<pid>_<hex>, cut to fit in NAMEDATALEN, in the plain
	 * lower-case letters that need no quoting in psql either. */
	snprintf(tail, sizeof tail, "_%ld_%06x", (long)getpid(), random24());
	len = (size_t)snprintf(area->schema, sizeof area->schema, "racelab_");
	room = sizeof area->schema - 1 - strlen(tail);
	for (const char *p = label; *p && len < room; p++) {
		int ch = tolower((unsigned char)*p);

		area->schema[len++] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
		                      ? (char)ch : '_';
	}
	snprintf(area->schema + len, sizeof area->schema - len, "%s", tail);

	quoted = PQescapeIdentifier(site->control, area->schema, strlen(area->schema));
	if (!quoted) {
		msg_first_line(err, DB_ERRLEN, "cannot quote a schema name: ", PQerrorMessage(site->control));
		goto fail;
	}
	snprintf(area->ident, sizeof area->ident, "%s", quoted);
	PQfreemem(quoted);
	snprintf(sql, sizeof sql, "CREATE SCHEMA %s", area->ident);
	snprintf(what, sizeof what, "cannot create schema %s", area->schema);
	if (control_exec(site, sql, what, err) != 0)
		goto fail;
	return area;
fail:
	free(area);
	return NULL;
}

/* Drops only the schema area_create made.  If the server is gone for good, the
 * schema stays on it: say so on stderr, by name, so the user can drop it (no
 * one else can tell: this is the last thing a run does). */
static void area_drop(db_area *area)
{
	char sql[sizeof area->ident + 48], err[DB_ERRLEN];

	if (!area)
		return;
	snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", area->ident);
	if (control_exec(area->site, sql, "cannot drop it", err) != 0)
		fprintf(stderr, "racelab: schema %s is left on the server (%s):"
		        " DROP SCHEMA %s CASCADE removes it\n", area->schema, err, area->ident);
	free(area);
}

/* A worker's (or the harness's check) connection, its search_path the area's
 * schema alone. */
static db_conn *connect_area(db_area *area, db_wait_fn on_wait, void *arg, char *err)
{
	db_site *site = area->site;
	db_conn *c = calloc(1, sizeof *c);
	char reason[DB_ERRLEN], sql[sizeof area->ident + 32];
	PGresult *r;

	if (!c) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	c->pg = open_pg(site);
	if (PQstatus(c->pg) != CONNECTION_OK) {         /* PQstatus(NULL) is CONNECTION_BAD */
		int n = atomic_load(&site->open) + 1;

		connect_reason(reason, c->pg);
		/* The server's "too many clients" is SQLSTATE 53300, but libpq hands over
		 * no SQLSTATE for a failed connection: we know it by its English words. */
		if (strstr(reason, "too many clients") ||
		    strstr(reason, "connection slots are reserved"))
			snprintf(err, DB_ERRLEN, "PostgreSQL refused connection %d: too many clients"
			         " already (server allows max_connections=%d); use fewer threads (-t)",
			         n, site->max_connections);
		else if (strstr(reason, "too many connections for"))    /* CONNECTION LIMIT */
			snprintf(err, DB_ERRLEN, "PostgreSQL refused connection %d: %.150s;"
			         " use fewer threads (-t)", n, reason);
		else
			snprintf(err, DB_ERRLEN, "cannot connect to PostgreSQL at %.100s: %.120s",
			         site->name, reason);
		PQfinish(c->pg);
		free(c);
		return NULL;
	}
	atomic_fetch_add(&site->open, 1);
	c->site = site;
	c->pid = PQbackendPID(c->pg);
	c->on_wait = on_wait;
	c->arg = arg;
	snprintf(sql, sizeof sql, "SET search_path TO %s", area->ident);
	r = PQexec(c->pg, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		msg_first_line(err, DB_ERRLEN, "cannot set search_path: ", PQerrorMessage(c->pg));
		PQclear(r);
		PQfinish(c->pg);
		atomic_fetch_sub(&site->open, 1);
		free(c);
		return NULL;
	}
	PQclear(r);
	return c;
}

static void disconnect(db_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nstmts; i++)
		free(c->stmts[i]);
	PQfinish(c->pg);
	atomic_fetch_sub(&c->site->open, 1);
	free(c);
}

/* Ask the server to cancel C's statement.  PQcancel opens a connection of its own
 * and is safe to call from the thread that owns C. */
static void cancel(db_conn *c)
{
	PGcancel *k = PQgetCancel(c->pg);
	char buf[256];

	if (k) {
		PQcancel(k, buf, sizeof buf);
		PQfreeCancel(k);
	}
}

enum wait_end { WAIT_READY, WAIT_LOST, WAIT_NO_ANSWER };

/* Wait until PQgetResult will not block.  While REPORT (no result has come yet),
 * a slow answer is a lock wait and goes to on_wait.  *cancelled says whether we
 * asked the server to cancel the statement. */
static enum wait_end wait_ready(db_conn *c, int report, int *cancelled)
{
	int sock = PQsocket(c->pg);
	int64_t now = sys_now_ns(), next = now + FIRST_WAIT_NS, stop_at = 0, cancel_at = 0;

	/* Ask libpq first and the socket only when libpq needs more: the answer to a
	 * short statement usually arrives in one packet, so one poll and one read. */
	while (PQisBusy(c->pg)) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int ms;

		now = sys_now_ns();
		if (report && now >= next) {
			next = now + NEXT_WAIT_NS;
			if (c->on_wait && c->on_wait(c->arg) > 0) {
				if (!stop_at)
					stop_at = now;
				if (now - stop_at > CANCEL_GIVE_UP_NS)
					return WAIT_NO_ANSWER;
				if (!*cancelled || now - cancel_at > CANCEL_AGAIN_NS) {
					cancel(c);
					*cancelled = 1;
					cancel_at = now;
				}
			}
		}
		ms = report ? (int)((next - now + 999999) / 1000000) : -1;
		if (poll(&p, 1, ms) < 0 && errno != EINTR)
			return WAIT_LOST;
		if (p.revents && !PQconsumeInput(c->pg))
			return WAIT_LOST;
	}
	return WAIT_READY;
}

/* Send "EXECUTE racelab_<i>(values)" as one simple Query: integers as written,
 * text quoted by libpq, NULL as NULL. */
static int send_execute(db_conn *c, int i, int nargs, const db_value *args,
                        const char *const *vals)
{
	char buf[1024];
	size_t len = (size_t)snprintf(buf, sizeof buf, "EXECUTE racelab_%d", i);

	for (int a = 0; a < nargs && len < sizeof buf; a++) {
		char *quoted = NULL;
		const char *lit = "NULL";

		if (args[a].type == DB_TEXT && vals[a]) {
			if (!(quoted = PQescapeLiteral(c->pg, vals[a], strlen(vals[a]))))
				return 0;
			lit = quoted;
		} else if (vals[a]) {
			lit = vals[a];
		}
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", a ? ", " : "(", lit);
		PQfreemem(quoted);
	}
	if (nargs && len < sizeof buf)
		len += (size_t)snprintf(buf + len, sizeof buf - len, ")");
	if (len >= sizeof buf) {     /* values too long for a Query line: bind them */
		snprintf(buf, sizeof buf, "racelab_%d", i);
		return PQsendQueryPrepared(c->pg, buf, nargs, vals, NULL, NULL, 0);
	}
	return PQsendQuery(c->pg, buf);
}

/* Is SQL a query or a data change (what EXECUTE runs), not BEGIN, COMMIT, SET …? */
static int is_dml(const char *sql)
{
	static const char *const verbs[] = { "SELECT", "INSERT", "UPDATE", "DELETE", "WITH" };

	while (isspace((unsigned char)*sql))
		sql++;
	for (size_t v = 0; v < sizeof verbs / sizeof *verbs; v++)
		if (!strncasecmp(sql, verbs[v], strlen(verbs[v])))
			return 1;
	return 0;
}

/* Send SQL with its values: as a statement prepared on first use, so the server
 * parses and plans each of the demo's few statements once per connection, as an
 * application with prepared statements would.  A statement that cannot be
 * prepared (an aborted transaction, a full cache) is sent as it is: the server
 * then reports whatever is wrong with it.
 *
 * Outside a transaction block a statement commits by itself, and when depends on
 * the protocol.  Sent as Parse/Bind/Execute/Sync, its CommandComplete comes before
 * the commit, which waits for Sync: a backend terminated in between has said the
 * UPDATE completed, then rolls it back.  Sent as a simple Query, the implicit
 * transaction commits before CommandComplete is sent, so a CommandComplete means
 * it committed (exec_simple_query and exec_execute_message in PostgreSQL's
 * src/backend/tcop/postgres.c; tests/postgres.t kills backends mid-run on 15).
 * So a query or data change outside a transaction block is sent as a Query that
 * EXECUTEs the prepared plan, its values written as literals, as psycopg2 sends
 * every statement.  COMMIT commits before its CommandComplete in either protocol. */
static int send_statement(db_conn *c, const char *sql, int nargs, const db_value *args,
                          const char *const *vals)
{
	char name[32];
	int i = 0;

	while (i < c->nstmts && strcmp(c->stmts[i], sql) != 0)
		i++;
	if (i == c->nstmts && i < STMT_CACHE) {
		PGresult *r;

		snprintf(name, sizeof name, "racelab_%d", i);
		r = PQprepare(c->pg, name, sql, nargs, NULL);
		if (PQresultStatus(r) == PGRES_COMMAND_OK && (c->stmts[i] = strdup(sql)))
			c->nstmts++;
		PQclear(r);
	}
	if (i < c->nstmts && PQtransactionStatus(c->pg) == PQTRANS_IDLE && is_dml(sql))
		return send_execute(c, i, nargs, args, vals);
	if (i < c->nstmts) {
		snprintf(name, sizeof name, "racelab_%d", i);
		return PQsendQueryPrepared(c->pg, name, nargs, nargs ? vals : NULL, NULL, NULL, 0);
	}
	return PQsendQueryParams(c->pg, sql, nargs, NULL, nargs ? vals : NULL, NULL, NULL, 0);
}

/* How a failed statement ended, from its SQLSTATE and the connection's state. */
static enum db_status status_of(db_conn *c, const char *state, int cancelled)
{
	if (PQstatus(c->pg) == CONNECTION_BAD)
		return DB_GONE;
	if (!state)
		return DB_ERROR;
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
		return DB_RETRY;
	if (!strcmp(state, "57014"))    /* query_canceled: by us, or by statement_timeout */
		return cancelled ? DB_RETRY : DB_ERROR;
	if (!strncmp(state, "57", 2) || !strncmp(state, "08", 2))
		return DB_GONE;         /* admin_shutdown (pg_terminate_backend), crash … */
	return DB_ERROR;
}

/* Does SQL end a transaction by committing it (COMMIT, END)? */
static int is_commit(const char *sql)
{
	while (isspace((unsigned char)*sql))
		sql++;
	return !strncasecmp(sql, "COMMIT", 6) || !strncasecmp(sql, "END", 3);
}

static enum db_status exec(db_conn *c, const char *sql, const db_value *args, int nargs,
                           db_result *res, char *err)
{
	char ints[MAX_ARGS][DB_INT_TEXT];
	const char *vals[MAX_ARGS];
	enum db_status st = DB_OK;
	enum wait_end end;
	db_result dummy;
	int cancelled = 0, completed = 0;
	PGresult *r;

	if (!res)
		res = &dummy;
	*res = (db_result){ 0 };
	if (c->lost[0]) {
		snprintf(err, DB_ERRLEN, "%s", c->lost);
		return DB_GONE;
	}
	if (nargs > MAX_ARGS) {
		snprintf(err, DB_ERRLEN, "too many arguments (%d, at most %d)", nargs, MAX_ARGS);
		return DB_ERROR;
	}
	db_args_text(args, nargs, ints, vals);
	if (!send_statement(c, sql, nargs, args, vals)) {
		msg_first_line(err, DB_ERRLEN, "", PQerrorMessage(c->pg));
		return PQstatus(c->pg) == CONNECTION_BAD ? DB_GONE : DB_ERROR;
	}
	/* One statement gives one result, then NULL; every result is read and cleared
	 * so the connection is idle again when we return. */
	for (int got = 0;; got++) {
		ExecStatusType rs;

		end = wait_ready(c, got == 0, &cancelled);
		if (end != WAIT_READY && PQisBusy(c->pg))
			break;          /* nothing more will come: do not block for it */
		if (!(r = PQgetResult(c->pg)))
			break;
		rs = PQresultStatus(r);
		if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) {
			completed = st == DB_OK;
			if (rs == PGRES_TUPLES_OK && !res->has_row && PQntuples(r) > 0 &&
			    PQnfields(r) > 0) {
				res->has_row = 1;
				res->value = PQgetisnull(r, 0, 0)
				             ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
				if (PQnfields(r) > 1 && !PQgetisnull(r, 0, 1))
					res->value2 = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
			}
			if (strncmp(PQcmdStatus(r), "SELECT", 6) != 0)    /* rows read are not changes */
				res->changes = strtoll(PQcmdTuples(r), NULL, 10);
			/* COMMIT in a transaction that had failed answers ROLLBACK, no error. */
			if (st == DB_OK && !strcmp(PQcmdStatus(r), "ROLLBACK") && is_commit(sql)) {
				snprintf(err, DB_ERRLEN, "the transaction was rolled back, not committed");
				st = DB_ERROR;
			}
		} else if (st == DB_OK) {
			const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

			const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

			msg_first_line(err, DB_ERRLEN, "", primary ? primary : PQresultErrorMessage(r));
			snprintf(res->code, sizeof res->code, "%s", state ? state : "");
			st = status_of(c, state, cancelled);
		}
		PQclear(r);
		if (end != WAIT_READY)
			break;
	}
	if (end == WAIT_NO_ANSWER) {
		snprintf(err, DB_ERRLEN, "PostgreSQL does not answer: a cancelled statement"
		         " still runs after %lld s", CANCEL_GIVE_UP_NS / 1000000000LL);
		return DB_GONE;
	}
	/* The connection died.  If the server had already said the statement completed
	 * (pg_terminate_backend can land between CommandComplete and ReadyForQuery), it
	 * did: a COMMIT committed, an autocommit UPDATE is in the table.  Report it as
	 * done so the committed count stays exact, and fail the next statement.  If it
	 * died before that, the statement did not complete: DB_GONE. */
	if (end == WAIT_LOST || PQstatus(c->pg) == CONNECTION_BAD || st == DB_GONE) {
		if (st != DB_GONE)      /* keep the server's own reason, if it sent one */
			msg_first_line(err, DB_ERRLEN, "connection to PostgreSQL lost: ", PQerrorMessage(c->pg));
		if (completed) {
			snprintf(c->lost, sizeof c->lost, "%s", err);
			return DB_OK;
		}
		return DB_GONE;
	}
	return st;
}

/* Ask the server, as PostgreSQL's isolation tester does, whether C's backend is
 * blocked by another's lock.  Timing cannot tell a lock wait from a slow
 * statement; the lock manager can.  (The caller serialises use of the control
 * connection: see the slot's contract in db.h.) */
static int conn_id(db_conn *c)
{
	return c->pid;
}

static int conn_blocked(db_site *site, int id, char *err)
{
	PGconn *control = site->control;
	char pid[16];
	const char *vals[1] = { pid };
	PGresult *r;
	int rc;

	if (getpid() != site->owner) {  /* a worker process (--procs): its own connection */
		if (!site->own) {
			PGconn *pg = open_pg(site);

			if (!pg || PQstatus(pg) != CONNECTION_OK) {
				msg_first_line(err, DB_ERRLEN, "cannot open a control connection: ",
				           pg ? PQerrorMessage(pg) : "out of memory");
				PQfinish(pg);
				return -1;
			}
			site->own = pg;
		}
		control = site->own;
	}
	snprintf(pid, sizeof pid, "%d", id);
	if (PQstatus(control) != CONNECTION_OK) {
		PQreset(control);
		PQsetNoticeProcessor(control, ignore_notice, NULL);
	}
	r = PQexecParams(control, "SELECT pg_catalog.cardinality("
	                 "pg_catalog.pg_blocking_pids($1::pg_catalog.int4)) > 0",
	                 1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		rc = PQgetvalue(r, 0, 0)[0] == 't';
	} else {
		msg_first_line(err, DB_ERRLEN, "pg_blocking_pids: ", PQerrorMessage(control));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/* ---- spec sessions (db.h: sess_*) ----
 *
 * A spec session is a bare connection in the area's schema that sends a step's
 * SQL text whole with PQsendQuery, as PostgreSQL's isolation tester does, so that
 * a text of several statements returns several results and a step can be left
 * waiting while others run.  Notices go to the sink as they arrive (the tester
 * prints them prefixed with the session's name, wherever they fall). */
struct db_sess {
	db_site *site;
	PGconn *pg;
	int pid;
	const db_sink *sink;
};

static void sess_notice(void *arg, const char *message)
{
	db_sess *s = arg;

	if (s->sink && s->sink->notice)
		s->sink->notice(s->sink->arg, message);
}

static db_sess *sess_open(db_area *area, const db_sink *sink, char *err)
{
	db_sess *s = calloc(1, sizeof *s);
	char sql[sizeof area->ident + 32], reason[DB_ERRLEN];
	PGresult *r;

	if (!s) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	s->site = area->site;
	s->sink = sink;
	s->pg = open_pg(area->site);
	if (PQstatus(s->pg) != CONNECTION_OK) {
		connect_reason(reason, s->pg);
		snprintf(err, DB_ERRLEN, "cannot connect to PostgreSQL at %.100s: %.120s",
		         area->site->name, reason);
		PQfinish(s->pg);
		free(s);
		return NULL;
	}
	atomic_fetch_add(&s->site->open, 1);
	s->pid = PQbackendPID(s->pg);
	snprintf(sql, sizeof sql, "SET search_path TO %s", area->ident);
	r = PQexec(s->pg, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		msg_first_line(err, DB_ERRLEN, "cannot set search_path: ", PQerrorMessage(s->pg));
		PQclear(r);
		PQfinish(s->pg);
		atomic_fetch_sub(&s->site->open, 1);
		free(s);
		return NULL;
	}
	PQclear(r);
	PQsetNoticeProcessor(s->pg, sess_notice, s);
	return s;
}

static void sess_close(db_sess *s)
{
	if (!s)
		return;
	PQfinish(s->pg);
	atomic_fetch_sub(&s->site->open, 1);
	free(s);
}

static int sess_send(db_sess *s, const char *sql, char *err)
{
	if (!PQsendQuery(s->pg, sql)) {
		msg_first_line(err, DB_ERRLEN, "", PQerrorMessage(s->pg));
		return -1;
	}
	return 0;
}

static int sess_ready(db_sess *s, int ms, char *err)
{
	int64_t deadline = sys_now_ns() + (int64_t)ms * 1000000;

	for (;;) {
		struct pollfd p = { .fd = PQsocket(s->pg), .events = POLLIN };
		int64_t left = deadline - sys_now_ns();
		int rc;

		if (!PQisBusy(s->pg))
			return 1;
		if (p.fd < 0) {
			msg_first_line(err, DB_ERRLEN, "connection to PostgreSQL lost: ", PQerrorMessage(s->pg));
			return -1;
		}
		rc = poll(&p, 1, ms < 0 ? -1 : left > 0 ? (int)((left + 999999) / 1000000) : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc > 0 && !PQconsumeInput(s->pg)) {
			msg_first_line(err, DB_ERRLEN, "connection to PostgreSQL lost: ", PQerrorMessage(s->pg));
			return -1;
		}
		if (rc == 0 && !PQisBusy(s->pg))
			return 1;
		if (rc == 0 && ms >= 0)
			return 0;
	}
}

static int sess_take(db_sess *s, char *err)
{
	PGresult *r;

	while ((r = PQgetResult(s->pg))) {
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_TUPLES_OK && s->sink && s->sink->table) {
			int nc = PQnfields(r), nr = PQntuples(r);
			const char **names = calloc((size_t)nc + 1, sizeof *names);
			const char **cells = calloc((size_t)nc * (size_t)nr + 1, sizeof *cells);

			if (!names || !cells) {
				free(names);
				free(cells);
				PQclear(r);
				snprintf(err, DB_ERRLEN, "out of memory");
				return -1;
			}
			for (int j = 0; j < nc; j++)
				names[j] = PQfname(r, j);
			for (int i = 0; i < nr; i++)
				for (int j = 0; j < nc; j++)
					cells[i * nc + j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
			s->sink->table(s->sink->arg, &(db_table){ nc, nr, names, cells });
			free(names);
			free(cells);
		} else if (st == PGRES_FATAL_ERROR && s->sink && s->sink->error) {
			/* The primary message alone: details may hold transaction ids. */
			const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY);
			const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
			const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);

			if (sev && msg)
				s->sink->error(s->sink->arg, sev, msg, code);
			else    /* made by libpq (a lost connection): an old-style message */
				s->sink->error(s->sink->arg, NULL, PQresultErrorMessage(r), code);
		} else if (st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY &&
		           st != PGRES_TUPLES_OK && st != PGRES_FATAL_ERROR &&
		           s->sink && s->sink->error) {
			char msg[80];

			snprintf(msg, sizeof msg, "unexpected result status: %s", PQresStatus(st));
			s->sink->error(s->sink->arg, NULL, msg, NULL);
		}
		PQclear(r);
	}
	if (PQstatus(s->pg) == CONNECTION_BAD) {
		msg_first_line(err, DB_ERRLEN, "connection to PostgreSQL lost: ", PQerrorMessage(s->pg));
		return -1;
	}
	return 0;
}

/* The tester's question, put the tester's way: is S's backend waiting for a
 * lock that one of the spec's sessions holds?  The server's own
 * pg_isolation_test_session_is_blocked (PostgreSQL 10 and later) also counts a
 * serializable transaction waiting for a safe snapshot. */
static int sess_blocked(db_sess *ctl, db_sess *s, db_sess *const *all, int n, char *err)
{
	char pid[16], *pids = malloc((size_t)n * 12 + 3);
	const char *vals[2] = { pid, pids };
	size_t len = 0;
	PGresult *r;
	int rc;

	if (!pids) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return -1;
	}
	snprintf(pid, sizeof pid, "%d", s->pid);
	pids[len++] = '{';
	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(pids + len, "%s%d", i ? "," : "", all[i]->pid);
	pids[len++] = '}';
	pids[len] = '\0';
	r = PQexecParams(ctl->pg, "SELECT pg_catalog.pg_isolation_test_session_is_blocked("
	                 "$1::pg_catalog.int4, $2::pg_catalog.int4[])",
	                 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		rc = PQgetvalue(r, 0, 0)[0] == 't';
	} else {
		msg_first_line(err, DB_ERRLEN, "pg_isolation_test_session_is_blocked: ", PQerrorMessage(ctl->pg));
		rc = -1;
	}
	PQclear(r);
	free(pids);
	return rc;
}

static void sess_cancel(db_sess *s)
{
	PGcancel *k = PQgetCancel(s->pg);
	char buf[256];

	if (k) {
		PQcancel(k, buf, sizeof buf);
		PQfreeCancel(k);
	}
}

static void version(db_site *site, char *buf, size_t n)
{
	const char *v = PQparameterStatus(site->control, "server_version");

	snprintf(buf, n, "PostgreSQL %s", v ? v : "(unknown version)");
}

static const db_backend postgres_backend = {
	.name = "postgres",
	.title = "PostgreSQL",
	.row_locks = 1,
	/* A plain BEGIN: the lock is taken row by row, by SELECT … FOR UPDATE. */
	.begin_locked = "BEGIN",
	.site_open = site_open,
	.site_name = site_name,
	.site_kept = site_kept,
	.site_close = site_close,
	.area_create = area_create,
	.area_drop = area_drop,
	.connect = connect_area,
	.disconnect = disconnect,
	.exec = exec,
	.conn_id = conn_id,
	.blocked = conn_blocked,
	.sess_open = sess_open, .sess_close = sess_close, .sess_send = sess_send,
	.sess_ready = sess_ready, .sess_take = sess_take, .sess_blocked = sess_blocked,
	.sess_cancel = sess_cancel, .version = version,
};

const db_backend *db_postgres(void)
{
	return &postgres_backend;
}
