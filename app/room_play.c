/*
 * room_play.c: what a room races, read from the scenario's declaration; see
 * room_play.h.  Nothing here names a scenario: a scenario that declares its
 * steps' SQL, arguments and flow, its key and its students' names can be raced
 * in a room, and one that does not is refused with the reason.
 */
#include "room_play.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../demos/demo.h"

int room_play_nsteps(const struct scn_strategy *st)
{
	int n = 0;

	while (n < SCN_STEPS && st->steps[n].name)
		n++;
	return n;
}

int room_play_reads(const struct scn_step *step)
{
	return step->role == ROLE_READ || step->role == ROLE_LOCK ||
	       step->key_arg == SCN_KEY_RESULT;
}

int room_play_writes_next(const struct scn_step *step)
{
	for (int i = 0; i < SCN_BINDS; i++)
		if (step->bind[i] == SCN_BIND_NEXT)
			return 1;
	return 0;
}

int room_play_goes_on(const struct scn_step *step, int64_t value, int64_t changes)
{
	switch (step->goes_on) {
	case SCN_GO_IF_ZERO:
		return value == 0;
	case SCN_GO_IF_ROW:
		return changes > 0;
	default:
		return 1;
	}
}

int room_play_skip_to(const struct scn_strategy *st, int i)
{
	int n = room_play_nsteps(st);

	while (++i < n)
		if (st->steps[i].role == ROLE_COMMIT)
			return i;
	return n;
}

int room_play_effect_step(const struct scn_strategy *st)
{
	int n = room_play_nsteps(st);

	for (int i = 0; i < n; i++)
		if (st->steps[i].role == ROLE_COMMIT)
			return i;
	for (int i = 0; i < n; i++)
		if (st->steps[i].effects & (EFF_USES | EFF_FROM_READ | EFF_ADDS))
			return i;
	return -1;
}

int room_play_fits(const struct scenario *s, const struct scn_strategy *st, char *why,
                   size_t n)
{
	int nsteps = room_play_nsteps(st), read = 0;

	if (!nsteps) {
		snprintf(why, n, "no steps are declared");
		return -1;
	}
	for (int i = 0; i < nsteps; i++) {
		const struct scn_step *step = &st->steps[i];

		if (!step->sql) {
			snprintf(why, n, "step %s declares no SQL", step->name);
			return -1;
		}
		for (int a = 0; a < SCN_BINDS; a++) {
			enum scn_bind b = step->bind[a];

			if ((b == SCN_BIND_KEY && !s->key_format) ||
			    (b == SCN_BIND_WHO && !s->who_format) ||
			    ((b == SCN_BIND_READ || b == SCN_BIND_NEXT) && !read)) {
				snprintf(why, n, "step %s binds $%d to what no declaration"
				         " gives", step->name, a + 1);
				return -1;
			}
		}
		read |= room_play_reads(step);
	}
	if (room_play_effect_step(st) < 0) {
		snprintf(why, n, "no step commits an effect");
		return -1;
	}
	return 0;
}

/* Append NAME to a list "a, b or c" of COUNT names so far, of TOTAL. */
static void list_add(char *buf, size_t n, const char *name, int count, int total)
{
	size_t len = strlen(buf);

	snprintf(buf + len, n - len, "%s%s", count == 0 ? "" : count == total - 1 ? " or "
	         : ", ", name);
}

void room_play_strategies(const struct scenario *s, char *buf, size_t n)
{
	char why[128];
	int total = 0, count = 0;

	buf[0] = '\0';
	for (int i = 0; i < scn_nstrategies(s); i++)
		total += room_play_fits(s, &s->strategies[i], why, sizeof why) == 0;
	for (int i = 0; i < scn_nstrategies(s); i++)
		if (room_play_fits(s, &s->strategies[i], why, sizeof why) == 0)
			list_add(buf, n, s->strategies[i].name, count++, total);
}

