/*
 * events.c: the per-worker rings of the event stream; see events.h for the design.
 */
#include "events.h"

#include "sys.h"

#include <assert.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ev_stream_init(struct ev_stream *s, int nrings, size_t cap, struct sys_arena *arena)
{
	size_t c = 1;

	while (c < cap)
		c <<= 1;
	memset(s, 0, sizeof *s);
	s->arena = arena;
	s->rings = sys_calloc(arena, (size_t)nrings, sizeof *s->rings);
	if (!s->rings)
		goto fail;
	s->nrings = nrings;
	for (int i = 0; i < nrings; i++) {
		s->rings[i].cap = c;
		s->rings[i].slots = sys_calloc(arena, c, sizeof *s->rings[i].slots);
		if (!s->rings[i].slots)
			goto fail;
	}
	return 0;
fail:
	ev_stream_done(s);
	return -1;
}

void ev_stream_done(struct ev_stream *s)
{
	if (s->rings)
		for (int i = 0; i < s->nrings; i++)
			sys_free(s->arena, s->rings[i].slots);
	sys_free(s->arena, s->rings);
	memset(s, 0, sizeof *s);
}

void ev_close(struct ev_stream *s)
{
	atomic_store_explicit(&s->closed, 1, memory_order_release);
}

void ev_emit(struct ev_stream *s, int r, struct event *e)
{
	struct ev_ring *ring = &s->rings[r];
	size_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
	struct timespec pause = { 0, 50000 };

	assert(r >= 0 && r < s->nrings);
	assert((ring->cap & (ring->cap - 1)) == 0);     /* the mask below needs a power of two */
	while (head - atomic_load_explicit(&ring->tail, memory_order_acquire) >= ring->cap) {
		if (atomic_load_explicit(&s->closed, memory_order_acquire))
			return;
		nanosleep(&pause, NULL);        /* the consumer is behind: let it catch up */
	}
	e->seq = atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);
	ring->slots[head & (ring->cap - 1)] = *e;
	atomic_store_explicit(&ring->head, head + 1, memory_order_release);
}

/*
 * A producer takes its sequence number before it publishes the event.  So ring A's
 * producer may hold number 100, not yet published, while B's has published 101
 * because of it (a scheduled run hands over exactly like that).  Delivering 101
 * then would put an effect before its cause, so only the unbroken run of numbers
 * from s->next goes out; the rest stays in the rings for the next drain.  The gap
 * closes soon: a producer holding a number already has its slot.
 *
 * Each ring is in sequence order already, so the drain merges them in place:
 * the next event is at the head of some ring, it is delivered from its slot (no
 * copy, no sort), and only then is the slot handed back to its producer.
 */
size_t ev_drain(struct ev_stream *s, ev_fn fn, void *arg)
{
	size_t n = 0;
	int r = 0;              /* where the last event came from: the next often does too */

	for (;;) {
		struct ev_ring *ring = NULL;
		size_t tail = 0;

		for (int k = 0; k < s->nrings; k++, r = (r + 1) % s->nrings) {
			struct ev_ring *c = &s->rings[r];
			size_t t = atomic_load_explicit(&c->tail, memory_order_relaxed);

			if (t != atomic_load_explicit(&c->head, memory_order_acquire) &&
			    c->slots[t & (c->cap - 1)].seq == s->next) {
				ring = c;
				tail = t;
				break;
			}
		}
		if (!ring)
			return n;
		/* the consumer never overtakes its producer */
		assert(tail < atomic_load_explicit(&ring->head, memory_order_acquire));
		if (fn)
			fn(&ring->slots[tail & (ring->cap - 1)], arg);
		atomic_store_explicit(&ring->tail, tail + 1, memory_order_release);
		s->next++;
		n++;
	}
}
