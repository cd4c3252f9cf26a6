/*
 * sys.h: the two system chores every threaded module of the harness needs: a
 * monotonic clock, and the one fatal path for a pthread call that failed.
 */
#ifndef RACELAB_SYS_H
#define RACELAB_SYS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Nanoseconds on the monotonic clock. */
int64_t sys_now_ns(void);

/* A pthread call returned RC: anything but 0 is a broken invariant of ours, not
 * something to carry on from.  Prints WHAT and the error, then aborts (the
 * dashboard's fatal-signal handler restores the terminal). */
void sys_check(int rc, const char *what);

/* Memory a run shares with its worker processes (--procs): an arena of pages
 * mapped MAP_SHARED before the fork, handed out in order and freed all at once.
 * Every function below also takes a NULL arena, meaning the ordinary heap, so a
 * module allocates the same way for threads and for processes. */
struct sys_arena;
struct sys_arena *sys_arena_new(size_t size);   /* NULL if it cannot be mapped */
void sys_arena_free(struct sys_arena *a);
/* N zeroed objects of SIZE bytes, aligned for anything; NULL when full. */
void *sys_calloc(struct sys_arena *a, size_t n, size_t size);
/* Give P back: to the heap (A NULL), or nowhere (the arena frees all at once). */
void sys_free(struct sys_arena *a, void *p);

/* A mutex or condition variable that works across processes when the run's
 * memory is shared (A not NULL); ERRORCHECK makes an unpaired unlock fatal.
 * A shared mutex is robust: a worker process killed while holding it does not
 * hang the run (the next locker takes it over, and the run is stopping anyway). */
void sys_mutex_init(pthread_mutex_t *mu, const struct sys_arena *a, int errorcheck);
void sys_cond_init(pthread_cond_t *cv, const struct sys_arena *a);
/* Done with them.  Shared ones are left as they are, to go with the arena: a
 * worker process killed while waiting would make a destroy wait for it forever. */
void sys_mutex_done(pthread_mutex_t *mu, const struct sys_arena *a);
void sys_cond_done(pthread_cond_t *cv, const struct sys_arena *a);
/* Lock, unlock and wait, through the one fatal path (sys_check). */
void sys_lock(pthread_mutex_t *mu);
void sys_unlock(pthread_mutex_t *mu);
void sys_wait(pthread_cond_t *cv, pthread_mutex_t *mu);
/* Returns 0, or ETIMEDOUT once UNTIL (CLOCK_REALTIME) has passed. */
int sys_timedwait(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *until);

#endif
