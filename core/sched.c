/*
 * sched.c: the schedule gate of a scheduled run; see sched.h.
 *
 * DESIGN: one mutex guards everything, and each thread sleeps on a condition
 * variable of its own, so a hand-over wakes exactly the thread that goes next.
 * Each thread is in one of these states:
 *
 *   MOVING    running code between two visits to the scheduler: a granted step,
 *             or the harness's own work (barriers, rollback, the next operation)
 *   READY     at the gate, asking to take its next step
 *   BLOCKED   its step waits for a lock; it sleeps in sched_wait
 *   PROBING   a blocked SQLite thread retrying its lock once
 *   PARKED    at a barrier, waiting for the others
 *   DONE      finished
 *
 * decide() runs whenever a thread stops moving, and does nothing while any thread
 * is MOVING or PROBING: the next step is chosen only once everything that was set
 * in motion has come to rest, which is what makes a schedule repeatable.  Then,
 * before choosing, it probes every blocked thread that a completed step may have
 * released (gen counts completed steps), one at a time, in thread order: a probed
 * thread either completes its step and comes back READY, or waits again.  Only
 * then does the policy pick a READY thread (the list, or the seed).  When nothing
 * is READY and something waits, every remaining step waits: a deadlock.
 *
 * Step mode puts a person in the policy's place: decide() takes the replayed
 * grants first, then, instead of picking, marks the scheduler as awaiting and
 * returns; sched_grant() (from the UI thread) does the pick it was told to.
 */
#include "sched.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sys.h"

/* PostgreSQL breaks a deadlock after deadlock_timeout (1 s by default); if it has
 * not after this long, something outside the run holds the lock: give up. */
#define DEADLOCK_PATIENCE_NS (10LL * 1000000000LL)

enum state { MOVING, READY, BLOCKED, PROBING, PARKED, DONE };

struct thread {
	enum state state;
	int step;               /* READY: the step it asks for; else the last one granted */
	int target;             /* deferred tokens: take steps up to this one; -1: none */
	int granted;            /* READY: its turn has come */
	int give_up;            /* its wait breaks a deadlock: give up until the step ends */
	uint64_t probed;        /* BLOCKED: gen at its last probe */
	uint64_t blocked_seq;   /* BLOCKED: when it began to wait, in order */
	const void *parked_at;  /* PARKED: the barrier */
	pthread_cond_t cv;
};

#define SCHED_TAKEN_SHARED 65536   /* step mode in shared memory: grants kept at most */

struct sched {
	pthread_mutex_t mu;             /* error-checking: an unpaired unlock is fatal */
	int held;                       /* mu is held: what the asserts below check */
	struct sched_spec spec;
	const char *const *steps;
	int nsteps;
	int nthreads;
	struct thread *t;       /* [1..nthreads] */
	int pos;                /* next token of a listed schedule */
	uint64_t rng;
	uint64_t gen;           /* steps completed: a blocked thread probed before may go */
	uint64_t nblocked;
	int deadlock;           /* every remaining step waits */
	int64_t deadlock_ns;
	int victim;             /* ... and the database has failed this one of them */
	int stopping;
	struct sched_hooks hooks;

	int manual;             /* step mode: a person grants each next step */
	int awaiting;           /* manual: at rest, a thread READY, no grant yet */
	int *replay;            /* grants to take first (undo), as sched_grant's */
	int nreplay;
	int replay_pos;
	int keep;               /* keep the list of grants (step mode) */
	int *taken;             /* ... the grants made, as sched_grant's */
	int ntaken, cap_taken;
	int lost_taken;         /* ... out of memory: the list is incomplete */
	struct sys_arena *arena;/* where it lives: shared with worker processes, or NULL */
};

uint64_t sched_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- parsing ------------------------------------------------------------- */

static void list_steps(const char *const *steps, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; steps[i] && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", steps[i]);
}

