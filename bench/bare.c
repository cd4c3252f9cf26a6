/*
 * bare.c: the baseline for racelab's harness overhead: the product scenario's
 * SQL in a bare loop, straight on sqlite3 or libpq, with no gate, no events and no
 * step helpers.  Same threads, same operations, same connection settings and the
 * same lock-wait back-off as racelab, and statements prepared once per
 * connection as racelab prepares them, so the difference is the harness alone.
 *
 *     bare sqlite DIR STRATEGY THREADS OPS
 *     bare postgres CONNINFO STRATEGY THREADS OPS
 *
 * Prints one line: "ops_per_s N".
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum strategy { NAIVE, ATOMIC, LOCKED };

static int pg, threads, ops;
static enum strategy strategy;
static const char *where;
static char schema[64];
static pthread_barrier_t start;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bare: %s: %s\n", what, why);
	exit(1);
}

/* ---- SQLite --------------------------------------------------------------- */

static int busy(void *arg, int count)
{
	struct timespec pause = { 0, 20000L << (count < 6 ? count : 6) };

	(void)arg;
	if (pause.tv_nsec > 1000000L)
		pause.tv_nsec = 1000000L;
	nanosleep(&pause, NULL);
	return 1;
}

static sqlite3 *sq_open(void)
{
	char path[4096];
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/bare.db", where);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		die("open", sqlite3_errmsg(db));
	sqlite3_busy_handler(db, busy, NULL);
	sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	return db;
}

static sqlite3_stmt *sq_prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(db));
	return st;
}

/* Step a statement to the end; returns the first column of the first row. */
static int sq_run(sqlite3_stmt *st, int *rc)
{
	int v = 0, first = 1;

	while ((*rc = sqlite3_step(st)) == SQLITE_ROW)
		if (first--)
			v = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return v;
}

static void *sq_worker(void *arg)
{
	sqlite3 *db = sq_open();
	sqlite3_stmt *rd = sq_prep(db, "SELECT number_sold FROM products WHERE id = 1");
	sqlite3_stmt *wr = sq_prep(db, "UPDATE products SET number_sold = $1 WHERE id = 1");
	sqlite3_stmt *inc = sq_prep(db, "UPDATE products SET number_sold = number_sold + 1"
	                            " WHERE id = 1");
	sqlite3_stmt *begin = sq_prep(db, "BEGIN IMMEDIATE");
	sqlite3_stmt *commit = sq_prep(db, "COMMIT");
	int rc;

	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < ops; i++) {
		int v;

		switch (strategy) {
		case NAIVE:
			v = sq_run(rd, &rc);
			sqlite3_bind_int(wr, 1, v + 1);
			sq_run(wr, &rc);
			break;
		case ATOMIC:
			sq_run(inc, &rc);
			break;
		case LOCKED:
			sq_run(begin, &rc);
			v = sq_run(rd, &rc);
			sqlite3_bind_int(wr, 1, v + 1);
			sq_run(wr, &rc);
			sq_run(commit, &rc);
			break;
		}
		if (rc != SQLITE_DONE)
			die("step", sqlite3_errmsg(db));
	}
	sqlite3_finalize(rd);
	sqlite3_finalize(wr);
	sqlite3_finalize(inc);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	return NULL;
}

static void sq_setup(void)
{
	char path[4096];
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/bare.db", where);
	remove(path);
	db = sq_open();
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL;"
	                 "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	                 " number_sold INTEGER NOT NULL);"
	                 "INSERT INTO products VALUES (1, 'Widget', 0)",
	                 NULL, NULL, NULL) != SQLITE_OK)
		die("setup", sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* ---- PostgreSQL ----------------------------------------------------------- */

static PGconn *pg_open(void)
{
	const char *keys[] = { "dbname", "options", NULL };
	char opts[128];
	const char *vals[] = { where, opts, NULL };
	PGconn *c;

	snprintf(opts, sizeof opts, "-c search_path=%s", schema);
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK)
		die("connect", PQerrorMessage(c));
	return c;
}

