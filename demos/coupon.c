/*
 * coupon.c: check-then-act, or the single-use coupon redeemed twice.
 *
 * Each round issues a fresh coupon and every thread tries to redeem it at the same
 * moment, as an attacker firing parallel requests would.  The obvious code checks
 * whether the coupon is still unused, then redeems it:
 *
 *     coupon = Coupon.objects.get(code=code)
 *     if not coupon.redeemed:
 *         Redemption.objects.create(coupon=coupon, customer=customer)
 *         coupon.redeemed = True; coupon.save()
 *
 * Two requests that both check before either marks the coupon both redeem it:
 *
 *     T1: SELECT redeemed … -> 0
 *     T2: SELECT redeemed … -> 0
 *     T1: INSERT INTO redemptions …
 *     T2: INSERT INTO redemptions …          (the discount is given twice)
 *
 * Invariant: at most one redemption per coupon.
 *
 * The fixes: atomic (a conditional UPDATE claims the coupon), locked (a row lock
 * around check and act), unique (the naive code, but a UNIQUE index refuses the
 * second redemption and the application reads the error as "already used"),
 * nowait (a row lock that is never waited for: a request that finds the coupon
 * locked fails at once).
 */
#include <stdio.h>
#include <string.h>

#include "demo.h"

#define DISCOUNT 25     /* each coupon is worth this much */
#define KEY_FORMAT "C%04d"      /* the coupon of round N (1 up) */
#define WHO_FORMAT "customer%d" /* who thread N (1 up) is */

/* The statements the strategies send, written once: the ops send them and the
 * declarations at the end of the file name them for racelab room. */
#define CHECK_SQL "SELECT redeemed FROM coupons WHERE code = $1"
#define LOCK_SQL "SELECT redeemed FROM coupons WHERE code = $1 FOR UPDATE"
#define CLAIM_SQL "UPDATE coupons SET redeemed = 1 WHERE code = $1 AND redeemed = 0"
#define REDEEM_SQL "INSERT INTO redemptions (coupon_code, customer) VALUES ($1, $2)"
#define MARK_SQL "UPDATE coupons SET redeemed = 1 WHERE code = $1"

/* The coupon's own figures in the reports (coupon.extras, in this order). */
#define COUPONS extra[0]                /* coupons issued */
#define DOUBLE_REDEEMED extra[1]        /* coupons redeemed more than once */
#define DISCOUNT_LOST extra[2]          /* money given away by extra redemptions */

static const char *const schema[] = {
	"DROP TABLE IF EXISTS redemptions",
	"DROP TABLE IF EXISTS coupons",
	"CREATE TABLE coupons (code TEXT PRIMARY KEY, redeemed INTEGER NOT NULL,"
	" discount INTEGER NOT NULL)",
	"CREATE TABLE redemptions (coupon_code TEXT NOT NULL REFERENCES coupons (code),"
	" customer TEXT NOT NULL)",
	NULL,
};

/* Round N's coupon, C0001 for the first round. */
static void coupon_code(struct worker *w, char *code, size_t n)
{
	snprintf(code, n, KEY_FORMAT, step_op(w) + 1);
}

static void customer_name(struct worker *w, char *name, size_t n)
{
	snprintf(name, n, WHO_FORMAT, step_thread(w));
}

/*
 * naive: check, then act, in separate autocommit statements.
 *
 *     if not coupon.redeemed:
 *         Redemption.objects.create(...); coupon.redeemed = True; coupon.save()
 */
static enum step_rc naive(struct worker *w)
{
	char code[16], customer[24];
	db_result r;

	coupon_code(w, code, sizeof code);
	customer_name(w, customer, sizeof customer);
	TRY(step_sql(w, "check", CHECK_SQL,
	             (db_value[]){ DB_S(code) }, 1, &r));
	if (r.value != 0) {             /* someone else was first */
		step_skip(w, "redeem");
		step_skip(w, "mark");
		return STEP_OK;
	}
	TRY(step_think(w));
	TRY(step_sql(w, "redeem", REDEEM_SQL,
	             (db_value[]){ DB_S(code), DB_S(customer) }, 2, NULL));
	step_committed(w);
	TRY(step_sql(w, "mark", MARK_SQL,
	             (db_value[]){ DB_S(code) }, 1, NULL));
	return STEP_OK;
}

