/*
 * cli.c: racelab's command line: what it accepts, and one clear refusal (64) for
 * every bad value.
 */
#include <stdlib.h>
#include <string.h>

#include "../app/cli.h"
#include "tap.h"

/* Parse a command line given as one string of space-separated words. */
static int parse(const char *line, struct cli *c, char *err)
{
	static char buf[512];        /* outlives the call: cli keeps pointers into argv */
	char *argv[32], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof buf, "racelab %s", line);
	for (char *w = strtok_r(buf, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_parse(argc, argv, c, err, 256);
}

static void refused(const char *line, const char *mention)
{
	struct cli c;
	char err[256];
	int rc = parse(line, &c, err);

	ok(rc == 64 && strstr(err, mention) && !strchr(err, '\n'),
	   "'%s' is refused with 64, naming '%s'", line, mention);
	if (rc != 64 || !strstr(err, mention))
		diag("rc %d, message: %s", rc, err);
}

int main(void)
{
	struct cli c;
	char err[256];

	is_int(parse("", &c, err), 0, "no arguments is fine");
	is_str(c.scenario->name, "product", "the default scenario is product");
	is_str(c.db->name, "sqlite", "the default backend is sqlite");
	is_int(c.threads, 4, "4 threads by default");
	is_int(c.nstrategies, 3, "all three strategies by default");
	is_int(c.output, OUT_AUTO, "the output is chosen by the terminal by default");
	is_int(c.think_ms, -1, "think time is the scenario's default unless given");

	is_int(parse("coupon -t 8 -n 20 --think 3 --seed 42 -s locked,naive --no-ui", &c, err),
	       0, "a full command line parses");
	is_str(c.scenario->name, "coupon", "scenario coupon");
	is_int(c.threads, 8, "-t 8");
	is_int(c.ops, 20, "-n 20");
	is_int(c.think_ms, 3, "--think 3");
	is_int(c.seed, 42, "--seed 42");
	ok(c.seed_given, "the seed counts as given");
	is_int(c.nstrategies, 2, "two strategies");
	is_str(c.scenario->strategies[c.strategies[0]].name, "locked", "in the order given: locked");
	is_str(c.scenario->strategies[c.strategies[1]].name, "naive", "then naive");
	is_int(c.output, OUT_TEXT, "--no-ui gives text");

	is_int(parse("--threads=64 --ops=1 product", &c, err), 0, "long options with = and a"
	       " scenario after them");
	is_int(c.threads, 64, "64 threads is the maximum allowed");
	is_int(parse("-b postgres -d host=/tmp", &c, err), 0, "-b postgres -d CONNINFO");
	is_str(c.where, "host=/tmp", "-d is kept as given");
	is_int(parse("--json --no-ui", &c, err), 0, "--json with --no-ui");
	is_int(c.output, OUT_JSON, "--json wins over --no-ui");
	is_int(parse("--think 0", &c, err), 0, "--think 0 is allowed");
	is_int(c.think_ms, 0, "--think 0 means no think time");
	is_int(parse("--help", &c, err), 0, "--help");
	is_int(c.action, ACT_HELP, "--help asks for help");
	is_int(parse("-V", &c, err), 0, "-V");
	is_int(c.action, ACT_VERSION, "-V asks for the version");

	/* --step: one strategy (naive unless -s says), 2 threads and 1 op unless given. */
	is_int(parse("--step", &c, err), 0, "--step alone");
	ok(c.step, "--step asks for step mode");
	is_int(c.nstrategies, 1, "--step alone runs one strategy");
	is_str(c.scenario->strategies[c.strategies[0]].name, "naive", "... naive");
	is_int(c.threads, 2, "--step alone: two threads");
	is_int(c.ops, 1, "--step alone: one operation each");
	is_int(c.think_ms, 0, "--step: no think time");
	is_int(parse("coupon -s locked -t 3 -n 2 --step", &c, err), 0, "--step with -s, -t, -n");
	is_str(c.scenario->strategies[c.strategies[0]].name, "locked", "--step -s locked");
	is_int(c.threads, 3, "--step -t 3");
	is_int(c.ops, 2, "--step -n 2");
	is_int(parse("--step --trace -s naive", &c, err), 0, "--step with --trace");
	is_int(parse("-s naive --step --schedule t1.read", &c, err), 0, "--step with a schedule");
	is_int(c.threads, 2, "a schedule naming t1 keeps step mode's two threads");
	is_int(parse("-s naive --step --schedule t3.read", &c, err), 0, "--step, schedule to t3");
	is_int(c.threads, 3, "a schedule naming t3 has three threads");
	is_int(parse("lesson 2 --step", &c, err), 0, "lesson N --step");
	is_int(parse("lesson 2 --no-pause", &c, err), 0, "lesson N --no-pause");
	is_int(c.no_pause, 1, "--no-pause is kept for the lesson runner");
	is_int(parse("lesson 2", &c, err), 0, "lesson N");
	is_int(c.no_pause, 0, "without --no-pause a lesson pauses (on a terminal)");

	/* -s all: the fix ladder too; compare: every strategy, one after another. */
	is_int(parse("-s all", &c, err), 0, "-s all");
	is_int(c.nstrategies, 6, "-s all runs product's six strategies");
	is_str(c.scenario->strategies[c.strategies[5]].name, "serializable",
	       "... the last of them serializable");
	is_int(parse("coupon -s all --no-ui", &c, err), 0, "coupon -s all");
	is_int(c.nstrategies, 5, "coupon has five strategies");
	is_int(parse("compare", &c, err), 0, "compare alone");
	is_int(c.action, ACT_COMPARE, "compare asks for the cost table");
	is_str(c.scenario->name, "product", "compare's scenario is product by default");
	is_int(c.nstrategies, 6, "compare runs every strategy, not the demo's three");
	is_int(parse("compare coupon -b postgres -d host=/tmp -n 9 --json", &c, err), 0,
	       "compare coupon with options");
	is_str(c.scenario->name, "coupon", "compare coupon");
	is_int(c.nstrategies, 5, "compare coupon: all five");
	is_int(c.ops, 9, "compare -n 9");
	is_int(c.output, OUT_JSON, "compare --json");
	is_int(parse("-t 2 compare coupon -s unique,nowait", &c, err), 0, "compare with -s");
	is_int(c.nstrategies, 2, "compare -s unique,nowait: two");
	refused("compare inventory", "unknown scenario 'inventory'");
	refused("compare -s naive --schedule t1.read", "--schedule has no place");
	refused("compare --trace", "--trace has no place");
	refused("compare --present", "--present has no place");
	refused("compare -b sqlite,postgres", "-b sqlite,postgres has no place");
	refused("compare coupon product", "unexpected argument 'product'");

	/* --export-spec: one strategy's schedule, written as a spec file */
	is_int(parse("-s naive --schedule random --export-spec -", &c, err), 0,
	       "--export-spec - with a random schedule parses");
	is_str(c.export_spec, "-", "... and '-' is stdout, not an option");
	is_int(c.ops, 1, "... with -n 1 unless given");
	is_int(c.output, OUT_TEXT, "... and the text report, never the dashboard");
	refused("-s naive --export-spec x.spec", "give --schedule");
	refused("-s naive --schedule all --export-spec x.spec", "not 'all'");
	refused("--schedule random --export-spec x.spec", "one strategy at a time: name one with -s");
	refused("-s naive,atomic --schedule random --export-spec x.spec", "one strategy at a time");
	refused("-s naive --schedule random --json --export-spec -", "--json");
	refused("-s naive --schedule random --procs --export-spec x.spec", "cannot go with --procs");
	refused("-s naive --schedule random --export-spec", "needs a value");
	refused("spec x.spec --export-spec y.spec", "no place in 'spec'");
	refused("--step -s naive,atomic", "--step runs exactly one strategy, not 2");
	refused("--step -t 10", "-t 10 is too many (allowed 1 to 9 with --step)");
	refused("--step --no-ui", "cannot go with --no-ui");
	refused("-d --no-ui", "option '-d' needs a value, not '--no-ui'");
	refused("--present --json", "--present opens the dashboard, so it cannot go with --json");
	refused("--db=-x", "needs a value, not '-x'");
	refused("--step --json", "cannot go with --json");
	refused("--step --think 2", "--think 2 has no place in step mode");
	refused("-s naive --step --schedule t10.read", "this schedule names t10");

	refused("-t 0", "'0' for --threads");
	refused("-t 65", "'65' for --threads");
	refused("-t -1", "'-1' for --threads");
	refused("-t 4x", "'4x' for --threads");
	refused("-t", "needs a value");
	refused("-n -5", "'-5' for --ops");
	refused("-n 0", "'0' for --ops");
	refused("-n abc", "'abc' for --ops");
	refused("--think -1", "'-1' for --think");
	refused("--seed -3", "'-3' for --seed");
	refused("--seed 99999999999999999999", "for --seed");
	refused("-b oracle", "unknown backend 'oracle'");
	refused("-s naive,pessimistic", "unknown strategy 'pessimistic'");
	refused("coupon -s optimistic", "unknown strategy 'optimistic' for coupon");
	refused("-s naive,naive", "listed twice");
	refused("-s ,", "for --strategy");
	refused("inventory", "unknown scenario 'inventory'");
	refused("product coupon", "unexpected argument 'coupon'");
	refused("--frobnicate", "unknown option '--frobnicate'");
	refused("-x", "unknown option '-x'");
	refused("-d", "needs a value");
	return done_testing();
}
