/*
 * room.c (viz): drawing racelab room's two screens; see room.h.
 *
 * The projector, top to bottom: a title line (code, scenario, strategy, round);
 * the code in big digits beside the exact join command; one lane per student
 * (two columns of lanes when the room is full), each with the student's name,
 * how far they are and their newest steps, newest on the right; the live counts
 * and the verdict the database gave the last round; the keys.
 *
 * A name is shown as text, whatever it holds: names are checked on the way in
 * (no control characters), and viz_put writes them as characters.
 */
#include "room.h"

#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "screen.h"

/* Digits five rows high, '#' for a block. */
static const char *const big[10][5] = {
	{ "####", "#  #", "#  #", "#  #", "####" }, { "  # ", " ## ", "  # ", "  # ", " ###" },
	{ "####", "   #", "####", "#   ", "####" }, { "####", "   #", " ###", "   #", "####" },
	{ "#  #", "#  #", "####", "   #", "   #" }, { "####", "#   ", "####", "   #", "####" },
	{ "####", "#   ", "####", "#  #", "####" }, { "####", "   #", "  # ", " #  ", " #  " },
	{ "####", "#  #", "####", "#  #", "####" }, { "####", "#  #", "####", "   #", "####" },
};

int viz_room_start(void)
{
	if (viz_screen_open(stdout, stdin, NULL) != 0)
		return -1;
	nodelay(stdscr, TRUE);
	return 0;
}

void viz_room_stop(void)
{
	viz_screen_close();
}

int viz_room_key(void)
{
	int ch = getch();

	if (ch == KEY_RESIZE)
		return VIZ_ROOM_RESIZE;
	if (ch == KEY_ENTER)
		return '\n';
	return ch == ERR ? -1 : ch;
}

static void big_code(WINDOW *w, int y, int x, const char *code)
{
	const char *block = viz_glyphs()->utf8 ? "█" : "#";

	for (int row = 0; row < 5; row++) {
		int col = x;

		for (const char *d = code; *d; d++, col += 6) {
			const char *g = big[*d - '0'][row];

			for (int i = 0; g[i]; i++)
				if (g[i] == '#')
					viz_put(w, y + row, col + i, 1, VS_BOLD, block);
		}
	}
}

/* Does step NAME of ST show a value: what it read (or found and returned), or
 * what it wrote from what it read? */
static int shows_value(const struct scn_strategy *st, const char *name)
{
	const struct scn_step *step = st ? scn_step(st, name) : NULL;

	if (!step)
		return 0;
	if (step->role == ROLE_READ || step->role == ROLE_LOCK || step->key_arg == SCN_KEY_RESULT)
		return 1;
	for (int i = 0; i < SCN_BINDS; i++)
		if (step->bind[i] == SCN_BIND_NEXT)
			return 1;
	return 0;
}

/* The text of one step on a lane: "read=10", "lock⏳", "redeem-". */
static void lane_text(const struct scn_strategy *strategy, const struct room_lane_step *l,
                      char *buf, size_t n, enum viz_style *st)
{
	const struct viz_glyphs *g = viz_glyphs();

	*st = VS_NORMAL;
	switch (l->kind) {
	case ROOM_ROW_WAIT:
		snprintf(buf, n, "%s%s", l->step, g->wait);
		*st = VS_WAIT;
		break;
	case ROOM_ROW_SKIP:
		snprintf(buf, n, "%s-", l->step);
		*st = VS_DIM;
		break;
	case ROOM_ROW_ABORT:
		snprintf(buf, n, "%s", "rollback");
		*st = VS_BAD;
		break;
	default:
		if (shows_value(strategy, l->step))
			snprintf(buf, n, "%s%s=%lld", l->waited ? g->wait : "", l->step,
			         (long long)l->value);
		else
			snprintf(buf, n, "%s%s", l->waited ? g->wait : "", l->step);
		if (l->effect) {
			snprintf(buf + strlen(buf), n - strlen(buf), "%s", g->tick);
			*st = VS_OK;
		}
	}
}

#define NAME_COLS 20

