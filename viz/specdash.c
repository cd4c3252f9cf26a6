/*
 * specdash.c: a spec on the dashboard: the UI loop and the drawing; see
 * specdash.h.
 *
 * DESIGN: the player (core/specplay.c) runs the SQL on a thread of its own;
 * this loop only reads its state under its lock, draws, reads a key, and asks
 * it for the next step when the pace says so or a key does.  Keys typed while a
 * step is on its way are queued and taken in order; a key the player cannot
 * take (a session whose step has not completed, or that has no step left) is
 * refused on the status line and drops the keys typed after it.
 *
 * The timeline: each lane is a session; every event takes the next row, so
 * reading down is reading in time, and what a step returned hangs below it on
 * its own lane while the next event starts one row lower on another.  When the
 * timeline is taller than the screen, its latest rows are shown.
 */
#include "specdash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "draw.h"
#include "screen.h"
#include "viz.h"

#define CTRL(c) ((c) & 0x1f)
#define LOOP_MS 30              /* the loop's key timeout */
#define KEYQ 16                 /* keys typed ahead of the player */
#define LANE_MIN 18             /* narrower, a lane cannot show a step's name and SQL */
#define ROWS_MIN 12
#define SPEC_PACE_MS 1000       /* a step a second: time to read each one */
#define TABLE_ROWS 6            /* rows of a result shown; the rest counted */

static const int paces[] = { 0, 1, 2, 5, 10, 20, 50, 100, 150, 250, 400, 600, 1000, 1500 };
#define NPACES ((int)(sizeof paces / sizeof *paces))

struct sdash {
	struct specplay *p;
	const struct viz_spec_host *h;
	const struct spec *sp;
	int perm;                       /* the permutation shown */
	int step;                       /* step mode */
	int paused;
	int help;
	int pace_ms;
	int64_t next_at;                /* play mode: when the next step goes */
	int keys[KEYQ], nkeys;          /* queued: 1-9 a session, 0 n */
	char message[200];
	int message_bad;
	int quit;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(struct sdash *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct sdash *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->message, sizeof d->message, fmt, ap);
	va_end(ap);
}

/* ---- text ---------------------------------------------------------------- */

/* SQL on one line: every run of blanks one space. */
static void one_line(const char *sql, char *buf, size_t n)
{
	size_t len = 0;
	int space = 0;

	for (const char *s = sql; *s && len + 1 < n; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = len > 0;
			continue;
		}
		if (space && len + 2 < n)
			buf[len++] = ' ';
		space = 0;
		buf[len++] = *s;
	}
	buf[len] = '\0';
}

/* S cut to W columns, ending in "…" when cut. */
static void fit(const char *s, int w, char *buf, size_t n)
{
	char lines[1][VIZ_WRAP];

	if (viz_width(s) <= w) {
		snprintf(buf, n, "%s", s);
		return;
	}
	if (w <= 1) {
		snprintf(buf, n, "%s", w == 1 ? "…" : "");
		return;
	}
	/* Byte by byte, back from the end, until it fits with the ellipsis. */
	snprintf(lines[0], sizeof lines[0], "%s", s);
	for (size_t len = strlen(lines[0]); len > 0; len--) {
		if (((unsigned char)lines[0][len] & 0xc0) == 0x80)
			continue;
		lines[0][len] = '\0';
		if (viz_width(lines[0]) + 1 <= w)
			break;
	}
	snprintf(buf, n, "%s…", lines[0]);
}

/* ---- the timeline: items laid out on lanes --------------------------------- */

#define CELL_LINES 12

struct cell_line {
	char text[VIZ_WRAP];
	enum viz_style st;
	int full;                       /* across every lane (a note) */
	int bold;                       /* bytes at the start drawn bold: a step's name */
};

