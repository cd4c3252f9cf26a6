/*
 * svg.c: the swimlane picture of a run, for slides (--svg): one lane per
 * thread, each step a labelled box in the order the steps were taken, a lock
 * wait as a bar from where the step began to wait to where it got the lock, the
 * anomaly as an arrow from the step whose effect was lost to the step that undid
 * it, and the verdict as the caption.  Drawn from the steps record.c kept; no
 * curses, no library: SVG is text.
 *
 * Sizes are chosen for a 1280-pixel-wide slide seen from the back of a room:
 * nothing smaller than 16 px, at most MAX_COLS steps across.  A long free run is
 * cut to the MAX_COLS steps around its first anomaly (or its first steps), and
 * the picture says which steps it shows.
 */
#include "record.h"

#include <string.h>

#define WIDTH 1280
#define LEFT 96                 /* the lanes' labels */
#define RIGHT 32
#define LANE_H 124
#define BOX_H 60
#define MAX_COLS 12

struct theme {
	const char *bg, *fg, *dim, *lane, *box, *box_line, *wait, *wait_text, *bad, *bad_text,
	           *ok, *skip;
};

static const struct theme light = {
	.bg = "#ffffff", .fg = "#1b1b1b", .dim = "#5f6368", .lane = "#d5d8dc",
	.box = "#e7eef8", .box_line = "#35568a", .wait = "#f4b400", .wait_text = "#1b1b1b",
	.bad = "#c62828", .bad_text = "#ffffff", .ok = "#1e7b34", .skip = "#9aa0a6",
};

static const struct theme dark = {
	.bg = "#14161a", .fg = "#f1f3f4", .dim = "#b0b4ba", .lane = "#3c4148",
	.box = "#1f3352", .box_line = "#8ab4f8", .wait = "#fbc02d", .wait_text = "#14161a",
	.bad = "#ef5350", .bad_text = "#14161a", .ok = "#66bb6a", .skip = "#80868b",
};

/* Text for XML: & < > " escaped. */
static void text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: putc(*s, f);
		}
	}
}

static void label(FILE *f, double x, double y, int size, const char *weight,
                  const char *fill, const char *anchor, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" font-weight=\"%s\""
	        " fill=\"%s\" text-anchor=\"%s\">", x, y, size, weight, fill, anchor);
	text(f, s);
	fputs("</text>\n", f);
}

/* The columns of PANEL shown: FIRST and how many; the panel's step count in ALL. */
static int window(const struct viz_rec *r, int panel, int *first, int *all)
{
	int start = -1;

	*all = r->cols[panel];
	for (int i = 0; i < r->nsteps && start < 0; i++) {
		const struct viz_rec_step *s = &r->steps[i];

		/* the first anomaly whose two steps fit in the picture together */
		if (s->panel == panel && s->overwrote >= 0 &&
		    s->end_col - r->steps[s->overwrote].end_col < MAX_COLS - 1)
			start = r->steps[s->overwrote].end_col - 1;
	}
	if (start < 0 || *all <= MAX_COLS)
		start = 0;
	if (start > *all - MAX_COLS)
		start = *all - MAX_COLS;
	*first = start < 0 ? 0 : start;
	return *all - *first < MAX_COLS ? *all - *first : MAX_COLS;
}

