/*
 * history.c: the history checker (core/history.c) fed histories by hand: sound
 * ones pass, and each kind of broken one is caught — a value written twice (a
 * lost update), a value out of 1..N, an update that changed no row, a resource
 * used twice, a use by a thread whose claim did not win, two winning claims.
 * What a rolled-back transaction did must not count.
 */
#include <string.h>

#include "../core/history.h"
#include "../core/scenario.h"
#include "tap.h"

/* The roles and effects the product and coupon scenarios declare (demos/). */
static const struct {
	const char *step;
	int role;
	unsigned effects;
	int key_arg, value_arg;
} decl[] = {
	{ "begin", ROLE_BEGIN, EFF_LOCKS, 0, 0 },
	{ "commit", ROLE_COMMIT, 0, 0, 0 },
	{ "read", ROLE_READ, 0, 0, 0 },
	{ "write", ROLE_WRITE, EFF_FROM_READ, 0, 1 },
	{ "update", ROLE_UPDATE, EFF_ADDS, 0, 0 },
	{ "check", ROLE_READ, 0, 1, 0 },
	{ "claim", ROLE_CLAIM, 0, 1, 0 },
	{ "redeem", ROLE_INSERT, EFF_USES, 1, 0 },
};

static struct history *h;

/* Thread T runs STEP with integer argument V (or text S, W) and it completes,
 * changing CHANGES rows. */
static void step(int t, const char *name, long long v, const char *s, const char *w,
                 long long changes)
{
	struct event e = { .kind = EV_STEP, .strategy = 0, .thread = t, .step = name };

	for (size_t i = 0; i < sizeof decl / sizeof *decl; i++)
		if (!strcmp(decl[i].step, name)) {
			e.role = decl[i].role;
			e.effects = decl[i].effects;
			e.key_arg = decl[i].key_arg;
			e.value_arg = decl[i].value_arg;
		}

	if (s) {
		e.args[0].type = DB_TEXT;
		strcpy(e.args[0].s, s);
		e.args[1].type = DB_TEXT;
		strcpy(e.args[1].s, w ? w : "");
		e.nargs = w ? 2 : 1;
	} else if (v >= 0) {
		e.args[0].type = DB_INT;
		e.args[0].i = v;
		e.nargs = 1;
	}
	hist_event(&e, h);
	e.kind = EV_DONE;
	e.changes = changes;
	hist_event(&e, h);
}

/* Thread T reads V (a step "read" returning a row). */
static void rd(int t, long long v)
{
	struct event e = { .kind = EV_STEP, .strategy = 0, .thread = t, .step = "read",
	                   .role = ROLE_READ };

	hist_event(&e, h);
	e.kind = EV_DONE;
	e.has_value = 1;
	e.value = v;
	hist_event(&e, h);
}

/* Thread T reads V - 1 and writes V, as a counter does. */
static void inc(int t, long long v)
{
	rd(t, v - 1);
	step(t, "write", v, NULL, NULL, 1);
}

static void op_end(int t, enum ev_kind kind, int effects)
{
	struct event e = { .kind = kind, .strategy = 0, .thread = t, .value = effects };

	hist_event(&e, h);
}

static void fresh(void)
{
	hist_free(h);
	h = hist_new(1, 4);
}

static long long check(struct hist_result *r)
{
	return (long long)hist_check(h, 0, r);
}