/* The lines item IT takes on a lane W columns wide. */
static int item_lines(const struct spec *sp, const struct specplay_item *it, int w,
                      int newest, int sql_lines, struct cell_line *out)
{
	const struct viz_glyphs *g = viz_glyphs();
	char sql[VIZ_WRAP * 4], text[VIZ_WRAP * 5], wrapped[3][VIZ_WRAP];
	int n = 0;

#define LINE(style, fmt, s) do { if (n < CELL_LINES) { \
	snprintf(out[n].text, sizeof out[n].text, fmt, (int)sizeof out[n].text - 1, s); \
	out[n].st = (style); out[n].full = out[n].bold = 0; n++; } } while (0)
	switch (it->kind) {
	case SPI_STEP: {
		enum viz_style style = it->waiting ? VS_WAIT : newest && !it->nresults ? VS_NEWEST
		                       : it->waited ? VS_DIM : VS_NORMAL;

		one_line(sp->steps[it->step].sql, sql, sizeof sql);
		snprintf(text, sizeof text, "%s%s%s %s", it->waiting ? g->wait : "",
		         it->waiting ? " " : "", sp->steps[it->step].name, sql);
		if (sql_lines > 1 && viz_width(text) > w) {
			int k = viz_wrap(text, w, wrapped, sql_lines);

			for (int i = 0; i < k; i++)
				LINE(style, "%.*s", wrapped[i]);
		} else {
			fit(text, w, sql, sizeof sql);
			LINE(style, "%.*s", sql);
		}
		if (n > 0 && !it->waiting)
			out[0].bold = (int)strlen(sp->steps[it->step].name);
		break;
	}
	case SPI_COMPLETED:
		snprintf(text, sizeof text, "%s <... completed>", sp->steps[it->step].name);
		fit(text, w, sql, sizeof sql);
		LINE(newest && !it->nresults ? VS_NEWEST : VS_NORMAL, "%.*s", sql);
		break;
	case SPI_NOTICE: {
		int k;

		snprintf(text, sizeof text, "%s", it->text ? it->text : "");
		text[strcspn(text, "\n")] = '\0';
		k = viz_wrap(text, w, wrapped, 2);
		for (int i = 0; i < k; i++)
			LINE(VS_DIM, "%.*s", wrapped[i]);
		return n;
	}
	case SPI_NOTE:
		LINE(VS_BAD, "%.*s", it->text ? it->text : "");
		out[n - 1].full = 1;
		return n;
	}
	for (int r = 0; r < it->nresults; r++) {
		const struct specplay_result *res = &it->results[r];

		if (res->error) {
			int k = viz_wrap(res->error, w, wrapped, 3);

			for (int i = 0; i < k; i++)
				LINE(VS_BAD, "%.*s", wrapped[i]);
			continue;
		}
		if (res->ncols == 0)
			continue;
		if (res->nrows == 0) {
			snprintf(text, sizeof text, "%s 0 rows", g->utf8 ? "→" : "->");
			LINE(VS_DIM, "%.*s", text);
		} else if (res->nrows == 1) {
			size_t len = (size_t)snprintf(text, sizeof text, "%s", g->utf8 ? "→" : "->");

			for (int c = 0; c < res->ncols && len < sizeof text; c++)
				len += (size_t)snprintf(text + len, sizeof text - len, "%s %s = %s",
				                        c ? "," : "", res->names[c] ? res->names[c] : "",
				                        res->cells[c] ? res->cells[c] : "NULL");
			fit(text, w, sql, sizeof sql);
			LINE(VS_BOLD, "%.*s", sql);
		} else {
			/* The tester's table, without its rule and its count of rows. */
			db_table t = { res->ncols, res->nrows < TABLE_ROWS ? res->nrows : TABLE_ROWS,
			               (const char *const *)res->names,
			               (const char *const *)res->cells };
			char *buf = NULL;
			size_t blen = 0;
			FILE *f = open_memstream(&buf, &blen);
			int line = 0;

			if (!f)
				continue;
			specrun_print_table(f, &t);
			fclose(f);
			for (char *s = buf, *e; s && *s; s = e ? e + 1 : NULL, line++) {
				e = strchr(s, '\n');
				if (e)
					*e = '\0';
				if (line == 1 || !*s || *s == '(')
					continue;       /* the rule, the count, the blank line */
				fit(s, w, sql, sizeof sql);
				LINE(line == 0 ? VS_DIM : VS_BOLD, "%.*s", sql);
			}
			free(buf);
			if (res->nrows > TABLE_ROWS) {
				snprintf(text, sizeof text, "… %d rows", res->nrows);
				LINE(VS_DIM, "%.*s", text);
			}
		}
	}
