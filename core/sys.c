/*
 * sys.c: the clock and the fatal path shared by the harness; see sys.h.
 */
#include "sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct sys_arena {
	size_t size;            /* bytes mapped, this header included */
	size_t used;
};

#define ARENA_ALIGN 64          /* a cache line: atomics in different objects never share one */

int64_t sys_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void sys_check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "racelab: internal error: %s: %s\n", what, strerror(rc));
		abort();
	}
}

struct sys_arena *sys_arena_new(size_t size)
{
	struct sys_arena *a;

	size += ARENA_ALIGN;
	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
	         -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	a->size = size;
	a->used = ARENA_ALIGN;
	return a;
}

void sys_arena_free(struct sys_arena *a)
{
	if (a)
		munmap(a, a->size);
}

void *sys_calloc(struct sys_arena *a, size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (!a)
		return calloc(n, size);
	if (size && n > (a->size - a->used) / size)
		return NULL;
	bytes = (n * size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (bytes > a->size - a->used)
		return NULL;
	p = (char *)a + a->used;
	a->used += bytes;
	return p;               /* fresh anonymous pages are zero already */
}

void sys_free(struct sys_arena *a, void *p)
{
	if (!a)
		free(p);
}

void sys_mutex_init(pthread_mutex_t *mu, const struct sys_arena *a, int errorcheck)
{
	pthread_mutexattr_t attr;

	sys_check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
	if (errorcheck)
		sys_check(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK),
		          "pthread_mutexattr_settype");
	if (a) {
		sys_check(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
		          "pthread_mutexattr_setpshared");
		sys_check(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST),
		          "pthread_mutexattr_setrobust");
	}
	sys_check(pthread_mutex_init(mu, &attr), "pthread_mutex_init");
	pthread_mutexattr_destroy(&attr);
}

void sys_cond_init(pthread_cond_t *cv, const struct sys_arena *a)
{
	pthread_condattr_t attr;

	sys_check(pthread_condattr_init(&attr), "pthread_condattr_init");
	if (a)
		sys_check(pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
		          "pthread_condattr_setpshared");
	sys_check(pthread_cond_init(cv, &attr), "pthread_cond_init");
	pthread_condattr_destroy(&attr);
}

/* A robust mutex whose owner died: take it over.  What it guarded may be half
 * changed, but only a worker process can die holding one, and then the run is
 * stopping: nothing decides anything from that state again. */
static int taken_over(pthread_mutex_t *mu, int rc)
{
	if (rc == EOWNERDEAD)
		return pthread_mutex_consistent(mu);
	return rc;
}

void sys_lock(pthread_mutex_t *mu)
{
	sys_check(taken_over(mu, pthread_mutex_lock(mu)), "pthread_mutex_lock");
}

void sys_unlock(pthread_mutex_t *mu)
{
	sys_check(pthread_mutex_unlock(mu), "pthread_mutex_unlock");
}

void sys_wait(pthread_cond_t *cv, pthread_mutex_t *mu)
{
	sys_check(taken_over(mu, pthread_cond_wait(cv, mu)), "pthread_cond_wait");
}

int sys_timedwait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *until)
{
	int rc = taken_over(mu, pthread_cond_timedwait(cv, mu, until));

	if (rc != ETIMEDOUT)
		sys_check(rc, "pthread_cond_timedwait");
	return rc;
}

void sys_mutex_done(pthread_mutex_t *mu, const struct sys_arena *a)
{
	if (!a)
		pthread_mutex_destroy(mu);
}

void sys_cond_done(pthread_cond_t *cv, const struct sys_arena *a)
{
	if (!a)
		pthread_cond_destroy(cv);
}