int main(void)
{
	struct hist_result r;

	/* product, read-modify-write: sound */
	fresh();
	for (int v = 1; v <= 4; v++) {
		inc(1 + v % 2, v);
		op_end(1 + v % 2, EV_COMMIT, 1);
	}
	is_int(check(&r), 0, "writes of 1..4, each once: sound");
	is_int(r.writes, 4, "four committed writes");
	is_int(r.effects, 4, "four effects reported");

	/* a lost update: two writes of the same value */
	fresh();
	inc(1, 1);
	inc(2, 1);
	inc(1, 2);
	ok(check(&r) > 0, "a value written twice is caught");
	ok(strstr(r.text, "value 1 written more than once") != NULL, "and named: %s", r.text);
	is_int(r.distinct, 2, "two distinct values among three writes");

	/* distinct but not 1..N */
	fresh();
	inc(1, 1);
	inc(2, 3);
	ok(check(&r) > 0, "values 1 and 3 for two writes are caught");
	ok(strstr(r.text, "outside 1..2") != NULL, "and named: %s", r.text);

	/* inside transactions: only what committed counts */
	fresh();
	step(1, "begin", -1, NULL, NULL, 0);
	inc(1, 1);
	step(1, "commit", -1, NULL, NULL, 0);
	op_end(1, EV_COMMIT, 1);
	step(2, "begin", -1, NULL, NULL, 0);
	inc(2, 2);
	op_end(2, EV_RETRY, 0);         /* rolled back: its write never happened */
	step(2, "begin", -1, NULL, NULL, 0);
	inc(2, 2);
	step(2, "commit", -1, NULL, NULL, 0);
	op_end(2, EV_COMMIT, 1);
	step(3, "begin", -1, NULL, NULL, 0);
	inc(3, 1);
	op_end(3, EV_ABORT, 0);         /* gave up: never committed */
	is_int(check(&r), 0, "writes of rolled-back transactions do not count");
	is_int(r.writes, 2, "two committed writes");
	fresh();
	step(1, "begin", -1, NULL, NULL, 0);
	inc(1, 1);
	step(1, "commit", -1, NULL, NULL, 0);
	step(2, "begin", -1, NULL, NULL, 0);
	inc(2, 1);
	step(2, "commit", -1, NULL, NULL, 0);
	ok(check(&r) > 0, "two committed transactions writing the same value are caught");

	/* a write that changed no row wrote nothing (an optimistic write that lost) */
	fresh();
	inc(1, 1);
	rd(2, 0);
	step(2, "write", 1, NULL, NULL, 0);
	is_int(check(&r), 0, "a write that changed no row is not a write");
	is_int(r.writes, 1, "one write counted");

	/* writes that are not a counter's are counted, not judged */
	fresh();
	rd(1, 100);
	step(1, "write", 90, NULL, NULL, 1);
	rd(2, 90);
	step(2, "write", 100, NULL, NULL, 1);
	rd(1, 100);
	step(1, "write", 90, NULL, NULL, 1);
	is_int(check(&r), 0, "a balance that comes back to a value is not taken for a lost update");
	ok(strstr(r.text, "not of a counter") != NULL, "and says its values were not checked: %s",
	   r.text);

	/* the database adds */
	fresh();
	step(1, "update", -1, NULL, NULL, 1);
	step(2, "update", -1, NULL, NULL, 1);
	is_int(check(&r), 0, "updates that each changed one row: sound");
	is_int(r.adds, 2, "two updates");
	step(3, "update", -1, NULL, NULL, 0);
	check(&r);
	is_int(r.adds, 2, "an update that changed no row added nothing: the caller sees 2, not 3");

	/* coupons, claimed first */
	fresh();
	step(1, "claim", -1, "C0001", NULL, 1);
	step(2, "claim", -1, "C0001", NULL, 0);
	step(1, "redeem", -1, "C0001", "customer1", 1);
	step(2, "claim", -1, "C0002", NULL, 1);
	step(2, "redeem", -1, "C0002", "customer2", 1);
	is_int(check(&r), 0, "one use per coupon, by the winner of its claim: sound");
	is_int(r.uses, 2, "two uses");
	is_int(r.resources, 2, "of two coupons");
	fresh();
	step(1, "claim", -1, "C0001", NULL, 1);
	step(2, "claim", -1, "C0001", NULL, 0);
	step(2, "redeem", -1, "C0001", "customer2", 1);
	ok(check(&r) > 0, "a use by a thread whose claim lost is caught");
	ok(strstr(r.text, "C0001 used by customer2 (t2), but t1's claim won") != NULL,
	   "and named: %s", r.text);
	fresh();
	step(1, "claim", -1, "C0001", NULL, 1);
	step(2, "claim", -1, "C0001", NULL, 1);
	step(1, "redeem", -1, "C0001", "customer1", 1);
	ok(check(&r) > 0, "two winning claims of one coupon are caught");
	fresh();
	step(2, "redeem", -1, "C0001", "customer2", 1);
	step(1, "claim", -1, "C0002", NULL, 1);
	ok(check(&r) > 0, "a use with no winning claim is caught");

	/* coupons, checked then used (no claim step) */
	fresh();
	step(1, "check", -1, "C0001", NULL, 0);
	step(2, "check", -1, "C0001", NULL, 0);
	step(1, "redeem", -1, "C0001", "customer1", 1);
	step(2, "redeem", -1, "C0001", "customer2", 1);
	step(3, "redeem", -1, "C0001", "customer3", 1);
	step(3, "redeem", -1, "C0002", "customer3", 1);
	is_int(check(&r), 2, "a coupon redeemed three times: two violations");
	is_int(r.reused, 1, "one coupon used more than once");
	is_int(r.uses - r.resources, 2, "two extra uses");
	ok(strstr(r.text, "C0001 used more than once: by customer1 and customer2") != NULL,
	   "and named: %s", r.text);
	fresh();
	step(1, "begin", -1, NULL, NULL, 0);
	step(1, "redeem", -1, "C0001", "customer1", 1);
	op_end(1, EV_ABORT, 0);
	step(2, "redeem", -1, "C0001", "customer2", 1);
	is_int(check(&r), 0, "a use in a transaction that rolled back does not count");
	hist_free(h);
	return done_testing();
}