#undef LINE
	return n;
}

/* ---- drawing --------------------------------------------------------------- */

static int lane_x(int cols, int nlanes, int i)
{
	return i * (cols + 1) / nlanes;
}

static int lane_w(int cols, int nlanes, int i)
{
	int end = i + 1 == nlanes ? cols : lane_x(cols, nlanes, i + 1) - 1;

	return end - lane_x(cols, nlanes, i);
}

static void draw_too_small(WINDOW *w, int nlanes)
{
	int rows, cols, need = nlanes * (LANE_MIN + 1) - 1;
	char msg[160];

	getmaxyx(w, rows, cols);
	werase(w);
	if (need < 60)
		need = 60;
	snprintf(msg, sizeof msg, "Terminal too small (%dx%d): this spec's %d sessions need"
	         " %dx%d. Enlarge it, or q to quit.", cols, rows, nlanes, need, ROWS_MIN);
	if (viz_width(msg) > cols)
		snprintf(msg, sizeof msg, "too small: need %dx%d, q quits", need, ROWS_MIN);
	viz_put(w, rows / 2, 0, cols, VS_BOLD, msg);
}

/* The tester's line for the latest event: what `racelab spec` prints for it. */
static void tester_line(const struct spec *sp, const struct specplay_state *st, char *buf,
                        size_t n)
{
	char sql[VIZ_WRAP * 4];

	buf[0] = '\0';
	for (int i = st->nitems - 1; i >= 0; i--) {
		const struct specplay_item *it = &st->items[i];

		if (it->kind == SPI_NOTE || it->kind == SPI_NOTICE)
			continue;
		one_line(sp->steps[it->step].sql, sql, sizeof sql);
		if (it->kind == SPI_COMPLETED)
			snprintf(buf, n, "step %s: <... completed>", sp->steps[it->step].name);
		else if (it->waiting)
			snprintf(buf, n, "step %s: %.700s <waiting ...>", sp->steps[it->step].name, sql);
		else
			snprintf(buf, n, "step %s: %.700s", sp->steps[it->step].name, sql);
		return;
	}
}

static void draw_footer(WINDOW *w, int y, int cols, struct sdash *d)
{
	struct viz_footer_key keys[10];
	int n = 0;

#define KEY(k, wh, o) (snprintf(keys[n].key, sizeof keys[n].key, "%s", k), \
                       keys[n].what = (wh), keys[n].optional = (o), n++)
	if (d->step) {
		char sess[12];

		snprintf(sess, sizeof sess, d->sp->nsessions > 1 ? "1-%d" : "1",
		         d->sp->nsessions < 9 ? d->sp->nsessions : 9);
		KEY(sess, "step", 0);
		KEY("n", "next", 0);
		KEY("u", "undo", 0);
		KEY("s", "play", 0);
	} else {
		KEY("space", d->paused ? "resume" : "pause", 0);
		KEY("+", "faster", 1);
		KEY("-", "slower", 1);
		KEY("s", "step", 0);
	}
	if (d->sp->nperms > 1)
		KEY("< >", "permutation", 0);
	KEY("r", "again", 1);
	KEY("?", d->help ? "close help" : "help", 0);
	KEY("q", "quit", 0);
#undef KEY
	viz_draw_keys(w, y, cols, keys, n);
}

