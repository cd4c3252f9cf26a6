/*
 * tickets.c: the next free seat, booked twice.
 *
 * A box office sells numbered seats in order; every request books the first seat
 * still free.  The obvious Django code finds the seat, then books it:
 *
 *     seat = Seat.objects.filter(booked_by=None).order_by('id').first()
 *     seat.booked_by = customer; seat.save()
 *
 * Two requests that both look before either books get the same seat, and the
 * second booking overwrites the first; the first customer holds a confirmation
 * for a seat that is not theirs:
 *
 *     T1: SELECT id … WHERE booked_by IS NULL … LIMIT 1 -> 1
 *     T2: SELECT id … WHERE booked_by IS NULL … LIMIT 1 -> 1
 *     T1: UPDATE seats SET booked_by = 'customer1' WHERE id = 1
 *     T2: UPDATE seats SET booked_by = 'customer2' WHERE id = 1   (seat 1, twice)
 *
 * The fixes each pay differently: one statement that re-checks the seat (atomic:
 * on PostgreSQL a request that lost the race for the row finds no seat at all and
 * is turned away while seats are still free), a row lock (locked: every request
 * queues on the same first free row), or a row lock that passes locked rows by
 * (skip_locked: no queue, no double booking; the job-queue pattern).
 *
 * Invariant: no seat booked twice, no booking lost — every confirmed booking is a
 * seat with that customer's name on it.
 */
#include <stdio.h>

#include "demo.h"

/* Seats per operation a thread may start: more than -t allows, so a booking is
 * never turned away because the house is really full. */
#define SEATS_PER_OP 64
#define WHO_FORMAT "customer%d" /* who thread N (1 up) is */

/* The statements the strategies send, written once: the ops send them and the
 * declarations at the end of the file name them for racelab room. */
#define FIND_SQL "SELECT id FROM seats WHERE booked_by IS NULL ORDER BY id LIMIT 1"
#define BOOK_SQL "UPDATE seats SET booked_by = $2 WHERE id = $1"
static const char find_locked_sql[] =
	"SELECT id FROM seats WHERE booked_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE";
static const char find_skip_sql[] =
	"SELECT id FROM seats WHERE booked_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
static const char book_free_sql[] =
	"UPDATE seats SET booked_by = $1 WHERE id = (SELECT id FROM seats"
	" WHERE booked_by IS NULL ORDER BY id LIMIT 1) AND booked_by IS NULL RETURNING id";

/* The scenario's own figures in the reports (tickets.extras, in this order). */
#define SEATS extra[0]                  /* seats on sale */
#define DOUBLE_BOOKED extra[1]          /* confirmations for a seat someone else holds */

static const char *const schema[] = {
	"DROP TABLE IF EXISTS seats",
	"CREATE TABLE seats (id INTEGER PRIMARY KEY, booked_by TEXT)",
	/* the free seats in order, without reading every booked one first */
	"CREATE INDEX seats_free ON seats (id) WHERE booked_by IS NULL",
	NULL,
};

static void customer_name(struct worker *w, char *name, size_t n)
{
	snprintf(name, n, WHO_FORMAT, step_thread(w));
}

/*
 * naive: find the first free seat, then book it, in two autocommit statements.
 *
 *     seat = Seat.objects.filter(booked_by=None).order_by('id').first()
 *     seat.booked_by = customer; seat.save()
 */
static enum step_rc naive(struct worker *w)
{
	char customer[24];
	db_result r;

	customer_name(w, customer, sizeof customer);
	TRY(step_sql(w, "find", FIND_SQL, NULL, 0, &r));
	if (!r.has_row) {               /* sold out */
		step_skip(w, "book");
		return step_fail(w, "sold out");
	}
	TRY(step_think(w));
	TRY(step_sql(w, "book", BOOK_SQL,
	             (db_value[]){ DB_I(r.value), DB_S(customer) }, 2, NULL));
	step_committed(w);
	return STEP_OK;
}

