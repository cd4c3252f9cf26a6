/*
 * product.c: the lost update.
 *
 * A shop counts its sales in products.number_sold.  Django code written the obvious
 * way reads the row, adds one in Python, and saves it back:
 *
 *     product = Product.objects.get(id=1)
 *     product.number_sold += 1
 *     product.save()
 *
 * Two requests that interleave like this lose a sale:
 *
 *     T1: SELECT number_sold … -> 10
 *     T2: SELECT number_sold … -> 10
 *     T1: UPDATE … SET number_sold = 11
 *     T2: UPDATE … SET number_sold = 11      (T1's sale is gone)
 *
 * Invariant: at the end, number_sold equals the number of sales committed.
 *
 * The fixes, from the database's side: atomic (let the database add), locked and
 * deferred (a row lock; deferred is what Django really sends, which on SQLite
 * locks nothing and fails requests instead), optimistic (a version column: a
 * stale write changes no row and is retried), serializable (the database refuses
 * the second of two overlapping read-modify-writes; the application retries).
 */
#include <stdio.h>

#include "demo.h"

/* The statements the strategies send, written once: the ops send them and the
 * declarations at the end of the file name them for racelab room. */
#define READ_SQL "SELECT number_sold FROM products WHERE id = 1"
#define LOCK_SQL "SELECT number_sold FROM products WHERE id = 1 FOR UPDATE"
#define WRITE_SQL "UPDATE products SET number_sold = $1 WHERE id = 1"
#define UPDATE_SQL "UPDATE products SET number_sold = number_sold + 1 WHERE id = 1"

static const char *const schema[] = {
	"DROP TABLE IF EXISTS products",
	"CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	" number_sold INTEGER NOT NULL)",
	"INSERT INTO products (id, name, number_sold) VALUES (1, 'Widget', 0)",
	NULL,
};

/*
 * naive: read, add one in the application, write the result back.
 * Two autocommit statements; anything can happen between them.
 *
 *     p = Product.objects.get(id=1); p.number_sold += 1; p.save()
 */
static enum step_rc naive(struct worker *w)
{
	db_result r;
	int64_t sold;

	TRY(step_sql(w, "read", READ_SQL, NULL, 0, &r));
	sold = r.value + 1;             /* the application adds one */
	TRY(step_think(w));
	TRY(step_sql(w, "write", WRITE_SQL,
	             (db_value[]){ DB_I(sold) }, 1, NULL));
	step_committed(w);
	return STEP_OK;
}

/*
 * atomic: let the database add one.  The read and the write are one statement,
 * and the database serialises concurrent updates of the same row.
 *
 *     p.number_sold = F('number_sold') + 1; p.save()
 */
static enum step_rc atomic(struct worker *w)
{
	TRY(step_sql(w, "update", UPDATE_SQL, NULL, 0, NULL));
	step_committed(w);
	return STEP_OK;
}

/*
 * locked: read the row under a lock, inside a transaction; a second thread's
 * read waits until the first commits, so it reads the new value.
 *
 *     with transaction.atomic():
 *         p = Product.objects.select_for_update().get(id=1)
 *         p.number_sold += 1; p.save()
 *
 * On SQLite there is no FOR UPDATE (and Django's select_for_update() silently
 * does nothing there): BEGIN IMMEDIATE takes the whole database's write lock
 * before the read instead.
 */
static enum step_rc locked(struct worker *w)
{
	db_result r;
	int64_t sold;