int sched_parse(const char *text, const char *name, const char *const *steps,
                int max_threads, int threads_given, struct sched_spec *out, char *err,
                size_t errlen)
{
	int last[65] = { 0 };   /* per thread: 1 + index of its last listed step */
	char tok[64], all[128];
	const char *p = text;
	int cap = 0;

	memset(out, 0, sizeof *out);
	list_steps(steps, all, sizeof all);
	while (isspace((unsigned char)*p))
		p++;
	if (!*p) {
		snprintf(err, errlen, "empty --schedule: give tokens tN.STEP such as"
		         " 't1.%s t2.%s', or 'random'", steps[0], steps[0]);
		return -1;
	}
	if (!strncmp(p, "random", 6) && !p[6 + strspn(p + 6, " \t\r\n")]) {
		out->random = 1;
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, " \t\r\n");
		char *dot, *end = NULL;
		long thread;
		int step = -1;

		snprintf(tok, sizeof tok, "%.*s", (int)(len < sizeof tok - 4 ? len : sizeof tok - 4),
		         p);
		if (len >= sizeof tok - 4)
			strcat(tok, "...");
		p += len;
		while (isspace((unsigned char)*p))
			p++;
		dot = strchr(tok, '.');
		thread = tok[0] == 't' && isdigit((unsigned char)tok[1]) ? strtol(tok + 1, &end, 10) : -1;
		if (!dot || thread < 0 || end != dot) {
			snprintf(err, errlen, "bad --schedule token '%s': write tN.STEP, such as"
			         " 't1.%s'", tok, steps[0]);
			goto fail;
		}
		if (thread < 1 || thread > max_threads || thread > 64) {
			if (threads_given)
				snprintf(err, errlen, "bad --schedule token '%s': there is no thread %ld"
				         " (-t %d runs t1 to t%d)", tok, thread, max_threads, max_threads);
			else
				snprintf(err, errlen, "bad --schedule token '%s': there is no thread %ld"
				         " (threads are t1 to t%d)", tok, thread, max_threads);
			goto fail;
		}
		for (int i = 0; steps[i]; i++)
			if (!strcmp(steps[i], dot + 1))
				step = i;
		if (step < 0) {
			snprintf(err, errlen, "bad --schedule token '%s': %s has no step '%s'"
			         " (its steps: %s)", tok, name, dot + 1, all);
			goto fail;
		}
		if (last[thread] > step) {
			snprintf(err, errlen, "bad --schedule token '%s': t%ld already took '%s'"
			         " earlier in the schedule, and %s's steps run in order: %s", tok,
			         thread, steps[last[thread] - 1], name, all);
			goto fail;
		}
		last[thread] = step + 1;
		if (out->ntokens == cap) {
			struct sched_token *more;

			cap = cap ? 2 * cap : 16;
			if (!(more = realloc(out->tokens, (size_t)cap * sizeof *more))) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			out->tokens = more;
		}
		out->tokens[out->ntokens++] = (struct sched_token){ (int)thread, step };
		if (thread > out->threads)
			out->threads = (int)thread;
	}
	return 0;
fail:
	sched_spec_done(out);
	return -1;
}

void sched_spec_done(struct sched_spec *spec)
{
	free(spec->tokens);
	memset(spec, 0, sizeof *spec);
}

/* ---- the scheduler ------------------------------------------------------- */

struct sched *sched_new(const struct sched_spec *spec, const char *const *steps,
                        int nthreads, uint64_t seed, const struct sched_hooks *hooks,
                        struct sys_arena *arena)
{
	struct sched *s = sys_calloc(arena, 1, sizeof *s);

