/*
 * registry.c: the list of scenarios racelab ships, looked up by name.  Adding a
 * scenario is its own file in demos/ and one line here.
 */
#include <string.h>

#include "demo.h"

const struct scenario *const demo_scenarios[] = {
	&demo_product,
	&demo_coupon,
	&demo_tickets,
	&demo_transfer,
	NULL,
};

const struct scenario *demo_find(const char *name)
{
	for (int i = 0; demo_scenarios[i]; i++)
		if (!strcmp(name, demo_scenarios[i]->name))
			return demo_scenarios[i];
	return NULL;
}