static void draw_help(WINDOW *w, struct sdash *d)
{
	const struct viz_glyphs *g = viz_glyphs();
	static const char *const plain[][2] = {
		{ "lanes", "one per session, numbered: the key that moves it" },
		{ "name SQL", "a step, on its session's lane, when it is sent" },
		{ "", "" },                     /* the wait, drawn below */
		{ "<... completed>", "a step that waited ends here; its rows come below" },
		{ "→ col = value", "what a step returned; ERROR: what was refused" },
		{ "next ...", "what each session does next in this permutation" },
		{ "space", "pause or resume the play" },
		{ "+ -", "faster, slower: the delay before each step" },
		{ "s", "step mode: you choose; s again lets it play" },
		{ "1-9", "step mode: that session's next step (not while it waits)" },
		{ "n", "step mode: the next step in the spec's order" },
		{ "u", "undo: the steps but the last, replayed afresh" },
		{ "< >", "the previous or next permutation, from scratch" },
		{ "r", "this permutation again, from scratch" },
		{ "q", "quit, and print the tester's text of what ran" },
	};

	int nl = (int)(sizeof plain / sizeof plain[0]), rows, cols, width, h, y0, x0, keyw = 16;
	char wait[64];

	getmaxyx(w, rows, cols);
	width = cols - 2 < 80 ? cols - 2 : 80;
	h = nl + 4 < rows ? nl + 4 : rows;
	y0 = (rows - h) / 2;
	x0 = (cols - width) / 2;
	if (width < 30)
		return;
	for (int y = y0; y < y0 + h; y++) {
		wattrset(w, A_NORMAL);
		mvwhline(w, y, x0, ' ', width);
	}
	viz_box(w, y0, x0, h, width);
	viz_put(w, y0, x0 + 2, width - 4, VS_TITLE, " What you see ");
	snprintf(wait, sizeof wait, "%s name SQL", g->wait);
	for (int i = 0; i < nl && y0 + 2 + i < y0 + h - 1; i++) {
		int y = y0 + 2 + i;

		if (i == 2) {
			viz_put(w, y, x0 + 2, keyw, VS_WAIT, wait);
			viz_put(w, y, x0 + 2 + keyw + 1, width - keyw - 5, VS_NORMAL,
			        "waiting for a lock, for as long as it waits");
			continue;
		}
		viz_put(w, y, x0 + 2, keyw, i >= 6 ? VS_KEY : VS_BOLD, plain[i][0]);
		viz_put(w, y, x0 + 2 + keyw + 1, width - keyw - 5, VS_NORMAL, plain[i][1]);
	}
	(void)d;
}

/* The steps were taken in an order other than the permutation's. */
static int own_order(const struct specplay_state *st)
{
	for (int j = 0; j < st->ntaken; j++)
		if (st->order[j] != j)
			return 1;
	return 0;
}