	if (!s)
		return NULL;
	s->arena = arena;
	s->spec = *spec;
	s->spec.tokens = NULL;
	if (spec->ntokens) {
		s->spec.tokens = sys_calloc(arena, (size_t)spec->ntokens, sizeof *spec->tokens);
		if (!s->spec.tokens)
			goto fail;
		memcpy(s->spec.tokens, spec->tokens, (size_t)spec->ntokens * sizeof *spec->tokens);
	}
	s->t = sys_calloc(arena, (size_t)nthreads + 1, sizeof *s->t);
	if (!s->t)
		goto fail;
	if (arena) {            /* the list of grants cannot grow in shared memory */
		s->taken = sys_calloc(arena, SCHED_TAKEN_SHARED, sizeof *s->taken);
		if (!s->taken)
			goto fail;
		s->cap_taken = SCHED_TAKEN_SHARED;
	}
	s->steps = steps;
	while (steps[s->nsteps])
		s->nsteps++;
	s->nthreads = nthreads;
	s->rng = seed;
	s->hooks = *hooks;
	sys_mutex_init(&s->mu, arena, 1);
	for (int i = 1; i <= nthreads; i++) {
		s->t[i].state = MOVING;         /* on their way to the start barrier */
		s->t[i].target = -1;
		sys_cond_init(&s->t[i].cv, arena);
	}
	return s;
fail:
	sys_free(arena, s->t);
	sys_free(arena, s->spec.tokens);
	sys_free(arena, s);
	return NULL;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (int i = 1; i <= s->nthreads; i++)
		sys_cond_done(&s->t[i].cv, s->arena);
	sys_mutex_done(&s->mu, s->arena);
	sys_free(s->arena, s->t);
	sys_free(s->arena, s->spec.tokens);
	sys_free(s->arena, s->replay);
	sys_free(s->arena, s->taken);
	sys_free(s->arena, s);
}

static void lock(struct sched *s)
{
	sys_lock(&s->mu);
	assert(!s->held);
	s->held = 1;
}

static void unlock(struct sched *s)
{
	assert(s->held);
	s->held = 0;
	sys_unlock(&s->mu);
}

static void wake(struct sched *s, int i)
{
	assert(s->held && i >= 1 && i <= s->nthreads);
	sys_check(pthread_cond_signal(&s->t[i].cv), "pthread_cond_signal");
}

static void sleep_on(struct sched *s, int i)
{
	assert(s->held);
	s->held = 0;
	sys_wait(&s->t[i].cv, &s->mu);
	s->held = 1;
}

/* A listed schedule: the next thread to go, or 0. */
static int pick_listed(struct sched *s)
{
	/* A thread that was waiting when its tokens came takes those steps first,
	 * as soon as it can. */
	for (int i = 1; i <= s->nthreads; i++) {
		struct thread *t = &s->t[i];

		if (t->state == READY && t->target >= 0) {
			if (t->step <= t->target)
				return i;
			t->target = -1;
		}
	}
	while (s->pos < s->spec.ntokens) {
		const struct sched_token *k = &s->spec.tokens[s->pos];
		struct thread *t = &s->t[k->thread];

		if (t->state == DONE || (t->state == READY && t->step > k->step)) {
			s->pos++;       /* it has passed that step (it ended early) */
			continue;
		}
		if (t->state != READY) {
			/* Waiting for a lock (or at a barrier): the token is deferred. */
			if (k->step > t->target)
				t->target = k->step;
			s->pos++;
			continue;
		}
		/* A token for a later step takes the thread's earlier steps first. */
		if (t->step == k->step)
			s->pos++;
		return k->thread;
	}
	for (int i = 1; i <= s->nthreads; i++)  /* after the list: in thread order */
		if (s->t[i].state == READY)
			return i;
	return 0;
}

static int pick_random(struct sched *s)
{
	int n = 0;
	uint64_t k;

	for (int i = 1; i <= s->nthreads; i++)
		n += s->t[i].state == READY;
	if (!n)
		return 0;
	k = sched_rand(&s->rng) % (uint64_t)n;
	for (int i = 1; i <= s->nthreads; i++)
		if (s->t[i].state == READY && k-- == 0)
			return i;
	return 0;
}

static int pick(struct sched *s)
{
	return s->spec.random ? pick_random(s) : pick_listed(s);
}

static int any_ready(const struct sched *s)
{
	for (int i = 1; i <= s->nthreads; i++)
		if (s->t[i].state == READY)
			return 1;
	return 0;
}

