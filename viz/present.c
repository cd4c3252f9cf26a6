/*
 * present.c: the presenter's screen (--present), for a room and a projector.
 *
 * One or two panels, large and plain: each thread's lane with room around it, the
 * figures without any per-second rate (a paced rate measures the pace), and a
 * narration line under the lanes that says in words what the last step did and
 * why it matters (viz_narrate, built from roles and effects).  The speaker moves
 * the run on with space or n, one step at a time; b blanks the screen while the
 * room talks; m drops a marker in the recording.  Readable at 80x24 in a large
 * font.  The theme is the screen's high-contrast one (screen.c).
 */
#include <stdio.h>
#include <string.h>

#include "../core/report.h"
#include "draw.h"

#define NARRATION 3             /* rows of the narration line, wrapped */

/* Two lines: what the database should hold and holds, then the anomaly. */
static void figures_lines(char *buf, char *verdict, size_t n, const struct viz_model *m,
                          const struct viz_panel *p)
{
	const struct scn_words *w = &m->scenario->words;
	int64_t expected, observed, anomalies;

	if (m->finished && p->result) {
		expected = p->result->check.expected;
		observed = p->result->check.observed;
		anomalies = p->result->check.anomalies;
	} else {
		viz_panel_figures(m, p, &expected, &observed, &anomalies);
	}
	snprintf(buf, n, "expected %lld %s observed %lld", (long long)expected,
	         viz_glyphs()->dot, (long long)observed);
	if (anomalies > 0 && p->uses_resources)
		snprintf(verdict, n, "%s %lld extra %s", viz_glyphs()->cross, (long long)anomalies,
		         anomalies == 1 ? w->effect : w->effects);
	else if (anomalies > 0)
		snprintf(verdict, n, "%s %lld %s lost", viz_glyphs()->cross, (long long)anomalies,
		         anomalies == 1 ? w->effect : w->effects);
	else
		snprintf(verdict, n, "%s", w->none);
}

static void panel(WINDOW *w, int y, int x, int h, int width, const struct viz_model *m,
                  int i, const struct viz_view *v)
{
	const struct viz_panel *p = &m->panels[i];
	char text[VIZ_WRAP], verdict[VIZ_WRAP], lines[NARRATION][VIZ_WRAP];
	int iw = width - 4, ix = x + 2, row = y + 1, lanes_rows, n;
	int spacing;

	viz_box(w, y, x, h, width);
	snprintf(text, sizeof text, " %s ", p->strategy->name);
	viz_put(w, y, x + 2, width - 4, VS_TITLE, text);
	if (m->finished && p->result) {
		int kept = report_kept_invariant(p->result);

		snprintf(text, sizeof text, " %s ", kept ? "ok" : p->strategy->safe ? "BUG" : "race");
		viz_put(w, y, x + width - 2 - viz_width(text), viz_width(text),
		        kept ? VS_OK : p->strategy->safe ? VS_BAD : VS_LOST, text);
	}
	n = viz_wrap(p->strategy->summary, iw, lines, 2);
	for (int k = 0; k < n; k++)
		viz_put(w, row++, ix, iw, VS_NORMAL, lines[k]);
	row++;

	/* Lanes, two rows apart when there is room for it. */
	lanes_rows = h - 2 - (row - y - 1) - 1 - NARRATION - 2;
	spacing = lanes_rows >= 2 * m->nthreads ? 2 : 1;
	for (int t = 1; t <= m->nthreads && (t - 1) * spacing < lanes_rows; t++)
		viz_draw_lane(w, row + (t - 1) * spacing, ix, iw, m, i, t, v);
	row = y + h - 1 - NARRATION - 2;

	viz_narrate(m, i, text, sizeof text);
	if (!text[0])
		snprintf(text, sizeof text, "space or n: the next step");
	n = viz_wrap(text, iw - 2, lines, NARRATION);
	for (int k = 0; k < n; k++) {
		if (k == 0)
			viz_put(w, row, ix, 2, VS_BOLD, "> ");
		viz_put(w, row + k, ix + 2, iw - 2, p->last.lost > 0 || p->last.nth > 1
		        ? VS_LOST : VS_BOLD, lines[k]);
	}
	row += NARRATION;
	figures_lines(text, verdict, sizeof text, m, p);
	viz_put(w, row, ix, iw, VS_BOLD, text);
	viz_put(w, row + 1, ix, iw, viz_panel_won(m, p) ? VS_LOST : VS_OK, verdict);
}

void viz_draw_present(WINDOW *w, const struct viz_model *m, const struct viz_view *v)
{
	int rows, cols, x = 0, h;
	char text[VIZ_WRAP];

	getmaxyx(w, rows, cols);
	werase(w);
	if (v->blank)
		return;                 /* the room talks; the screen waits */
	h = rows - 3;
	if (rows < 16 || cols < 40 * m->npanels) {
		snprintf(text, sizeof text, "Presenter: need %dx16, q quits", 40 * m->npanels);
		viz_put(w, rows / 2, 0, cols, VS_BOLD, text);
		return;
	}
	snprintf(text, sizeof text, "racelab %s: %s", m->scenario->name, m->scenario->title);
	viz_put(w, 0, 1, cols - 2, VS_BOLD, text);
	if (v->hidden) {
		snprintf(text, sizeof text, "(not shown: %s; -s chooses)", v->hidden);
		viz_put(w, 1, 1, cols - 2, VS_NORMAL, text);
	}
	for (int i = 0; i < m->npanels; i++) {
		int pw = cols / m->npanels + (i < cols % m->npanels);

		panel(w, 2, x, h, pw, m, i, v);
		x += pw;
	}
	if (m->finished)
		snprintf(text, sizeof text, "done: the figures are the database's   q quit");
	else if (v->message)
		snprintf(text, sizeof text, "%s", v->message);
	else if (v->step && v->awaiting)
		snprintf(text, sizeof text, "space/n next step   b blank   m mark   q quit");
	else
		snprintf(text, sizeof text, "space/n next step   p play/pause   b blank   m mark"
		         "   q quit");
	viz_put(w, rows - 1, 1, cols - 2, VS_KEY, text);
}