static void draw(WINDOW *w, struct sdash *d, const struct specplay_state *st)
{
	const struct spec *sp = d->sp;
	const struct viz_glyphs *g = viz_glyphs();
	int rows, cols, nl = sp->nsessions, top = 3, bottom, height, used, sw;
	int *start, *end, total = 0, last_start = -1, newest, sql_lines;
	char buf[VIZ_WRAP * 4], right[96], text[VIZ_WRAP * 4];
	struct cell_line lines[CELL_LINES];

	getmaxyx(w, rows, cols);
	if (cols < nl * (LANE_MIN + 1) - 1 || cols < 60 || rows < ROWS_MIN) {
		draw_too_small(w, nl);
		return;
	}
	werase(w);
	bottom = rows - 4;              /* a rule, the next row, the tester's line, the keys */
	height = bottom - top;

	/* Title: what plays, and on what. */
	snprintf(right, sizeof right, "%s %s %s", d->h->backend, g->dot,
	         d->h->version ? d->h->version : "");
	used = viz_put(w, 0, 0, cols, VS_BOLD, "racelab ");
	used += viz_put(w, 0, used, cols - used, VS_BOLD, d->h->title);
	snprintf(buf, sizeof buf, " %s permutation %d of %d%s", g->dot, st->perm + 1, sp->nperms,
	         own_order(st) ? ", your order" : "");
	used += viz_put(w, 0, used, cols - used, VS_NORMAL, buf);
	if (used + 2 + viz_width(right) > cols)        /* the version alone, if it fits */
		snprintf(right, sizeof right, "%s", d->h->version ? d->h->version : "");
	if (used + 2 + viz_width(right) <= cols)
		viz_put(w, 0, cols - viz_width(right), viz_width(right), VS_DIM, right);

	/* Status: what is happening, and the speed or the steps taken. */
	if (d->step || st->finished)
		snprintf(right, sizeof right, "%d of %d steps", st->ntaken, st->nsteps);
	else
		snprintf(right, sizeof right, d->pace_ms ? "speed %d ms/step" : "full speed",
		         d->pace_ms);
	sw = viz_width(right);
	used = 0;
	if (d->message[0]) {
		used += viz_put(w, 1, 0, cols, VS_KEY, d->step ? " STEP " : " NOTE ");
		used += viz_put(w, 1, used, cols - used - sw - 1, d->message_bad ? VS_BAD : VS_BOLD,
		                " ");
		used += viz_put(w, 1, used, cols - used - sw - 1, d->message_bad ? VS_BAD : VS_BOLD,
		                d->message);
	} else if (st->replaying) {
		used += viz_put(w, 1, 0, cols, VS_WAIT, st->ntaken || d->step ? " UNDO " : " NEW ");
		used += viz_put(w, 1, used, cols - used - sw - 1, VS_NORMAL,
		                " replaying on a fresh database…");
	} else if (st->finished) {
		int bad = 0;

		buf[0] = '\0';
		if (st->status == SPECRUN_OK && d->h->verdict &&
		    d->h->verdict(d->h->verdict_arg, st, buf, sizeof buf, &bad) == 0 && buf[0]) {
			used += viz_put(w, 1, 0, cols - sw - 1, bad ? VS_LOST : VS_OK, buf);
		} else {
			snprintf(buf, sizeof buf, "%s", st->status == SPECRUN_OK ? "permutation finished"
			         : st->status == SPECRUN_FAILED ? "the permutation did not run through"
			         : "stopped");
			used += viz_put(w, 1, 0, cols - sw - 1, st->status == SPECRUN_OK ? VS_BOLD
			                : VS_BAD, buf);
			snprintf(buf, sizeof buf, st->perm + 1 < sp->nperms
			         ? ": > the next, r again, q quit" : ": r again, q quit");
			used += viz_put(w, 1, used, cols - used - sw - 1, VS_NORMAL, buf);
		}
	} else if (st->ending) {
		used += viz_put(w, 1, 0, cols - sw - 1, VS_NORMAL,
		                "every step taken: the last ones end, then the teardown");
	} else if (d->step && !st->busy) {
		int n = nl < 9 ? nl : 9;

		used += viz_put(w, 1, 0, cols, VS_KEY, " STEP ");
		snprintf(buf, sizeof buf, cols >= 110
		         ? " your move: %s takes that session's next step, n the permutation's next"
		         : " your move: %s picks the session, n the listed order", n == 1 ? "1"
		         : n == 2 ? "1 or 2" : (snprintf(text, sizeof text, "1 to %d", n), text));
		used += viz_put(w, 1, used, cols - used - sw - 1, VS_NORMAL, buf);
	} else if (d->step) {
		used += viz_put(w, 1, 0, cols, VS_KEY, " STEP ");
		used += viz_put(w, 1, used, cols - used - sw - 1, VS_NORMAL, " moving…");
	} else if (d->paused) {
		used += viz_put(w, 1, 0, cols, VS_WAIT, " PAUSED ");
		used += viz_put(w, 1, used, cols - used - sw - 1, VS_NORMAL, " space resumes");
	} else {
		used += viz_put(w, 1, 0, cols - sw - 1, VS_BOLD, "playing");
	}
	if (used + sw + 2 <= cols)
		viz_put(w, 1, cols - sw, sw, VS_NORMAL, right);

	/* Lane titles: the key, the session's name. */
	wattrset(w, A_NORMAL);
	mvwhline_set(w, 2, 0, WACS_HLINE, cols);
	mvwhline_set(w, bottom, 0, WACS_HLINE, cols);
	for (int i = 0; i < nl; i++) {
		int x = lane_x(cols, nl, i), lw = lane_w(cols, nl, i);

		if (i) {
			mvwadd_wch(w, 2, x - 1, WACS_TTEE);
			mvwvline_set(w, top, x - 1, WACS_VLINE, height);
			mvwadd_wch(w, bottom, x - 1, WACS_BTEE);
		}
		snprintf(buf, sizeof buf, " %d ", i + 1);
		used = i < 9 ? viz_put(w, 2, x + 1, lw - 1, VS_KEY, buf) : 0;
		snprintf(buf, sizeof buf, " %s ", sp->sessions[i].name);
		viz_put(w, 2, x + 1 + used, lw - 1 - used, VS_TITLE, buf);
	}

	/* The timeline: where each item starts, then the latest rows that fit. */
	start = calloc((size_t)st->nitems + 1, sizeof *start);
	end = calloc((size_t)nl + 1, sizeof *end);
	if (!start || !end) {
		free(start);
		free(end);
		return;
	}
	/* A step's SQL on two lines where the lane is narrow, if it all fits so. */
	for (sql_lines = 2; sql_lines >= 1; sql_lines--) {
		memset(end, 0, (size_t)nl * sizeof *end);
		total = 0;
		last_start = -1;
		for (int i = 0; i < st->nitems; i++) {
			const struct specplay_item *it = &st->items[i];
			int lw = it->session >= 0 ? lane_w(cols, nl, it->session) : cols;
			int k = item_lines(sp, it, lw, 0, sql_lines, lines), s = last_start + 1;

			if (it->session < 0) {
				for (int j = 0; j < nl; j++)
					s = end[j] > s ? end[j] : s;
				for (int j = 0; j < nl; j++)
					end[j] = s + k;
			} else {
				s = end[it->session] > s ? end[it->session] : s;
				end[it->session] = s + k;
			}
			start[i] = last_start = s;
			total = s + k > total ? s + k : total;
		}
		if (total <= height)
			break;
	}
	if (sql_lines < 1)
		sql_lines = 1;
	newest = st->nitems - 1;
	{
		int first = total > height ? total - height : 0;

		for (int i = 0; i < st->nitems; i++) {
			const struct specplay_item *it = &st->items[i];
			int x = it->session >= 0 ? lane_x(cols, nl, it->session) : 0;
			int lw = it->session >= 0 ? lane_w(cols, nl, it->session) : cols;
			int k = item_lines(sp, it, lw, i == newest, sql_lines, lines);

			for (int j = 0; j < k; j++) {
				int y = start[i] + j - first;

				if (y < 0 || y >= height)
					continue;
				if (lines[j].full) {
					wattrset(w, A_NORMAL);
					mvwhline(w, top + y, 0, ' ', cols);
				}
				if (lines[j].bold && lines[j].st != VS_DIM &&
				    (size_t)lines[j].bold < strlen(lines[j].text) &&
				    lines[j].text[lines[j].bold] == ' ') {
					char name[VIZ_WRAP];
					int nw;

					snprintf(name, sizeof name, "%.*s", lines[j].bold, lines[j].text);
					nw = viz_put(w, top + y, x, lw, VS_BOLD, name);
					viz_put(w, top + y, x + nw, lw - nw, lines[j].st,
					        lines[j].text + lines[j].bold);
				} else {
					viz_put(w, top + y, x, lw, lines[j].st, lines[j].text);
				}
			}
		}
		if (first > 0) {
			snprintf(buf, sizeof buf, " %d earlier row%s above ", first, first == 1 ? "" : "s");
			viz_put(w, 2, cols - viz_width(buf) - 1, viz_width(buf), VS_DIM, buf);
		}
	}
	free(start);
	free(end);

	/* Under the lanes: what each session does next. */
	for (int i = 0; i < nl; i++) {
		int x = lane_x(cols, nl, i), lw = lane_w(cols, nl, i);
		int j = specplay_session_next(st, sp, i);

		if (st->running && st->running[i] && !st->finished) {
			snprintf(buf, sizeof buf, "%s its step waits", g->wait);
			viz_put(w, bottom + 1, x, lw, VS_WAIT, buf);
		} else if (j >= 0) {
			const struct spec_step *ss = &sp->steps[sp->perms[st->perm].steps[j].step];

			one_line(ss->sql, text, sizeof text);
			snprintf(buf, sizeof buf, "next %.60s: %.900s", ss->name, text);
			fit(buf, lw, text, sizeof text);
			viz_put(w, bottom + 1, x, lw, VS_DIM, text);
		} else {
			viz_put(w, bottom + 1, x, lw, VS_DIM, st->finished ? "" : "no step left");
		}
		if (i)
			mvwadd_wch(w, bottom + 1, x - 1, WACS_VLINE);
	}
	/* The tester's own line for the latest step, whole as the width allows. */
	tester_line(sp, st, text, sizeof text);
	fit(text, cols, buf, sizeof buf);
	viz_put(w, rows - 2, 0, cols, VS_DIM, buf);
	draw_footer(w, rows - 1, cols, d);
	if (d->help)
		draw_help(w, d);
}