/* Step mode: remember grant REQUEST (0: the policy's pick). */
static void keep_taken(struct sched *s, int request)
{
	if (!s->keep)
		return;
	if (s->ntaken == s->cap_taken && s->arena) {
		s->lost_taken = 1;
		return;
	}
	if (s->ntaken == s->cap_taken) {
		int cap = s->cap_taken ? 2 * s->cap_taken : 64;
		int *more = realloc(s->taken, (size_t)cap * sizeof *more);

		if (!more) {
			s->lost_taken = 1;
			return;
		}
		s->taken = more;
		s->cap_taken = cap;
	}
	s->taken[s->ntaken++] = request;
}

static void grant(struct sched *s, int next)
{
	s->awaiting = 0;
	s->t[next].granted = 1;
	wake(s, next);
}

/* Step mode: the next replayed grant, if it can be taken; 0 if none is left. */
static int pick_replayed(struct sched *s)
{
	while (s->replay_pos < s->nreplay) {
		int k = s->replay[s->replay_pos++];

		if (!k || (k <= s->nthreads && s->t[k].state == READY)) {
			keep_taken(s, k);
			return k ? k : pick(s);
		}
		/* Cannot happen: the same grants give the same states.  Should it,
		 * the person takes over from here. */
		s->replay_pos = s->nreplay;
	}
	return 0;
}

/* Every remaining step waits.  Report it, and pick the victim: the thread that
 * began to wait last closed the circle. */
static void declare_deadlock(struct sched *s, int self)
{
	char text[96];
	size_t len = 0;
	int victim = 0;

	text[0] = '\0';
	for (int i = 1; i <= s->nthreads; i++) {
		struct thread *t = &s->t[i];

		if (t->state != BLOCKED)
			continue;
		if (len < sizeof text)
			len += (size_t)snprintf(text + len, sizeof text - len, "%st%d.%s",
			                        len ? " " : "", i,
			                        t->step < s->nsteps ? s->steps[t->step] : "?");
		if (!victim || t->blocked_seq > s->t[victim].blocked_seq)
			victim = i;
	}
	s->deadlock = 1;
	s->deadlock_ns = sys_now_ns();
	s->victim = 0;
	if (s->hooks.deadlock)
		s->hooks.deadlock(s->hooks.arg, self, text);
	if (!s->hooks.blocked) {
		/* SQLite has no deadlock detector for busy-handler waits: its answer to a
		 * wait that cannot end is SQLITE_BUSY, "database is locked". */
		s->t[victim].give_up = 1;
		wake(s, victim);
	} else {
		/* PostgreSQL's detector will fail one of them: let them all listen. */
		for (int i = 1; i <= s->nthreads; i++)
			if (s->t[i].state == BLOCKED)
				wake(s, i);
	}
}

/* Choose what happens next, once nothing moves.  SELF is the calling thread. */
static void decide(struct sched *s, int self)
{
	int next;

	assert(s->held);
	if (s->stopping)
		return;
	for (int i = 1; i <= s->nthreads; i++)
		if (s->t[i].state == MOVING || s->t[i].state == PROBING)
			return;         /* it will call decide when it comes to rest */
	for (int i = 1; i <= s->nthreads; i++) {
		struct thread *t = &s->t[i];

		if (t->state != BLOCKED || t->probed == s->gen)
			continue;
		t->probed = s->gen;
		if (s->hooks.blocked) {
			if (s->hooks.blocked(s->hooks.arg, i) == 0) {
				t->state = MOVING;      /* the server let it go: let it finish */
				wake(s, i);
				return;
			}
		} else {
			t->state = PROBING;
			wake(s, i);
			return;
		}
	}
	s->deadlock = 0;
	if (s->manual && any_ready(s)) {
		if (!(next = pick_replayed(s))) {
			s->awaiting = 1;        /* sched_grant goes on from here */
			return;
		}
	} else if ((next = pick(s))) {
		keep_taken(s, 0);
	}
	if (next) {
		grant(s, next);
		return;
	}
	for (int i = 1; i <= s->nthreads; i++)
		if (s->t[i].state == BLOCKED) {
			declare_deadlock(s, self);
			return;
		}
	/* Everything is done (or parked for a barrier that the last one releases). */
}

