/*
 * scenario.c: reading a scenario's declarations (scenario.h).
 */
#include "scenario.h"

#include <string.h>

int scn_nstrategies(const struct scenario *s)
{
	int n = 0;

	while (n < SCN_STRATEGIES && s->strategies[n].name)
		n++;
	return n;
}

int scn_strategy_index(const struct scenario *s, const char *name)
{
	for (int i = 0; i < scn_nstrategies(s); i++)
		if (!strcmp(s->strategies[i].name, name))
			return i;
	return -1;
}

int scn_step_index(const struct scn_strategy *st, const char *name)
{
	int i = 0;

	for (; i < SCN_STEPS && st->steps[i].name; i++)
		if (!strcmp(st->steps[i].name, name))
			return i;
	return i;
}

const struct scn_step *scn_step(const struct scn_strategy *st, const char *name)
{
	int i = scn_step_index(st, name);

	return i < SCN_STEPS && st->steps[i].name ? &st->steps[i] : NULL;
}

void scn_step_names(const struct scn_strategy *st, const char *names[SCN_STEPS + 1])
{
	int i = 0;

	for (; i < SCN_STEPS && st->steps[i].name; i++)
		names[i] = st->steps[i].name;
	names[i] = NULL;
}

int scn_has_role(const struct scn_strategy *st, enum scn_role role)
{
	for (int i = 0; i < SCN_STEPS && st->steps[i].name; i++)
		if (st->steps[i].role == role)
			return 1;
	return 0;
}

int scn_has_effect(const struct scn_strategy *st, unsigned effects)
{
	for (int i = 0; i < SCN_STEPS && st->steps[i].name; i++)
		if (st->steps[i].effects & effects)
			return 1;
	return 0;
}

int scn_role_writes(enum scn_role role)
{
	return role == ROLE_WRITE || role == ROLE_UPDATE || role == ROLE_CLAIM ||
	       role == ROLE_INSERT || role == ROLE_DELETE;
}

const char *scn_effects(const struct scenario *s, int64_t n)
{
	return n == 1 ? s->words.effect : s->words.effects;
}

const char *scn_ops(const struct scenario *s, int64_t n)
{
	return n == 1 ? s->words.op : s->words.ops;
}
