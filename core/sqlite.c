/*
 * sqlite.c: the SQLite backend, the embedded default.
 *
 * A site is a directory; each area is one database file in it, in WAL mode so that
 * readers never block the writer.  Each worker thread opens its own connection.
 *
 * DESIGN: SQLite has one write lock per database file.  A connection that finds it
 * taken calls the busy handler, again and again, for exactly as long as another
 * connection holds the lock.  Our busy handler is therefore the lock-wait detector:
 * its first call tells the harness "this step is waiting" (the <waiting ...> of a
 * trace), and it backs off in microseconds rather than SQLite's default
 * milliseconds so the locked strategy's throughput reflects the lock, not our
 * sleeping.  When the wait lasts too long, or the run is stopping, it gives up and
 * the statement fails with SQLITE_BUSY, which the harness retries and counts.
 * In a scheduled run the scheduler holds the waiter inside on_wait and asks for
 * one immediate retry whenever the lock may have come free: the busy handler then
 * answers, exactly and without timing, "still blocked" (it is called again) or
 * "got it" (the statement goes on).
 */
#include "db.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "sys.h"

#define BUSY_GIVE_UP_NS (30LL * 1000000000LL)   /* a wait this long is a retry, not a hang */
#define STMT_CACHE 16                              /* prepared statements kept per connection */

struct db_site {
	char dir[PATH_MAX];
	int temporary;          /* we made dir with mkdtemp and remove it at close */
	int lock_fd;            /* -d: DIR/.racelab.lock, flock'd while we use DIR; -1 */
};

#define LOCK_FILE ".racelab.lock"

struct db_area {
	db_site *site;
	char path[PATH_MAX];
};

struct cached_stmt {
	char *sql;              /* our own copy of the statement's text */
	sqlite3_stmt *stmt;
};

struct db_conn {
	sqlite3 *db;
	db_wait_fn on_wait;
	void *arg;
	int64_t wait_start_ns;
	struct cached_stmt cache[STMT_CACHE];
	int ncache;
	unsigned execs;         /* statements run: every MOVED_EVERY-th asks for the file */
};

/* Open connections keep working on a database file that was deleted (its
 * directory removed mid-run): the run would go on, on files nobody can see any
 * more.  Workers ask SQLite every MOVED_EVERY statements whether the file is
 * still where it was, before running one, so nothing is left half-counted. */
#define MOVED_EVERY 64

static void remove_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

static db_site *site_open(const char *where, char *err)
{
	db_site *site = calloc(1, sizeof *site);
	struct stat st;

	int made = 0;           /* we created the -d directory: remove it on failure */
	char lock[PATH_MAX];

	if (!site) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	site->lock_fd = -1;
	if (!where) {
		const char *tmp = getenv("TMPDIR");

		snprintf(site->dir, sizeof site->dir, "%s/racelab-XXXXXX",
		         tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(site->dir)) {          /* mkdtemp makes it mode 0700 */
			snprintf(err, DB_ERRLEN, "cannot create a temporary directory in %s: %s",
			         tmp && *tmp ? tmp : "/tmp", strerror(errno));
			goto fail;
		}
		site->temporary = 1;
		return site;
	}
	if (strlen(where) >= sizeof site->dir - 64) {
		snprintf(err, DB_ERRLEN, "database directory name is too long");
		goto fail;
	}
	snprintf(site->dir, sizeof site->dir, "%s", where);
	if (mkdir(where, 0777) == 0)
		made = 1;
	else if (errno != EEXIST) {
		snprintf(err, DB_ERRLEN, "cannot create database directory %s: %s", where,
		         strerror(errno));
		goto fail;
	}
	if (stat(where, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, DB_ERRLEN, "database directory %s is not a directory", where);
		goto fail;
	}
	if (access(where, W_OK | X_OK) != 0) {
		snprintf(err, DB_ERRLEN, "cannot write to database directory %s: %s", where,
		         strerror(errno));
		goto fail;
	}
	/* Two runs in one directory would replace each other's files mid-run.  The
	 * lock file stays (it is empty); the lock goes with the process. */
	snprintf(lock, sizeof lock, "%s/%s", where, LOCK_FILE);
	site->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (site->lock_fd < 0) {
		snprintf(err, DB_ERRLEN, "cannot create %.150s: %s", lock, strerror(errno));
		goto fail;
	}
	if (flock(site->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, DB_ERRLEN, "database directory %s is in use by another racelab"
		         " run; wait for it to finish or choose another -d", where);
		goto fail;
	}
	return site;
fail:
	if (site->lock_fd >= 0)
		close(site->lock_fd);
	if (made) {
		unlink(lock);
		rmdir(where);
	}
	free(site);
	return NULL;
}