/* THREAD has come to rest after moving: whatever step it took is complete. */
static void arrive(struct sched *s, int thread, enum state state)
{
	struct thread *t = &s->t[thread];

	assert(thread >= 1 && thread <= s->nthreads);
	assert(t->state != DONE);       /* a finished thread takes no more steps */
	assert(state == READY || state == DONE || state == PARKED);
	t->state = state;
	t->give_up = 0;
	s->gen++;
	if (s->deadlock && s->victim == thread)         /* see sched_step_ended */
		for (int i = 1; i <= s->nthreads; i++)
			if (i != thread)
				wake(s, i);
}

int sched_gate(struct sched *s, int thread, int step)
{
	struct thread *t = &s->t[thread];
	int rc;

	assert(thread >= 1 && thread <= s->nthreads);
	lock(s);
	arrive(s, thread, READY);
	t->step = step;
	t->granted = 0;
	decide(s, thread);
	while (!t->granted && !s->stopping)
		sleep_on(s, thread);
	assert(s->stopping || t->state == READY);     /* granted from READY only */
	t->granted = 0;
	t->state = MOVING;
	rc = s->stopping ? -1 : 0;
	unlock(s);
	return rc;
}

enum sched_wait sched_wait(struct sched *s, int thread)
{
	struct thread *t = &s->t[thread];
	enum sched_wait rc;

	assert(thread >= 1 && thread <= s->nthreads);
	lock(s);
	switch (t->state) {
	case MOVING:
		if (t->give_up) {
			rc = SCHED_GIVE_UP;     /* until the step ends */
			goto out;
		}
		/* A slow statement is not a lock wait until the server says so. */
		if (s->hooks.blocked && s->hooks.blocked(s->hooks.arg, thread) == 0) {
			rc = SCHED_KEEP;
			goto out;
		}
		t->state = BLOCKED;
		t->probed = s->gen;
		t->blocked_seq = ++s->nblocked;
		if (s->hooks.waiting)
			s->hooks.waiting(s->hooks.arg, thread);
		decide(s, thread);
		break;
	case PROBING:                   /* it tried the lock again, and waits again */
		t->state = BLOCKED;
		decide(s, thread);
		break;
	default:
		break;
	}
	for (;;) {
		if (s->stopping) {
			rc = SCHED_GIVE_UP;
			break;
		}
		if (t->give_up) {
			t->state = MOVING;
			rc = SCHED_GIVE_UP;
			break;
		}
		if (t->state == PROBING) {
			rc = SCHED_NOW;
			break;
		}
		if (t->state == MOVING) {
			rc = SCHED_KEEP;        /* the server let it go: read the result */
			break;
		}
		if (s->deadlock && s->hooks.blocked) {
			/* Listen for PostgreSQL's deadlock detector; if it stays silent, the
			 * thread declare_deadlock would pick gives up. */
			int victim = 0;

			for (int i = 1; i <= s->nthreads; i++)
				if (s->t[i].state == BLOCKED &&
				    (!victim || s->t[i].blocked_seq > s->t[victim].blocked_seq))
					victim = i;
			if (victim == thread && sys_now_ns() - s->deadlock_ns > DEADLOCK_PATIENCE_NS) {
				t->give_up = 1;
				continue;
			}
			rc = SCHED_KEEP;
			break;
		}
		sleep_on(s, thread);
	}
out:
	unlock(s);
	return rc;
}

/* How long a completion after a deadlock waits for the victim's failure to be
 * reported; past it, something outside the run released the lock. */
#define BROKEN_PATIENCE_S 2

/* The deadlock's victim has reported its failure and come to rest (rolled back,
 * and at the gate again or finished). */
static int victim_at_rest(const struct sched *s)
{
	enum state st = s->victim ? s->t[s->victim].state : MOVING;

	return st == READY || st == PARKED || st == DONE;
}

void sched_step_ended(struct sched *s, int thread, int failed)
{
	struct thread *t = &s->t[thread];
	struct timespec until;

	assert(thread >= 1 && thread <= s->nthreads);
	lock(s);
	if (s->deadlock && failed && !s->victim) {
		s->victim = thread;
	} else if (s->deadlock && t->state == BLOCKED && s->victim != thread) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += BROKEN_PATIENCE_S;
		while (s->deadlock && !victim_at_rest(s) && !s->stopping) {
			int rc;

			s->held = 0;
			rc = sys_timedwait(&t->cv, &s->mu, &until);
			s->held = 1;
			if (rc == ETIMEDOUT)
				break;
		}
	}
	unlock(s);
}

