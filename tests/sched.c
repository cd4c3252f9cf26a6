/*
 * sched.c: the scheduler on its own, without a database: parsing --schedule
 * (every refusal names the token), the seeded generator's exact values, and real
 * threads contending for fake locks the way SQLite's busy handler does — a wait
 * that the schedule moves past, its completion, and a deadlock broken by giving
 * up the last waiter (SQLite), or broken by the database's own deadlock detector
 * while the waiters listen (PostgreSQL).  Step mode: grants by hand, refused
 * for a waiting or finished thread, the list of grants kept, and a replay of it
 * that ends in the same state.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/sched.h"
#include "tap.h"

static const char *const product_naive[] = { "read", "write", NULL };
static const char *const fake_steps[] = { "first", "second", "done", NULL };

static void parses(const char *text, int threads, int ntokens, const char *what)
{
	struct sched_spec spec;
	char err[256] = "";

	ok(sched_parse(text, "naive", product_naive, 64, 0, &spec, err, sizeof err) == 0 &&
	   spec.threads == threads && spec.ntokens == ntokens, "%s", what);
	if (err[0])
		diag("%s", err);
	sched_spec_done(&spec);
}

static void refused(const char *text, int max, int given, const char *mention)
{
	struct sched_spec spec;
	char err[256] = "";
	int rc = sched_parse(text, "naive", product_naive, max, given, &spec, err, sizeof err);

	ok(rc == -1 && strstr(err, mention) && !strchr(err, '\n'),
	   "'%s' is refused, naming %s", text, mention);
	if (rc != -1 || !strstr(err, mention))
		diag("rc %d, message: %s", rc, err);
}

/* ---- fake locks, taken as SQLite takes its write lock ---------------------- */

static struct sched *S;
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static int owner[2];            /* which thread holds lock A (0) and lock B (1) */
static char log_[2048];
static int pg_style;            /* waits are seen by asking the "server" (blocked hook) */
static int wanted[3];           /* the lock each thread is trying to take, for that hook */
static int deadlock_seen;

static void say(const char *fmt, ...)
{
	va_list ap;
	size_t len;

	pthread_mutex_lock(&fake_mu);
	len = strlen(log_);
	va_start(ap, fmt);
	vsnprintf(log_ + len, sizeof log_ - len, fmt, ap);
	va_end(ap);
	strncat(log_, "|", sizeof log_ - strlen(log_) - 1);
	pthread_mutex_unlock(&fake_mu);
}

/* Try the lock; on failure ask the scheduler, as the busy handler does (or, PG
 * style, as exec's polling loop does: then thread 1 plays the victim of the
 * server's deadlock detector a few polls after the deadlock is declared). */
static int take(int thread, int lk)
{
	int polls = 0;

	for (;;) {
		enum sched_wait w;

		pthread_mutex_lock(&fake_mu);
		wanted[thread] = lk;
		if (!owner[lk] || owner[lk] == thread) {
			owner[lk] = thread;
			pthread_mutex_unlock(&fake_mu);
			return 0;
		}
		if (pg_style && deadlock_seen && thread == 1 && ++polls > 3) {
			pthread_mutex_unlock(&fake_mu);
			return -2;
		}
		pthread_mutex_unlock(&fake_mu);
		w = sched_wait(S, thread);
		if (w == SCHED_GIVE_UP)
			return -1;
		if (w == SCHED_KEEP) {
			struct timespec ms = { 0, 1000000 };

			nanosleep(&ms, NULL);
		}
	}
}

static int hook_blocked(void *arg, int thread)
{
	int held;

	(void)arg;
	pthread_mutex_lock(&fake_mu);
	held = owner[wanted[thread]] && owner[wanted[thread]] != thread;
	pthread_mutex_unlock(&fake_mu);
	return held;
}

static void release(int thread)
{
	pthread_mutex_lock(&fake_mu);
	for (int i = 0; i < 2; i++)
		if (owner[i] == thread)
			owner[i] = 0;
	pthread_mutex_unlock(&fake_mu);
}

/* Thread 1 takes A then B; thread 2 takes B then A (or A then A with SAME). */
static int same_order;