static void draw_lane(WINDOW *w, int y, int x, int width, const struct room_model *m,
                      const struct scn_strategy *strategy, const struct room_seat *s)
{
	const struct viz_glyphs *g = viz_glyphs();
	char head[64], t[ROOM_LANE][40];
	enum viz_style st[ROOM_LANE];
	int used, first, room, need = 0;

	snprintf(head, sizeof head, "%3d ", s->id);
	viz_put(w, y, x, width, VS_DIM, head);
	viz_put(w, y, x + 4, NAME_COLS, s->gone ? VS_DIM : VS_BOLD, s->name);
	used = 4 + NAME_COLS + 1;
	if (s->gone)
		viz_put(w, y, x + used, width - used, VS_BAD, "gone");
	else if (s->round == m->info.round && s->finished && m->info.round)
		viz_put(w, y, x + used, width - used, VS_OK, "done");
	else if (s->waiting)
		viz_put(w, y, x + used, width - used, VS_WAIT, "wait");
	used += 5;
	snprintf(head, sizeof head, "%3lld%s", (long long)s->effects, g->tick);
	used += viz_put(w, y, x + used, width - used, VS_NORMAL, head) + 2;
	/* the newest steps that fit, left to right, an operation's steps together */
	room = width - used;
	for (first = s->nlane; first > 0; first--) {
		int i = first - 1, tw;

		lane_text(strategy, &s->lane[i], t[i], sizeof t[i], &st[i]);
		tw = viz_width(t[i]) + 1 + (i + 1 < s->nlane && s->lane[i + 1].op != s->lane[i].op);
		if (need + tw > room)
			break;
		need += tw;
	}
	for (int i = first; i < s->nlane; i++) {
		if (i > first && s->lane[i - 1].op != s->lane[i].op)
			used += viz_put(w, y, x + used, width - used, VS_DIM, g->sep) + 1;
		used += viz_put(w, y, x + used, width - used, st[i], t[i]) + 1;
	}
}

static const char *state_name(enum room_state s)
{
	return s == ROOM_RUNNING ? "running" : s == ROOM_ENDING ? "ending"
	       : s == ROOM_CLOSED ? "closed" : "over";
}

static void draw_projector(WINDOW *w, const struct room_model *m,
                           const struct viz_room_view *v)
{
	int rows, cols, here = 0, gone = 0, done = 0, y, lanes, percol, ncols, colw;
	char line[512];

	getmaxyx(w, rows, cols);
	werase(w);
	for (int i = 0; i < m->nseats; i++) {
		here += !m->seats[i].gone;
		gone += m->seats[i].gone;
		done += !m->seats[i].gone && m->seats[i].finished &&
		        m->seats[i].round == m->info.round;
	}
	if (m->info.round)
		snprintf(line, sizeof line, " racelab room %s %s %s %s %s %s round %d: %s ", v->code,
		         viz_glyphs()->dot, m->info.scenario, viz_glyphs()->dot, m->info.strategy,
		         viz_glyphs()->dot, m->info.round, state_name(m->info.state));
	else
		snprintf(line, sizeof line, " racelab room %s %s %s %s first round: %s ", v->code,
		         viz_glyphs()->dot, m->info.scenario, viz_glyphs()->dot, v->next_strategy);
	mvwhline(w, 0, 0, ' ' | viz_attr(VS_TITLE), cols);
	viz_put(w, 0, 0, cols, VS_TITLE, line);

	if (rows < 12 || cols < 60) {
		viz_put(w, 2, 0, cols, VS_BOLD, "Make this terminal larger (at least 60x12).");
		snprintf(line, sizeof line, "Room %s", v->code);
		viz_put(w, 3, 0, cols, VS_BOLD, line);
		return;
	}
	big_code(w, 2, 2, v->code);
	viz_put(w, 2, 40, cols - 40, VS_BOLD, v->title);
	snprintf(line, sizeof line, "%d student%s here%s%d gone %s %d finished this round",
	         here, here == 1 ? "" : "s", ", ", gone, viz_glyphs()->dot, done);
	viz_put(w, 4, 40, cols - 40, VS_NORMAL, line);
	viz_put(w, 6, 40, cols - 40, VS_NORMAL, "Join from your terminal:");
	/* the join command on a line of its own: it must be read whole */
	viz_put(w, 8, 2, cols - 2, VS_BOLD, v->join);

	/* lanes */
	y = 10;
	lanes = rows - y - 5;
	ncols = m->nseats > lanes ? 2 : 1;
	percol = lanes;
	colw = ncols == 2 ? (cols - 2) / 2 : cols - 2;
	if (!m->nseats)
		viz_put(w, y, 2, cols - 4, VS_DIM, "Nobody has joined yet.");
	for (int i = 0; i < m->nseats && i < percol * ncols; i++)
		draw_lane(w, y + i % percol, 1 + (i / percol) * (colw + 1), colw - 1, m,
		          v->strategy, &m->seats[i]);
	if (m->nseats > percol * ncols) {
		snprintf(line, sizeof line, "… and %d more", m->nseats - percol * ncols);
		viz_put(w, rows - 5, 2, cols - 4, VS_DIM, line);
	}

	/* counts and verdict */
	snprintf(line, sizeof line, "%s = %lld   %s %lld %ss committed this round  %s %lld steps",
	         v->count_label, (long long)m->count, viz_glyphs()->dot, (long long)m->effects,
	         v->effect, viz_glyphs()->dot, (long long)m->steps);
	viz_put(w, rows - 4, 1, cols - 2, VS_BOLD, line);
	if (v->verdict)
		viz_put(w, rows - 3, 1, cols - 2, v->verdict_bad ? VS_LOST : VS_OK, v->verdict);
	else if (v->message)
		viz_put(w, rows - 3, 1, cols - 2, VS_NORMAL, v->message);
	snprintf(line, sizeof line, " s start a round   e end it   r reset the data   "
	         "n/a/l next strategy: %s   q close the room ", v->next_strategy);
	viz_put(w, rows - 1, 0, cols, VS_KEY, line);
	if (v->verdict && v->message)
		viz_put(w, rows - 2, 1, cols - 2, VS_DIM, v->message);
}