/* Run SQL, prepared on first use as racelab does (one name per statement text). */
static int pg_run(PGconn *c, const char *sql, const char *arg)
{
	static const char *const texts[] = {
		"SELECT number_sold FROM products WHERE id = 1",
		"UPDATE products SET number_sold = $1 WHERE id = 1",
		"UPDATE products SET number_sold = number_sold + 1 WHERE id = 1",
		"BEGIN",
		"SELECT number_sold FROM products WHERE id = 1 FOR UPDATE",
		"COMMIT",
	};
	static _Thread_local int prepared[6];
	char name[8];
	PGresult *r;
	int v = 0, i = 0;

	while (strcmp(texts[i], sql) != 0)
		i++;
	snprintf(name, sizeof name, "s%d", i);
	if (!prepared[i]) {
		r = PQprepare(c, name, sql, arg ? 1 : 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die(sql, PQresultErrorMessage(r));
		PQclear(r);
		prepared[i] = 1;
	}
	r = PQexecPrepared(c, name, arg ? 1 : 0, &arg, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die(sql, PQresultErrorMessage(r));
	if (PQntuples(r) > 0)
		v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static void *pg_worker(void *arg)
{
	PGconn *c = pg_open();
	char buf[32];

	(void)arg;
	pthread_barrier_wait(&start);
	for (int i = 0; i < ops; i++) {
		switch (strategy) {
		case NAIVE:
			snprintf(buf, sizeof buf, "%d",
			         pg_run(c, "SELECT number_sold FROM products WHERE id = 1", NULL) + 1);
			pg_run(c, "UPDATE products SET number_sold = $1 WHERE id = 1", buf);
			break;
		case ATOMIC:
			pg_run(c, "UPDATE products SET number_sold = number_sold + 1 WHERE id = 1",
			       NULL);
			break;
		case LOCKED:
			pg_run(c, "BEGIN", NULL);
			snprintf(buf, sizeof buf, "%d",
			         pg_run(c, "SELECT number_sold FROM products WHERE id = 1 FOR UPDATE",
			                NULL) + 1);
			pg_run(c, "UPDATE products SET number_sold = $1 WHERE id = 1", buf);
			pg_run(c, "COMMIT", NULL);
			break;
		}
	}
	PQfinish(c);
	return NULL;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void pg_setup(int drop)
{
	const char *keys[] = { "dbname", NULL };
	const char *vals[] = { where, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	char sql[512];
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		die("connect", PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);   /* "drop cascades to table …" */
	if (drop)
		snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
	else
		snprintf(sql, sizeof sql, "CREATE SCHEMA %s;"
		         "CREATE TABLE %s.products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
		         " number_sold INTEGER NOT NULL);"
		         "INSERT INTO %s.products VALUES (1, 'Widget', 0)", schema, schema, schema);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("setup", PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

int main(int argc, char **argv)
{
	pthread_t tids[256];
	double t0;

	if (argc != 6) {
		fprintf(stderr, "usage: bare sqlite|postgres WHERE naive|atomic|locked THREADS OPS\n");
		return 64;
	}
	pg = !strcmp(argv[1], "postgres");
	where = argv[2];
	strategy = !strcmp(argv[3], "naive") ? NAIVE : !strcmp(argv[3], "atomic") ? ATOMIC
	           : LOCKED;
	threads = atoi(argv[4]);
	ops = atoi(argv[5]);
	if (threads < 1 || threads > 256 || ops < 1)
		return 64;
	snprintf(schema, sizeof schema, "racelab_bare_%d", (int)getpid());
	if (pg)
		pg_setup(0);
	else
		sq_setup();
	pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, pg ? pg_worker : sq_worker, NULL);
	pthread_barrier_wait(&start);
	t0 = now();
	for (int i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	printf("ops_per_s %.1f\n", (double)threads * ops / (now() - t0));
	if (pg)
		pg_setup(1);
	return 0;
}