static void *fake_worker(void *arg)
{
	int t = (int)(long)arg;
	int first = same_order ? 0 : t - 1, second = same_order ? 0 : 2 - t;

	if (sched_gate(S, t, 0) == 0 && take(t, first) == 0) {
		say("t%d.first", t);
		if (sched_gate(S, t, 1) == 0) {
			int rc = take(t, second);

			if (rc == -2) {
				say("t%d.second: deadlock detected", t);
			} else if (rc != 0) {
				say("t%d.second gave up", t);
			} else {
				say("t%d.second", t);
				if (sched_gate(S, t, 2) == 0)
					say("t%d.done", t);
			}
		}
	}
	release(t);
	sched_exit(S, t);
	return NULL;
}

static void hook_waiting(void *arg, int thread)
{
	(void)arg;
	say("t%d waits", thread);
}

static void hook_deadlock(void *arg, int self, const char *text)
{
	(void)arg;
	(void)self;
	say("deadlock: %s", text);
	pthread_mutex_lock(&fake_mu);
	deadlock_seen = 1;
	pthread_mutex_unlock(&fake_mu);
}

/* Run the two fake threads under SCHEDULE; return the log. */
static const char *run_fake(const char *schedule, uint64_t seed, int same, int pg)
{
	struct sched_hooks hooks = { NULL, hook_waiting, pg ? hook_blocked : NULL,
	                             hook_deadlock };
	struct sched_spec spec;
	pthread_t tid[2];
	char err[256];

	log_[0] = '\0';
	owner[0] = owner[1] = 0;
	same_order = same;
	pg_style = pg;
	deadlock_seen = 0;
	if (sched_parse(schedule, "fake", fake_steps, 2, 1, &spec, err, sizeof err) != 0) {
		diag("%s", err);
		return "";
	}
	S = sched_new(&spec, fake_steps, 2, seed, &hooks, NULL);
	sched_spec_done(&spec);
	for (long i = 0; i < 2; i++)
		pthread_create(&tid[i], NULL, fake_worker, (void *)(i + 1));
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	sched_free(S);
	return log_;
}

/* Step mode: the main thread plays the person at the keys.  GRANTS are
 * sched_grant's THREAD arguments, each tried until the scheduler is at rest; a
 * refusal is logged.  REPLAY is taken first.  Then step mode is turned off and
 * the rest runs in thread order.  TAKEN gets sched_taken's list. */
