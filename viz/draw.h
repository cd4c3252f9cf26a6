/*
 * draw.h: drawing the dashboard from the model.  Every function draws into the
 * WINDOW it is given and never refreshes, so tests can draw into a screen opened
 * on /dev/null and read the text back (tig's tests work this way).
 *
 * Screen layout, top to bottom: a title line, a status line (running, paused,
 * speed), one panel per strategy side by side, and a footer that lists the keys.
 * A panel: its name; what one operation does and the Django code it corresponds
 * to; one lane per thread; the live figures ("so far"); and, once the run is
 * over, the database's figures and the verdict.
 *
 * Step mode (model.step) adds, under the panel's description, the challenge (its
 * goal, then whether it is won, or why it cannot be), and under each lane what
 * the thread will do next (its step and SQL) or whom it waits for (T2 → T1), and
 * what it holds (the value it read, its lock).
 */
#ifndef RACELAB_VIZ_DRAW_H
#define RACELAB_VIZ_DRAW_H

#include <stdint.h>

#include "model.h"
#include "screen.h"

/* What the screen shows besides the model: the UI loop's state. */
struct viz_view {
	int pace_ms;            /* delay before each step; 0: full speed */
	int paused;
	int help;               /* the help overlay is open */
	int64_t clock_ns;       /* the run clock now: how long waits have lasted */
	const char *backend;    /* "sqlite", "postgres" */
	int row_locks;          /* the backend has SELECT … FOR UPDATE */

	/* Step mode (a run with model.step): */
	int step;               /* on: every step waits for a key (off: the run plays) */
	int awaiting;           /* ... and the run waits for one now */
	int replaying;          /* an undo is replaying the steps so far */
	int nsteps;             /* steps taken so far (-1: not known) */
	const char *message;    /* why the last key did nothing, or NULL */
	const char *caption;    /* lines under the panels, '\n'-separated, or NULL */
	int orders;             /* --schedule all: [ and ] move between orders */
	const char *note;       /* a word on the status line after what the run is doing
	                           ("next: order 4 of 6"), or NULL */
	const char *heading;    /* the title line's text instead of the scenario's title
	                           ("order 3 of 6: t1.read ..."), or NULL */

	/* The presenter's screen (--present): */
	int present;
	int blank;              /* b: the screen is blanked */
	const char *hidden;     /* strategies not shown ("atomic"), or NULL */
	int first_panel;        /* when not every panel fits: the first one shown (the
	                           keys < and > page through them); clamped when drawn */
};

#define VIZ_MIN_PANEL_COLS 24   /* narrower than this, a lane cannot show a step */
#define VIZ_MIN_ROWS 14         /* title, status, footer, and a panel of two lanes */

/* How many of NPANELS panels a screen COLS wide shows side by side: all if they
 * fit at VIZ_MIN_PANEL_COLS each, else as many as fit (at least one), and the
 * status line says which ones and how to see the others. */
int viz_draw_shown(int cols, int npanels);
/* The first panel shown for the view's wish FIRST (clamped so the last page is full). */
int viz_draw_first(int cols, int npanels, int first);

/* The same for model M: with several backends, a page holds whole backends
 * when one backend's panels fit. */
int viz_draw_shown_of(int cols, const struct viz_model *m);
int viz_draw_first_of(int cols, const struct viz_model *m, int first);

/* Whether a ROWS x COLS screen can show NPANELS panels. */
int viz_draw_fits(int rows, int cols, int npanels);

/* Draw everything: the layout for W's size, or the too-small message. */
void viz_draw(WINDOW *w, const struct viz_model *m, const struct viz_view *v);

/* The parts, for tests. */
void viz_draw_too_small(WINDOW *w, int npanels);

/* One key of a footer: the key, what it does, and whether the footer may leave
 * it out when the line is too narrow (the help lists it anyway). */
struct viz_footer_key {
	char key[12];
	const char *what;
	int optional;
};
/* Draw KEYS[0..N) on row Y of W, COLS wide: " key  what  " each; when they do not
 * fit, the optional ones are left out, last first. */
void viz_draw_keys(WINDOW *w, int y, int cols, struct viz_footer_key *keys, int n);
/* Lane THREAD (1-based) of panel PANEL at (y, x), WIDTH columns. */
void viz_draw_lane(WINDOW *w, int y, int x, int width, const struct viz_model *m,
                   int panel, int thread, const struct viz_view *v);
void viz_draw_help(WINDOW *w, const struct viz_model *m, const struct viz_view *v);
/* Step mode: under lane THREAD, ROWS (1 or 2) rows from Y: what it does next, or
 * whom it waits for; then what it holds. */
void viz_draw_lane_detail(WINDOW *w, int y, int x, int width, const struct viz_model *m,
                          int panel, int thread, int rows);
/* Step mode: the challenge of PANEL in ROWS (2 or more) rows from Y: the goal,
 * then the outcome: won, not yet, or why no order of steps can win. */
void viz_draw_challenge(WINDOW *w, int y, int x, int width, const struct viz_model *m,
                        int panel, int rows);

/* Write UTF-8 text S at (y, x) in style ST, clipped to MAXW columns (ASCII
 * stand-ins when the glyphs are ASCII).  Returns the columns written. */
int viz_put(WINDOW *w, int y, int x, int maxw, enum viz_style st, const char *s);
/* The columns viz_put would use for S, unclipped. */
int viz_width(const char *s);
/* S in at most MAXL lines of at most W columns each (VIZ_WRAP bytes), broken at
 * spaces; a cut text ends in "…".  Returns the number of lines. */
#define VIZ_WRAP 256
int viz_wrap(const char *s, int w, char out[][VIZ_WRAP], int maxl);
/* A box with its corners at (Y, X), H rows by WIDTH columns. */
void viz_box(WINDOW *w, int y, int x, int h, int width);
/* The presenter's screen (view.present): one or two panels for a room. */
void viz_draw_present(WINDOW *w, const struct viz_model *m, const struct viz_view *v);

#endif
