/*
 * fuzz/sched.c: libFuzzer target for --schedule (sched_parse in core/sched.c).
 *
 * The first byte picks a step list and a thread limit, the rest is the
 * schedule's text.  The step lists are written here rather than taken from the
 * scenarios, so the target does not follow their interface.  Besides crashes,
 * it checks the contract: 0 with every token naming a thread within the limit
 * and a listed step, in order per thread; or -1 with one line in err.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/sched.h"

static const char *const read_write[] = { "read", "write", NULL };
static const char *const update[] = { "update", NULL };
static const char *const locked[] = { "begin", "lock", "write", "commit", NULL };
static const char *const coupon[] = { "begin", "lock", "redeem", "mark", "commit", NULL };
static const char *const *const lists[] = { read_write, update, locked, coupon };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *steps;
	struct sched_spec spec;
	int max_threads, given, last[65] = { 0 }, nsteps = 0;
	char *text, err[256];

	if (size < 1)
		return 0;
	steps = lists[data[0] % 4];
	max_threads = 1 + (data[0] >> 2) % 64;
	given = data[0] >> 7;
	while (steps[nsteps])
		nsteps++;
	if (!(text = malloc(size)))
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	err[0] = '\0';
	if (sched_parse(text, "fuzzed", steps, max_threads, given, &spec, err, sizeof err) == 0) {
		if (!spec.random && spec.ntokens < 1)
			abort();
		for (int i = 0; i < spec.ntokens; i++) {
			const struct sched_token *t = &spec.tokens[i];

			if (t->thread < 1 || t->thread > max_threads || t->step < 0 ||
			    t->step >= nsteps || t->step < last[t->thread] || t->thread > spec.threads)
				abort();
			last[t->thread] = t->step;
		}
		sched_spec_done(&spec);
	} else if (!err[0] || strchr(err, '\n') || spec.tokens) {
		abort();
	}
	free(text);
	return 0;
}