static int site_kept(db_site *site)
{
	return !site->temporary;
}

static const char *site_name(db_site *site)
{
	return site->dir;
}

static void site_close(db_site *site)
{
	if (!site)
		return;
	if (site->temporary) {
		remove_files(site->dir);
		rmdir(site->dir);
	}
	if (site->lock_fd >= 0)
		close(site->lock_fd);
	free(site);
}

static void unlink_db(const char *path)
{
	char aux[PATH_MAX + 8];

	unlink(path);
	snprintf(aux, sizeof aux, "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof aux, "%s-shm", path);
	unlink(aux);
	snprintf(aux, sizeof aux, "%s-journal", path);
	unlink(aux);
}

static db_area *area_create(db_site *site, const char *label, char *err)
{
	db_area *area = calloc(1, sizeof *area);
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (!area) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	area->site = site;
	snprintf(area->path, sizeof area->path, "%.3900s/%.64s.db", site->dir, label);
	unlink_db(area->path);
	if (sqlite3_open_v2(area->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                    NULL) != SQLITE_OK) {
		snprintf(err, DB_ERRLEN, "cannot open %.120s: %.120s", area->path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	/* WAL is a property of the file: set once here, every connection inherits it. */
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, DB_ERRLEN, "cannot open %.120s: %.120s", area->path, msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	sqlite3_close(db);
	return area;
fail:
	sqlite3_close(db);
	unlink_db(area->path);
	free(area);
	return NULL;
}

static void area_drop(db_area *area)
{
	if (!area)
		return;
	if (area->site->temporary)
		unlink_db(area->path);
	free(area);
}

static int busy_handler(void *arg, int count)
{
	db_conn *c = arg;
	int64_t now = sys_now_ns();
	struct timespec pause = { 0, 0 };

	if (count == 0)
		c->wait_start_ns = now;
	if (c->on_wait) {
		int rc = c->on_wait(c->arg);

		if (rc > 0)
			return 0;
		if (rc < 0) {
			/* A scheduled run held us while others moved: that was not a wait
			 * for the lock to count against our patience, and it asks for one
			 * prompt retry (a probe: does the lock come free now?). */
			c->wait_start_ns += sys_now_ns() - now;
			return 1;
		}
	}
	if (now - c->wait_start_ns > BUSY_GIVE_UP_NS)
		return 0;
	/* 20 µs, doubling up to 1 ms: short enough that a released lock is taken at once. */
	pause.tv_nsec = 20000L << (count < 6 ? count : 6);
	if (pause.tv_nsec > 1000000L)
		pause.tv_nsec = 1000000L;
	nanosleep(&pause, NULL);
	return 1;
}

static db_conn *connect_area(db_area *area, db_wait_fn on_wait, void *arg, char *err)
{
	db_conn *c = calloc(1, sizeof *c);

	if (!c) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	/* Each connection belongs to one thread: no per-connection mutex needed. */
	if (sqlite3_open_v2(area->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		snprintf(err, DB_ERRLEN, "cannot open %.120s: %.120s", area->path,
		         c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	c->on_wait = on_wait;
	c->arg = arg;
	sqlite3_busy_handler(c->db, busy_handler, c);
	sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	return c;
}

static void disconnect(db_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->ncache; i++) {
		sqlite3_finalize(c->cache[i].stmt);
		free(c->cache[i].sql);
	}
	sqlite3_close(c->db);
	free(c);
}

/* A prepared statement for SQL; *cached says whether the cache keeps it. */
static sqlite3_stmt *prepare(db_conn *c, const char *sql, int *rc, int *cached)
{
	sqlite3_stmt *stmt = NULL;

	*cached = 1;
	for (int i = 0; i < c->ncache; i++)
		if (!strcmp(c->cache[i].sql, sql))
			return c->cache[i].stmt;
	*rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (*rc != SQLITE_OK)
		return NULL;
	if (c->ncache < STMT_CACHE && (c->cache[c->ncache].sql = strdup(sql)))
		c->cache[c->ncache++].stmt = stmt;
	else
		*cached = 0;
	return stmt;
}

/* The failure's reason by SQLite's own name for its extended code. */
static void result_code(db_result *res, int rc)
{
	static const struct { int rc; const char *name; } names[] = {
		{ SQLITE_BUSY_SNAPSHOT, "SQLITE_BUSY_SNAPSHOT" },
		{ SQLITE_BUSY, "SQLITE_BUSY" },
		{ SQLITE_LOCKED, "SQLITE_LOCKED" },
		{ SQLITE_CONSTRAINT_UNIQUE, "SQLITE_CONSTRAINT_UNIQUE" },
		{ SQLITE_CONSTRAINT_PRIMARYKEY, "SQLITE_CONSTRAINT_PRIMARYKEY" },
		{ SQLITE_CONSTRAINT, "SQLITE_CONSTRAINT" },
		{ SQLITE_FULL, "SQLITE_FULL" },
		{ SQLITE_IOERR, "SQLITE_IOERR" },
		{ SQLITE_READONLY, "SQLITE_READONLY" },
	};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (rc == names[i].rc || (names[i].rc < 256 && (rc & 0xff) == names[i].rc)) {
			snprintf(res->code, sizeof res->code, "%s", names[i].name);
			return;
		}
	snprintf(res->code, sizeof res->code, "SQLITE_%d", rc);
}

static enum db_status status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DB_RETRY;
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CANTOPEN:
	case SQLITE_FULL:
	case SQLITE_READONLY:
		return DB_GONE;
	default:
		return DB_ERROR;
	}
}

static enum db_status exec(db_conn *c, const char *sql, const db_value *args, int nargs,
                           db_result *res, char *err)
{
	db_result dummy;
	sqlite3_stmt *stmt;
	int rc = SQLITE_OK, cached;

	if (!res)
		res = &dummy;
	*res = (db_result){ 0 };
	if (c->on_wait && ++c->execs % MOVED_EVERY == 0) {
		int moved = 0;

		if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) ==
		    SQLITE_OK && moved) {
			snprintf(err, DB_ERRLEN, "the database file %.160s was removed during the run",
			         sqlite3_db_filename(c->db, "main"));
			return DB_GONE;
		}
	}
	stmt = prepare(c, sql, &rc, &cached);
	if (!stmt)
		goto fail;
	for (int i = 0; i < nargs; i++) {
		char name[16];
		int idx;

		snprintf(name, sizeof name, "$%d", i + 1);
		idx = sqlite3_bind_parameter_index(stmt, name);
		if (idx == 0)
			continue;
		if (args[i].type == DB_INT)
			rc = sqlite3_bind_int64(stmt, idx, args[i].i);
		else if (args[i].type == DB_TEXT)
			rc = sqlite3_bind_text(stmt, idx, args[i].s, -1, SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_null(stmt, idx);
		if (rc != SQLITE_OK)
			goto fail_stmt;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!res->has_row) {
			res->has_row = 1;
			res->value = sqlite3_column_int64(stmt, 0);
			if (sqlite3_column_count(stmt) > 1)
				res->value2 = sqlite3_column_int64(stmt, 1);
		}
	}
	if (rc != SQLITE_DONE)
		goto fail_stmt;
	res->changes = sqlite3_changes(c->db);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (!cached)
		sqlite3_finalize(stmt);
	return DB_OK;
fail_stmt:
	rc = sqlite3_extended_errcode(c->db);
	snprintf(err, DB_ERRLEN, "%s", sqlite3_errmsg(c->db));
	result_code(res, rc);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (!cached)
		sqlite3_finalize(stmt);
	return status_of(rc);
fail:
	snprintf(err, DB_ERRLEN, "%s", sqlite3_errmsg(c->db));
	result_code(res, rc);
	return status_of(rc);
}

/* ---- spec sessions (db.h: sess_*) ----
 *
 * SQLite runs a statement on the caller's thread, so each spec session has a
 * thread of its own that runs the step's statements one by one and keeps their
 * results until sess_take hands them over.  Its busy handler is how a waiting
 * step shows: it marks the session as waiting and retries every millisecond,
 * and sess_blocked asks for one fresh try before it answers, so "waiting" means
 * the lock was still taken at that moment (no guess from timing).  When SQLite
 * sees that waiting could deadlock, it does not call the busy handler at all and
 * the statement fails with SQLITE_BUSY at once: that is SQLite's real answer,
 * and the spec shows it. */
#include <pthread.h>

enum sess_state { SESS_IDLE, SESS_RUNNING, SESS_DONE, SESS_QUIT };

struct sess_item {                      /* one result set or one error */
	int ncols, nrows;
	char **names, **cells;          /* cells: NULL is SQL NULL */
	char *error;                    /* an error instead of a table */
	const char *code;
};

struct db_sess {
	sqlite3 *db;
	const db_sink *sink;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum sess_state state;
	char *sql;                      /* the text being run */
	struct sess_item *items;
	int nitems;
	int in_busy;                    /* the running statement waits for a lock */
	unsigned long attempts;         /* busy handler calls */
	int poke, cancel;
	int oom;
};

static const char *code_name(int rc)
{
	switch (rc) {
	case SQLITE_BUSY_SNAPSHOT: return "SQLITE_BUSY_SNAPSHOT";
	case SQLITE_CONSTRAINT_PRIMARYKEY: return "SQLITE_CONSTRAINT_PRIMARYKEY";
	case SQLITE_CONSTRAINT_UNIQUE: return "SQLITE_CONSTRAINT_UNIQUE";
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY: return "SQLITE_BUSY";
	case SQLITE_LOCKED: return "SQLITE_LOCKED";
	case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
	case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
	case SQLITE_READONLY: return "SQLITE_READONLY";
	case SQLITE_MISUSE: return "SQLITE_MISUSE";
	default: return "SQLITE_ERROR";
	}
}

static int sess_busy(void *arg, int count)
{
	db_sess *s = arg;
	struct timespec until;
	int go_on;

	(void)count;
	pthread_mutex_lock(&s->mu);
	s->in_busy = 1;
	s->attempts++;
	pthread_cond_broadcast(&s->cv);
	if (!s->poke && !s->cancel) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 1000000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cv, &s->mu, &until);
	}
	s->poke = 0;
	go_on = !s->cancel;
	pthread_mutex_unlock(&s->mu);
	return go_on;
}