	TRY(step_begin(w));
	TRY(step_sql(w, "lock", step_db(w)->row_locks ? LOCK_SQL : READ_SQL, NULL, 0, &r));
	sold = r.value + 1;
	TRY(step_think(w));
	TRY(step_sql(w, "write", WRITE_SQL,
	             (db_value[]){ DB_I(sold) }, 1, NULL));
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

/*
 * deferred: what Django really sends for select_for_update() inside
 * transaction.atomic() (Django 3.2 to 5.x): a plain BEGIN, SELECT … FOR UPDATE,
 * UPDATE, COMMIT, and no retry.  On PostgreSQL this is locked.  On SQLite Django
 * drops the FOR UPDATE (the backend has no row locks) and its BEGIN is deferred:
 * nothing is locked until the UPDATE.  Two requests that both read first cannot
 * both write: SQLite refuses the second writer at once, without calling the busy
 * handler, since it holds an old snapshot (SQLITE_BUSY while the other holds the
 * write lock, SQLITE_BUSY_SNAPSHOT after it committed).  Django raises
 * OperationalError: database is locked, and the view answers 500.  No sale is
 * lost; requests are.  Django's 5 s busy timeout never comes into it.
 *
 *     with transaction.atomic():
 *         p = Product.objects.select_for_update().get(id=1)
 *         p.number_sold += 1; p.save()
 */
static enum step_rc deferred(struct worker *w)
{
	db_result r;
	int64_t sold;

	TRY(step_begin_with(w, "BEGIN"));
	TRY(step_sql(w, "lock", step_db(w)->row_locks ? LOCK_SQL : READ_SQL, NULL, 0, &r));
	sold = r.value + 1;
	TRY(step_think(w));
	TRY(step_sql(w, "write", WRITE_SQL,
	             (db_value[]){ DB_I(sold) }, 1, NULL));
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

/* optimistic's own column, in its own area: every save adds one to it. */
static const char *const version_column[] = {
	"ALTER TABLE products ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
	NULL,
};

/*
 * optimistic: no lock; read the value and its version, and write only if the
 * version is still the one read.  A write that lost the race changes no row:
 * the application reads again and retries (counted as a retry).
 *
 *     p = Product.objects.get(id=1)
 *     n = Product.objects.filter(id=1, version=p.version).update(
 *             number_sold=p.number_sold + 1, version=F('version') + 1)
 *     if n == 0: retry        # or django-concurrency's VersionField
 */
static enum step_rc optimistic(struct worker *w)
{
	db_result r;
	int64_t sold, version;

	TRY(step_sql(w, "read", "SELECT number_sold, version FROM products WHERE id = 1",
	             NULL, 0, &r));
	sold = r.value + 1;
	version = r.value2;
	TRY(step_think(w));
	TRY(step_sql(w, "write", "UPDATE products SET number_sold = $1, version = version + 1"
	             " WHERE id = 1 AND version = $2",
	             (db_value[]){ DB_I(sold), DB_I(version) }, 2, &r));
	if (r.changes == 0)             /* someone saved since our read: read again */
		return STEP_RETRY;
	step_committed(w);
	return STEP_OK;
}

/*
 * serializable: the naive read-modify-write inside a SERIALIZABLE transaction,
 * retried.  PostgreSQL lets the second writer of the row wait for the first, then
 * refuses it (40001, could not serialize access due to concurrent update);
 * REPEATABLE READ does exactly the same here, because it is one row written by
 * both.  SQLite's transactions are always serializable: the second writer fails
 * at once (SQLITE_BUSY, or SQLITE_BUSY_SNAPSHOT once the first has committed).
 * Either way the application must retry, with a short random back-off.
 *
 *     DATABASES['default']['OPTIONS'] = {'isolation_level':
 *         psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE}
 *     for attempt in range(N):
 *         try:
 *             with transaction.atomic():
 *                 p = Product.objects.get(id=1); p.number_sold += 1; p.save()
 *             break
 *         except OperationalError: sleep(backoff(attempt))
 */
static enum step_rc serializable(struct worker *w)
{
	db_result r;
	int64_t sold;