void room_play_scenarios(char *buf, size_t n)
{
	char names[256];
	int total = 0, count = 0;

	buf[0] = '\0';
	for (int i = 0; demo_scenarios[i]; i++) {
		room_play_strategies(demo_scenarios[i], names, sizeof names);
		total += names[0] != '\0';
	}
	for (int i = 0; demo_scenarios[i]; i++) {
		room_play_strategies(demo_scenarios[i], names, sizeof names);
		if (names[0])
			list_add(buf, n, demo_scenarios[i]->name, count++, total);
	}
}

const struct scn_strategy *room_play_strategy(const char *scenario, const char *name)
{
	const struct scenario *s = demo_find(scenario);
	int i = s && name ? scn_strategy_index(s, name) : -1;
	char why[128];

	if (i < 0 || room_play_fits(s, &s->strategies[i], why, sizeof why))
		return NULL;
	return &s->strategies[i];
}

int room_play_bind(const struct scenario *s, const struct scn_step *step, int who, int op,
                   int64_t read, char (*args)[24])
{
	int n = 0;

	for (; n < SCN_BINDS && step->bind[n] != SCN_BIND_NONE; n++) {
		switch (step->bind[n]) {
		case SCN_BIND_KEY:
			snprintf(args[n], sizeof args[n], s->key_format, op + 1);
			break;
		case SCN_BIND_WHO:
			snprintf(args[n], sizeof args[n], s->who_format, who);
			break;
		case SCN_BIND_READ:
			snprintf(args[n], sizeof args[n], "%" PRId64, read);
			break;
		case SCN_BIND_NEXT:
			snprintf(args[n], sizeof args[n], "%" PRId64, read + 1);
			break;
		case SCN_BIND_NONE:
			break;
		}
	}
	return n;
}

/* ---- the scenario's data and check, on the room's connection --------------------- */

static const struct scenario *scenario_of(const struct room_info *info, char *err)
{
	const struct scenario *s = demo_find(info->scenario);

	if (!s)
		snprintf(err, ROOM_ERRLEN, "the room plays scenario %s, which this racelab does"
		         " not know", info->scenario);
	return s;
}

int room_play_fresh(struct room_conn *c, const struct room_info *info, void *arg, char *err)
{
	const struct scenario *s = scenario_of(info, err);
	const struct scn_strategy *st = room_play_strategy(info->scenario, info->strategy);
	char why[DB_ERRLEN];

	(void)arg;
	if (!s)
		return -1;
	if (!st) {
		snprintf(err, ROOM_ERRLEN, "the room plays strategy %s, which this racelab cannot"
		         " play in a room", info->strategy);
		return -1;
	}
	if (s->setup(s, room_db(), room_db_conn(c), info->ops, why) != DB_OK ||
	    (st->schema && db_exec_all(room_db(), room_db_conn(c), st->schema, why) != DB_OK)) {
		snprintf(err, ROOM_ERRLEN, "cannot make the data: %.200s", why);
		return -1;
	}
	return 0;
}

int room_play_check(struct room_conn *c, const struct room_info *info, int64_t committed,
                    struct scn_check *out, char *err)
{
	const struct scenario *s = scenario_of(info, err);
	char why[DB_ERRLEN];

	memset(out, 0, sizeof *out);
	if (!s)
		return -1;
	/* every student started INFO->ops operations, each on its own resource */
	if (s->check(s, room_db(), room_db_conn(c), committed, info->ops, out, why) != DB_OK) {
		snprintf(err, ROOM_ERRLEN, "cannot check the data: %.200s", why);
		return -1;
	}
	return 0;
}

int room_play_count(struct room_conn *c, const struct room_info *info, int64_t *out,
                    char *err)
{
	struct scn_check check;

	if (room_play_check(c, info, 0, &check, err))
		return -1;
	*out = check.observed;
	return 0;
}

const char *room_play_count_label(const char *scenario)
{
	const struct scenario *s = demo_find(scenario);

	return !s ? "count" : s->words.observed ? s->words.observed
	       : s->words.value ? s->words.value : "count";
}