/* ---- keys ---------------------------------------------------------------- */

static void set_pace(struct sdash *d, int dir)
{
	int best = 0;

	for (int i = 0; i < NPACES; i++)
		if (abs(paces[i] - d->pace_ms) < abs(paces[best] - d->pace_ms))
			best = i;
	best += dir;
	if (best >= 0 && best < NPACES)
		d->pace_ms = paces[best];
}

/* Play permutation PERM from scratch. */
static void start_perm(struct sdash *d, int perm)
{
	d->perm = perm;
	d->nkeys = 0;
	d->message[0] = '\0';
	specplay_start(d->p, perm, NULL, 0);
}

/* u: the steps taken but the last, replayed on a fresh area. */
static void undo(struct sdash *d)
{
	const struct specplay_state *st;
	int n, *order = NULL;

	specplay_lock(d->p);
	st = specplay_state(d->p);
	n = st->ntaken;
	if (n > 0 && (order = malloc((size_t)n * sizeof *order)))
		memcpy(order, st->order, (size_t)n * sizeof *order);
	specplay_unlock(d->p);
	d->nkeys = 0;
	if (n == 0) {
		say(d, "nothing to undo: no step has been taken yet");
		return;
	}
	if (!order) {
		say(d, "cannot undo: out of memory");
		return;
	}
	d->step = 1;                    /* undo is stepping */
	d->message[0] = '\0';
	specplay_start(d->p, d->perm, order, n - 1);
	free(order);
}

