/*
 * demo.h: the scenarios racelab ships (one file each in demos/), looked up by
 * name.  What a scenario is lives in core/scenario.h.
 */
#ifndef RACELAB_DEMO_H
#define RACELAB_DEMO_H

#include "../core/scenario.h"

extern const struct scenario demo_product;
extern const struct scenario demo_coupon;
extern const struct scenario demo_tickets;
extern const struct scenario demo_transfer;

/* Every shipped scenario, the default first, ended by NULL. */
extern const struct scenario *const demo_scenarios[];

/* The scenario called NAME, or NULL. */
const struct scenario *demo_find(const char *name);

#endif
