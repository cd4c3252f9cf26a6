/*
 * draw.c: the dashboard's drawing, from the model into a WINDOW; see draw.h.
 *
 * DESIGN: a lane is one line of a thread's latest operations, oldest on the left,
 * each written as its steps with the values seen and written ("read 10 write
 * 11").  Lanes are filled from the newest operation back and older ones drop off
 * the left edge, so a mark like "✗ overwrote T2's 11" stays on screen while the
 * thread goes on; a mark is written in full where it fits, else as its glyph.
 * Panels narrower than WORDS_COLS write steps by their first letter ("R 10 W 11"),
 * with the legend on the rule above the lanes.  The layout is worked out afresh
 * on every frame from the window's size, which is all a resize needs.
 */
#include "draw.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "../core/report.h"
#include "../core/trace.h"

/* ---- text ---------------------------------------------------------------- */

/* Decode one UTF-8 character (malformed bytes come out as '?'). */
static const char *next_cp(const char *s, unsigned *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	int n = u[0] < 0x80 ? 0 : u[0] >= 0xf0 ? 3 : u[0] >= 0xe0 ? 2 : u[0] >= 0xc0 ? 1 : -1;

	if (n < 0) {
		*cp = '?';
		return s + 1;
	}
	*cp = n ? u[0] & (0x3f >> n) : u[0];
	for (int i = 1; i <= n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*cp = '?';
			return s + i;
		}
		*cp = *cp << 6 | (u[i] & 0x3f);
	}
	return s + n + 1;
}

/* ASCII for the few non-ASCII characters racelab's texts use. */
static const char *ascii_for(unsigned cp)
{
	switch (cp) {
	case 0x2026: return "...";
	case 0x2014: case 0x2013: case 0x2212: case 0x00b7: return "-";
	case 0x2192: return "->";
	case 0x00d7: return "x";
	case 0x2502: return "|";
	case 0x2717: return "X";
	case 0x2713: return "+";
	case 0x23f3: return "~";
	case 0x21bb: return "@";
	default: return "?";
	}
}

/* Convert S to wide characters that fit MAXW columns; returns the count. */
static int widen(const char *s, int maxw, wchar_t *out, int outlen, int *cols)
{
	int n = 0, w = 0, utf8 = viz_glyphs()->utf8;

	while (*s && n < outlen) {
		unsigned cp;
		const char *sub;

		s = next_cp(s, &cp);
		if (cp >= 0x80 && !utf8) {
			for (sub = ascii_for(cp); *sub && n < outlen && w < maxw; sub++, w++)
				out[n++] = (wchar_t)*sub;
			if (*sub)
				break;
			continue;
		}
		int cw = wcwidth((wchar_t)cp);
		if (cw < 0) {
			cp = '?';
			cw = 1;
		}
		if (w + cw > maxw)
			break;
		out[n++] = (wchar_t)cp;
		w += cw;
	}
	*cols = w;
	return n;
}

int viz_width(const char *s)
{
	wchar_t buf[1024];
	int cols;

	widen(s, 1 << 20, buf, 1024, &cols);
	return cols;
}

int viz_put(WINDOW *w, int y, int x, int maxw, enum viz_style st, const char *s)
{
	wchar_t buf[1024];
	int cols, n;

	if (maxw <= 0 || !s)
		return 0;
	n = widen(s, maxw, buf, 1024, &cols);
	if (n > 0) {
		wattrset(w, (int)viz_attr(st));
		mvwaddnwstr(w, y, x, buf, n);
		wattrset(w, A_NORMAL);
	}
	return cols;
}