void sched_park(struct sched *s, int thread, const void *at)
{
	lock(s);
	arrive(s, thread, PARKED);
	s->t[thread].parked_at = at;
	decide(s, thread);
	unlock(s);
}

void sched_release(struct sched *s, const void *at)
{
	lock(s);
	for (int i = 1; i <= s->nthreads; i++)
		if (s->t[i].state == PARKED && s->t[i].parked_at == at) {
			assert(s->t[i].parked_at != NULL);
			s->t[i].state = MOVING;
			s->t[i].parked_at = NULL;
		}
	unlock(s);
}

void sched_exit(struct sched *s, int thread)
{
	lock(s);
	arrive(s, thread, DONE);
	decide(s, thread);
	unlock(s);
}

void sched_stop(struct sched *s)
{
	lock(s);
	s->stopping = 1;
	s->awaiting = 0;
	for (int i = 1; i <= s->nthreads; i++)
		wake(s, i);
	unlock(s);
}

/* ---- step mode ----------------------------------------------------------- */

void sched_set_manual(struct sched *s, int on)
{
	lock(s);
	s->manual = on;
	if (!on && s->awaiting && !s->stopping) {
		int next = pick(s);

		if (next) {
			keep_taken(s, 0);
			grant(s, next);
		}
	}
	unlock(s);
}

int sched_set_replay(struct sched *s, const int *grants, int n)
{
	int *copy = NULL;

	if (n > 0) {
		if (!(copy = sys_calloc(s->arena, (size_t)n, sizeof *copy)))
			return -1;
		memcpy(copy, grants, (size_t)n * sizeof *copy);
	}
	lock(s);
	sys_free(s->arena, s->replay);
	s->replay = copy;
	s->nreplay = n > 0 ? n : 0;
	s->replay_pos = 0;
	s->keep = 1;
	unlock(s);
	return 0;
}

int sched_taken(struct sched *s, int *buf, int max)
{
	int n = 0;

	lock(s);
	for (int i = 0; i < s->ntaken; i++, n++)
		if (buf && n < max)
			buf[n] = s->taken[i];
	for (int i = s->replay_pos; i < s->nreplay; i++, n++)
		if (buf && n < max)
			buf[n] = s->replay[i];
	if (s->lost_taken)
		n = -1;
	unlock(s);
	return n;
}

enum sched_grant sched_grant(struct sched *s, int thread, int *granted)
{
	enum sched_grant rc = SCHED_BUSY;
	int next = 0;

	*granted = 0;
	lock(s);
	if (s->stopping) {
		rc = SCHED_STOPPED;
	} else if (thread < 0 || thread > s->nthreads) {
		rc = SCHED_NO_THREAD;
	} else if (thread && s->t[thread].state == DONE) {
		rc = SCHED_FINISHED;    /* whatever else is going on */
	} else if (!s->awaiting) {
		rc = SCHED_BUSY;
	} else if (thread == 0) {
		next = pick(s);
	} else {
		switch (s->t[thread].state) {
		case READY:
			next = thread;
			break;
		case BLOCKED:
			rc = SCHED_WAITING;
			break;
		case DONE:
			rc = SCHED_FINISHED;
			break;
		case PARKED:
			rc = SCHED_AT_BARRIER;
			break;
		default:
			rc = SCHED_BUSY;
			break;
		}
	}
	if (next) {
		keep_taken(s, thread);
		grant(s, next);
		*granted = next;
		rc = SCHED_GRANTED;
	}
	unlock(s);
	return rc;
}

int sched_awaiting(struct sched *s)
{
	int rc;

	lock(s);
	rc = s->awaiting;
	unlock(s);
	return rc;
}

int sched_replay_left(struct sched *s)
{
	int rc;

	lock(s);
	rc = s->nreplay - s->replay_pos;
	unlock(s);
	return rc;
}
