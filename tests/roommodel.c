/*
 * roommodel.c: racelab room without a database: codes and names as the room
 * accepts them, and the projector's model — every row
 * applied exactly once and in order, whatever order rows are offered in; the
 * round's counts; who is done; a step that waited keeps its place on the lane.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/room.h"
#include "tap.h"

static struct room_row row(int student, int n, int round, char kind, const char *step,
                           int effect)
{
	struct room_row r = { .student = student, .n = n, .round = round, .kind = kind,
	                      .effect = effect, .value = n, .t_key = 1000 };

	snprintf(r.step, sizeof r.step, "%s", step);
	return r;
}

int main(void)
{
	char code[ROOM_CODE_LEN + 1], name[80];
	struct room_model m;
	int distinct = 0;

	/* codes */
	ok(room_code_valid("123456"), "six digits are a code");
	ok(!room_code_valid("12345") && !room_code_valid("1234567"), "five or seven digits are not");
	ok(!room_code_valid("12a456") && !room_code_valid("12345 ") && !room_code_valid(NULL),
	   "letters, spaces, NULL are not");
	room_code_new(code);
	ok(room_code_valid(code) && code[0] != '0', "a new code is six digits, the first not 0 (%s)",
	   code);
	for (int i = 0; i < 20; i++) {
		char other[ROOM_CODE_LEN + 1];

		room_code_new(other);
		distinct += strcmp(other, code) != 0;
	}
	ok(distinct >= 19, "new codes differ (%d of 20 differ from the first)", distinct);

	/* names */
	ok(room_name_valid("Ada"), "a plain name is fine");
	ok(room_name_valid("x'); DROP SCHEMA racelab_room_123456 CASCADE; --"),
	   "a hostile name is fine: it is data");
	ok(room_name_valid("Zoë Ōtsuka 李"), "UTF-8 letters are fine");
	ok(!room_name_valid(""), "an empty name is not");
	memset(name, 'x', 64);
	name[64] = '\0';
	ok(room_name_valid(name), "64 characters are fine");
	name[64] = 'x';
	name[65] = '\0';
	ok(!room_name_valid(name), "65 characters are not");
	ok(!room_name_valid("a\033[2Jb"), "an escape sequence is not");
	ok(!room_name_valid("a\nb") && !room_name_valid("a\tb") && !room_name_valid("a\177"),
	   "newline, tab, DEL are not");
	ok(!room_name_valid("a\302\205b"), "a C1 control character (NEL) is not");
	ok(!room_name_valid("a\377b") && !room_name_valid("a\300\257b") &&
	   !room_name_valid("a\355\240\200b"), "invalid, overlong, surrogate UTF-8 is not");

	/* the model: seats */
	room_model_init(&m);
	m.info.round = 1;
	is_int(room_model_join(&m, 3, "c", 103), 1, "a student joins");
	is_int(room_model_join(&m, 1, "a", 101), 1, "another joins, with a lower id");
	is_int(room_model_join(&m, 2, "x'); DROP SCHEMA x; --", 102), 1, "a third");
	is_int(room_model_join(&m, 1, "a", 101), 0, "joining twice adds nobody");
	ok(m.nseats == 3 && m.seats[0].id == 1 && m.seats[1].id == 2 && m.seats[2].id == 3,
	   "seats are kept in id order");
	is_str(room_model_seat(&m, 2)->name, "x'); DROP SCHEMA x; --", "a name is kept as it is");
	room_model_join(&m, 7, "a\033[2Jb\302\233c\377", 107);
	is_str(room_model_seat(&m, 7)->name, "a?[2Jb?c?",
	       "a name with control characters that got in another way is shown without them");
	room_model_seat(&m, 7)->gone = 1;      /* and leaves */
	ok(!room_model_seat(&m, 4), "no seat for a student who has not joined");

	/* exactly once, in order */
	{
		struct room_row r1 = row(1, 1, 1, ROOM_ROW_BEGIN, "begin-round", 0),
		                r2 = row(1, 2, 1, ROOM_ROW_DONE, "read", 0),
		                r3 = row(1, 3, 1, ROOM_ROW_DONE, "write", 1);

		is_int(room_model_apply(&m, &r1, 5000), 1, "row 1 is applied");
		is_int(room_model_apply(&m, &r3, 5000), -1, "row 3 before row 2 is not applied");
		is_int(m.out_of_order, 1, "and counted as out of order");
		is_int(room_model_apply(&m, &r2, 5000), 1, "row 2 is applied");
		is_int(room_model_apply(&m, &r2, 5000), 0, "row 2 offered again is not applied twice");
		is_int(room_model_apply(&m, &r3, 5000), 1, "row 3 now is");
		is_int(room_model_apply(&m, &r3, 5000), 0, "row 3 again is not");
		ok(m.steps == 2 && m.effects == 1 && m.total_rows == 3,
		   "two steps, one sale, three rows: each counted once");
		struct room_row ghost = row(9, 1, 1, ROOM_ROW_DONE, "read", 0);
		is_int(room_model_apply(&m, &ghost, 5000), -1, "a row of an unknown student is not applied");
	}

	/* a step that waited keeps its place */
	{
		struct room_row b = row(2, 1, 1, ROOM_ROW_BEGIN, "begin-round", 0),
		                w = row(2, 2, 1, ROOM_ROW_WAIT, "lock", 0),
		                d = row(2, 3, 1, ROOM_ROW_DONE, "lock", 0);
		struct room_seat *s = room_model_seat(&m, 2);

		room_model_apply(&m, &b, 0);
		room_model_apply(&m, &w, 0);
		ok(s->waiting && s->nlane == 1 && s->lane[0].kind == ROOM_ROW_WAIT,
		   "a waiting step shows as waiting");
		room_model_apply(&m, &d, 0);
		ok(!s->waiting && s->nlane == 1 && s->lane[0].kind == ROOM_ROW_DONE && s->lane[0].waited,
		   "done, it takes the wait's place and remembers it waited");
	}

	/* who is done */
	{
		struct room_row e1 = row(1, 4, 1, ROOM_ROW_END, "end", 0),
		                e2 = row(2, 4, 1, ROOM_ROW_END, "end", 0);

		room_model_apply(&m, &e1, 0);
		room_model_apply(&m, &e2, 0);
		ok(!room_model_round_done(&m), "not done while student 3 has not finished");
		room_model_seat(&m, 3)->gone = 1;
		ok(room_model_round_done(&m), "done once student 3 is gone");
		room_model_new_round(&m, 2);
		ok(!room_model_round_done(&m) && m.steps == 0 && m.effects == 0 &&
		   room_model_seat(&m, 1)->nlane == 0,
		   "a new round: nobody has finished it, counts and lanes start empty");
		struct room_row old = row(1, 5, 1, ROOM_ROW_DONE, "read", 0);
		room_model_apply(&m, &old, 0);
		is_int(m.steps, 0, "a late row of the last round does not count in this one");
		is_int(room_model_seat(&m, 1)->last_n, 5, "but it is applied, in order");
	}

	/* the lane keeps the newest */
	{
		struct room_seat *s = room_model_seat(&m, 1);
		int n = s->last_n;

		for (int i = 0; i < ROOM_LANE + 5; i++) {
			struct room_row r = row(1, ++n, 2, ROOM_ROW_DONE, i % 2 ? "write" : "read", i % 2);

			room_model_apply(&m, &r, 0);
		}
		ok(s->nlane == ROOM_LANE && s->lane[ROOM_LANE - 1].value == n,
		   "a full lane keeps the newest %d steps", ROOM_LANE);
	}

	/* delays for make bench */
	{
		struct room_row r = row(2, 5, 2, ROOM_ROW_DONE, "read", 0);

		ok(room_model_keep_lags(&m) == 0, "delays can be kept");
		room_model_apply(&m, &r, 1000 + 7000000);
		ok(m.nlags == 1 && m.lags[0] == 7000000, "a step's delay is now minus its key press");
	}

	room_model_done(&m);
	return done_testing();
}
