/*
 * transfer.c: money moved between two accounts, both ways at once.
 *
 * Alice pays Bob and Bob pays Alice, many times, from many requests.  The obvious
 * Django code reads both balances, then writes both back:
 *
 *     src = Account.objects.get(id=from_id); dst = Account.objects.get(id=to_id)
 *     src.balance -= 10; src.save()
 *     dst.balance += 10; dst.save()
 *
 * Two requests that interleave overwrite each other's writes, and money appears or
 * vanishes:
 *
 *     T1 (Alice pays Bob): SELECT balance … id = 1 -> 1000;  … id = 2 -> 1000
 *     T2 (Bob pays Alice): SELECT balance … id = 2 -> 1000;  … id = 1 -> 1000
 *     T1: UPDATE … SET balance = 990 WHERE id = 1      (debit Alice)
 *     T2: UPDATE … SET balance = 990 WHERE id = 2      (debit Bob)
 *     T1: UPDATE … SET balance = 1010 WHERE id = 2     (credit Bob: his debit is gone)
 *     T2: UPDATE … SET balance = 1010 WHERE id = 1     (credit Alice: hers is gone)
 *
 * Both paid 10, both received 10, and the bank holds 2020 where it held 2000.
 * (Two transfers the same way that overwrite each other keep the total but lose a
 * whole transfer: the total is what the check can see, not everything that breaks.)
 *
 * Locking both rows fixes it, and brings the next bug: T1 locks Alice then waits
 * for Bob, T2 locks Bob then waits for Alice — a deadlock.  PostgreSQL finds the
 * cycle (after deadlock_timeout, 1 s by default) and fails one transaction with
 * SQLSTATE 40P01; Django raises OperationalError and that request fails.  Locking
 * the two rows in one order (by id) makes the cycle impossible.  SQLite has one
 * lock for the whole database, taken at BEGIN IMMEDIATE: a transfer waits before it
 * holds anything, so no cycle can form there, and no two transfers run at once.
 *
 * Invariant: the total of the balances never changes.
 */
#include <stdio.h>

#include "demo.h"

#define ACCOUNTS 2
#define OPENING 1000    /* each account's balance at the start */
#define AMOUNT 10       /* each transfer moves this much */

/* The scenario's own figures in the reports (transfer.extras, in this order). */
#define MONEY_DIFF extra[0]     /* the total now minus the total at the start */

static const char *const schema[] = {
	"DROP TABLE IF EXISTS accounts",
	"CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL,"
	" balance INTEGER NOT NULL)",
	"INSERT INTO accounts (id, owner, balance) VALUES (1, 'Alice', 1000), (2, 'Bob', 1000)",
	NULL,
};

/* Odd threads pay from account 1 to 2, even threads from 2 to 1. */
static void accounts(struct worker *w, int64_t *from, int64_t *to)
{
	*from = step_thread(w) % 2 ? 1 : 2;
	*to = 3 - *from;
}

static const char *read_sql = "SELECT balance FROM accounts WHERE id = $1";
static const char *lock_sql = "SELECT balance FROM accounts WHERE id = $1 FOR UPDATE";
static const char *write_sql = "UPDATE accounts SET balance = $2 WHERE id = $1";

/* Read (or lock) both balances as steps READ_FROM and READ_TO, then write both. */
static enum step_rc move(struct worker *w, const char *sql, const char *read_from,
                         const char *read_to, int64_t from, int64_t to)
{
	db_result a, b;

	TRY(step_sql(w, read_from, sql, (db_value[]){ DB_I(from) }, 1, &a));
	TRY(step_sql(w, read_to, sql, (db_value[]){ DB_I(to) }, 1, &b));
	TRY(step_think(w));
	TRY(step_sql(w, "debit", write_sql, (db_value[]){ DB_I(from), DB_I(a.value - AMOUNT) },
	             2, NULL));
	TRY(step_sql(w, "credit", write_sql, (db_value[]){ DB_I(to), DB_I(b.value + AMOUNT) },
	             2, NULL));
	return STEP_OK;
}

