/*
 * roomplay.c: what racelab room can race, read from declarations alone, without a
 * database: which shipped strategies fit the room's model and which are refused
 * (and why); each declared step as a student takes it — its arguments, whether
 * the operation goes on, where it skips to, which step commits the effect; and a
 * scenario declared in this test alone, which fits as the shipped ones do.
 * tests/room.t runs them on a real PostgreSQL.
 */
#include <stdlib.h>
#include <string.h>

#include "../app/room_play.h"
#include "../demos/demo.h"
#include "tap.h"

/* A scenario the room has never heard of: likes on a post, read then written.
 * Only its declaration matters here; nothing runs it. */
static const struct scenario likes = {
	.name = "likes",
	.key_format = "post%d",
	.strategies = {
		{ .name = "naive",
		  .steps = { { .name = "read", .role = ROLE_READ, .key_arg = 1,
		               .sql = "SELECT n FROM likes WHERE post = $1",
		               .bind = { SCN_BIND_KEY } },
		             { .name = "write", .role = ROLE_WRITE, .effects = EFF_FROM_READ,
		               .key_arg = 2, .value_arg = 1,
		               .sql = "UPDATE likes SET n = $1 WHERE post = $2",
		               .bind = { SCN_BIND_NEXT, SCN_BIND_KEY } } } },
		/* who likes it: but the scenario declares no who_format */
		{ .name = "named",
		  .steps = { { .name = "like", .role = ROLE_INSERT, .effects = EFF_USES,
		               .sql = "INSERT INTO likes_by (post, who) VALUES ($1, $2)",
		               .bind = { SCN_BIND_KEY, SCN_BIND_WHO } } } },
		/* writes what it read, but reads nothing first */
		{ .name = "blind",
		  .steps = { { .name = "write", .role = ROLE_WRITE, .effects = EFF_FROM_READ,
		               .sql = "UPDATE likes SET n = $1", .bind = { SCN_BIND_NEXT } } } },
	},
};

static const struct scn_strategy *strategy(const char *scenario, const char *name)
{
	const struct scenario *s = demo_find(scenario);
	int i = s ? scn_strategy_index(s, name) : -1;

	return i < 0 ? NULL : &s->strategies[i];
}

