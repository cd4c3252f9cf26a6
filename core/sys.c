/*
 * sys.c: the clock and the fatal path shared by the harness; see sys.h.
 */
#include "sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