/*
 * naive: read both, write both, four autocommit statements.
 */
static enum step_rc naive(struct worker *w)
{
	int64_t from, to;

	accounts(w, &from, &to);
	TRY(move(w, read_sql, "read_from", "read_to", from, to));
	step_committed(w);
	return STEP_OK;
}

/*
 * locked: lock the payer's row, then the payee's, in the order of the request.
 *
 *     with transaction.atomic():
 *         src = Account.objects.select_for_update().get(id=from_id)
 *         dst = Account.objects.select_for_update().get(id=to_id)
 *         ...
 *
 * Two transfers in opposite directions each hold the row the other wants next.
 * Django retries nothing: the deadlock victim's request fails (fails_fast).
 */
static enum step_rc locked(struct worker *w)
{
	int64_t from, to;

	accounts(w, &from, &to);
	TRY(step_begin(w));
	TRY(move(w, step_db(w)->row_locks ? lock_sql : read_sql, "lock_from", "lock_to",
	         from, to));
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

/*
 * ordered: lock the two rows lowest id first, whatever the direction.  Every
 * transfer that wants both rows queues on the lower one first, and whoever holds
 * it can always get the other: no cycle, no deadlock.
 *
 *     with transaction.atomic():
 *         rows = {a.id: a for a in Account.objects.select_for_update()
 *                 .filter(id__in=[from_id, to_id]).order_by('id')}
 */
static enum step_rc ordered(struct worker *w)
{
	int64_t from, to;
	db_result lo, hi;
	const char *sql;

	accounts(w, &from, &to);
	sql = step_db(w)->row_locks ? lock_sql : read_sql;
	TRY(step_begin(w));
	TRY(step_sql(w, "lock_low", sql, (db_value[]){ DB_I(from < to ? from : to) }, 1, &lo));
	TRY(step_sql(w, "lock_high", sql, (db_value[]){ DB_I(from < to ? to : from) }, 1, &hi));
	TRY(step_think(w));
	TRY(step_sql(w, "debit", write_sql, (db_value[]){ DB_I(from),
	             DB_I((from < to ? lo.value : hi.value) - AMOUNT) }, 2, NULL));
	TRY(step_sql(w, "credit", write_sql, (db_value[]){ DB_I(to),
	             DB_I((from < to ? hi.value : lo.value) + AMOUNT) }, 2, NULL));
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

/*
 * serializable: the naive reads and writes inside a SERIALIZABLE transaction,
 * retried whole when the database refuses to commit an order it cannot make
 * serial (40001), or breaks a deadlock between the two UPDATEs (40P01).  On SQLite
 * a deferred BEGIN: the second writer gets SQLITE_BUSY (its snapshot is stale)
 * and retries.
 *
 *     for attempt in range(10):
 *         try:
 *             with transaction.atomic(): ... the naive code ...
 *             break
 *         except OperationalError: continue      # isolation_level: SERIALIZABLE
 */
static enum step_rc serializable(struct worker *w)
{
	int64_t from, to;