static const char *ordinal(int n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

/* One panel from Y; returns the height it took. */
static int panel(FILE *f, const struct viz_rec *r, int p, int y, const struct theme *t)
{
	const struct scn_strategy *st = r->model.panels[p].strategy;
	const struct run_result *res = r->results[p];
	int first, all, ncols = window(r, p, &first, &all), threads = r->model.nthreads;
	double colw = (double)(WIDTH - LEFT - RIGHT) / (ncols > 0 ? ncols : 1);
	double boxw = colw - 14 < 240 ? colw - 14 : 240;
	int top = y + 64, h;
	char buf[320];

	snprintf(buf, sizeof buf, "%s", st->name);
	label(f, 32, y + 30, 26, "bold", t->fg, "start", buf);
	label(f, 32 + 16 * (double)strlen(st->name) + 20, y + 30, 18, "normal", t->dim, "start",
	      st->summary);
	if (all > ncols) {
		snprintf(buf, sizeof buf, "steps %d to %d of %d", first + 1, first + ncols, all);
		label(f, WIDTH - RIGHT, y + 54, 16, "normal", t->dim, "end", buf);
	}
	for (int th = 1; th <= threads; th++) {
		double ly = top + (th - 1) * LANE_H + LANE_H / 2.0;

		snprintf(buf, sizeof buf, "T%d", th);
		label(f, 40, ly + 9, 26, "bold", t->fg, "middle", buf);
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\""
		        " stroke-width=\"2\"/>\n", LEFT - 16, ly, WIDTH - RIGHT, ly, t->lane);
	}
	for (int i = 0; i < r->nsteps; i++) {
		const struct viz_rec_step *s = &r->steps[i];
		int c = s->end_col - first, c0 = s->col - first;
		double x, by = top + (s->thread - 1) * LANE_H + (LANE_H - BOX_H) / 2.0;
		const char *fill = t->box, *line = t->box_line, *ink = t->fg;
		char value[64] = "";

		if (s->panel != p || c < 0 || c >= ncols)
			continue;
		x = LEFT + c * colw + (colw - boxw) / 2;
		if (s->waited) {        /* the wait: a bar from where it began */
			double x0 = LEFT + (c0 < 0 ? 0 : c0) * colw + (colw - boxw) / 2;

			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"22\" rx=\"4\""
			        " fill=\"%s\"/>\n", x0, by + BOX_H / 2.0 - 11, x - x0 + boxw / 2, t->wait);
			if (x - x0 > 180)       /* room for the words before the box */
				label(f, x0 + 8, by + BOX_H / 2.0 + 6, 16, "bold", t->wait_text, "start",
				      "waits for the lock");
		}
		if (s->overwrote >= 0 || s->nth > 1) {
			fill = t->bad;
			line = t->bad;
			ink = t->bad_text;
		} else if (s->skipped) {
			fill = t->bg;
			line = t->skip;
			ink = t->skip;
		}
		if (s->skipped)
			snprintf(value, sizeof value, "skipped");
		else if (s->failed)
			snprintf(value, sizeof value, "failed");
		else if (s->has_value)
			snprintf(value, sizeof value, "\xe2\x86\x92 %lld", (long long)s->value);
		else if (s->has_arg)
			snprintf(value, sizeof value, "= %lld", (long long)s->arg);
		else if (s->dml && s->done && s->changes == 0)
			snprintf(value, sizeof value, "0 rows");
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"8\""
		        " fill=\"%s\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", x, by, boxw, BOX_H,
		        fill, line, s->skipped ? " stroke-dasharray=\"6 4\"" : "");
		label(f, x + boxw / 2, by + (value[0] ? 25 : 36), boxw < 110 ? 16 : 20, "bold", ink,
		      "middle", s->step ? s->step : "?");
		if (value[0])
			label(f, x + boxw / 2, by + 48, boxw < 110 ? 16 : 18, "normal", ink, "middle",
			      value);
	}
	/* The anomalies: an arrow from the step whose effect was lost; the first
	 * one shown is named in words (more would cover each other). */
	int named = 0;

	for (int i = 0; i < r->nsteps; i++) {
		const struct viz_rec_step *s = &r->steps[i], *v;
		double x1, y1, x2, y2;

		if (s->panel != p || s->overwrote < 0)
			continue;
		v = &r->steps[s->overwrote];
		if (v->end_col < first || s->end_col - first >= ncols)
			continue;
		x1 = LEFT + (v->end_col - first + 0.5) * colw;
		x2 = LEFT + (s->end_col - first + 0.5) * colw;
		y1 = top + (v->thread - 1) * LANE_H + (v->thread < s->thread ? LANE_H - (LANE_H - BOX_H) / 2.0
		                                                            : (LANE_H - BOX_H) / 2.0);
		y2 = top + (s->thread - 1) * LANE_H + (v->thread < s->thread ? (LANE_H - BOX_H) / 2.0
		                                                            : LANE_H - (LANE_H - BOX_H) / 2.0);
		if (v->thread == s->thread) {
			y1 = top + (v->thread - 1) * LANE_H + (LANE_H - BOX_H) / 2.0;
			y2 = y1;
		}
		fprintf(f, "<path d=\"M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f\" fill=\"none\""
		        " stroke=\"%s\" stroke-width=\"4\" marker-end=\"url(#arrow)\"/>\n",
		        x1, y1, x1, (y1 + y2) / 2 + (v->thread == s->thread ? -40 : 0),
		        x2, (y1 + y2) / 2 + (v->thread == s->thread ? -40 : 0), x2, y2, t->bad);
		if (named++)
			continue;
		if (s->lost > 0)
			snprintf(buf, sizeof buf, "T%d overwrote T%d's %s", s->thread, v->thread,
			         r->cfg->scenario->words.effect);
		else
			snprintf(buf, sizeof buf, "T%d: a %d%s %s, after T%d's", s->thread, s->nth,
			         ordinal(s->nth), r->cfg->scenario->words.effect, v->thread);
		/* Beside the arrow, in the gap between the lanes, never over it: left of
		 * where it starts, or right of where it ends if there is no room. */
		if (x1 - 16 - 11.0 * (double)strlen(buf) > LEFT || x2 + 16 + 11.0 * (double)strlen(buf) > WIDTH)
			label(f, (x1 < x2 ? x1 : x2) - 16, (y1 + y2) / 2 + 6, 18, "bold", t->bad, "end", buf);
		else
			label(f, (x1 > x2 ? x1 : x2) + 16, (y1 + y2) / 2 + 6, 18, "bold", t->bad, "start", buf);
	}
	h = 64 + threads * LANE_H + 12;
	if (res) {
		int bad = res->check.anomalies > 0 || !res->checked;

		snprintf(buf, sizeof buf, "%s %s", bad ? "\xe2\x9c\x97" : "\xe2\x9c\x93",
		         res->verdict);
		label(f, 32, y + h + 22, strlen(buf) > 80 ? 17 : 22, "bold", bad ? t->bad : t->ok,
		      "start", buf);
		h += 36;
	}
	return h;
}

