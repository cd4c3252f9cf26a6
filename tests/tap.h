/*
 * tap.h: a tiny Test Anything Protocol producer for racelab's C tests.
 *
 *     plan(3);
 *     ok(x == 1, "x is one");
 *     is_int(got, want, "product/naive loses updates under 4 threads");
 *     return done_testing();
 */
#ifndef RACELAB_TAP_H
#define RACELAB_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void plan(int n)
{
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define is_int(got, want, ...) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!ok(g_ == w_, __VA_ARGS__)) diag("got %lld, want %lld", g_, w_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	if (!ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__)) \
		diag("got '%s', want '%s'", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

/* Without a plan, print it now: "1..N". */
static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
