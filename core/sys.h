/*
 * sys.h: the two system chores every threaded module of the harness needs: a
 * monotonic clock, and the one fatal path for a pthread call that failed.
 */
#ifndef RACELAB_SYS_H
#define RACELAB_SYS_H

#include <stdint.h>

/* Nanoseconds on the monotonic clock. */
int64_t sys_now_ns(void);

/* A pthread call returned RC: anything but 0 is a broken invariant of ours, not
 * something to carry on from.  Prints WHAT and the error, then aborts (the
 * dashboard's fatal-signal handler restores the terminal). */
void sys_check(int rc, const char *what);

#endif
