/*
 * db.h: the backend interface. A backend is a const struct of function pointers,
 * reached through one getter per backend (db_sqlite(), db_postgres()); its private
 * state hides behind the opaque db_site, db_area and db_conn types.
 *
 * Vocabulary:
 *   site  what -d/--db names: for SQLite a directory, for PostgreSQL a server.
 *   area  one strategy's isolated copy of the schema: for SQLite its own file,
 *         for PostgreSQL its own schema.  One panel's locks never slow another.
 *   conn  one connection to an area; each worker thread owns exactly one.
 *
 * SQL is written once, PostgreSQL-style, with $1, $2 … placeholders; values are
 * always bound, never formatted into the SQL.
 */
#ifndef RACELAB_DB_H
#define RACELAB_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct db_site db_site;
typedef struct db_area db_area;
typedef struct db_conn db_conn;
typedef struct db_sess db_sess;

enum db_type { DB_NULL, DB_INT, DB_TEXT };

typedef struct db_value {
	enum db_type type;
	int64_t i;              /* DB_INT */
	const char *s;          /* DB_TEXT, owned by the caller */
} db_value;

#define DB_I(x) ((db_value){ .type = DB_INT, .i = (x) })
#define DB_S(x) ((db_value){ .type = DB_TEXT, .s = (x) })

/* What a statement returned.  Statements here return at most one row of one or
 * two integers. */
typedef struct db_result {
	int has_row;            /* the statement returned a row */
	int64_t value;          /* its first column, when has_row */
	int64_t value2;         /* its second column, when it has one (a version) */
	int64_t changes;        /* rows inserted, updated or deleted */
	char code[32];          /* unless DB_OK: the reason, as the database names it: a
	                           SQLSTATE ("40001") or SQLite's extended result code
	                           ("SQLITE_BUSY_SNAPSHOT"); "" if it gave none */
} db_result;

/* How a call ended. */
enum db_status {
	DB_OK = 0,
	DB_RETRY,               /* busy, serialization failure or deadlock: retry the operation */
	DB_ERROR,               /* the statement failed; the connection is still usable */
	DB_GONE,                /* the connection or database is lost: stop the run */
};

/* Called from inside exec, on the calling thread, when a statement starts to wait
 * for a lock another connection holds, and again while it waits.  Returns 0 to
 * keep waiting; > 0 to give up waiting (exec then returns DB_RETRY), which is how
 * a stopping run unblocks a waiter; < 0 to keep waiting but try the lock again at
 * once, without the backend's own back-off (a scheduled run's callback has done
 * the waiting itself). */
typedef int (*db_wait_fn)(void *arg);

#define DB_ERRLEN 256

/* One result set of a spec session's statement, as text (racelab spec prints it
 * the way PostgreSQL's isolation tester does). */
typedef struct db_table {
	int ncols, nrows;
	const char *const *names;       /* ncols column names */
	const char *const *cells;       /* nrows * ncols values, row by row; NULL is NULL */
} db_table;

/* Where a spec session's output goes, in the order the server sent it.  Called on
 * the thread that called sess_take (table, error) or sess_ready (notice). */
typedef struct db_sink {
	void (*table)(void *arg, const db_table *t);
	/* A failed statement: SEVERITY ("ERROR"), the primary MESSAGE and SQLSTATE
	 * (SQLite: its result code's name, as "SQLITE_BUSY"). */
	void (*error)(void *arg, const char *severity, const char *message,
	              const char *sqlstate);
	/* A notice, whole, as the server worded it ("NOTICE:  ...\n"). */
	void (*notice)(void *arg, const char *text);
	void *arg;
} db_sink;