/*
 * atomic: a conditional UPDATE claims the coupon; the row count says who won.
 * The database runs the check and the write as one statement under the row's lock.
 *
 *     won = Coupon.objects.filter(code=code, redeemed=False).update(redeemed=True)
 *     if won: Redemption.objects.create(...)
 */
static enum step_rc atomic(struct worker *w)
{
	char code[16], customer[24];
	db_result r;

	coupon_code(w, code, sizeof code);
	customer_name(w, customer, sizeof customer);
	TRY(step_sql(w, "claim", CLAIM_SQL, (db_value[]){ DB_S(code) }, 1, &r));
	if (r.changes != 1) {           /* another request claimed it */
		step_skip(w, "redeem");
		return STEP_OK;
	}
	TRY(step_sql(w, "redeem", REDEEM_SQL,
	             (db_value[]){ DB_S(code), DB_S(customer) }, 2, NULL));
	step_committed(w);
	return STEP_OK;
}

/*
 * locked: lock the coupon's row, then check and act inside one transaction.
 *
 *     with transaction.atomic():
 *         coupon = Coupon.objects.select_for_update().get(code=code)
 *         if not coupon.redeemed: ...
 *
 * SQLite has no FOR UPDATE; BEGIN IMMEDIATE locks the whole database instead.
 */
static enum step_rc locked(struct worker *w)
{
	char code[16], customer[24];
	db_result r;

	coupon_code(w, code, sizeof code);
	customer_name(w, customer, sizeof customer);
	TRY(step_begin(w));
	TRY(step_sql(w, "lock", step_db(w)->row_locks ? LOCK_SQL : CHECK_SQL,
	             (db_value[]){ DB_S(code) }, 1, &r));
	if (r.value != 0) {
		step_skip(w, "redeem");
		step_skip(w, "mark");
		return step_commit(w);
	}
	TRY(step_think(w));
	TRY(step_sql(w, "redeem", REDEEM_SQL,
	             (db_value[]){ DB_S(code), DB_S(customer) }, 2, NULL));
	TRY(step_sql(w, "mark", MARK_SQL,
	             (db_value[]){ DB_S(code) }, 1, NULL));
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

/* unique's own index, in its own area: one redemption per coupon, says the database. */
static const char *const unique_index[] = {
	"CREATE UNIQUE INDEX redemptions_one_per_coupon ON redemptions (coupon_code)",
	NULL,
};

/* Django's IntegrityError for a duplicate key, on either backend. */
static int unique_violation(const struct worker *w)
{
	const char *why = step_failure(w);

	return !strcmp(why, "23505") || !strcmp(why, "SQLITE_CONSTRAINT_UNIQUE");
}

/*
 * unique: the naive check-then-act, but the database holds the invariant: a
 * UNIQUE index on the redemption's coupon refuses the second INSERT, and the
 * application turns the error into the answer "already used".  Two requests that
 * both check before either redeems still both try; only one row gets in.
 *
 *     coupon_code = models.CharField(unique=True)      # on Redemption
 *     try:
 *         with transaction.atomic():
 *             Redemption.objects.create(coupon=coupon, customer=customer)
 *     except IntegrityError:
 *         return "already used"
 */
static enum step_rc unique(struct worker *w)
{
	char code[16], customer[24];
	enum step_rc rc;
	db_result r;

	coupon_code(w, code, sizeof code);
	customer_name(w, customer, sizeof customer);
	TRY(step_sql(w, "check", CHECK_SQL,
	             (db_value[]){ DB_S(code) }, 1, &r));
	if (r.value != 0) {
		step_skip(w, "redeem");
		step_skip(w, "mark");
		return STEP_OK;
	}
	TRY(step_think(w));
	rc = step_sql(w, "redeem", REDEEM_SQL,
	              (db_value[]){ DB_S(code), DB_S(customer) }, 2, NULL);
	if (rc == STEP_FAIL && unique_violation(w)) {
		step_refused(w);        /* the request answers "already used" */
		step_skip(w, "mark");
		return STEP_OK;
	}
	TRY(rc);
	step_committed(w);
	TRY(step_sql(w, "mark", MARK_SQL,
	             (db_value[]){ DB_S(code) }, 1, NULL));
	return STEP_OK;
}

/*
 * nowait: locked, but a request never waits for the lock: FOR UPDATE NOWAIT
 * fails at once (55P03, lock not available) when another request holds the
 * coupon's row, and the request fails (Django: DatabaseError, a 500 unless the
 * view catches it).  SQLite has no NOWAIT: BEGIN IMMEDIATE with no busy wait,
 * so a request that finds the database's write lock taken fails with SQLITE_BUSY.
 *
 *     with transaction.atomic():
 *         coupon = Coupon.objects.select_for_update(nowait=True).get(code=code)
 *         if not coupon.redeemed: ...
 */
static enum step_rc nowait(struct worker *w)
{
	char code[16], customer[24];
	db_result r;

