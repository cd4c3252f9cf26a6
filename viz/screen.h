/*
 * screen.h: the terminal: the one place that starts and ends curses and decides
 * colours and glyphs (htop's CRT.c).  Drawing code asks for a style by what it
 * means (VS_WAIT, VS_LOST …) and gets attributes that say it without colour too.
 */
#ifndef RACELAB_VIZ_SCREEN_H
#define RACELAB_VIZ_SCREEN_H

#include <stdio.h>

#include <curses.h>

/* What a piece of text means; each style stands out without colour as well. */
enum viz_style {
	VS_NORMAL,
	VS_DIM,         /* secondary text: descriptions, skipped steps */
	VS_BOLD,        /* values and headings */
	VS_TITLE,       /* a panel's name */
	VS_WAIT,        /* a lock wait, for as long as it lasts */
	VS_LOST,        /* an anomaly: a lost update, an extra redemption */
	VS_OK,          /* an invariant kept */
	VS_BAD,         /* errors, and a safe strategy that broke */
	VS_KEY,         /* a key in the footer */
	VS_NEWEST,      /* the step that just happened */
	VS_COUNT
};

/* Glyphs, with ASCII stand-ins when the locale is not UTF-8. */
struct viz_glyphs {
	int utf8;
	const char *cross;      /* an anomaly */
	const char *tick;       /* an invariant kept */
	const char *wait;       /* a lock wait */
	const char *retry;
	const char *sep;        /* between one operation and the next on a lane */
	const char *times;      /* 4 threads × 8 ops */
	const char *dot;        /* between fields */
};

/* Start curses on the terminal (OUT, IN; TERM_NAME NULL: $TERM): cbreak, no echo,
 * keypad, invisible cursor, colours unless NO_COLOR is set or the terminal has
 * none.  Returns 0, or -1 with nothing to undo. */
int viz_screen_open(FILE *out, FILE *in, const char *term_name);
/* The same, recording (--record): every byte curses sends the terminal is
 * copied into CAST as well, by viz_screen_pump. */
struct cast;
int viz_screen_open_recorded(FILE *out, FILE *in, const char *term_name,
                             struct cast *cast);
/* Recording: pass on what curses has written since the last call, to the
 * terminal and the recording (after every doupdate and every key read). */
void viz_screen_pump(void);
/* Recording: follow the real terminal's size (curses cannot see it through the
 * pipe).  Returns 1 if it changed and curses was resized. */
int viz_screen_poll_size(void);
/* Restore the terminal; safe to call twice. */
void viz_screen_close(void);
/* Ctrl-Z (SIGTSTP) came: give the terminal back, stop as the shell expects, and
 * on SIGCONT take the screen again.  Returns 1 if it did (draw everything anew),
 * 0 if no stop was asked for.  The UI loop calls it every time round. */
int viz_screen_suspend(void);

/* Attributes (colour pair included, when colour is on) for style S. */
attr_t viz_attr(enum viz_style s);
int viz_screen_colour(void);
const struct viz_glyphs *viz_glyphs(void);
/* The presenter's high-contrast theme (before viz_screen_open). */
void viz_screen_set_present(int on);
/* Choose glyphs: UTF-8 or ASCII (viz_screen_open chooses from the locale). */
void viz_screen_set_utf8(int utf8);

#endif