typedef struct db_backend {
	const char *name;               /* "sqlite" or "postgres" */
	const char *title;              /* its name in a sentence: "SQLite" */
	int row_locks;                  /* has SELECT … FOR UPDATE */
	const char *begin_locked;       /* BEGIN that starts a locking transaction */

	/* Open the site WHERE (NULL: the backend's default).  On failure returns NULL
	 * and writes one line without a trailing newline into err. */
	db_site *(*site_open)(const char *where, char *err);
	/* A human-readable name of the site, safe to print (no password). */
	const char *(*site_name)(db_site *site);
	/* Whether dropping an area leaves its data behind (SQLite's -d directory
	 * keeps its files; PostgreSQL drops its schemas always). */
	int (*site_kept)(db_site *site);
	/* Close the site and remove whatever it created to hold areas (a temp dir). */
	void (*site_close)(db_site *site);

	/* Create a fresh, empty area called LABEL (a short identifier such as
	 * "scenario_naive"); anything left there by an earlier run is replaced. */
	db_area *(*area_create)(db_site *site, const char *label, char *err);
	/* Remove the area and everything in it; a kept SQLite directory keeps its files. */
	void (*area_drop)(db_area *area);

	/* Connect to an area.  ON_WAIT is called as described above. */
	db_conn *(*connect)(db_area *area, db_wait_fn on_wait, void *arg, char *err);
	void (*disconnect)(db_conn *conn);

	/* Run one statement with bound ARGS; fills RES (may be NULL) and, unless
	 * DB_OK, writes the database's own message into err. */
	enum db_status (*exec)(db_conn *conn, const char *sql, const db_value *args,
	                       int nargs, db_result *res, char *err);

	/* The server's own number for CONN (its backend process id), for blocked();
	 * 0 for a backend without one. */
	int (*conn_id)(db_conn *conn);
	/* Does the running statement of the connection numbered ID (conn_id) wait for
	 * a lock, says the server?  1 yes, 0 no, -1 cannot tell (err says why).  Asked
	 * while another thread, or another process of the run (--procs), is inside
	 * exec on that connection; callers in one process never call it concurrently
	 * with itself or with the site and area calls.  A worker process asks on a
	 * control connection of its own, opened on first use.  NULL for a backend
	 * that calls on_wait only while a connection is blocked (SQLite). */
	int (*blocked)(db_site *site, int id, char *err);

	/* Spec sessions (racelab spec, racelab matrix): connections that run a spec
	 * step's SQL text whole (it may hold several statements) without waiting, so
	 * that one thread can drive every session as PostgreSQL's isolation tester
	 * does.  All calls come from one thread.
	 *
	 * Open a session on AREA; its output goes to SINK (kept by the session). */
	db_sess *(*sess_open)(db_area *area, const db_sink *sink, char *err);
	void (*sess_close)(db_sess *s);
	/* Start running SQL and return at once; 0, or -1 with err (nothing started). */
	int (*sess_send)(db_sess *s, const char *sql, char *err);
	/* Wait up to MS milliseconds (-1: for ever) until what sess_send started has
	 * a result to take.  1 it has, 0 not yet, -1 the session is lost (err).
	 * Notices that arrive meanwhile go to the sink. */
	int (*sess_ready)(db_sess *s, int ms, char *err);
	/* Hand the results of the statement text to the sink (tables and errors, in
	 * order), waiting for the rest if need be; the session is then idle.
	 * 0, or -1 when the session is lost (err). */
	int (*sess_take)(db_sess *s, char *err);
	/* Is S's running statement waiting for a lock held by one of the sessions in
	 * ALL (N of them)?  Asked through CTL, another session of the same area that
	 * is idle.  1 yes, 0 no, -1 cannot tell (err).  Exact, never by timing:
	 * PostgreSQL answers from its lock manager; SQLite from the busy handler,
	 * after one fresh try for the lock. */
	int (*sess_blocked)(db_sess *ctl, db_sess *s, db_sess *const *all, int n, char *err);
	/* Ask S's running statement to stop (it then fails); idle: nothing. */
	void (*sess_cancel)(db_sess *s);
	/* The server's version, for reports ("PostgreSQL 15.8", "SQLite 3.40.1"). */
	void (*version)(db_site *site, char *buf, size_t n);
} db_backend;

const db_backend *db_sqlite(void);
const db_backend *db_postgres(void);

/* The backend called NAME, or NULL. */
const db_backend *db_find(const char *name);

/* ARGS as text, for a client that binds every parameter as text (libpq): an
 * integer is written into BUF[i], text points at the caller's, NULL is NULL. */
#define DB_INT_TEXT 24          /* bytes of one integer as text, with its NUL */
void db_args_text(const db_value *args, int nargs, char (*buf)[DB_INT_TEXT],
                  const char **vals);

/* Run a NULL-terminated list of statements without arguments; the first failure wins. */
enum db_status db_exec_all(const db_backend *db, db_conn *conn, const char *const *sql,
                           char *err);

#endif