static const char *run_manual(const int *grants, int n, const int *replay, int nreplay,
                              int *taken, int *ntaken)
{
	static const char *const why[] = { "granted", "busy", "waiting", "finished",
	                                   "at a barrier", "no such thread", "stopped" };
	struct sched_hooks hooks = { NULL, hook_waiting, NULL, hook_deadlock };
	struct sched_spec spec = { 0 };
	struct timespec ms = { 0, 1000000 };
	pthread_t tid[2];
	int granted;

	log_[0] = '\0';
	owner[0] = owner[1] = 0;
	same_order = 1;
	pg_style = 0;
	deadlock_seen = 0;
	S = sched_new(&spec, fake_steps, 2, 0, &hooks, NULL);
	sched_set_replay(S, replay, nreplay);
	sched_set_manual(S, 1);
	for (long i = 0; i < 2; i++)
		pthread_create(&tid[i], NULL, fake_worker, (void *)(i + 1));
	while (sched_replay_left(S) > 0 || !sched_awaiting(S))
		nanosleep(&ms, NULL);
	for (int i = 0; i < n; i++) {
		enum sched_grant rc;

		while (!sched_awaiting(S))      /* a person waits for the screen to settle */
			nanosleep(&ms, NULL);
		while ((rc = sched_grant(S, grants[i], &granted)) == SCHED_BUSY)
			nanosleep(&ms, NULL);
		if (rc != SCHED_GRANTED)
			say("refused %d: %s", grants[i], why[rc]);
	}
	while (!sched_awaiting(S))      /* the last grant has come to rest */
		nanosleep(&ms, NULL);
	sched_set_manual(S, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	*ntaken = sched_taken(S, taken, 16);
	sched_free(S);
	return log_;
}

static const char *list(const int *v, int n)
{
	static char buf[128];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && len < sizeof buf; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d", i ? " " : "", v[i]);
	return buf;
}

int main(void)
{
	uint64_t st = 0;
	char first[2048];

	parses("t1.read t2.read t1.write t2.write", 2, 4, "the lost-update schedule parses");
	parses("  t3.write\tt1.read\n", 3, 2, "any white space separates; threads = highest tN");
	parses("t1.write", 1, 1, "a token may skip ahead (earlier steps run first)");
	parses("random", 0, 0, "'random' parses");
	parses(" random ", 0, 0, "' random ' parses");
	refused("", 64, 0, "empty --schedule");
	refused("t1.read x2.read", 64, 0, "'x2.read'");
	refused("t1.read t2", 64, 0, "'t2'");
	refused("t0.read", 64, 0, "there is no thread 0");
	refused("t65.read", 64, 0, "'t65.read'");
	refused("t1.read t3.read", 2, 1, "'t3.read': there is no thread 3 (-t 2");
	refused("t1.read t1.update", 64, 0, "'t1.update': naive has no step 'update'");
	refused("t1.write t1.read", 64, 0, "'t1.read': t1 already took 'write'");
	refused("t1.read t1.read", 64, 0, "'t1.read': t1 already took 'read'");
	refused("random t1.read", 64, 0, "'random'");

	/* splitmix64's published first outputs for seed 0: the same on every machine. */
	is_int(sched_rand(&st) == 0xe220a8397b1dcdafULL, 1, "splitmix64(0) #1 is e220a8397b1dcdaf");
	is_int(sched_rand(&st) == 0x6e789e6aa1b965f4ULL, 1, "splitmix64(0) #2 is 6e789e6aa1b965f4");

	is_str(run_fake("t1.first t2.first t1.second t1.done t2.second", 0, 1, 0),
	       "t1.first|t2 waits|t1.second|t1.done|t2.first|t2.second|t2.done|",
	       "a step that waits is reported, the schedule moves on, and it completes"
	       " once the lock is free (probed after every step)");
	is_str(run_fake("t2.first t1.first t1.second t2.second", 0, 1, 0),
	       "t2.first|t1 waits|t2.second|t2.done|t1.first|t1.second|t1.done|",
	       "a token for a waiting thread is deferred: it takes that step once unblocked");
	is_str(run_fake("t1.first t2.first t1.second t2.second", 0, 0, 0),
	       "t1.first|t2.first|t1 waits|t2 waits|deadlock: t1.second t2.second|"
	       "t2.second gave up|t1.second|t1.done|",
	       "when every remaining step waits: a deadlock, reported, and the last waiter"
	       " gives up (SQLite's 'database is locked'), so the run ends");
	is_str(run_fake("t1.first t2.first t1.second t1.done t2.second", 0, 1, 1),
	       "t1.first|t2 waits|t1.second|t1.done|t2.first|t2.second|t2.done|",
	       "PostgreSQL style (the server says who is blocked): the same trace");
	is_str(run_fake("t1.first t2.first t1.second t2.second", 0, 0, 1),
	       "t1.first|t2.first|t1 waits|t2 waits|deadlock: t1.second t2.second|"
	       "t1.second: deadlock detected|t2.second|t2.done|",
	       "PostgreSQL style deadlock: reported, the waiters listen, the database's"
	       " detector fails one, and the other goes on");
	snprintf(first, sizeof first, "%s", run_fake("random", 42, 1, 0));
	is_str(run_fake("random", 42, 1, 0), first, "the same seed gives the same order");
	diag("seed 42: %s", first);

	{
		/* t1 takes lock A at its first step and keeps it to the end; t2 wants it. */
		int keys[] = { 1, 2, 2, 1, 1, 1, 3 }, taken[16], ntaken, again[16], nagain;

		is_str(run_manual(keys, 7, NULL, 0, taken, &ntaken),
		       "t1.first|t2 waits|refused 2: waiting|t1.second|t1.done|t2.first|"
		       "refused 1: finished|refused 3: no such thread|t2.second|t2.done|",
		       "step mode: each grant moves that thread one step; a waiting thread, a"
		       " finished one and one that does not exist are refused");
		is_str(list(taken, ntaken), "1 2 1 1 0 0",
		       "step mode: the grants are kept, the automatic ones as 0");
		is_str(run_manual((int[]){ 2, 1 }, 2, taken, 3, again, &nagain),
		       "t1.first|t2 waits|t1.second|refused 2: waiting|t1.done|t2.first|"
		       "t2.second|t2.done|",
		       "undo: a replay of the first three grants leads to the same state: t1 can"
		       " take its last step, and t2 waits until it has");
		is_str(run_manual(NULL, 0, taken, ntaken - 1, again, &nagain),
		       "t1.first|t2 waits|t1.second|t1.done|t2.first|t2.second|t2.done|",
		       "a replay of the grants gives the same trace");
		is_str(list(again, nagain), "1 2 1 1 0 0", "... and keeps the same list");
	}
	return done_testing();
}