/* Like viz_put, with printf formatting. */
static int putf(WINDOW *w, int y, int x, int maxw, enum viz_style st, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static int putf(WINDOW *w, int y, int x, int maxw, enum viz_style st, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return viz_put(w, y, x, maxw, st, buf);
}

/* ---- lines: styled pieces of text, measured before they are drawn ---------- */

#define LINE_SEGS 48

struct line {
	struct { char text[56]; enum viz_style st; } seg[LINE_SEGS];
	int n;
	int width;
};

static void add(struct line *l, enum viz_style st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(struct line *l, enum viz_style st, const char *fmt, ...)
{
	va_list ap;

	if (l->n == LINE_SEGS)
		return;
	va_start(ap, fmt);
	vsnprintf(l->seg[l->n].text, sizeof l->seg[l->n].text, fmt, ap);
	va_end(ap);
	l->seg[l->n].st = st;
	l->width += viz_width(l->seg[l->n].text);
	l->n++;
}

/* Add TEXT, however long, in as many segments as it takes. */
static void add_text(struct line *l, enum viz_style st, const char *text)
{
	size_t max = sizeof l->seg[0].text - 1;

	while (*text) {
		size_t n = strlen(text);

		if (n > max) {
			n = max;
			while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
				n--;        /* not inside a UTF-8 character */
		}
		add(l, st, "%.*s", (int)n, text);
		text += n;
	}
}

static int put_line(WINDOW *w, int y, int x, int maxw, const struct line *l)
{
	int used = 0;

	for (int i = 0; i < l->n && used < maxw; i++)
		used += viz_put(w, y, x + used, maxw - used, l->seg[i].st, l->seg[i].text);
	return used;
}

#define WRAP_LEN VIZ_WRAP

/* The longest prefix of S, in bytes, that fits W columns (at least one character). */
static size_t fit_prefix(const char *s, size_t len, int w)
{
	size_t best = 0;
	char buf[WRAP_LEN];

	for (size_t i = 1; i <= len && i < WRAP_LEN; i++) {
		if ((s[i] & 0xc0) == 0x80 && i < len)
			continue;               /* inside a UTF-8 character */
		snprintf(buf, sizeof buf, "%.*s", (int)i, s);
		if (viz_width(buf) > w)
			break;
		best = i;
	}
	return best ? best : 1;
}

/* Split S into at most MAXL lines of at most W columns, breaking at spaces (and
 * inside words too long for a line); a cut text ends in "…".  Returns the
 * number of lines. */
static int wrap(const char *s, int w, char out[][WRAP_LEN], int maxl)
{
	int n = 0;

	if (w < 1)
		return 0;
	while (*s == ' ')
		s++;
	while (*s && n < maxl) {
		char *line = out[n++];
		size_t len = 0;
		int cols = 0;

		line[0] = '\0';
		while (*s) {
			const char *end = strchr(s, ' ');
			size_t wl = end ? (size_t)(end - s) : strlen(s);
			char word[WRAP_LEN];
			int ww;

			if (wl >= WRAP_LEN / 2)
				wl = WRAP_LEN / 2;
			snprintf(word, sizeof word, "%.*s", (int)wl, s);
			ww = viz_width(word);
			if (!cols && ww > w) {          /* a word longer than a line */
				wl = fit_prefix(s, wl, w);
				snprintf(word, sizeof word, "%.*s", (int)wl, s);
				ww = viz_width(word);
			}
			if (cols && cols + 1 + ww > w)
				break;
			if (len + wl + 2 >= WRAP_LEN)
				break;
			len += (size_t)snprintf(line + len, WRAP_LEN - len, "%s%s", cols ? " " : "",
			                        word);
			cols += (cols ? 1 : 0) + ww;
			s += wl;
			while (*s == ' ')
				s++;
		}
		if (*s && n == maxl) {          /* cut: make room for the ellipsis */
			while (len > 0 && viz_width(line) + 2 > w) {
				char *sp = strrchr(line, ' ');
				len = sp ? (size_t)(sp - line) : 0;
				line[len] = '\0';
			}
			snprintf(line + len, WRAP_LEN - len, "%s…", len ? " " : "");
		}
	}
	return n;
}

/* ---- lanes --------------------------------------------------------------- */

/* How a lane is written: step names in words ("read 10"), or, in narrow panels,
 * by their first letter ("R 10", with a legend on the rule above the lanes); marks
 * in full ("✗ overwrote T2's 11") when they fit, else the glyph alone. */
struct form {
	int letters;
	int long_marks;
	int cost;               /* money an extra redemption gives away */
	int step;               /* step mode: a person's pace, so waits are not timed */
};

/* A finished wait shorter than this was never seen waiting: no note. */
#define SHOW_WAIT_NS (10 * 1000000LL)

/* Panels at least this wide write step names in full. */
#define WORDS_COLS 56

static int use_letters(int width)
{
	return width < WORDS_COLS;
}

static void step_name(char *buf, size_t n, const char *step, int letters)
{
	if (!step)
		step = "?";
	if (letters)
		snprintf(buf, n, "%c", step[0] >= 'a' && step[0] <= 'z' ? step[0] - 'a' + 'A'
		         : step[0]);
	else
		snprintf(buf, n, "%s", step);
}

/* A duration for people: "350 ms", "1.2 s". */
static void duration(char *buf, size_t n, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < 1000000000LL)
		snprintf(buf, n, "%lld ms", (long long)(ns / 1000000));
	else
		snprintf(buf, n, "%.1f s", (double)ns / 1e9);
}

static const char *ordinal(int n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

static void render_token(struct line *l, const struct viz_token *t, struct form f,
                         const struct viz_view *v, int newest)
{
	const struct viz_glyphs *g = viz_glyphs();
	enum viz_style st = newest ? VS_NEWEST : VS_NORMAL;
	char name[24], d[24];

	switch (t->kind) {
	case TOK_SKIP:
		add(l, VS_DIM, "skip");
		return;
	case TOK_RETRY:
		add(l, VS_BOLD, "%sretry", g->retry);
		return;
	case TOK_ABORT:
		add(l, VS_BAD, "gave up");
		return;
	case TOK_EXIT:
		add(l, VS_DIM, "done");
		return;
	case TOK_STEP:
		break;
	}
	step_name(name, sizeof name, t->step, f.letters && t->role != ROLE_ROLLBACK);
	switch (t->state) {
	case TS_WAITING:
		if (f.step)
			snprintf(d, sizeof d, "waiting");
		else
			duration(d, sizeof d, v->clock_ns - t->wait_from_ns);
		add(l, VS_WAIT, "%s %s %s", name, g->wait, d);
		return;
	case TS_FAILED:
		add(l, VS_BAD, "%s %sERR", name, g->cross);
		return;
	case TS_RUNNING:
		add(l, st, "%s", name);
		return;
	case TS_DONE:
		break;
	}
	/* Narrow, the glyph after the letter alone says the step waited: "B⏳". */
	if (t->waited && f.letters && t->role != ROLE_ROLLBACK &&
	    (f.step || t->wait_ns >= SHOW_WAIT_NS))
		snprintf(name + strlen(name), sizeof name - strlen(name), "%s", g->wait);
	if (t->has_value)
		add(l, st, "%s %lld", name, (long long)t->value);
	else if (t->has_arg)
		add(l, st, "%s %lld", name, (long long)t->arg);
	else
		add(l, st, "%s", name);
	if (t->no_rows)
		add(l, VS_DIM, " 0 rows");
	if (t->waited && !f.letters && f.step) {
		add(l, VS_DIM, " (waited)");
	} else if (t->waited && !f.letters && t->wait_ns >= SHOW_WAIT_NS) {
		duration(d, sizeof d, t->wait_ns);
		add(l, VS_DIM, " (waited %s)", d);
	}
	if (t->lost > 0 && f.long_marks)
		add(l, VS_LOST, " %s overwrote T%d's %lld", g->cross, t->victim,
		    (long long)t->victim_value);
	else if (t->lost > 0)
		add(l, VS_LOST, " %s", g->cross);
	if (t->nth > 1 && f.long_marks && f.cost)
		add(l, VS_LOST, " %s %d%s use -$%d", g->cross, t->nth, ordinal(t->nth),
		    f.cost);
	else if (t->nth > 1 && f.long_marks)
		add(l, VS_LOST, " %s %d%s use", g->cross, t->nth, ordinal(t->nth));
	else if (t->nth > 1 && f.cost)
		add(l, VS_LOST, " %s$%d", g->cross, f.cost);
	else if (t->nth > 1)
		add(l, VS_LOST, " %s", g->cross);
}

static void render_op(struct line *l, const struct viz_op *o, struct form f,
                      const struct viz_view *v, int newest_op)
{
	for (int i = 0; i < o->ntok; i++) {
		if (i)
			add(l, VS_NORMAL, " ");
		render_token(l, &o->tok[i], f, v, newest_op && i == o->ntok - 1);
	}
}

static int digits(int n)
{
	int d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

void viz_draw_lane(WINDOW *w, int y, int x, int width, const struct viz_model *m,
                   int panel, int thread, const struct viz_view *v)
{
	static struct line ops[VIZ_OPS_KEPT];   /* the UI thread's scratch space */
	const struct viz_lane *lane = &m->panels[panel].lanes[thread - 1];
	const struct viz_op *o;
	struct form f = { .letters = use_letters(width), .cost = m->cost, .step = m->step };
	char sep[16];
	int used, avail, n = 0, total = 0, sepw;

	used = putf(w, y, x, width, lane->exited ? VS_DIM : VS_BOLD, "T%-*d ",
	            digits(m->nthreads), thread);
	avail = width - used - 1;       /* a column of air before the border */
	snprintf(sep, sizeof sep, " %s ", viz_glyphs()->sep);
	sepw = viz_width(sep);
	/* From the newest operation back, as many as fit. */
	for (int i = 0; (o = viz_lane_op(lane, i)) && n < VIZ_OPS_KEPT; i++) {
		struct line *one = &ops[n];
		int extra = n ? sepw : 0;

		memset(one, 0, sizeof *one);
		f.long_marks = 1;
		render_op(one, o, f, v, i == 0);
		if (total + extra + one->width > avail) {
			memset(one, 0, sizeof *one);
			f.long_marks = 0;
			render_op(one, o, f, v, i == 0);
		}
		if (n && total + extra + one->width > avail)
			break;
		total += extra + one->width;
		n++;
	}
	for (int k = n - 1; k >= 0; k--) {
		used += put_line(w, y, x + used, width - used, &ops[k]);
		if (k)
			used += viz_put(w, y, x + used, width - used, VS_DIM, sep);
	}
}

/* The rule above the lanes; in letters mode it says what the letters stand for. */
static void lanes_label(char *buf, size_t n, const struct scn_strategy *s, int width)
{
	size_t len = 0;

	buf[0] = '\0';
	if (use_letters(width)) {
		len += (size_t)snprintf(buf, n, "threads:");
		for (int i = 0; i < SCN_STEPS && s->steps[i].name && len < n; i++)
			len += (size_t)snprintf(buf + len, n - len, " %c %s",
			                        s->steps[i].name[0] - 'a' + 'A', s->steps[i].name);
		if (viz_width(buf) + 2 > width)         /* drop "threads:" */
			memmove(buf, buf + 9, strlen(buf + 9) + 1);
	}
	if (!buf[0] || viz_width(buf) + 2 > width)
		snprintf(buf, n, "threads");
}

/* ---- step mode: what comes next, who holds what, the challenge ------------- */

static const char *lock_name(const struct viz_panel *p)
{
	return p->row_locks ? "the row lock" : "the database write lock";
}

void viz_draw_lane_detail(WINDOW *w, int y, int x, int width, const struct viz_model *m,
                          int panel, int thread, int rows)
{
	const struct viz_lane *lane = &m->panels[panel].lanes[thread - 1];
	const struct viz_op *o = viz_lane_op(lane, 0);
	const struct viz_token *t = o && o->ntok ? &o->tok[o->ntok - 1] : NULL;
	int holder = viz_lane_waits_for(m, panel, thread);
	int cycle[VIZ_CYCLE], ncycle = 0;
	int indent = 1 + digits(m->nthreads) + 1;
	char text[TRACE_LINE + 64], sql[TRACE_LINE];
	struct line l;

	x += indent;
	width -= indent + 1;
	if (width <= 0 || rows <= 0)
		return;
	memset(&l, 0, sizeof l);
	if (lane->exited) {
		add(&l, VS_DIM, "finished");
	} else if (holder > 0 && (ncycle = viz_lane_cycle(m, panel, thread, cycle)) > 0) {
		/* Each waits for the next, and the last for the first: nobody can move
		 * until the database breaks the circle (PostgreSQL: one fails, 40P01). */
		add(&l, VS_BAD, "%s", viz_glyphs()->wait);
		for (int i = 0; i < ncycle; i++)
			add(&l, VS_BAD, " T%d →", cycle[i]);
		add(&l, VS_BAD, " T%d", thread);
		add_text(&l, VS_NORMAL, "  deadlock: each waits for the next; the database"
		         " will fail one of them");
	} else if (holder > 0) {
		add(&l, VS_WAIT, "%s T%d → T%d", viz_glyphs()->wait, thread, holder);
		snprintf(text, sizeof text, "  T%d's %s waits for %s, which T%d holds until it"
		         " commits", thread, t->step ? t->step : "step", lock_name(&m->panels[panel]), holder);
		if (l.width + viz_width(text) > width)
			snprintf(text, sizeof text, "  waits for %s until T%d commits",
			         lock_name(&m->panels[panel]), holder);
		add_text(&l, VS_NORMAL, text);
	} else if (holder < 0) {
		add(&l, VS_WAIT, "%s T%d waits", viz_glyphs()->wait, thread);
		add_text(&l, VS_NORMAL, "  for a lock another connection holds");
	} else if (lane->ready) {
		trace_render_sql(lane->next_sql ? lane->next_sql : "", lane->next_args,
		                 lane->next_nargs, sql, sizeof sql);
		add(&l, VS_DIM, "next  ");
		add(&l, VS_BOLD, "%s", lane->next_step ? lane->next_step : "?");
		add(&l, VS_NORMAL, ": ");
		add_text(&l, VS_NORMAL, sql);
	} else if (t && t->kind == TOK_STEP && t->state == TS_RUNNING) {
		add(&l, VS_NORMAL, "running %s", t->step ? t->step : "?");
	} else if (m->scenario->words.between_ops && o && o->done) {
		add_text(&l, VS_DIM, m->scenario->words.between_ops);
	}
	put_line(w, y, x, width, &l);
	if (rows < 2 || lane->exited)
		return;
	memset(&l, 0, sizeof l);
	add(&l, VS_DIM, "holds ");
	if (lane->has_read) {
		const struct viz_key *k = lane->nreads ? viz_panel_key(&m->panels[panel],
		                          lane->reads[lane->nreads - 1].key) : NULL;

		add(&l, VS_NORMAL, "%s = %lld, as it read it", m->scenario->words.value,
		    (long long)lane->last_read);
		/* another thread has written that row since: what it holds is stale */
		if (k && k->writer && k->writer != thread && k->value != lane->last_read)
			add(&l, VS_LOST, " (stale: %s is %lld now)", m->scenario->words.value,
			    (long long)k->value);
	}
	if (lane->holds_lock && lane->has_read)
		add(&l, VS_DIM, " %s ", viz_glyphs()->dot);
	if (lane->holds_lock)
		add(&l, VS_BOLD, "%s", lock_name(&m->panels[panel]));
	if (!lane->has_read && !lane->holds_lock)
		add(&l, VS_DIM, "nothing yet");
	put_line(w, y + 1, x, width, &l);
}

/* Why no order of steps can break a safe strategy. */
static const char *why_safe(const struct viz_model *m, const struct viz_panel *p)
{
	const struct scn_strategy *st = p->strategy;

	(void)m;
	if (!p->row_locks && st->why_safe_db_lock)
		return st->why_safe_db_lock;
	return st->why_safe ? st->why_safe : "No order of steps breaks it.";
}

/* "You won": the panel's latest anomaly, told from its mark. */
static void won_text(char *buf, size_t n, const struct viz_model *m, const struct viz_mark *mk)
{
	const struct scn_words *w = &m->scenario->words;
	const char *tick = viz_glyphs()->tick;
	const char *end = "q ends the run and shows the database's count; u undoes a step.";

	const char *what = mk->tok.key_text[0] ? mk->tok.key_text
	                   : w->resource ? w->resource : "it";

	if (mk->tok.nth > 1 && m->cost)
		snprintf(buf, n, "%s You won: T%d %s %s again, and $%d is given away.  %s",
		         tick, mk->thread, w->used ? w->used : "used", what, m->cost, end);
	else if (mk->tok.nth > 1)
		snprintf(buf, n, "%s You won: T%d %s %s again.  %s", tick, mk->thread,
		         w->used ? w->used : "used", what, end);
	else
		snprintf(buf, n, "%s You won: T%d wrote %lld over T%d's %lld, so T%d's %s is lost."
		         "  %s", tick, mk->thread, (long long)mk->tok.arg, mk->tok.victim,
		         (long long)mk->tok.victim_value, mk->tok.victim, w->effect, end);
}

void viz_draw_challenge(WINDOW *w, int y, int x, int width, const struct viz_model *m,
                        int panel, int rows)
{
	const struct viz_panel *p = &m->panels[panel];
	const struct viz_mark *mk = p->nmarks ? &p->marks[(p->nmarks - 1) % VIZ_MARKS] : NULL;
	int over = p->exited == m->nthreads, n;
	char text[WRAP_LEN], lines[4][WRAP_LEN];
	enum viz_style st;

	viz_put(w, y, x, width, VS_BOLD, m->scenario->words.goal);
	if (rows < 2)
		return;
	if (viz_panel_won(m, p) && p->strategy->safe) {
		snprintf(text, sizeof text, "%s BUG: %s, and %s is meant to be safe",
		         viz_glyphs()->cross, m->scenario->words.bug, p->strategy->name);
		st = VS_BAD;
	} else if (viz_panel_won(m, p) && mk) {
		won_text(text, sizeof text, m, mk);
		st = VS_OK;
	} else if (over && p->strategy->safe) {
		snprintf(text, sizeof text, "%s", why_safe(m, p));
		st = VS_BOLD;
	} else if (over) {
		snprintf(text, sizeof text, "%c%s this time.  u undoes a step, r starts over:"
		         " try another order.", toupper((unsigned char)m->scenario->words.none[0]),
		         m->scenario->words.none + 1);
		st = VS_NORMAL;
	} else {
		snprintf(text, sizeof text, "Not yet: %s so far.", m->scenario->words.none);
		st = VS_DIM;
	}
	n = wrap(text, width, lines, rows - 1 < 4 ? rows - 1 : 4);
	for (int k = 0; k < n; k++)
		viz_put(w, y + 1 + k, x, width, st, lines[k]);
}

/* ---- panels -------------------------------------------------------------- */

/* How a panel's rows are shared out; the same for every panel, so that lanes and
 * figures line up side by side. */
struct layout {
	int header;             /* rows for what the strategy does */
	int challenge;          /* step mode: rows for the challenge, its rule included */
	int lanes;              /* lane rows, the last one "+N more" if threads are hidden */
	int detail;             /* step mode: rows under each lane (next, holds) */
	int log;                /* rows for the anomaly log; 0: none */
	int verdict;            /* rows for the verdict */
	int spacing;            /* rows per lane: 2 leaves a blank row between lanes */
	int height;             /* the panel's, borders included */
};

static int panel_cols(int cols, int n, int i)
{
	return cols / n + (i < cols % n);
}

static const char *sqlite_note(const struct viz_panel *p, const struct viz_view *v)
{
	(void)v;
	return p->row_locks ? NULL : p->strategy->db_lock_note;
}

/* The description texts of a panel: what it does, Django, a backend note. */
static int header_texts(const struct viz_panel *p, const struct viz_view *v,
                        char texts[3][WRAP_LEN], enum viz_style st[3])
{
	int n = 0;

	snprintf(texts[n], WRAP_LEN, "%s", p->strategy->summary);
	st[n++] = VS_NORMAL;
	snprintf(texts[n], WRAP_LEN, "Django: %s", p->strategy->django);
	st[n++] = VS_DIM;
	if (sqlite_note(p, v)) {
		snprintf(texts[n], WRAP_LEN, "%s", sqlite_note(p, v));
		st[n++] = VS_BOLD;
	}
	return n;
}

/* Share ROWS description rows among the texts, one more each in turn. */
static void header_allot(const struct viz_panel *p, const struct viz_view *v, int width,
                         int rows, int allot[3])
{
	char texts[3][WRAP_LEN], lines[8][WRAP_LEN];
	enum viz_style st[3];
	int n = header_texts(p, v, texts, st), natural[3], given = 0, more = 1;

	for (int i = 0; i < 3; i++) {
		natural[i] = i < n ? wrap(texts[i], width, lines, 8) : 0;
		allot[i] = 0;
	}
	while (given < rows && more) {
		more = 0;
		for (int i = 0; i < n && given < rows; i++)
			if (allot[i] < natural[i]) {
				allot[i]++;
				given++;
				more = 1;
			}
	}
}

static int header_natural(const struct viz_panel *p, const struct viz_view *v, int width)
{
	int allot[3];

	header_allot(p, v, width, 100, allot);
	return allot[0] + allot[1] + allot[2];
}

#define LOG_SHORT 6             /* log rows before the lanes get air between them */

int viz_draw_shown(int cols, int npanels)
{
	int n = cols / VIZ_MIN_PANEL_COLS;

	return n < 1 ? 1 : n < npanels ? n : npanels;
}

int viz_draw_first(int cols, int npanels, int first)
{
	int last = npanels - viz_draw_shown(cols, npanels);

	return first < 0 ? 0 : first > last ? last : first;
}

int viz_draw_shown_of(int cols, const struct viz_model *m)
{
	int n = viz_draw_shown(cols, m->npanels), per = m->nruns > 1 ? m->npanels / m->nruns : 0;

	/* Several backends that do not all fit: whole backends a page, if one fits. */
	if (per && n < m->npanels && n >= per)
		n -= n % per;
	return n;
}

int viz_draw_first_of(int cols, const struct viz_model *m, int first)
{
	int n = viz_draw_shown_of(cols, m), last = m->npanels - n;

	if (m->nruns > 1 && n < m->npanels && first > 0)
		first -= first % n;     /* a page starts where a backend's panels do */
	return first < 0 ? 0 : first > last ? last : first;
}

static int compute_layout(int rows, int cols, const struct viz_model *m,
                          const struct viz_view *v, struct layout *lo)
{
	int inner = rows - 3 - 2, rest = inner - 7, hdr = 1, spare;
	int n = viz_draw_shown_of(cols, m), first = viz_draw_first_of(cols, m, v->first_panel);

	memset(lo, 0, sizeof *lo);
	if (!viz_draw_fits(rows, cols, n))
		return -1;
	for (int i = first; i < first + n; i++) {
		int h = header_natural(&m->panels[i], v, panel_cols(cols, n, i - first) - 2);

		if (h > hdr)
			hdr = h;
	}
	lo->lanes = m->nthreads < rest - 1 ? m->nthreads : rest - 1;
	spare = rest - lo->lanes - 1;           /* a row of the header at least */
	if (m->step) {
		/* The challenge (not for orders played one after another: nobody is
		 * playing against them) and what each thread does next come first; then the
		 * whole header (the SQLite note), what each thread holds, and a second
		 * row for the challenge's outcome. */
		if (spare >= 3 && !v->orders) {
			lo->challenge = 3;
			spare -= 3;
		}
		if (spare >= lo->lanes) {
			lo->detail = 1;
			spare -= lo->lanes;
		}
	}
	lo->header = hdr - 1 < spare ? hdr : spare + 1;
	spare -= lo->header - 1;
	if (lo->detail && spare >= lo->lanes) {
		lo->detail = 2;
		spare -= lo->lanes;
	}
	if (lo->challenge && spare >= 1) {
		lo->challenge++;
		spare--;
	}
	lo->verdict = 1;
	lo->spacing = 1 + lo->detail;
	if (spare >= 1) {
		lo->verdict = 2;
		spare--;
	}
	/* Then a short log, air between the lanes, and a longer log. */
	if (spare >= 3) {
		lo->log = spare - 1 < LOG_SHORT ? spare - 1 : LOG_SHORT;
		spare -= 1 + lo->log;
	}
	if (lo->lanes == m->nthreads && spare >= lo->lanes) {
		lo->spacing++;
		spare -= lo->lanes;
	}
	if (lo->log && spare > 0) {
		int more = spare < VIZ_MARKS - lo->log ? spare : VIZ_MARKS - lo->log;

		lo->log += more;
	}
	lo->height = 2 + lo->header + lo->challenge + 1 + lo->lanes * lo->spacing +
	             (lo->log ? 1 + lo->log : 0) + 1 + 3 + 1 + lo->verdict;
	return 0;
}

int viz_draw_fits(int rows, int cols, int npanels)
{
	return npanels > 0 && rows >= VIZ_MIN_ROWS && cols >= npanels * VIZ_MIN_PANEL_COLS;
}

/* A horizontal rule across the panel with a label: ├─ so far ───┤ */
static void rule(WINDOW *w, int y, int x, int width, const char *label, enum viz_style st)
{
	int lw = label ? viz_width(label) + 2 : 0;

	wattrset(w, A_NORMAL);
	mvwadd_wch(w, y, x, WACS_LTEE);
	mvwhline_set(w, y, x + 1, WACS_HLINE, width - 2);
	mvwadd_wch(w, y, x + width - 1, WACS_RTEE);
	if (lw && lw <= width - 4)
		putf(w, y, x + 2, width - 4, st, " %s ", label);
	else if (lw)            /* a long label takes the whole rule */
		putf(w, y, x + 1, width - 2, st, " %s ", label);
}

/* Box lines are wide characters: Unicode in a UTF-8 locale, else the terminal's
 * line-drawing set. */
static void box_at(WINDOW *w, int y, int x, int h, int width);

void viz_box(WINDOW *w, int y, int x, int h, int width)
{
	box_at(w, y, x, h, width);
}

static void box_at(WINDOW *w, int y, int x, int h, int width)
{
	wattrset(w, A_NORMAL);
	mvwadd_wch(w, y, x, WACS_ULCORNER);
	mvwhline_set(w, y, x + 1, WACS_HLINE, width - 2);
	mvwadd_wch(w, y, x + width - 1, WACS_URCORNER);
	mvwvline_set(w, y + 1, x, WACS_VLINE, h - 2);
	mvwvline_set(w, y + 1, x + width - 1, WACS_VLINE, h - 2);
	mvwadd_wch(w, y + h - 1, x, WACS_LLCORNER);
	mvwhline_set(w, y + h - 1, x + 1, WACS_HLINE, width - 2);
	mvwadd_wch(w, y + h - 1, x + width - 1, WACS_LRCORNER);
}

static const char *plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Append FIELD to L if it fits WIDTH, with a separator. */
static void field(struct line *l, int width, enum viz_style st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void field(struct line *l, int width, enum viz_style st, const char *fmt, ...)
{
	char buf[64];
	char sep[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(sep, sizeof sep, " %s ", viz_glyphs()->dot);
	if (l->n && l->width + viz_width(sep) + viz_width(buf) > width)
		return;
	if (l->n)
		add(l, VS_DIM, "%s", sep);
	add(l, st, "%s", buf);
}

/* The three lines of figures: live from the events, or the database's at the end. */
static void figures(const struct viz_model *m, const struct viz_panel *p,
                    const struct viz_view *v, int width, struct line out[3])
{
	const struct viz_glyphs *g = viz_glyphs();
	const struct run_result *res = m->finished ? p->result : NULL;
	int narrow = width < 36;
	int64_t expected, observed, anomalies, money, waits, retries, errors, refused;
	double rate;

	memset(out, 0, 3 * sizeof *out);
	if (res) {
		expected = res->check.expected;
		observed = res->check.observed;
		anomalies = res->check.anomalies;
		money = res->check.anomalies * m->cost;
		waits = res->lock_waits;
		retries = res->retries;
		errors = res->errors;
		refused = res->refused;
		rate = res->ops_per_s;
	} else {
		int64_t t = p->exited == m->nthreads ? p->end_ns : v->clock_ns;

		viz_panel_figures(m, p, &expected, &observed, &anomalies);
		money = p->money;
		waits = p->waits;
		retries = p->retries;
		errors = p->aborts;
		refused = p->refused;
		rate = t > 0 ? (double)p->ops_done / ((double)t / 1e9) : 0;
	}
	field(&out[0], width, VS_BOLD, "expected %lld", (long long)expected);
	field(&out[0], width, VS_BOLD, narrow ? "got %lld" : "observed %lld", (long long)observed);
	if (anomalies > 0 && p->uses_resources && m->cost)
		field(&out[1], width, VS_LOST, "%s %lld extra, $%lld lost", g->cross,
		      (long long)anomalies, (long long)money);
	else if (anomalies > 0 && p->uses_resources)
		field(&out[1], width, VS_LOST, "%s %lld extra", g->cross, (long long)anomalies);
	else if (anomalies > 0)
		field(&out[1], width, VS_LOST, "%s %lld %s lost", g->cross, (long long)anomalies,
		      scn_effects(m->scenario, anomalies));
	else
		field(&out[1], width, res ? VS_OK : VS_DIM, "%s%s%s", res ? g->tick : "",
		      res ? " " : "", m->scenario->words.none);
	/* A paced rate measures the pace, not the database: say so instead. */
	if (res ? res->paced : v->pace_ms > 0)
		field(&out[2], width, VS_DIM, "paced");
	else
		field(&out[2], width, VS_NORMAL, "%.1f ops/s", rate);
	/* Failed and refused requests are a fix's cost: they come before the waits,
	 * so that a narrow panel keeps them. */
	if (errors)
		field(&out[2], width, VS_BAD, "%lld failed", (long long)errors);
	if (refused)
		field(&out[2], width, VS_BOLD, "%lld refused", (long long)refused);
	field(&out[2], width, waits ? VS_BOLD : VS_NORMAL, "%lld %s", (long long)waits,
	      plural(waits, "wait", "waits"));
	if (retries || !narrow)
		field(&out[2], width, VS_NORMAL, "%lld %s", (long long)retries,
		      plural(retries, "retry", "retries"));
}

/* What the panel's title bar says on the right: progress, then the outcome. */
static void title_status(const struct viz_model *m, const struct viz_panel *p,
                         char *buf, size_t n, enum viz_style *st)
{
	const struct run_config *cfg = m->cfg;

	*st = VS_DIM;
	if (m->finished && p->result) {
		int kept = report_kept_invariant(p->result);

		snprintf(buf, n, "%s", kept ? "ok" : p->strategy->safe ? "BUG" : "race");
		*st = kept ? VS_OK : p->strategy->safe ? VS_BAD : VS_LOST;
	} else if (p->exited == m->nthreads) {
		snprintf(buf, n, "done");
	} else if (m->scenario->rounds) {
		snprintf(buf, n, "%s %d/%d", m->scenario->words.op, p->round + 1, cfg->ops);
	} else {
		snprintf(buf, n, "%lld/%lld ops", (long long)p->ops_done,
		         (long long)cfg->ops * cfg->threads);
	}
}

static void draw_log(WINDOW *w, int y, int x, int width, int rows,
                     const struct viz_model *m, const struct viz_panel *p)
{
	int shown = 0;

	for (int i = 0; i < rows && i < p->nmarks && i < VIZ_MARKS; i++) {
		const struct viz_mark *mk = &p->marks[(p->nmarks - 1 - i) % VIZ_MARKS];

		if (mk->tok.nth > 1 && m->cost)
			putf(w, y + i, x, width, VS_NORMAL, "T%d %s %s again: -$%d", mk->thread,
			     m->scenario->words.used ? m->scenario->words.used : "used",
			     mk->tok.key_text, m->cost);
		else if (mk->tok.nth > 1)
			putf(w, y + i, x, width, VS_NORMAL, "T%d %s %s again", mk->thread,
			     m->scenario->words.used ? m->scenario->words.used : "used",
			     mk->tok.key_text);
		else
			putf(w, y + i, x, width, VS_NORMAL, "T%d wrote %lld over T%d's %lld: %lld lost",
			     mk->thread, (long long)mk->tok.arg, mk->tok.victim,
			     (long long)mk->tok.victim_value, (long long)mk->tok.lost);
		shown++;
	}
	if (!shown && rows > 0)
		viz_put(w, y, x, width, VS_DIM, m->finished ? "none" : "none so far");
}

static void draw_panel(WINDOW *w, int y, int x, int h, int width, const struct viz_model *m,
                       int panel, const struct viz_view *v, const struct layout *lo)
{
	const struct viz_panel *p = &m->panels[panel];
	int iw = width - 2, ix = x + 1, row = y + 1, allot[3], ntexts;
	char texts[3][WRAP_LEN], lines[8][WRAP_LEN], status[48], label[96];
	enum viz_style st[3], sst;
	struct line figs[3];

	box_at(w, y, x, h, width);
	if (p->backend)         /* several backends side by side: say whose panel it is */
		snprintf(label, sizeof label, "%s %s %s", p->backend, viz_glyphs()->dot,
		         p->strategy->name);
	else
		snprintf(label, sizeof label, "%s", p->strategy->name);
	putf(w, y, x + 2, iw - 2, VS_TITLE, " %s ", label);
	title_status(m, p, status, sizeof status, &sst);
	if (viz_width(status) + viz_width(label) + 8 <= width)
		putf(w, y, x + width - 3 - viz_width(status), viz_width(status) + 2, sst, " %s ",
		     status);

	ntexts = header_texts(p, v, texts, st);
	header_allot(p, v, iw, lo->header, allot);
	for (int i = 0; i < ntexts; i++) {
		int n = wrap(texts[i], iw, lines, allot[i]);

		for (int k = 0; k < n; k++)
			viz_put(w, row + k, ix, iw, st[i], lines[k]);
		row += allot[i];
	}
	row = y + 1 + lo->header;
	if (lo->challenge) {
		rule(w, row++, x, width, "challenge", VS_DIM);
		viz_draw_challenge(w, row, ix, iw, m, panel, lo->challenge - 1);
		row += lo->challenge - 1;
	}

	lanes_label(label, sizeof label, p->strategy, iw);
	rule(w, row++, x, width, label, VS_DIM);
	for (int t = 1; t <= m->nthreads && t <= lo->lanes; t++) {
		if (t == lo->lanes && lo->lanes < m->nthreads) {
			char more[80];
			int hidden = m->nthreads - lo->lanes + 1;

			snprintf(more, sizeof more, "+%d more threads (a taller terminal shows them)",
			         hidden);
			if (viz_width(more) > iw)
				snprintf(more, sizeof more, "+%d more threads", hidden);
			viz_put(w, row, ix, iw, VS_DIM, more);
		} else {
			viz_draw_lane(w, row, ix, iw, m, panel, t, v);
			if (lo->detail)
				viz_draw_lane_detail(w, row + 1, ix, iw, m, panel, t, lo->detail);
		}
		row += lo->spacing;
	}
	row = y + 1 + lo->header + lo->challenge + 1 + lo->lanes * lo->spacing;
	if (lo->log) {
		rule(w, row++, x, width, m->scenario->words.anomalies, VS_DIM);
		draw_log(w, row, ix, iw, lo->log, m, p);
		row += lo->log;
	}

	rule(w, row++, x, width, m->finished && p->result ? "database" : "so far",
	     m->finished ? VS_BOLD : VS_DIM);
	figures(m, p, v, iw, figs);
	for (int i = 0; i < 3; i++)
		put_line(w, row++, ix, iw, &figs[i]);

	rule(w, row++, x, width, "verdict", VS_DIM);
	if (m->finished && p->result) {
		const struct run_result *res = p->result;
		int kept = report_kept_invariant(res);
		char text[WRAP_LEN];
		int n;

		snprintf(text, sizeof text, "%s %s: %s", kept ? viz_glyphs()->tick
		         : viz_glyphs()->cross, kept ? "ok" : res->strategy->safe ? "BUG" : "race",
		         res->verdict);
		n = wrap(text, iw, lines, lo->verdict);
		for (int k = 0; k < n; k++)
			viz_put(w, row + k, ix, iw, kept ? VS_OK : res->strategy->safe ? VS_BAD
			        : VS_LOST, lines[k]);
	} else {
		int n = wrap("from the database, when the run ends", iw, lines, lo->verdict);

		for (int k = 0; k < n; k++)
			viz_put(w, row + k, ix, iw, VS_DIM, lines[k]);
	}
}


/* ---- the screen ---------------------------------------------------------- */

/* "sqlite · 4 threads × 8 ops · seed 42" */
static void config_text(char *buf, size_t n, const struct viz_model *m,
                        const struct viz_view *v)
{
	const struct run_config *cfg = m->cfg;
	const struct viz_glyphs *g = viz_glyphs();

	snprintf(buf, n, "%s %s %d thread%s %s %d %s%s %s seed %llu", v->backend, g->dot,
	         cfg->threads, cfg->threads == 1 ? "" : "s", g->times, cfg->ops,
	         m->scenario->rounds ? m->scenario->words.op : "op", cfg->ops == 1 ? "" : "s",
	         g->dot,
	         (unsigned long long)cfg->seed);
}

/* The title, and the run's configuration on the right if it fits there.
 * Returns whether it did. */
static int draw_title(WINDOW *w, int cols, const struct viz_model *m,
                      const struct viz_view *v)
{
	const struct run_config *cfg = m->cfg;
	char config[160];
	int used, cw;

	config_text(config, sizeof config, m, v);
	cw = viz_width(config);
	used = viz_put(w, 0, 0, cols, VS_BOLD, "racelab ");
	used += putf(w, 0, used, cols - used, VS_BOLD, "%s: ", cfg->scenario->name);
	used += viz_put(w, 0, used, cols - used, v->heading ? VS_BOLD : VS_NORMAL,
	                v->heading ? v->heading : cfg->scenario->title);
	if (used + 2 + cw > cols)
		return 0;
	viz_put(w, 0, cols - cw, cw, VS_DIM, config);
	return 1;
}

/* The keys that name threads: "1", "1 or 2", "1 to 4". */
static const char *keys_text(const struct viz_model *m)
{
	static char buf[16];

	if (m->nthreads == 1)
		return "1";
	snprintf(buf, sizeof buf, m->nthreads == 2 ? "1 or 2" : "1 to %d", m->nthreads);
	return buf;
}

/* What the run is doing, the configuration if the title had no room for it, and
 * the speed on the right. */
static void draw_status(WINDOW *w, int cols, const struct viz_model *m,
                        const struct viz_view *v, int config_shown)
{
	char speed[48], config[160];
	int used = 0, sw;

	if (m->step && v->message)
		used += viz_put(w, 1, 0, cols, VS_KEY, " STEP "),
		used += putf(w, 1, used, cols - used, VS_BOLD, " %s", v->message);
	else if (m->finished && m->step)       /* time says nothing when a person steps */
		used += putf(w, 1, 0, cols, VS_BOLD, "finished");
	else if (m->finished)
		used += putf(w, 1, 0, cols, VS_BOLD, "finished in %.1f s",
		             (double)v->clock_ns / 1e9);
	else if (m->step && v->replaying)
		used += viz_put(w, 1, 0, cols, VS_WAIT, " UNDO "),
		used += viz_put(w, 1, used, cols - used, VS_NORMAL,
		                " replaying the steps so far on a fresh database…");
	else if (m->step && v->step && v->awaiting)
		used += viz_put(w, 1, 0, cols, VS_KEY, " STEP "),
		used += putf(w, 1, used, cols - used, VS_NORMAL, cols >= 120
		             ? " your move: %s moves that thread one step, n takes the next step %s"
		             : " your move: %s moves a thread, n the next step%.0s", keys_text(m),
		             m->cfg->schedule ? "of the schedule" : "in thread order");
	else if (m->step && v->step)
		used += viz_put(w, 1, 0, cols, VS_KEY, " STEP "),
		used += viz_put(w, 1, used, cols - used, VS_NORMAL, " moving…");
	else if (v->paused)
		used += viz_put(w, 1, 0, cols, VS_WAIT, " PAUSED "),
		used += viz_put(w, 1, used, cols - used, VS_NORMAL, " space resumes");
	else
		used += putf(w, 1, 0, cols, VS_BOLD, "running %.1f s", (double)v->clock_ns / 1e9);
	if (m->step && v->step && v->nsteps >= 0)
		snprintf(speed, sizeof speed, "%d step%s taken", v->nsteps,
		         v->nsteps == 1 ? "" : "s");
	else if (m->step && v->step)
		snprintf(speed, sizeof speed, "step mode");
	else if (v->pace_ms > 0)
		snprintf(speed, sizeof speed, "speed %d ms/step", v->pace_ms);
	else
		snprintf(speed, sizeof speed, "full speed");
	sw = viz_width(speed);
	if (viz_draw_shown_of(cols, m) < m->npanels) {
		/* Not every strategy fits: say which are shown, and how to see the rest. */
		int n = viz_draw_shown_of(cols, m);
		int first = viz_draw_first_of(cols, m, v->first_panel);

		used += putf(w, 1, used, cols - used, VS_NORMAL, "   ");
		used += n == 1
		        ? putf(w, 1, used, cols - used, VS_KEY, " panel %d of %d ", first + 1,
		               m->npanels)
		        : putf(w, 1, used, cols - used, VS_KEY, " panels %d-%d of %d ", first + 1,
		               first + n, m->npanels);
		used += putf(w, 1, used, cols - used - sw - 1, VS_NORMAL, cols - used - sw >= 40
		             ? " too narrow for all: < > show the others" : " < > others");
		config_shown = 1;
	}
	if (v->note && used + 3 + viz_width(v->note) + 2 + sw <= cols)
		used += putf(w, 1, used, cols - used, VS_BOLD, "   %s", v->note);
	config_text(config, sizeof config, m, v);
	if (!config_shown && used + 3 + viz_width(config) + 2 + sw <= cols)
		used += putf(w, 1, used, cols - used, VS_DIM, "   %s", config);
	else if (m->finished && !(m->step && v->message) && used + 2 + 45 + 2 + sw <= cols)
		used += viz_put(w, 1, used, cols - used, VS_NORMAL,
		                ": every figure below is the database's now");
	if (sw + 2 <= cols - used)
		viz_put(w, 1, cols - sw, sw, VS_NORMAL, speed);
}

static void draw_footer(WINDOW *w, int y, int cols, const struct viz_model *m,
                        const struct viz_view *v)
{
	struct viz_footer_key keys[9];
	int n = 0;

#define KEY(k, w, o) (snprintf(keys[n].key, sizeof keys[n].key, "%s", k), \
                      keys[n].what = (w), keys[n].optional = (o), n++)
	if (m->step && v->step) {
		/* Step mode: the keys that take steps; "1-2" names the threads there are. */
		char threads[8];

		snprintf(threads, sizeof threads, m->nthreads > 1 ? "1-%d" : "1", m->nthreads);
		KEY(threads, "step", 0);
		KEY("n", "next", 0);
		KEY("u", "undo", 0);
		KEY("s", "play", 0);
	} else {
		KEY("space", v->paused ? "resume" : "pause", 0);
		KEY("+", "faster", m->step);
		KEY("-", "slower", m->step);
		KEY("s", "step", !m->step);
	}
	if (v->orders)
		KEY("[ ]", "order", 0);
	if (viz_draw_shown_of(cols, m) < m->npanels)
		KEY("< >", "panels", 0);
	KEY("r", m->finished ? "run again" : "restart", v->orders);
	KEY("?", v->help ? "close help" : "help", 0);
	KEY("q", "quit", 0);
#undef KEY
	viz_draw_keys(w, y, cols, keys, n);
}

void viz_draw_keys(WINDOW *w, int y, int cols, struct viz_footer_key *keys, int n)
{
	int used = 0, total = 0;

	for (int i = 0; i < n; i++)
		total += 2 + viz_width(keys[i].key) + 3 + viz_width(keys[i].what);
	/* Too wide: leave out the keys the help also lists, last first. */
	for (int i = n - 1; i >= 0 && total > cols; i--)
		if (keys[i].optional) {
			total -= 2 + viz_width(keys[i].key) + 3 + viz_width(keys[i].what);
			keys[i].what = NULL;
		}
	for (int i = 0; i < n && used < cols; i++) {
		if (!keys[i].what)
			continue;
		used += putf(w, y, used, cols - used, VS_KEY, " %s ", keys[i].key);
		used += putf(w, y, used, cols - used, VS_NORMAL, " %s  ", keys[i].what);
	}
}

void viz_draw_too_small(WINDOW *w, int npanels)
{
	int rows, cols;
	char msg[160];

	getmaxyx(w, rows, cols);
	werase(w);
	snprintf(msg, sizeof msg, "Terminal too small (%dx%d): the dashboard needs %dx%d."
	         " Enlarge it, or q to quit.", cols, rows, npanels * VIZ_MIN_PANEL_COLS,
	         VIZ_MIN_ROWS);
	if (viz_width(msg) > cols)
		snprintf(msg, sizeof msg, "Terminal too small: need %dx%d, q quits",
		         npanels * VIZ_MIN_PANEL_COLS, VIZ_MIN_ROWS);
	if (viz_width(msg) > cols)
		snprintf(msg, sizeof msg, "too small: need %dx%d",
		         npanels * VIZ_MIN_PANEL_COLS, VIZ_MIN_ROWS);
	viz_put(w, rows / 2, 0, cols, VS_BOLD, msg);
}

void viz_draw_help(WINDOW *w, const struct viz_model *m, const struct viz_view *v)
{
	int v_orders = v && v->orders;
	const struct viz_glyphs *g = viz_glyphs();
	struct { char key[64]; enum viz_style st; char text[112]; } l[32];
	char lines[4][WRAP_LEN];
	int n = 0, rows, cols, width = 0, h, y, y0, x0, keyw = 0, tw;
	const struct scn_words *words = &m->scenario->words;
	char uses = 0, overwrites = 0;  /* the letters of the steps that can do harm */

	for (int i = 0; i < m->npanels; i++)
		for (int k = 0; k < SCN_STEPS && m->panels[i].strategy->steps[k].name; k++) {
			const struct scn_step *st = &m->panels[i].strategy->steps[k];

			if ((st->effects & EFF_USES) && !uses)
				uses = (char)(st->name[0] - 'a' + 'A');
			if ((st->effects & EFF_FROM_READ) && !overwrites)
				overwrites = (char)(st->name[0] - 'a' + 'A');
		}

#define HELP(k, kst, ...) (snprintf(l[n].key, sizeof l[n].key, "%s", k), l[n].st = kst, \
	snprintf(l[n].text, sizeof l[n].text, __VA_ARGS__), n++)
	HELP("T1 T2 ...", VS_BOLD, "one lane per thread: its latest operations, oldest left");
	HELP("R W B ...", VS_BOLD, "steps by their first letter, named on the rule above the"
	     " lanes");
	for (int i = 0; i < 8 && words->help[i][0]; i++)
		HELP(words->help[i][0], VS_NORMAL, "%s", words->help[i][1]);
	if (uses) {                     /* the anomaly's mark, as the lanes draw it */
		HELP("", VS_NORMAL, "%s", "");
		if (m->cost)
			snprintf(l[n - 1].key, sizeof l[n - 1].key, "%c %s 2nd use -$%d", uses,
			         g->cross, m->cost);
		else
			snprintf(l[n - 1].key, sizeof l[n - 1].key, "%c %s 2nd use", uses, g->cross);
		l[n - 1].st = VS_LOST;
		snprintf(l[n - 1].text, sizeof l[n - 1].text, "%s a %s that was already %s%s",
		         words->used ? words->used : "used", words->resource ? words->resource
		         : "resource", words->used ? words->used : "used",
		         m->cost ? ": money lost" : "");
	}
	if (overwrites) {
		HELP("", VS_NORMAL, "%s", "");
		snprintf(l[n - 1].key, sizeof l[n - 1].key, "%c 11 %s overwrote T2's 11",
		         overwrites, g->cross);
		l[n - 1].st = VS_LOST;
		snprintf(l[n - 1].text, sizeof l[n - 1].text, "this write erased the %s T2 had"
		         " just saved: a %s", words->effect, words->anomaly);
	}
	HELP("", VS_WAIT, "waiting for a lock another thread holds, for as long as it lasts");
	snprintf(l[n - 1].key, sizeof l[n - 1].key, "B %s 1.2 s", g->wait);
	HELP("", VS_BOLD, "the database refused (a deadlock, a timeout): the operation starts"
	     " again");
	snprintf(l[n - 1].key, sizeof l[n - 1].key, "%sretry", g->retry);
	HELP("", VS_BAD, "the database refused the statement");
	snprintf(l[n - 1].key, sizeof l[n - 1].key, "%c %sERR", uses ? uses : overwrites ?
	         overwrites : 'W', g->cross);
	HELP(g->sep, VS_DIM, "between one operation and the next");
	HELP("so far", VS_DIM, "live figures, from the events as they come");
	HELP("database", VS_BOLD, "at the end: counted in the database itself, and the verdict");
	if (v_orders) {
		HELP("] [", VS_KEY, "the next order, the previous one (PgDn, PgUp): each"
		     " starts afresh on a fresh database");
		HELP("order 3 of 6", VS_BOLD, "the title: the order playing, as a --schedule;"
		     " under the panels, how many orders so far showed the anomaly");
	}
	if (m->step) {
		HELP("next write: ...", VS_NORMAL, "step mode: what the thread does when you move"
		     " it, its step and the SQL it will send");
		HELP("holds ...", VS_NORMAL, "what it holds: the value it read, and its lock"
		     " until it commits");
		HELP("", VS_WAIT, "T2 waits for a lock T1 holds: move T1 on until it commits");
		snprintf(l[n - 1].key, sizeof l[n - 1].key, "%s T2 → T1", g->wait);
		HELP("1 2 ...", VS_KEY, "move that thread one step (a waiting thread cannot move)");
		HELP("n", VS_KEY, "the next step: of --schedule if one was given, else in"
		     " thread order");
		HELP("u", VS_KEY, "undo the last step: the steps before it are replayed on a"
		     " fresh database");
		HELP("s", VS_KEY, "step mode off: the run plays on by itself; s again stops it");
		HELP("", VS_NORMAL, "1-9 step %s n next %s u undo %s s step or play %s r restart"
		     " %s q quit %s ? close", g->dot, g->dot, g->dot, g->dot, g->dot, g->dot);
	} else {
		HELP("", VS_NORMAL, "space pause %s + faster %s - slower %s s step mode %s"
		     " r restart %s q quit %s ? close", g->dot, g->dot, g->dot, g->dot, g->dot,
		     g->dot);
	}
#undef HELP
	for (int i = 0; i < n; i++)
		if (viz_width(l[i].key) > keyw)
			keyw = viz_width(l[i].key);
	for (int i = 0; i < n; i++)
		if (keyw + 2 + viz_width(l[i].text) > width)
			width = keyw + 2 + viz_width(l[i].text);
	getmaxyx(w, rows, cols);
	width = width + 4 < cols ? width + 4 : cols;
	tw = width - 4 - keyw - 2;
	if (tw < 12) {                  /* too narrow for two columns: text under its key */
		keyw = -2;
		tw = width - 4;
	}
	h = 3;
	for (int i = 0; i < n; i++)
		h += wrap(l[i].text, tw, lines, 4) + (keyw < 0 && l[i].key[0]);
	if (h > rows)
		h = rows;
	y0 = (rows - h) / 2;
	x0 = (cols - width) / 2;
	for (int y = y0; y < y0 + h; y++) {
		wattrset(w, A_NORMAL);
		mvwhline(w, y, x0, ' ', width);
	}
	box_at(w, y0, x0, h, width);
	viz_put(w, y0, x0 + 2, width - 4, VS_TITLE, " What you see ");
	y = y0 + 2;
	for (int i = 0; i < n && y < y0 + h - 1; i++) {
		int kx = x0 + 2, tx = kx + keyw + 2, k;

		viz_put(w, y, kx, width - 4, l[i].st, l[i].key);
		if (keyw < 0 && l[i].key[0])
			y++;
		k = wrap(l[i].text, tw, lines, 4);
		for (int j = 0; j < k && y < y0 + h - 1; j++)
			viz_put(w, y++, tx, tw, VS_NORMAL, lines[j]);
		if (!k)
			y++;
	}
}

/* Lines of CAPTION, at most MAX. */
static int caption_lines(const char *caption, int max)
{
	int n = 0;

	for (const char *p = caption; p && *p && n < max; n++) {
		p = strchr(p, '\n');
		if (!p)
			return n + 1;
		p++;
	}
	return n;
}

/* The caption, one line a row from Y, under a rule. */
static void draw_caption(WINDOW *w, int y, int cols, const char *caption, int nlines)
{
	char line[WRAP_LEN];

	for (int i = 0; i < nlines && caption; i++) {
		const char *end = strchr(caption, '\n');
		size_t len = end ? (size_t)(end - caption) : strlen(caption);

		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, caption, len);
		line[len] = '\0';
		viz_put(w, y + i, 1, cols - 2, i == 0 ? VS_BOLD : VS_NORMAL, line);
		caption = end ? end + 1 : NULL;
	}
}

int viz_wrap(const char *s, int w, char out[][VIZ_WRAP], int maxl)
{
	return wrap(s, w, out, maxl);
}

void viz_draw(WINDOW *w, const struct viz_model *m, const struct viz_view *v)
{
	struct layout lo;
	int rows, cols, x = 0, cap = caption_lines(v->caption, 4), n, first;

	if (v->present) {
		viz_draw_present(w, m, v);
		return;
	}
	getmaxyx(w, rows, cols);
	werase(w);
	/* The caption gives up its rows, from the last, before the panels do. */
	while (cap > 0 && compute_layout(rows - cap, cols, m, v, &lo) != 0)
		cap--;
	if (compute_layout(rows - cap, cols, m, v, &lo) != 0) {
		viz_draw_too_small(w, viz_draw_shown(cols, m->npanels));
		return;
	}
	if (cap > 0)
		draw_caption(w, rows - 1 - cap, cols, v->caption, cap);
	draw_status(w, cols, m, v, draw_title(w, cols, m, v));
	n = viz_draw_shown_of(cols, m);
	first = viz_draw_first_of(cols, m, v->first_panel);
	for (int i = first; i < first + n; i++) {
		int pw = panel_cols(cols, n, i - first);

		draw_panel(w, 2, x, lo.height, pw, m, i, v, &lo);
		x += pw;
	}
	draw_footer(w, rows - 1, cols, m, v);
	if (v->help)
		viz_draw_help(w, m, v);
}