static char *dup_or_null(const char *t, int *oom)
{
	char *d;

	if (!t)
		return NULL;
	if (!(d = strdup(t)))
		*oom = 1;
	return d;
}

static struct sess_item *add_item(db_sess *s)
{
	struct sess_item *g = realloc(s->items, (size_t)(s->nitems + 1) * sizeof *g);

	if (!g) {
		s->oom = 1;
		return NULL;
	}
	s->items = g;
	memset(&g[s->nitems], 0, sizeof *g);
	return &g[s->nitems++];
}

/* Run every statement of SQL, keeping results, up to the first error.  The
 * items are the worker's alone until the state says DONE (sess_take reads them
 * after seeing that under the mutex), so they are built without it; the mutex
 * is never held across a call into SQLite, whose own connection mutex the busy
 * handler is called under. */
static void sess_run(db_sess *s, const char *sql)
{
	const char *tail = sql;

	while (tail && *tail) {
		sqlite3_stmt *stmt = NULL;
		struct sess_item *it = NULL;
		int rc = sqlite3_prepare_v2(s->db, tail, -1, &stmt, &tail);

		if (rc != SQLITE_OK) {
			if ((it = add_item(s))) {
				it->error = dup_or_null(sqlite3_errmsg(s->db), &s->oom);
				it->code = code_name(sqlite3_extended_errcode(s->db));
			}
			return;
		}
		if (!stmt)              /* only blanks or comments were left */
			continue;
		int nc = sqlite3_column_count(stmt);
		size_t cap = 0;

		if (nc > 0 && (it = add_item(s))) {
			it->ncols = nc;
			it->names = calloc((size_t)nc, sizeof *it->names);
			if (!it->names)
				s->oom = 1;
			for (int j = 0; j < nc && it->names; j++)
				it->names[j] = dup_or_null(sqlite3_column_name(stmt, j), &s->oom);
		}
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			pthread_mutex_lock(&s->mu);
			s->in_busy = 0;         /* past the lock: the statement goes on */
			pthread_mutex_unlock(&s->mu);
			if (!it || !it->names)
				continue;
			if ((size_t)(it->nrows + 1) * (size_t)nc > cap) {
				size_t ncap = cap ? cap * 2 : (size_t)nc * 8;
				char **g = realloc(it->cells, ncap * sizeof *g);

				if (!g) {
					s->oom = 1;
					continue;
				}
				it->cells = g;
				cap = ncap;
			}
			for (int j = 0; j < nc; j++)
				it->cells[it->nrows * nc + j] = dup_or_null(
				    (const char *)sqlite3_column_text(stmt, j), &s->oom);
			it->nrows++;
		}
		pthread_mutex_lock(&s->mu);
		s->in_busy = 0;
		pthread_mutex_unlock(&s->mu);
		if (rc != SQLITE_DONE && (it = add_item(s))) {
			it->error = dup_or_null(sqlite3_errmsg(s->db), &s->oom);
			it->code = code_name(sqlite3_extended_errcode(s->db));
		}
		sqlite3_finalize(stmt);
		if (rc != SQLITE_DONE)
			return;
	}
}