/* Take the queued keys, as long as the player is free; refuse what it cannot
 * take, with why. */
static void take_keys(struct sdash *d)
{
	while (d->nkeys) {
		const struct specplay_state *st;
		int key = d->keys[0], j, s = key - 1, running, finished, busy;
		enum specplay_take rc;

		specplay_lock(d->p);
		st = specplay_state(d->p);
		busy = st->busy;
		finished = st->finished;
		j = key ? specplay_session_next(st, d->sp, s) : specplay_next(st, d->sp);
		running = key && st->running[s];
		specplay_unlock(d->p);
		if (busy)
			return;
		d->message[0] = '\0';
		if (finished) {
			d->nkeys = 0;
			if (key == 0 && d->perm + 1 < d->sp->nperms)
				start_perm(d, d->perm + 1);
			else
				say(d, "this permutation is over: %sr plays it again, u undoes its last"
				    " step", d->perm + 1 < d->sp->nperms ? "> or n goes to the next, " : "");
			return;
		}
		if (key && running) {
			d->nkeys = 0;
			say(d, "%s's step waits: move another session", d->sp->sessions[s].name);
			return;
		}
		if (j < 0) {
			d->nkeys = 0;
			if (key)
				say(d, "%s has no step left in this permutation", d->sp->sessions[s].name);
			return;
		}
		rc = specplay_take(d->p, j);
		if (rc == SPT_BUSY)
			return;
		memmove(d->keys, d->keys + 1, (size_t)--d->nkeys * sizeof *d->keys);
	}
}

static void queue_key(struct sdash *d, int key)
{
	if (key > d->sp->nsessions) {
		say(d, "there is no session %d: this spec has %d (1 to %d)", key,
		    d->sp->nsessions, d->sp->nsessions);
		d->nkeys = 0;
		return;
	}
	d->step = 1;                    /* choosing is stepping */
	if (d->nkeys < KEYQ)
		d->keys[d->nkeys++] = key;
}