int main(void)
{
	static const char *const fit[][2] = {
		{ "product", "naive" }, { "product", "atomic" }, { "product", "locked" },
		{ "coupon", "naive" }, { "coupon", "atomic" }, { "coupon", "locked" },
		{ "tickets", "naive" }, { "tickets", "atomic" }, { "tickets", "locked" },
		{ "tickets", "skip_locked" },
	};
	char buf[256], why[128], args[SCN_BINDS][24];
	int nfit = 0, nshipped = 0;

	/* which shipped strategies a room plays: exactly the listed ones */
	for (int i = 0; demo_scenarios[i]; i++) {
		const struct scenario *s = demo_scenarios[i];

		for (int j = 0; j < scn_nstrategies(s); j++) {
			int listed = 0, fits = room_play_fits(s, &s->strategies[j], why,
			                                      sizeof why) == 0;

			for (size_t k = 0; k < sizeof fit / sizeof *fit; k++)
				listed |= !strcmp(fit[k][0], s->name) &&
				          !strcmp(fit[k][1], s->strategies[j].name);
			nshipped++;
			nfit += fits;
			if (fits != listed)
				diag("%s/%s: fits %d, listed %d (%s)", s->name, s->strategies[j].name,
				     fits, listed, fits ? "" : why);
			ok(fits == listed, "%s/%s: %s", s->name, s->strategies[j].name,
			   listed ? "a room plays it" : "a room refuses it");
		}
	}
	is_int(nfit, (int)(sizeof fit / sizeof *fit), "%d of %d shipped strategies fit a room",
	       nfit, nshipped);
	room_play_scenarios(buf, sizeof buf);
	is_str(buf, "product, coupon or tickets", "the scenarios a room races, in order");
	room_play_strategies(demo_find("tickets"), buf, sizeof buf);
	is_str(buf, "naive, atomic, locked or skip_locked", "tickets: the strategies a room plays");
	room_play_strategies(demo_find("transfer"), buf, sizeof buf);
	is_str(buf, "", "transfer: none");
	ok(room_play_fits(demo_find("transfer"), strategy("transfer", "naive"), why,
	                  sizeof why) && !strcmp(why, "step read_from declares no SQL"),
	   "transfer/naive is refused for the declaration it lacks: %s", why);
	ok(!room_play_strategy("product", "optimistic") && !room_play_strategy("bank", "naive") &&
	   room_play_strategy("coupon", "locked") == strategy("coupon", "locked"),
	   "room_play_strategy finds only what a room plays");

	/* every strategy a room plays: one effect, skips that go forward, transactions
	 * that begin and commit */
	for (size_t k = 0; k < sizeof fit / sizeof *fit; k++) {
		const struct scn_strategy *st = strategy(fit[k][0], fit[k][1]);
		int n = room_play_nsteps(st), e = room_play_effect_step(st), forward = 1;

		for (int i = 0; i < n; i++)
			if (st->steps[i].goes_on != SCN_GO_ALWAYS)
				forward &= room_play_skip_to(st, i) > i && room_play_skip_to(st, i) <= n;
		ok(e >= 0 && e < n && forward && (st->steps[0].role != ROLE_BEGIN ||
		   (!strcmp(st->steps[0].sql, "BEGIN") && st->steps[n - 1].role == ROLE_COMMIT &&
		    e == n - 1)),
		   "%s/%s: one step commits the effect (%s), a skip goes forward, a transaction"
		   " commits", fit[k][0], fit[k][1], e >= 0 ? st->steps[e].name : "none");
	}

	/* the coupon's steps as a student takes them */
	{
		const struct scn_strategy *naive = strategy("coupon", "naive");
		const struct scn_strategy *locked = strategy("coupon", "locked");
		const struct scn_strategy *atomic = strategy("coupon", "atomic");

		is_int(room_play_bind(demo_find("coupon"), &naive->steps[1], 3, 1, 0, args), 2,
		       "coupon/naive redeem binds two arguments");
		is_str(args[0], "C0002", "$1: the coupon of the student's second operation");
		is_str(args[1], "customer3", "$2: the student, by number");
		ok(room_play_reads(&naive->steps[0]) && !room_play_reads(&naive->steps[1]),
		   "coupon/naive: check reads, redeem does not");
		ok(room_play_goes_on(&naive->steps[0], 0, 1) &&
		   !room_play_goes_on(&naive->steps[0], 1, 1),
		   "coupon/naive: the operation goes on only if the coupon read as unused");
		is_int(room_play_skip_to(naive, 0), 3, "coupon/naive: a taken coupon ends the operation");
		is_int(room_play_skip_to(locked, 1), 4, "coupon/locked: a taken coupon skips to the commit");
		is_int(room_play_effect_step(naive), 1, "coupon/naive: redeem commits the effect");
		ok(!room_play_goes_on(&atomic->steps[0], 0, 0) &&
		   room_play_goes_on(&atomic->steps[0], 0, 1),
		   "coupon/atomic: a claim that changed no row ends the operation");
	}
	/* the product's write, and the tickets' booking */
	{
		const struct scn_strategy *naive = strategy("product", "naive");
		const struct scn_strategy *book = strategy("tickets", "naive");

		is_int(room_play_bind(demo_find("product"), &naive->steps[1], 1, 0, 10, args), 1,
		       "product/naive write binds one argument");
		is_str(args[0], "11", "$1: the value read plus one");
		ok(room_play_writes_next(&naive->steps[1]) && !room_play_writes_next(&naive->steps[0]),
		   "product/naive: the write writes the value computed from the read");
		is_int(room_play_bind(demo_find("tickets"), &book->steps[1], 2, 0, 7, args), 2,
		       "tickets/naive book binds two arguments");
		ok(!strcmp(args[0], "7") && !strcmp(args[1], "customer2"),
		   "tickets/naive book: $1 the seat found, $2 the customer");
		ok(!room_play_goes_on(&book->steps[0], 0, 0),
		   "tickets/naive: no free seat found ends the operation");
	}

	/* a scenario declared here alone */
	ok(room_play_fits(&likes, &likes.strategies[0], why, sizeof why) == 0,
	   "a scenario declared in the test fits when its declaration does");
	is_int(room_play_bind(&likes, &likes.strategies[0].steps[1], 1, 4, 41, args), 2,
	       "likes/naive write binds two arguments");
	ok(!strcmp(args[0], "42") && !strcmp(args[1], "post5"), "likes/naive write: 42, post5");
	ok(room_play_fits(&likes, &likes.strategies[1], why, sizeof why) &&
	   strstr(why, "$2"), "a step that binds a student without who_format is refused: %s",
	   why);
	ok(room_play_fits(&likes, &likes.strategies[2], why, sizeof why) && strstr(why, "$1"),
	   "a step that binds a value read before any read is refused: %s", why);
	return done_testing();
}