static void *sess_thread(void *arg)
{
	db_sess *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->state != SESS_RUNNING && s->state != SESS_QUIT)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->state == SESS_QUIT)
			break;
		pthread_mutex_unlock(&s->mu);
		sess_run(s, s->sql);
		pthread_mutex_lock(&s->mu);
		s->state = SESS_DONE;
		s->in_busy = 0;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static db_sess *sess_open(db_area *area, const db_sink *sink, char *err)
{
	db_sess *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return NULL;
	}
	s->sink = sink;
	if (sqlite3_open_v2(area->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK) {
		snprintf(err, DB_ERRLEN, "cannot open %.120s: %.120s", area->path,
		         s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return NULL;
	}
	sqlite3_busy_handler(s->db, sess_busy, s);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, sess_thread, s) != 0) {
		snprintf(err, DB_ERRLEN, "cannot start a session thread");
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		sqlite3_close(s->db);
		free(s);
		return NULL;
	}
	return s;
}

static void free_items(db_sess *s)
{
	for (int k = 0; k < s->nitems; k++) {
		struct sess_item *it = &s->items[k];

		for (int j = 0; j < it->ncols && it->names; j++)
			free(it->names[j]);
		for (int i = 0; i < it->nrows * it->ncols; i++)
			free(it->cells[i]);
		free(it->names);
		free(it->cells);
		free(it->error);
	}
	free(s->items);
	s->items = NULL;
	s->nitems = 0;
}