/*
 * atomic: one UPDATE finds the seat and books it; the booking's transaction goes on
 * (an order row, a payment) and commits.
 *
 *     with transaction.atomic():
 *         free = Seat.objects.filter(booked_by=None).order_by('id').values('id')[:1]
 *         n = Seat.objects.filter(id=Subquery(free), booked_by=None).update(booked_by=me)
 *
 * The outer "AND booked_by IS NULL" is what makes it safe: on PostgreSQL a second
 * request finds the same first seat, waits for the first one's row lock, and when
 * the first commits re-checks only the row it waited for (READ COMMITTED's
 * re-check); without the condition it would book the seat again.  With it, the
 * row no longer qualifies and the UPDATE returns no row: no seat for this request,
 * though others are free.  The application can only say "sold out" (or try again).
 * SQLite's BEGIN IMMEDIATE runs the bookings one at a time: no re-check, no loss.
 */
static enum step_rc atomic(struct worker *w)
{
	char customer[24];
	db_result r;

	customer_name(w, customer, sizeof customer);
	TRY(step_begin(w));
	TRY(step_sql(w, "book", book_free_sql, (db_value[]){ DB_S(customer) }, 1, &r));
	if (!r.has_row) {
		TRY(step_commit(w));
		return step_fail(w, "no seat");
	}
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

/* locked and skip_locked: the same transaction, locking the seat it finds. */
static enum step_rc lock_and_book(struct worker *w, const char *find_sql)
{
	char customer[24];
	db_result r;

