/*
 * demo.h: what a scenario declares: its schema, its strategies and its invariant.
 */
#ifndef RACELAB_DEMO_H
#define RACELAB_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "../core/db.h"
#include "../core/step.h"

#define DEMO_STRATEGIES 3
#define DEMO_STEPS 6

/* What the invariant check found in one strategy's area after the run. */
struct demo_check {
	int64_t expected;       /* what the invariant demands */
	int64_t observed;       /* what the database holds */
	int64_t anomalies;      /* violations: lost updates, extra redemptions */
	int64_t coupons;        /* coupon: coupons issued */
	int64_t double_redeemed;/* coupon: coupons redeemed more than once */
	int64_t discount_lost;  /* coupon: money given away by extra redemptions */
};

struct demo_strategy {
	const char *name;               /* naive, atomic, locked */
	int safe;                       /* must keep the invariant: an anomaly is a bug */
	const char *summary;            /* one line: what each operation does */
	const char *django;             /* the Django code it corresponds to */
	const char *steps[DEMO_STEPS];  /* step names in order, NULL-terminated */
	enum step_rc (*op)(struct worker *w);
};

struct demo {
	const char *name;               /* product, coupon */
	const char *title;              /* one line for --help and the dashboard */
	const char *effect;             /* what one committed effect is: "sale", "redemption" */
	int rounds;                     /* every thread starts each operation at a barrier */
	int default_ops;                /* -n when not given: a run of a moment */
	int default_think_ms;           /* --think when not given */
	int anomaly_cost;               /* money one anomaly gives away (coupon: its discount) */
	struct demo_strategy strategies[DEMO_STRATEGIES];

	/* Create the schema and the starting rows for OPS operations. */
	enum db_status (*setup)(const db_backend *db, db_conn *conn, int ops, char *err);
	/* Check the invariant; COMMITTED is what the workers committed, ROUNDS the
	 * number of operations each thread started (coupon: coupons in play). */
	enum db_status (*check)(const db_backend *db, db_conn *conn, int64_t committed,
	                        int rounds, struct demo_check *out, char *err);
	/* One sentence on a strategy's outcome, e.g. "269 of 1000 sales lost — lost update". */
	void (*verdict)(const struct demo_check *c, int64_t committed, char *buf, size_t n);
	/* The trace's closing line, after "result: ": what the database holds against
	 * what it should, and the anomaly by name, e.g. "number_sold = 1, expected 2:
	 * lost update (1 of 2 increments lost)".  Deterministic: golden files hold it. */
	void (*result)(const struct demo_check *c, int64_t committed, char *buf, size_t n);
};

extern const struct demo demo_product;
extern const struct demo demo_coupon;

/* The scenario called NAME, or NULL. */
const struct demo *demo_find(const char *name);
/* Index of strategy NAME in D, or -1. */
int demo_strategy_index(const struct demo *d, const char *name);

#endif
