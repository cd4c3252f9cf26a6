/*
 * events.c: the per-worker rings of the event stream; see events.h for the design.
 */
#include "events.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ev_stream_init(struct ev_stream *s, int nrings, size_t cap)
{
	size_t c = 1;

	while (c < cap)
		c <<= 1;
	memset(s, 0, sizeof *s);
	s->rings = calloc((size_t)nrings, sizeof *s->rings);
	s->batch_cap = c * (size_t)nrings;
	s->batch = malloc(s->batch_cap * sizeof *s->batch);
	if (!s->rings || !s->batch)
		goto fail;
	s->nrings = nrings;
	for (int i = 0; i < nrings; i++) {
		s->rings[i].cap = c;
		s->rings[i].slots = malloc(c * sizeof *s->rings[i].slots);
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
			free(s->rings[i].slots);
	free(s->rings);
	free(s->batch);
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

	while (head - atomic_load_explicit(&ring->tail, memory_order_acquire) >= ring->cap) {
		if (atomic_load_explicit(&s->closed, memory_order_acquire))
			return;
		nanosleep(&pause, NULL);        /* the consumer is behind: let it catch up */
	}
	e->seq = atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);
	ring->slots[head & (ring->cap - 1)] = *e;
	atomic_store_explicit(&ring->head, head + 1, memory_order_release);
}

static int by_seq(const void *a, const void *b)
{
	uint64_t x = ((const struct event *)a)->seq, y = ((const struct event *)b)->seq;

	return x < y ? -1 : x > y;
}

/*
 * A producer takes its sequence number before it publishes the event, and the
 * rings are read one after another.  So while this drain is past ring A and not
 * yet at ring B, A's producer may publish number 100 and, because of it, B's
 * publish 101 (a scheduled run hands over exactly like that): this drain sees 101
 * and not 100.  Delivering 101 now would put an effect before its cause, so only
 * the unbroken run of numbers from s->next goes out; the rest stays in the rings
 * for the next drain.  The gap closes soon: a producer holding a number already
 * has its slot and only has to fill it.
 */
size_t ev_drain(struct ev_stream *s, ev_fn fn, void *arg)
{
	size_t n = 0, k = 0;

	for (int i = 0; i < s->nrings; i++) {
		struct ev_ring *ring = &s->rings[i];
		size_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
		size_t head = atomic_load_explicit(&ring->head, memory_order_acquire);

		for (; tail != head; tail++)
			s->batch[n++] = ring->slots[tail & (ring->cap - 1)];
	}
	qsort(s->batch, n, sizeof *s->batch, by_seq);
	while (k < n && s->batch[k].seq == s->next) {
		k++;
		s->next++;
	}
	for (size_t i = 0; fn && i < k; i++)
		fn(&s->batch[i], arg);
	/* Free the slots of what was delivered: in each ring, a prefix. */
	for (int i = 0; i < s->nrings; i++) {
		struct ev_ring *ring = &s->rings[i];
		size_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
		size_t head = atomic_load_explicit(&ring->head, memory_order_acquire);

		while (tail != head && ring->slots[tail & (ring->cap - 1)].seq < s->next)
			tail++;
		atomic_store_explicit(&ring->tail, tail, memory_order_release);
	}
	return k;
}