void viz_svg_write(const struct viz_rec *r, FILE *f, enum viz_svg_theme which)
{
	const struct theme *t = which == SVG_DARK ? &dark : &light;
	const struct run_config *cfg = r->cfg;
	int panels = r->model.npanels, height = 96, y;
	char title[320];

	for (int p = 0; p < panels; p++)
		height += 64 + r->model.nthreads * LANE_H + 12 + (r->results[p] ? 36 : 0) + 24;
	if (r->result[0])
		height += 48;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
	        " viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n",
	        WIDTH, height, WIDTH, height);
	fprintf(f, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\""
	        " markerWidth=\"5\" markerHeight=\"5\" orient=\"auto-start-reverse\">"
	        "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"%s\"/></marker></defs>\n", t->bad);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"%s\"/>\n", t->bg);
	snprintf(title, sizeof title, "racelab %s: %s", cfg->scenario->name, cfg->scenario->title);
	label(f, 32, 44, 30, "bold", t->fg, "start", title);
	if (cfg->schedule)
		snprintf(title, sizeof title, "%s \xc2\xb7 %d threads \xc2\xb7 schedule: %s",
		         cfg->db->name, cfg->threads, cfg->schedule);
	else
		snprintf(title, sizeof title, "%s \xc2\xb7 %d threads \xc3\x97 %d ops \xc2\xb7 seed %llu",
		         cfg->db->name, cfg->threads, cfg->ops, (unsigned long long)cfg->seed);
	label(f, 32, 76, 20, "normal", t->dim, "start", title);
	y = 96;
	for (int p = 0; p < panels; p++)
		y += panel(f, r, p, y, t) + 24;
	if (r->result[0]) {
		snprintf(title, sizeof title, "result: %s", r->result);
		label(f, 32, y + 24, 22, "normal", t->fg, "start", title);
	}
	fputs("</svg>\n", f);
}