	TRY(step_begin_with(w, step_db(w)->row_locks ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
	                                             : "BEGIN"));
	TRY(step_sql(w, "read", READ_SQL, NULL, 0, &r));
	sold = r.value + 1;
	TRY(step_think(w));
	TRY(step_sql(w, "write", WRITE_SQL,
	             (db_value[]){ DB_I(sold) }, 1, NULL));
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

static enum db_status setup(const struct scenario *scn, const db_backend *db, db_conn *conn,
                            int ops, char *err)
{
	(void)scn;
	(void)ops;
	return db_exec_all(db, conn, schema, err);
}

static enum db_status check(const struct scenario *scn, const db_backend *db, db_conn *conn,
                            int64_t committed, int rounds, struct scn_check *out, char *err)
{
	db_result r;
	enum db_status st;

	(void)scn;
	(void)rounds;
	st = db->exec(conn, READ_SQL, NULL, 0, &r, err);
	if (st != DB_OK)
		return st;
	out->expected = committed;
	out->observed = r.value;
	out->anomalies = committed - r.value;   /* lost updates */
	return DB_OK;
}

static void verdict(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	if (c->anomalies > 0)
		snprintf(buf, n, "%lld of %lld sales lost — lost update",
		         (long long)c->anomalies, (long long)committed);
	else if (c->observed != c->expected)
		snprintf(buf, n, "number_sold = %lld but %lld sales committed",
		         (long long)c->observed, (long long)c->expected);
	else
		snprintf(buf, n, "all %lld sales counted", (long long)committed);
}

static void result(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	(void)committed;
	if (c->anomalies > 0)
		snprintf(buf, n, "number_sold = %lld, expected %lld: lost update"
		         " (%lld of %lld increments lost)", (long long)c->observed,
		         (long long)c->expected, (long long)c->anomalies, (long long)c->expected);
	else
		snprintf(buf, n, "number_sold = %lld, expected %lld: %s", (long long)c->observed,
		         (long long)c->expected, c->observed == c->expected
		         ? "no update lost" : "more than the sales committed");
}

const struct scenario demo_product = {
	.name = "product",
	.title = "a product counter that loses sales (lost update)",
	.words = {
		.effect = "sale", .effects = "sales",
		.op = "operation", .ops = "operations",
		.value = "number_sold", .observed = "number_sold",
		.anomaly = "lost update", .anomalies = "lost updates",
		.none = "no sale lost",
		.goal = "Goal: make the counter lose a sale",
		.bug = "a sale was lost",
		.help = {
			{ "R 10", "read: the thread's SELECT saw 10" },
			{ "W 11", "write: its UPDATE wrote 11, the value it computed" },
			{ "U", "update: SET n = n + 1, the database adds one itself" },
		},
	},
	.default_ops = 2000,
	.default_think_ms = 0,          /* two cores interleave two statements plenty */
	.dashboard_ops = 8,
	.default_strategies = 3,      /* naive, atomic, locked; -s all for the ladder */
	.strategies = {
		{ .name = "naive", .safe = 0,
		  .summary = "SELECT number_sold; app adds 1; UPDATE SET number_sold = <value>",
		  .django = "p.number_sold += 1; p.save()",
		  .steps = { { .name = "read", .role = ROLE_READ, .sql = READ_SQL },
		             { "write", ROLE_WRITE, EFF_FROM_READ, .value_arg = 1, .sql = WRITE_SQL,
		               .bind = { SCN_BIND_NEXT } } },
		  .op = naive },
		{ .name = "atomic", .safe = 1,
		  .summary = "UPDATE SET number_sold = number_sold + 1",
		  .django = "p.number_sold = F('number_sold') + 1; p.save()",
		  .why_safe = "No order of steps loses a sale: the database reads and writes"
		              " number_sold in one statement, under the row's lock; there is no"
		              " step between the read and the write to put another thread in.",
		  .steps = { { .name = "update", .role = ROLE_UPDATE, .effects = EFF_ADDS,
		               .sql = UPDATE_SQL } },
		  .op = atomic },
		{ .name = "locked", .safe = 1,
		  .summary = "BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT",
		  .django = "select_for_update() inside transaction.atomic()",
		  .why_safe = "No order of steps loses a sale: the second thread waits at SELECT …"
		              " FOR UPDATE until the first commits, so it reads the new value.",
		  .why_safe_db_lock = "No order of steps loses a sale: the second thread waits at"
		              " BEGIN IMMEDIATE until the first commits, so it reads the new value.",
		  .db_lock_note = "SQLite has no FOR UPDATE: BEGIN IMMEDIATE locks the whole database",
		  .db_lock_report = "no SELECT ... FOR UPDATE here; BEGIN IMMEDIATE takes the whole"
		                    " database's write lock instead",
		  .steps = { { .name = "begin", .role = ROLE_BEGIN, .effects = EFF_LOCKS, .sql = "BEGIN" },
		             { .name = "lock", .role = ROLE_LOCK, .sql = LOCK_SQL },
		             { "write", ROLE_WRITE, EFF_FROM_READ, .value_arg = 1, .sql = WRITE_SQL,
		               .bind = { SCN_BIND_NEXT } },
		             { .name = "commit", .role = ROLE_COMMIT, .sql = "COMMIT" } },
		  .op = locked },
		{ .name = "deferred", .safe = 1, .fails_fast = 1,
		  .summary = "BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT — no retry",
		  .django = "select_for_update() inside transaction.atomic(), as Django sends it",
		  .why_safe = "No order of steps loses a sale: the second thread waits at SELECT …"
		              " FOR UPDATE until the first commits, so it reads the new value.",
		  .why_safe_db_lock = "No order of steps loses a sale, but requests fail: a"
		              " transaction may write only if nobody wrote since its read, so"
		              " the second writer's UPDATE fails at once (database is locked)"
		              " and Django answers 500.",
		  .db_lock_note = "SQLite: no FOR UPDATE, BEGIN locks nothing: the later writer fails",
		  .db_lock_report = "Django's select_for_update() sends no FOR UPDATE here and"
		                    " BEGIN is deferred: an UPDATE after another's write fails"
		                    " at once (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT: Django's"
		                    " OperationalError: database is locked), no retry",
		  .steps = { { .name = "begin", .role = ROLE_BEGIN }, { .name = "lock", .role = ROLE_LOCK },
		             { "write", ROLE_WRITE, EFF_FROM_READ, .value_arg = 1 },
		             { .name = "commit", .role = ROLE_COMMIT } },
		  .op = deferred },
		{ .name = "optimistic", .safe = 1,
		  .summary = "SELECT number_sold, version; UPDATE … WHERE version = <read>; 0 rows: retry",
		  .django = "filter(id=1, version=v).update(number_sold=n, version=F('version') + 1)",
		  .why_safe = "No order of steps loses a sale: a write whose version is stale"
		              " matches no row, so it erases nothing; the thread reads again"
		              " and retries.",
		  .steps = { { .name = "read", .role = ROLE_READ },
		             { "write", ROLE_CLAIM, EFF_FROM_READ, .value_arg = 1 } },
		  .schema = version_column,
		  .op = optimistic },
		{ .name = "serializable", .safe = 1, .backoff = 1,
		  .summary = "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT; UPDATE; COMMIT; retry on 40001",
		  .django = "OPTIONS['isolation_level'] = SERIALIZABLE; retry around atomic()",
		  .why_safe = "No order of steps loses a sale: of two transactions that read the"
		              " same value, the database refuses the second write (40001) and"
		              " the thread retries.",
		  .why_safe_db_lock = "No order of steps loses a sale: SQLite refuses a write from a"
		              " transaction whose read is out of date (SQLITE_BUSY, BUSY_SNAPSHOT)"
		              " and the thread retries.",
		  .db_lock_note = "SQLite: plain BEGIN; a stale writer gets SQLITE_BUSY and retries",
		  .db_lock_report = "every transaction is serializable; BEGIN is deferred, and an"
		                    " UPDATE after another's write fails at once with SQLITE_BUSY"
		                    " or SQLITE_BUSY_SNAPSHOT, and is retried",
		  .steps = { { .name = "begin", .role = ROLE_BEGIN }, { .name = "read", .role = ROLE_READ },
		             { "write", ROLE_WRITE, EFF_FROM_READ, .value_arg = 1 },
		             { .name = "commit", .role = ROLE_COMMIT } },
		  .op = serializable },
	},
	.setup = setup,
	.check = check,
	.verdict = verdict,
	.result = result,
	.final_sql = "SELECT number_sold FROM products WHERE id = 1",
};
