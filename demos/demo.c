/*
 * demo.c: the list of scenarios, looked up by name.
 */
#include <string.h>

#include "demo.h"

const struct demo *demo_find(const char *name)
{
	if (!strcmp(name, demo_product.name))
		return &demo_product;
	if (!strcmp(name, demo_coupon.name))
		return &demo_coupon;
	return NULL;
}

int demo_strategy_index(const struct demo *d, const char *name)
{
	for (int i = 0; i < DEMO_STRATEGIES; i++)
		if (!strcmp(d->strategies[i].name, name))
			return i;
	return -1;
}