void viz_room_projector(const struct room_model *m, const struct viz_room_view *v)
{
	draw_projector(stdscr, m, v);
	wnoutrefresh(stdscr);
	doupdate();
}

static void draw_student(WINDOW *w, const struct viz_room_student *s)
{
	const struct viz_glyphs *g = viz_glyphs();
	int rows, cols, y;
	char line[512];

	getmaxyx(w, rows, cols);
	werase(w);
	snprintf(line, sizeof line, " racelab room %s %s you are %s (student %d) ", s->code,
	         g->dot, s->name, s->id);
	mvwhline(w, 0, 0, ' ' | viz_attr(VS_TITLE), cols);
	viz_put(w, 0, 0, cols, VS_TITLE, line);
	if (s->info->round == 0 || !s->strategy)
		snprintf(line, sizeof line, "%s %s %s: waiting for the first round",
		         s->info->scenario, g->dot, s->info->strategy);
	else if (s->finished)
		snprintf(line, sizeof line, "%s %s %s %s round %d %s finished", s->info->scenario,
		         g->dot, s->strategy->name, g->dot, s->info->round, g->dot);
	else
		snprintf(line, sizeof line, "%s %s %s %s round %d %s operation %d of %d",
		         s->info->scenario, g->dot, s->strategy->name, g->dot, s->info->round,
		         g->dot, s->op + 1, s->info->ops);
	viz_put(w, 2, 1, cols - 2, VS_BOLD, line);

	y = 4;
	if (s->finished && s->info->round) {
		viz_put(w, y++, 1, cols - 2, VS_OK, "You have finished this round: watch the projector.");
	} else if (s->strategy && s->next >= 0) {
		const struct scn_step *st = &s->strategy->steps[s->next];

		snprintf(line, sizeof line, "Your next step: %s", st->name);
		viz_put(w, y++, 1, cols - 2, VS_BOLD, line);
		snprintf(line, sizeof line, "  %s%s%s%s", st->sql, s->next_args[0] ? "   (" : "",
		         s->next_args, s->next_args[0] ? ")" : "");
		viz_put(w, y++, 1, cols - 2, VS_NORMAL, line);
		if (s->waiting)
			viz_put(w, y++, 1, cols - 2, VS_WAIT, "waiting for a lock another student holds");
		else if (s->busy)
			viz_put(w, y++, 1, cols - 2, VS_DIM, "running…");
		else
			viz_put(w, y++, 1, cols - 2, VS_KEY, s->auto_run ? " running by itself (--auto) "
			        : " press SPACE to take it ");
	} else {
		viz_put(w, y++, 1, cols - 2, VS_DIM, "Waiting for the instructor to start a round.");
	}

	y++;
	viz_put(w, y++, 1, cols - 2, VS_BOLD, "Your lane:");
	{
		int x = 3, lastop = -1, first = 0, room = rows - y - 4;

		/* only the operations that fit: drop whole lines from the top */
		int lines = 0;

		for (int i = 0; i < s->nmine; i++)
			if (i == 0 || s->mine[i].op != s->mine[i - 1].op)
				lines++;
		for (; lines > room && first < s->nmine; first++)
			if (first + 1 < s->nmine && s->mine[first + 1].op != s->mine[first].op)
				lines--;
		for (int i = first; i < s->nmine; i++) {
			const struct viz_room_mine *mm = &s->mine[i];

			if (mm->op != lastop) {
				if (lastop >= 0)
					y++;
				snprintf(line, sizeof line, "op %d ", mm->op + 1);
				viz_put(w, y, 1, cols - 2, VS_DIM, line);
				x = 8;
				lastop = mm->op;
			}
			snprintf(line, sizeof line, "%s %s", mm->step, mm->text);
			if (x + viz_width(line) + 2 < cols) {
				viz_put(w, y, x, cols - x, mm->bad ? VS_BAD : VS_NORMAL, line);
				x += viz_width(line) + 2;
			}
		}
		if (s->nmine)
			y++;
	}
	snprintf(line, sizeof line, "Shared: %s = %lld  (everyone's; the projector has the verdict)",
	         s->count_label, (long long)s->count);
	viz_put(w, rows - 3, 1, cols - 2, VS_BOLD, line);
	if (s->message)
		viz_put(w, rows - 2, 1, cols - 2, VS_NORMAL, s->message);
	viz_put(w, rows - 1, 0, cols, VS_KEY, s->auto_run ? " q leave the room "
	        : " SPACE take your next step   q leave the room ");
}

void viz_room_student(const struct viz_room_student *s)
{
	draw_student(stdscr, s);
	wnoutrefresh(stdscr);
	doupdate();
}