static void key(struct sdash *d, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		d->quit = 1;
		break;
	case ' ':
		if (d->step)
			say(d, "in step mode the keys move the sessions: s lets it play");
		else
			d->paused = !d->paused;
		break;
	case '+':
	case '=':
		set_pace(d, -1);
		break;
	case '-':
	case '_':
		set_pace(d, +1);
		break;
	case 's':
	case 'S':
		d->step = !d->step;
		d->nkeys = 0;
		d->paused = 0;
		d->message[0] = '\0';
		break;
	case 'n':
	case 'N':
		if (!d->step) {
			d->step = 1;
			d->message[0] = '\0';
		}
		if (d->nkeys < KEYQ)
			d->keys[d->nkeys++] = 0;
		break;
	case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8':
	case '9':
		queue_key(d, ch - '0');
		break;
	case 'u':
	case 'U':
		undo(d);
		break;
	case 'r':
	case 'R':
		start_perm(d, d->perm);
		break;
	case '>':
	case '.':
	case KEY_RIGHT:
		if (d->perm + 1 < d->sp->nperms)
			start_perm(d, d->perm + 1);
		else
			say(d, "this is the last permutation (%d of %d)", d->perm + 1, d->sp->nperms);
		break;
	case '<':
	case ',':
	case KEY_LEFT:
		if (d->perm > 0)
			start_perm(d, d->perm - 1);
		else
			say(d, "this is the first permutation");
		break;
	case '?':
	case 'h':
		d->help = !d->help;
		break;
	case 27:
		d->help = 0;
		break;
	case CTRL('l'):
		clearok(curscr, TRUE);
		break;
	}
}

/* Play mode: the next step when the pace says so; at the end of a permutation,
 * a pause to look at it, then the next. */
static void play(struct sdash *d)
{
	const struct specplay_state *st;
	int busy, finished, j, lost, ok;
	int64_t now = now_ms();

	specplay_lock(d->p);
	st = specplay_state(d->p);
	busy = st->busy || st->ending;
	finished = st->finished;
	lost = st->status == SPECRUN_LOST;
	ok = st->status == SPECRUN_OK;
	j = specplay_next(st, d->sp);
	specplay_unlock(d->p);
	if (lost && finished) {
		d->quit = 1;            /* the database is gone: say so after the screen */
		return;
	}
	if (busy) {
		d->next_at = now + (finished ? 3 : 1) * d->pace_ms;
		return;
	}
	if (d->step || d->paused || now < d->next_at)
		return;
	if (finished) {
		/* As racelab spec does, a permutation that did not run through ends it. */
		if (d->perm + 1 < d->sp->nperms && !d->message[0] && ok)
			start_perm(d, d->perm + 1);
		return;
	}
	if (j >= 0 && specplay_take(d->p, j) == SPT_OK)
		d->next_at = now + d->pace_ms;
}

enum specrun_status viz_spec_run(struct specplay *p, const struct viz_spec_host *h)
{
	struct sdash d = { .p = p, .h = h, .sp = h->spec, .perm = h->perm, .step = h->step };
	const char *env = getenv("RACELAB_PACE_MS");
	enum specrun_status status;
	int was_finished = 0;

	d.pace_ms = env && *env ? atoi(env) : SPEC_PACE_MS;
	if (d.pace_ms < 0)
		d.pace_ms = 0;
	if (viz_screen_open(stdout, stdin, NULL) != 0)
		return SPECRUN_LOST;
	start_perm(&d, d.perm);
	while (!d.quit && !h->interrupted()) {
		int ch;

		if (viz_screen_suspend())
			clearok(curscr, TRUE);
		take_keys(&d);
		play(&d);
		specplay_lock(p);
		{
			const struct specplay_state *st = specplay_state(p);

			/* When a play ends after a finished one restarted, hold it at first. */
			if (st->finished && !was_finished)
				d.next_at = now_ms() + 3 * d.pace_ms;
			was_finished = st->finished;
			draw(stdscr, &d, st);
		}
		specplay_unlock(p);
		wnoutrefresh(stdscr);
		doupdate();
		wtimeout(stdscr, LOOP_MS);
		ch = wgetch(stdscr);
		if (ch != ERR && ch != KEY_RESIZE)
			key(&d, ch);
	}
	viz_screen_close();
	specplay_lock(p);
	status = specplay_state(p)->status;
	if (!specplay_state(p)->finished && status == SPECRUN_OK)
		status = SPECRUN_OK;    /* quit in the middle: what ran is shown, not judged */
	specplay_unlock(p);
	return h->interrupted() ? SPECRUN_INTERRUPTED : status;
}