	accounts(w, &from, &to);
	TRY(step_begin_with(w, step_db(w)->row_locks ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
	                                             : "BEGIN"));
	TRY(move(w, read_sql, "read_from", "read_to", from, to));
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
	(void)committed;
	(void)rounds;
	st = db->exec(conn, "SELECT SUM(balance) FROM accounts", NULL, 0, &r, err);
	if (st != DB_OK)
		return st;
	out->expected = ACCOUNTS * OPENING;
	out->observed = r.value;
	out->MONEY_DIFF = r.value - out->expected;
	/* transfers' worth of money made or destroyed, net */
	out->anomalies = (out->MONEY_DIFF < 0 ? -out->MONEY_DIFF : out->MONEY_DIFF) / AMOUNT;
	if (out->anomalies == 0 && out->MONEY_DIFF != 0)
		out->anomalies = 1;
	return DB_OK;
}

static void verdict(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	if (c->MONEY_DIFF > 0)
		snprintf(buf, n, "%lld transfers, the total is %lld, not %lld: $%lld made from"
		         " nothing — lost update", (long long)committed, (long long)c->observed,
		         (long long)c->expected, (long long)c->MONEY_DIFF);
	else if (c->MONEY_DIFF < 0)
		snprintf(buf, n, "%lld transfers, the total is %lld, not %lld: $%lld vanished"
		         " — lost update", (long long)committed, (long long)c->observed,
		         (long long)c->expected, (long long)-c->MONEY_DIFF);
	else
		snprintf(buf, n, "%lld transfer%s, the total is still %lld", (long long)committed,
		         committed == 1 ? "" : "s", (long long)c->observed);
}

static void result(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	if (c->MONEY_DIFF != 0)
		snprintf(buf, n, "total = %lld, expected %lld after %lld transfer%s: $%lld %s",
		         (long long)c->observed, (long long)c->expected, (long long)committed,
		         committed == 1 ? "" : "s",
		         (long long)(c->MONEY_DIFF > 0 ? c->MONEY_DIFF : -c->MONEY_DIFF),
		         c->MONEY_DIFF > 0 ? "made from nothing" : "vanished");
	else
		snprintf(buf, n, "total = %lld, expected %lld after %lld transfer%s: conserved",
		         (long long)c->observed, (long long)c->expected, (long long)committed,
		         committed == 1 ? "" : "s");
}

const struct scenario demo_transfer = {
	.name = "transfer",
	.title = "money moved both ways between accounts (lost update, deadlock)",
	.words = {
		.effect = "transfer", .effects = "transfers",
		.op = "operation", .ops = "operations",
		.value = "balance", .observed = "total",
		.anomaly = "money made or lost", .anomalies = "overwritten balances",
		.none = "the total is conserved",
		.goal = "Goal: make money appear or vanish",
		.bug = "the total changed",
		.help = {
			{ "R 1000", "read_from/read_to (lock_*): the balance the thread saw" },
			{ "W 990", "debit/credit: the balance it wrote, computed from its read" },
			{ "T1 → T2", "step mode: T1 waits for a lock T2 holds; a cycle is a deadlock" },
		},
	},
	.conserved = ACCOUNTS * OPENING,
	.default_ops = 100,
	.default_think_ms = 0,
	.dashboard_ops = 8,
	.extras = { { "money_diff", "$ diff", 7 } },
	.strategies = {
		{ .name = "naive", .safe = 0,
		  .summary = "SELECT both balances; UPDATE both with the values computed",
		  .django = "src.balance -= 10; src.save(); dst.balance += 10; dst.save()",
		  .steps = { { "read_from", ROLE_READ, 0, .key_arg = 1 },
		             { "read_to", ROLE_READ, 0, .key_arg = 1 },
		             { "debit", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 },
		             { "credit", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 } },
		  .op = naive },
		{ .name = "locked", .safe = 1, .fails_fast = 1,
		  .summary = "BEGIN; SELECT payer FOR UPDATE; SELECT payee FOR UPDATE; UPDATE both;"
		             " COMMIT",
		  .django = "select_for_update().get(id=from_id), then .get(id=to_id), in atomic()",
		  .why_safe = "No order of steps changes the total: each transfer holds both rows"
		              " until it commits.  The cost: opposite transfers each hold the row"
		              " the other wants, a deadlock; PostgreSQL fails one (40P01), and"
		              " that request fails.",
		  .why_safe_db_lock = "No order of steps changes the total: BEGIN IMMEDIATE takes the"
		              " whole database before either row is read.  A transfer waits"
		              " holding nothing, so no cycle, no deadlock: they simply queue.",
		  .db_lock_note = "SQLite: one lock for the whole database, taken at BEGIN"
		                  " IMMEDIATE: no cycle, no deadlock, a queue",
		  .db_lock_report = "no row locks here; BEGIN IMMEDIATE takes the whole database's"
		                    " write lock before anything is read, so a transfer waits"
		                    " holding nothing and no deadlock can form",
		  .steps = { { .name = "begin", .role = ROLE_BEGIN, .effects = EFF_LOCKS },
		             { "lock_from", ROLE_LOCK, 0, .key_arg = 1 },
		             { "lock_to", ROLE_LOCK, 0, .key_arg = 1 },
		             { "debit", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 },
		             { "credit", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 },
		             { .name = "commit", .role = ROLE_COMMIT } },
		  .op = locked },
		{ .name = "ordered", .safe = 1,
		  .summary = "BEGIN; SELECT … FOR UPDATE the lower id, then the higher; UPDATE both;"
		             " COMMIT",
		  .django = "select_for_update().filter(id__in=[a, b]).order_by('id') in atomic()",
		  .why_safe = "No order of steps changes the total, and none deadlocks: every"
		              " transfer locks the lower id first, so whoever holds it can always"
		              " get the other; the rest wait in one queue.",
		  .why_safe_db_lock = "No order of steps changes the total: BEGIN IMMEDIATE takes the"
		              " whole database first, so the order of the rows does not matter"
		              " here.",
		  .db_lock_note = "SQLite has no FOR UPDATE: BEGIN IMMEDIATE locks the whole database",
		  .db_lock_report = "no SELECT ... FOR UPDATE here; BEGIN IMMEDIATE takes the whole"
		                    " database's write lock instead, so the lock order is moot",
		  .steps = { { .name = "begin", .role = ROLE_BEGIN, .effects = EFF_LOCKS },
		             { "lock_low", ROLE_LOCK, 0, .key_arg = 1 },
		             { "lock_high", ROLE_LOCK, 0, .key_arg = 1 },
		             { "debit", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 },
		             { "credit", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 },
		             { .name = "commit", .role = ROLE_COMMIT } },
		  .op = ordered },
		{ .name = "serializable", .safe = 1,
		  .summary = "the naive reads and writes in BEGIN ISOLATION LEVEL SERIALIZABLE;"
		             " retry on 40001/40P01",
		  .django = "OPTIONS['isolation_level'] = SERIALIZABLE; retry atomic() on"
		            " OperationalError",
		  .why_safe = "No order of steps changes the total: a transaction whose reads"
		              " another has overwritten cannot commit (40001, or 40P01 between the"
		              " two UPDATEs); it rolls back and runs again on the new balances.",
		  .why_safe_db_lock = "No order of steps changes the total: the second writer's"
		              " snapshot is stale, so SQLite refuses its write (SQLITE_BUSY) and"
		              " it runs again.",
		  .db_lock_note = "SQLite: a deferred BEGIN; a stale writer gets SQLITE_BUSY, retried",
		  .db_lock_report = "a deferred BEGIN, SQLite's transactions being serializable"
		                    " already; a writer whose snapshot is stale gets SQLITE_BUSY and"
		                    " the transfer is retried",
		  .steps = { { .name = "begin", .role = ROLE_BEGIN },
		             { "read_from", ROLE_READ, 0, .key_arg = 1 },
		             { "read_to", ROLE_READ, 0, .key_arg = 1 },
		             { "debit", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 },
		             { "credit", ROLE_WRITE, EFF_FROM_READ, .key_arg = 1, .value_arg = 2 },
		             { .name = "commit", .role = ROLE_COMMIT } },
		  .op = serializable },
	},
	.setup = setup,
	.check = check,
	.verdict = verdict,
	.result = result,
	.final_sql = "SELECT id, owner, balance FROM accounts ORDER BY id",
};