	coupon_code(w, code, sizeof code);
	customer_name(w, customer, sizeof customer);
	TRY(step_begin(w));
	TRY(step_sql(w, "lock", step_db(w)->row_locks
	             ? "SELECT redeemed FROM coupons WHERE code = $1 FOR UPDATE NOWAIT"
	             : CHECK_SQL,
	             (db_value[]){ DB_S(code) }, 1, &r));
	if (r.value != 0) {
		step_skip(w, "redeem");
		step_skip(w, "mark");
		return step_commit(w);
	}
	TRY(step_think(w));
	TRY(step_sql(w, "redeem", REDEEM_SQL,
	             (db_value[]){ DB_S(code), DB_S(customer) }, 2, NULL));
	TRY(step_sql(w, "mark", MARK_SQL,
	             (db_value[]){ DB_S(code) }, 1, NULL));
	TRY(step_commit(w));
	step_committed(w);
	return STEP_OK;
}

static enum db_status setup(const struct scenario *scn, const db_backend *db, db_conn *conn,
                            int ops, char *err)
{
	enum db_status st = db_exec_all(db, conn, schema, err);
	char code[16];

	(void)scn;
	if (st == DB_OK)
		st = db->exec(conn, "BEGIN", NULL, 0, NULL, err);
	for (int i = 0; i < ops && st == DB_OK; i++) {
		snprintf(code, sizeof code, KEY_FORMAT, i + 1);
		st = db->exec(conn, "INSERT INTO coupons (code, redeemed, discount)"
		              " VALUES ($1, 0, $2)",
		              (db_value[]){ DB_S(code), DB_I(DISCOUNT) }, 2, NULL, err);
	}
	if (st == DB_OK)
		st = db->exec(conn, "COMMIT", NULL, 0, NULL, err);
	return st;
}

static enum db_status count(const db_backend *db, db_conn *conn, const char *sql,
                            int64_t *out, char *err)
{
	db_result r;
	enum db_status st = db->exec(conn, sql, NULL, 0, &r, err);

	*out = r.value;
	return st;
}

static enum db_status check(const struct scenario *scn, const db_backend *db, db_conn *conn,
                            int64_t committed, int rounds, struct scn_check *out, char *err)
{
	int64_t distinct = 0, paid = 0, owed = 0;
	enum db_status st;

	(void)scn;
	(void)committed;
	out->COUPONS = rounds;
	out->expected = rounds;         /* exactly one redemption per coupon in play */
	if ((st = count(db, conn, "SELECT COUNT(*) FROM redemptions", &out->observed, err)) ||
	    (st = count(db, conn, "SELECT COUNT(DISTINCT coupon_code) FROM redemptions",
	                &distinct, err)) ||
	    (st = count(db, conn, "SELECT COUNT(*) FROM (SELECT coupon_code FROM redemptions"
	                " GROUP BY coupon_code HAVING COUNT(*) > 1) AS twice",
	                &out->DOUBLE_REDEEMED, err)) ||
	    (st = count(db, conn, "SELECT COALESCE(SUM(c.discount), 0) FROM redemptions r"
	                " JOIN coupons c ON c.code = r.coupon_code", &paid, err)) ||
	    (st = count(db, conn, "SELECT COALESCE(SUM(discount), 0) FROM coupons"
	                " WHERE code IN (SELECT coupon_code FROM redemptions)", &owed, err)))
		return st;
	out->anomalies = out->observed - distinct;      /* redemptions beyond the first */
	out->DISCOUNT_LOST = paid - owed;
	return DB_OK;
}

static void verdict(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	(void)committed;
	if (c->anomalies > 0)
		snprintf(buf, n, "%lld of %lld coupons redeemed more than once,"
		         " %lld extra redemptions, $%lld given away — double redemption",
		         (long long)c->DOUBLE_REDEEMED, (long long)c->COUPONS,
		         (long long)c->anomalies, (long long)c->DISCOUNT_LOST);
	else
		snprintf(buf, n, "%lld coupons, each redeemed at most once",
		         (long long)c->COUPONS);
}

static void result(const struct scn_check *c, int64_t committed, char *buf, size_t n)
{
	(void)committed;
	if (c->COUPONS == 1 && c->anomalies > 0)        /* a schedule: one round, C0001 */
		snprintf(buf, n, "coupon C0001 redeemed %lld times: double redemption ($%lld lost)",
		         (long long)c->observed, (long long)c->DISCOUNT_LOST);
	else if (c->COUPONS == 1)
		snprintf(buf, n, "coupon C0001 redeemed %lld time%s: no double redemption",
		         (long long)c->observed, c->observed == 1 ? "" : "s");
	else if (c->anomalies > 0)
		snprintf(buf, n, "%lld coupons, %lld redeemed more than once: double redemption"
		         " (%lld extra redemptions, $%lld lost)", (long long)c->COUPONS,
		         (long long)c->DOUBLE_REDEEMED, (long long)c->anomalies,
		         (long long)c->DISCOUNT_LOST);
	else
		snprintf(buf, n, "%lld coupons, each redeemed at most once: no double redemption",
		         (long long)c->COUPONS);
}

const struct scenario demo_coupon = {
	.name = "coupon",
	.title = "a single-use coupon redeemed twice (check-then-act)",
	.words = {
		.effect = "redemption", .effects = "redemptions",
		.op = "round", .ops = "rounds",
		.value = "redeemed", .observed = "redemptions",
		.resource = "coupon", .used = "redeemed",
		.anomaly = "double redemption", .anomalies = "extra redemptions",
		.none = "no extra redemption",
		.goal = "Goal: redeem one coupon twice",
		.bug = "a coupon was redeemed twice",
		.between_ops = "at the barrier: the next round starts when every thread is there",
		.help = {
			{ "C 0", "check: SELECT redeemed saw 0, the coupon looked unused" },
			{ "C 0 rows", "claim: the UPDATE ... AND redeemed = 0 found it taken" },
			{ "skip", "the thread's own check said no: its next steps are skipped" },
		},
	},
	.rounds = 1,
	.default_ops = 300,
	/* The request does some work between checking the coupon and redeeming it;
	 * without it the first thread often finishes before the others are scheduled. */
	.default_think_ms = 1,
	.dashboard_ops = 6,
	.anomaly_cost = DISCOUNT,
	.key_format = KEY_FORMAT,
	.who_format = WHO_FORMAT,
	.extras = { { .json = "coupons" }, { .json = "double_redeemed", .column = "twice" },
	            { .json = "discount_lost", .column = "$ lost", .width = 9 } },
	.default_strategies = 3,      /* naive, atomic, locked; -s all for the ladder */
	.strategies = {
		{ .name = "naive", .safe = 0,
		  .summary = "SELECT redeemed; if 0: INSERT redemption; UPDATE redeemed = 1",
		  .django = "if not coupon.redeemed: redeem(); coupon.redeemed = True; coupon.save()",
		  .steps = { { "check", ROLE_READ, 0, .key_arg = 1, .sql = CHECK_SQL,
		               .bind = { SCN_BIND_KEY }, .goes_on = SCN_GO_IF_ZERO },
		             { "redeem", ROLE_INSERT, EFF_USES, .key_arg = 1, .sql = REDEEM_SQL,
		               .bind = { SCN_BIND_KEY, SCN_BIND_WHO } },
		             { "mark", ROLE_WRITE, 0, .key_arg = 1, .sql = MARK_SQL,
		               .bind = { SCN_BIND_KEY } } },
		  .op = naive },
		{ .name = "atomic", .safe = 1,
		  .summary = "UPDATE coupons SET redeemed = 1 WHERE … AND redeemed = 0; if 1 row: INSERT",
		  .django = "Coupon.objects.filter(code=c, redeemed=False).update(redeemed=True)",
		  .why_safe = "No order of steps redeems it twice: the UPDATE … AND redeemed = 0"
		              " checks and claims in one statement, under the row's lock; the"
		              " second claim changes 0 rows and skips its redeem.",
		  .steps = { { "claim", ROLE_CLAIM, 0, .key_arg = 1, .sql = CLAIM_SQL,
		               .bind = { SCN_BIND_KEY }, .goes_on = SCN_GO_IF_ROW },
		             { "redeem", ROLE_INSERT, EFF_USES, .key_arg = 1, .sql = REDEEM_SQL,
		               .bind = { SCN_BIND_KEY, SCN_BIND_WHO } } },
		  .op = atomic },
		{ .name = "locked", .safe = 1,
		  .summary = "BEGIN; SELECT … FOR UPDATE; if 0: INSERT, UPDATE; COMMIT",
		  .django = "select_for_update() inside transaction.atomic()",
		  .why_safe = "No order of steps redeems it twice: the second thread waits at"
		              " SELECT … FOR UPDATE until the first commits, so it reads"
		              " redeemed = 1 and skips its redeem.",
		  .why_safe_db_lock = "No order of steps redeems it twice: the second thread waits"
		              " at BEGIN IMMEDIATE until the first commits, so it reads"
		              " redeemed = 1 and skips its redeem.",
		  .db_lock_note = "SQLite has no FOR UPDATE: BEGIN IMMEDIATE locks the whole database",
		  .db_lock_report = "no SELECT ... FOR UPDATE here; BEGIN IMMEDIATE takes the whole"
		                    " database's write lock instead",
		  .steps = { { .name = "begin", .role = ROLE_BEGIN, .effects = EFF_LOCKS,
		               .sql = "BEGIN" },
		             { "lock", ROLE_LOCK, 0, .key_arg = 1, .sql = LOCK_SQL,
		               .bind = { SCN_BIND_KEY }, .goes_on = SCN_GO_IF_ZERO },
		             { "redeem", ROLE_INSERT, EFF_USES, .key_arg = 1, .sql = REDEEM_SQL,
		               .bind = { SCN_BIND_KEY, SCN_BIND_WHO } },
		             { "mark", ROLE_WRITE, 0, .key_arg = 1, .sql = MARK_SQL,
		               .bind = { SCN_BIND_KEY } },
		             { .name = "commit", .role = ROLE_COMMIT, .sql = "COMMIT" } },
		  .op = locked },
		{ .name = "unique", .safe = 1,
		  .summary = "SELECT redeemed; if 0: INSERT (UNIQUE refuses a second: \"already used\")",
		  .django = "unique=True; try: create() except IntegrityError: \"already used\"",
		  .why_safe = "No order of steps redeems it twice: a UNIQUE index on the"
		              " redemption's coupon refuses the second INSERT, whatever the"
		              " checks saw; the application answers \"already used\".",
		  .steps = { { "check", ROLE_READ, 0, .key_arg = 1 },
		             { "redeem", ROLE_INSERT, EFF_USES, .key_arg = 1 },
		             { "mark", ROLE_WRITE, 0, .key_arg = 1 } },
		  .schema = unique_index,
		  .op = unique },
		{ .name = "nowait", .safe = 1, .fails_fast = 1,
		  .summary = "BEGIN; SELECT … FOR UPDATE NOWAIT (locked: fail at once); INSERT; COMMIT",
		  .django = "select_for_update(nowait=True) inside transaction.atomic()",
		  .why_safe = "No order of steps redeems it twice: the second thread's SELECT …"
		              " FOR UPDATE NOWAIT fails while the first holds the row (55P03), or"
		              " reads redeemed = 1 after it committed.",
		  .why_safe_db_lock = "No order of steps redeems it twice: the second thread's"
		              " BEGIN IMMEDIATE fails while the first holds the write lock"
		              " (SQLITE_BUSY), or reads redeemed = 1 after it committed.",
		  .db_lock_note = "SQLite has no NOWAIT: BEGIN IMMEDIATE, no busy wait",
		  .db_lock_report = "no FOR UPDATE NOWAIT here; BEGIN IMMEDIATE with no busy"
		                    " wait fails at once (SQLITE_BUSY) while another holds the"
		                    " database's write lock",
		  .steps = { { .name = "begin", .role = ROLE_BEGIN, .effects = EFF_LOCKS | EFF_NOWAIT },
		             { "lock", ROLE_LOCK, EFF_NOWAIT, .key_arg = 1 },
		             { "redeem", ROLE_INSERT, EFF_USES, .key_arg = 1 },
		             { "mark", ROLE_WRITE, 0, .key_arg = 1 },
		             { .name = "commit", .role = ROLE_COMMIT } },
		  .op = nowait },
	},
	.setup = setup,
	.check = check,
	.verdict = verdict,
	.result = result,
	.final_sql = "SELECT coupon_code, customer FROM redemptions ORDER BY customer",
};