	customer_name(w, customer, sizeof customer);
	TRY(step_begin(w));
	TRY(step_sql(w, "find", step_db(w)->row_locks ? find_sql : FIND_SQL, NULL, 0, &r));
	if (!r.has_row) {
		step_skip(w, "book");
		TRY(step_commit(w));
		return step_fail(w, "sold out");
	}
	TRY(step_think(w));
	TRY(step_sql(w, "book", BOOK_SQL,
	             (db_value[]){ DB_I(r.value), DB_S(customer) }, 2, NULL));
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

/*
 * locked: lock the first free seat, then book it.  Every request wants the same
 * first free row, so they queue on it one behind another; when the holder commits,
 * the next re-checks the row, finds it booked, and PostgreSQL moves on to the next
 * free seat (the LIMIT counts only rows that pass the re-check).
 *
 *     with transaction.atomic():
 *         seat = Seat.objects.select_for_update().filter(booked_by=None).order_by('id').first()
 */
static enum step_rc locked(struct worker *w)
{
	return lock_and_book(w, find_locked_sql);
}

/*
 * skip_locked: lock the first free seat that nobody else has locked.  A request
 * passes over rows other transactions hold and takes the next, so nobody waits.
 *
 *     with transaction.atomic():
 *         seat = (Seat.objects.select_for_update(skip_locked=True)
 *                 .filter(booked_by=None).order_by('id').first())
 */
static enum step_rc skip_locked(struct worker *w)
{
	return lock_and_book(w, find_skip_sql);
}

static enum db_status setup(const struct scenario *scn, const db_backend *db, db_conn *conn,
                            int ops, char *err)
{
	enum db_status st = db_exec_all(db, conn, schema, err);

	(void)scn;
	if (st == DB_OK)
		st = db->exec(conn, "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
		              " WHERE i < $1) INSERT INTO seats (id) SELECT i FROM n",
		              (db_value[]){ DB_I((int64_t)ops * SEATS_PER_OP) }, 1, NULL, err);
	return st;
}

static enum db_status check(const struct scenario *scn, const db_backend *db, db_conn *conn,
                            int64_t committed, int rounds, struct scn_check *out, char *err)
{
	db_result r;
	enum db_status st;

	(void)scn;
	out->SEATS = (int64_t)rounds * SEATS_PER_OP;
	st = db->exec(conn, "SELECT COUNT(*) FROM seats WHERE booked_by IS NOT NULL",
	              NULL, 0, &r, err);
	if (st != DB_OK)
		return st;
	out->expected = committed;              /* one seat per confirmed booking */
	out->observed = r.value;
	/* a confirmation whose seat holds another name: booked twice */
	out->anomalies = committed > r.value ? committed - r.value : 0;
	out->DOUBLE_BOOKED = out->anomalies;
	return DB_OK;
}

static void verdict(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	if (c->anomalies > 0)
		snprintf(buf, n, "%lld bookings confirmed, %lld seats booked: %lld seats sold twice"
		         " — double booking", (long long)committed, (long long)c->observed,
		         (long long)c->anomalies);
	else if (c->observed != c->expected)
		snprintf(buf, n, "%lld seats booked but %lld bookings confirmed",
		         (long long)c->observed, (long long)c->expected);
	else
		snprintf(buf, n, "%lld bookings, each on a seat of its own", (long long)committed);
}

static void result(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	if (c->anomalies > 0)
		snprintf(buf, n, "%lld bookings confirmed, %lld seat%s booked: double booking"
		         " (%lld seat%s sold twice)", (long long)committed, (long long)c->observed,
		         c->observed == 1 ? "" : "s", (long long)c->anomalies,
		         c->anomalies == 1 ? "" : "s");
	else
		snprintf(buf, n, "%lld booking%s confirmed, %lld seat%s booked: no double booking",
		         (long long)committed, committed == 1 ? "" : "s", (long long)c->observed,
		         c->observed == 1 ? "" : "s");
}

const struct scenario demo_tickets = {
	.name = "tickets",
	.title = "the next free seat booked twice (find, then take)",
	.words = {
		.effect = "booking", .effects = "bookings",
		.op = "operation", .ops = "operations",
		.value = "seat", .observed = "seats booked",
		.resource = "seat", .used = "booked",
		.anomaly = "double booking", .anomalies = "seats booked twice",
		.none = "no seat booked twice",
		.goal = "Goal: sell one seat to two customers",
		.bug = "a seat was booked twice",
		.help = {
			{ "R 3", "find: the first free seat it saw was seat 3" },
			{ "book 3", "book: its UPDATE put the customer's name on seat 3" },
			{ "0 rows", "atomic: the seat it found was taken when its lock came: no seat" },
		},
	},
	.default_ops = 200,
	.default_think_ms = 0,
	.dashboard_ops = 8,
	.who_format = WHO_FORMAT,
	.extras = { { "seats", NULL, 0 }, { "double_booked", "twice", 0 } },
	.strategies = {
		{ .name = "naive", .safe = 0,
		  .summary = "SELECT the first free seat; UPDATE it with the customer's name",
		  .django = "seat = Seat.objects.filter(booked_by=None).order_by('id').first();"
		            " seat.booked_by = me; seat.save()",
		  .steps = { { "find", ROLE_READ, 0, .sql = FIND_SQL,
		               .goes_on = SCN_GO_IF_ROW },
		             { "book", ROLE_WRITE, EFF_USES, .key_arg = 1, .sql = BOOK_SQL,
		               .bind = { SCN_BIND_READ, SCN_BIND_WHO } } },
		  .op = naive },
		{ .name = "atomic", .safe = 1,
		  .summary = "BEGIN; UPDATE … WHERE id = (SELECT … LIMIT 1) AND booked_by IS NULL"
		             " RETURNING id; COMMIT",
		  .django = "Seat.objects.filter(id=Subquery(free[:1]), booked_by=None)"
		            ".update(booked_by=me) inside atomic()",
		  .why_safe = "No order of steps books a seat twice: the UPDATE books only a seat"
		              " that is still free when it holds the row's lock.  The cost: a"
		              " request that waited for that lock finds its seat taken and gets no"
		              " seat (\"no seat\" failures), though others are free.",
		  .why_safe_db_lock = "No order of steps books a seat twice: BEGIN IMMEDIATE runs"
		              " the bookings one at a time, so each UPDATE finds a seat that is"
		              " free; SQLite never turns a request away here.",
		  .db_lock_note = "SQLite: BEGIN IMMEDIATE books one at a time; no re-check, no"
		                  " \"no seat\"",
		  .db_lock_report = "BEGIN IMMEDIATE takes the whole database's write lock, so the"
		                    " bookings run one at a time and none finds its seat gone",
		  .steps = { { "begin", ROLE_BEGIN, EFF_LOCKS, .sql = "BEGIN" },
		             { "book", ROLE_CLAIM, EFF_USES, .key_arg = SCN_KEY_RESULT,
		               .sql = book_free_sql,
		               .bind = { SCN_BIND_WHO }, .goes_on = SCN_GO_IF_ROW },
		             { "commit", ROLE_COMMIT, 0, .sql = "COMMIT" } },
		  .op = atomic },
		{ .name = "locked", .safe = 1,
		  .summary = "BEGIN; SELECT the first free seat FOR UPDATE; UPDATE it; COMMIT",
		  .django = "select_for_update().filter(booked_by=None).order_by('id').first()"
		            " inside atomic()",
		  .why_safe = "No order of steps books a seat twice: the second request waits at"
		              " SELECT … FOR UPDATE on the same first free seat; when the first"
		              " commits, the seat no longer qualifies and it gets the next one.  The"
		              " cost: every request queues on that one row.",
		  .why_safe_db_lock = "No order of steps books a seat twice: the second request waits"
		              " at BEGIN IMMEDIATE until the first commits, then finds the next free"
		              " seat.",
		  .db_lock_note = "SQLite has no FOR UPDATE: BEGIN IMMEDIATE locks the whole database",
		  .db_lock_report = "no SELECT ... FOR UPDATE here; BEGIN IMMEDIATE takes the whole"
		                    " database's write lock instead",
		  .steps = { { "begin", ROLE_BEGIN, EFF_LOCKS, .sql = "BEGIN" },
		             { "find", ROLE_LOCK, 0, .sql = find_locked_sql,
		               .goes_on = SCN_GO_IF_ROW },
		             { "book", ROLE_WRITE, EFF_USES, .key_arg = 1, .sql = BOOK_SQL,
		               .bind = { SCN_BIND_READ, SCN_BIND_WHO } },
		             { "commit", ROLE_COMMIT, 0, .sql = "COMMIT" } },
		  .op = locked },
		{ .name = "skip_locked", .safe = 1,
		  .summary = "BEGIN; SELECT the first free seat FOR UPDATE SKIP LOCKED; UPDATE it;"
		             " COMMIT",
		  .django = "select_for_update(skip_locked=True).filter(booked_by=None)"
		            ".order_by('id').first() inside atomic()",
		  .why_safe = "No order of steps books a seat twice: a seat another request has"
		              " locked is passed over, so each request locks a different free seat,"
		              " and nobody waits.",
		  .why_safe_db_lock = "No order of steps books a seat twice: SQLite has no SKIP"
		              " LOCKED, so BEGIN IMMEDIATE makes each request wait for the whole"
		              " database, exactly as locked does.",
		  .db_lock_note = "SQLite has no SKIP LOCKED: BEGIN IMMEDIATE queues every booking",
		  .db_lock_report = "no FOR UPDATE SKIP LOCKED here; BEGIN IMMEDIATE makes every"
		                    " booking wait for the whole database's write lock, as locked"
		                    " does",
		  .steps = { { "begin", ROLE_BEGIN, EFF_LOCKS, .sql = "BEGIN" },
		             { "find", ROLE_LOCK, 0, .sql = find_skip_sql,
		               .goes_on = SCN_GO_IF_ROW },
		             { "book", ROLE_WRITE, EFF_USES, .key_arg = 1, .sql = BOOK_SQL,
		               .bind = { SCN_BIND_READ, SCN_BIND_WHO } },
		             { "commit", ROLE_COMMIT, 0, .sql = "COMMIT" } },
		  .op = skip_locked },
	},
	.setup = setup,
	.check = check,
	.verdict = verdict,
	.result = result,
	.final_sql = "SELECT id, booked_by FROM seats WHERE booked_by IS NOT NULL ORDER BY id",
};
