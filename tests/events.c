/*
 * events.c: the event stream under many concurrent producers: nothing lost,
 * nothing duplicated, each producer's events in the order it emitted them, and
 * global sequence order with no gap, within and across drained batches.
 */
#include <pthread.h>
#include <stdlib.h>

#include "../core/events.h"
#include "tap.h"

#define PRODUCERS 32
#define EVENTS 20000            /* per producer: far more than a ring holds */
#define SLOTS 256

static struct ev_stream stream;

struct check {
	long long seen[PRODUCERS];      /* events received from each producer */
	long long out_of_order;         /* a producer's events received out of order */
	long long seq_backwards;        /* a batch not sorted by sequence */
	long long seq_skipped;          /* a number delivered before an earlier one */
	uint64_t next_seq;
	uint64_t last_seq;
	int in_batch;
};

static void *producer(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < EVENTS; i++) {
		struct event e = { .kind = EV_DONE, .thread = id, .op = i };

		ev_emit(&stream, id, &e);
	}
	return NULL;
}

static void consume(const struct event *e, void *arg)
{
	struct check *c = arg;

	if (e->op != c->seen[e->thread])
		c->out_of_order++;
	c->seen[e->thread]++;
	if (c->in_batch && e->seq < c->last_seq)
		c->seq_backwards++;
	c->last_seq = e->seq;
	c->in_batch = 1;
	if (e->seq != c->next_seq)
		c->seq_skipped++;
	c->next_seq = e->seq + 1;
}

int main(void)
{
	pthread_t tids[PRODUCERS];
	struct check c = { 0 };
	long long total = 0, all_ok = 1;

	plan(6);
	ok(ev_stream_init(&stream, PRODUCERS, SLOTS, NULL) == 0, "a stream of %d rings", PRODUCERS);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_create(&tids[i], NULL, producer, (void *)(intptr_t)i);
	for (;;) {
		c.in_batch = 0;
		size_t n = ev_drain(&stream, consume, &c);

		total += (long long)n;
		if (total == (long long)PRODUCERS * EVENTS)
			break;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(tids[i], NULL);
	c.in_batch = 0;
	total += (long long)ev_drain(&stream, consume, &c);
	is_int(total, (long long)PRODUCERS * EVENTS, "every event arrives exactly once"
	       " (%d producers x %d events through %d-slot rings)", PRODUCERS, EVENTS, SLOTS);
	for (int i = 0; i < PRODUCERS; i++)
		all_ok &= c.seen[i] == EVENTS;
	ok(all_ok, "each producer's count is exact");
	is_int(c.out_of_order, 0, "each producer's events arrive in the order emitted");
	is_int(c.seq_backwards, 0, "each drained batch is in global sequence order");
	is_int(c.seq_skipped, 0, "across drains too: sequence numbers arrive 0, 1, 2, ..."
	       " with none delivered ahead of an earlier one still being published");
	ev_stream_done(&stream);
	return tap_failed != 0;
}