static void sess_close(db_sess *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->cancel = 1;          /* a statement still waiting for a lock gives up */
	while (s->state == SESS_RUNNING)
		pthread_cond_wait(&s->cv, &s->mu);
	s->state = SESS_QUIT;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	free_items(s);
	free(s->sql);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static int sess_send(db_sess *s, const char *sql, char *err)
{
	char *copy = strdup(sql);

	if (!copy) {
		snprintf(err, DB_ERRLEN, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	if (s->state != SESS_IDLE) {
		pthread_mutex_unlock(&s->mu);
		free(copy);
		snprintf(err, DB_ERRLEN, "the session is still running a step");
		return -1;
	}
	free(s->sql);
	s->sql = copy;
	s->cancel = 0;
	s->state = SESS_RUNNING;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int sess_ready(db_sess *s, int ms, char *err)
{
	struct timespec until;
	int done;

	(void)err;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (s->state == SESS_RUNNING) {
		if (ms < 0)
			pthread_cond_wait(&s->cv, &s->mu);
		else if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0)
			break;
	}
	done = s->state != SESS_RUNNING;
	pthread_mutex_unlock(&s->mu);
	return done;
}

static int sess_take(db_sess *s, char *err)
{
	if (sess_ready(s, -1, err) < 0)
		return -1;
	pthread_mutex_lock(&s->mu);
	s->state = SESS_IDLE;
	pthread_mutex_unlock(&s->mu);
	for (int k = 0; k < s->nitems && s->sink; k++) {
		struct sess_item *it = &s->items[k];

		if (it->error && s->sink->error)
			s->sink->error(s->sink->arg, "ERROR", it->error, it->code);
		else if (!it->error && s->sink->table)
			s->sink->table(s->sink->arg, &(db_table){ it->ncols, it->nrows,
			               (const char *const *)it->names,
			               (const char *const *)it->cells });
	}
	free_items(s);
	if (s->oom) {
		s->oom = 0;
		snprintf(err, DB_ERRLEN, "out of memory");
		return -1;
	}
	return 0;
}

static int sess_blocked(db_sess *ctl, db_sess *s, db_sess *const *all, int n, char *err)
{
	unsigned long before;
	int rc;

	(void)ctl;
	(void)all;
	(void)n;
	(void)err;
	pthread_mutex_lock(&s->mu);
	if (s->state != SESS_RUNNING || !s->in_busy) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	/* One fresh try: the handler is called again (still blocked), or the
	 * statement moves on (in_busy is cleared) or ends. */
	before = s->attempts;
	s->poke = 1;
	pthread_cond_broadcast(&s->cv);
	while (s->state == SESS_RUNNING && s->in_busy && s->attempts == before)
		pthread_cond_wait(&s->cv, &s->mu);
	rc = s->state == SESS_RUNNING && s->in_busy;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void sess_cancel(db_sess *s)
{
	int running;

	pthread_mutex_lock(&s->mu);
	running = s->state == SESS_RUNNING;
	if (running) {
		s->cancel = 1;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	if (running)            /* outside our mutex: SQLite takes its own */
		sqlite3_interrupt(s->db);
}

static void version(db_site *site, char *buf, size_t n)
{
	(void)site;
	snprintf(buf, n, "SQLite %s", sqlite3_libversion());
}

static const db_backend sqlite_backend = {
	.name = "sqlite",
	.title = "SQLite",
	.row_locks = 0,
	/* SQLite has no row locks: BEGIN IMMEDIATE takes the database's write lock now,
	 * before the read, so no other writer can slip in between read and write. */
	.begin_locked = "BEGIN IMMEDIATE",
	.site_open = site_open,
	.site_name = site_name,
	.site_kept = site_kept,
	.site_close = site_close,
	.area_create = area_create,
	.area_drop = area_drop,
	.connect = connect_area,
	.disconnect = disconnect,
	.exec = exec,
	.sess_open = sess_open, .sess_close = sess_close, .sess_send = sess_send,
	.sess_ready = sess_ready, .sess_take = sess_take, .sess_blocked = sess_blocked,
	.sess_cancel = sess_cancel, .version = version,
};

const db_backend *db_sqlite(void)
{
	return &sqlite_backend;
}
