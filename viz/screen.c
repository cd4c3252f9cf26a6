/*
 * screen.c: the only file that starts and ends curses and sets up colours and
 * glyphs; see screen.h.
 *
 * Colours are chosen to read on a projector with a dark or a light background:
 * text keeps the terminal's own colours, and only the things that must jump out
 * get a background of their own (a wait in yellow, a lost update in red).  Every
 * style carries a non-colour attribute too, so NO_COLOR and monochrome terminals
 * lose nothing but the colour.
 */
#include "screen.h"

#include "viz.h"

#include <errno.h>
#include <langinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static SCREEN *screen;
static int colour;
static attr_t attrs[VS_COUNT];

static const struct viz_glyphs utf8_glyphs = {
	.utf8 = 1, .cross = "✗", .tick = "✓", .wait = "⏳", .retry = "↻",
	.sep = "│", .times = "×", .dot = "·",
};

static const struct viz_glyphs ascii_glyphs = {
	.utf8 = 0, .cross = "X", .tick = "+", .wait = "~", .retry = "@",
	.sep = "|", .times = "x", .dot = "-",
};

static const struct viz_glyphs *glyphs = &ascii_glyphs;

static int present;             /* the presenter's high-contrast theme */

static void set_styles(void)
{
	/* Without colour: what each style looks like. */
	static const attr_t plain[VS_COUNT] = {
		[VS_NORMAL] = A_NORMAL,
		[VS_DIM] = A_DIM,
		[VS_BOLD] = A_BOLD,
		[VS_TITLE] = A_BOLD | A_REVERSE,
		[VS_WAIT] = A_REVERSE,
		[VS_LOST] = A_BOLD | A_REVERSE,
		[VS_OK] = A_BOLD,
		[VS_BAD] = A_BOLD | A_UNDERLINE,
		[VS_KEY] = A_REVERSE,
		[VS_NEWEST] = A_BOLD,
	};
	/* With colour: foreground, background (-1: the terminal's own). */
	static const short pairs[VS_COUNT][2] = {
		[VS_WAIT] = { COLOR_BLACK, COLOR_YELLOW },
		[VS_LOST] = { COLOR_WHITE, COLOR_RED },
		[VS_OK] = { COLOR_GREEN, -1 },
		[VS_BAD] = { COLOR_RED, -1 },
		[VS_TITLE] = { COLOR_WHITE, COLOR_BLUE },
	};
	/* The presenter's: nothing dim (a projector washes it out), bright colours on
	 * black, every meaningful style bold. */
	static const attr_t plain_present[VS_COUNT] = {
		[VS_NORMAL] = A_BOLD,
		[VS_DIM] = A_NORMAL,
		[VS_BOLD] = A_BOLD,
		[VS_TITLE] = A_BOLD | A_REVERSE,
		[VS_WAIT] = A_BOLD | A_REVERSE,
		[VS_LOST] = A_BOLD | A_REVERSE,
		[VS_OK] = A_BOLD,
		[VS_BAD] = A_BOLD | A_UNDERLINE,
		[VS_KEY] = A_BOLD | A_REVERSE,
		[VS_NEWEST] = A_BOLD | A_UNDERLINE,
	};
	static const short pairs_present[VS_COUNT][2] = {
		[VS_NORMAL] = { COLOR_WHITE, COLOR_BLACK },
		[VS_DIM] = { COLOR_WHITE, COLOR_BLACK },
		[VS_BOLD] = { COLOR_WHITE, COLOR_BLACK },
		[VS_NEWEST] = { COLOR_CYAN, COLOR_BLACK },
		[VS_WAIT] = { COLOR_BLACK, COLOR_YELLOW },
		[VS_LOST] = { COLOR_WHITE, COLOR_RED },
		[VS_OK] = { COLOR_GREEN, COLOR_BLACK },
		[VS_BAD] = { COLOR_RED, COLOR_BLACK },
		[VS_TITLE] = { COLOR_BLACK, COLOR_WHITE },
		[VS_KEY] = { COLOR_BLACK, COLOR_WHITE },
	};
	const char *no_color = getenv("NO_COLOR");

	colour = has_colors() && !(no_color && *no_color) && start_color() == OK;
	if (colour && use_default_colors() != OK)
		colour = 0;
	for (int s = 0; s < VS_COUNT; s++) {
		const short *pair = present ? pairs_present[s] : pairs[s];

		attrs[s] = present ? plain_present[s] : plain[s];
		if (colour && (pair[0] || pair[1])) {
			init_pair((short)(s + 1), pair[0], pair[1]);
			/* A background colour replaces reverse video. */
			attrs[s] = (attrs[s] & ~A_REVERSE) | COLOR_PAIR(s + 1);
		}
	}
}

void viz_screen_set_present(int on)
{
	present = on;
}

void viz_screen_set_utf8(int utf8)
{
	glyphs = utf8 ? &utf8_glyphs : &ascii_glyphs;
}

/* The fatal path: an assertion, abort() or a crash must not leave the learner's
 * terminal in raw mode with the cursor hidden.  endwin() is not async-signal-safe,
 * but the process is dying anyway; then the signal does what it would have done. */
static void fatal_signal(int sig)
{
	if (screen)
		endwin();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Ctrl-Z.  ncurses' own handler would leave the screen inside the handler (not
 * async-signal-safe, and it does not keep errno); ours only notes the request,
 * and the UI loop acts on it (viz_screen_suspend). */
static volatile sig_atomic_t tstp_pending;
static struct sigaction tstp_ours, tstp_before;
static int tstp_installed;

static void on_tstp(int sig)
{
	int saved = errno;

	(void)sig;
	tstp_pending = 1;
	errno = saved;
}

int viz_screen_suspend(void)
{
	sigset_t set, old;

	if (!tstp_pending || !screen)
		return 0;
	tstp_pending = 0;
	endwin();               /* the shell gets its terminal back as it left it */
	fflush(stdout);
	/* Stop the way the shell expects (its "Stopped" line): the default action
	 * of SIGTSTP, on this thread, which is where execution resumes on SIGCONT. */
	signal(SIGTSTP, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTSTP);
	pthread_sigmask(SIG_UNBLOCK, &set, &old);
	raise(SIGTSTP);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGTSTP, &tstp_ours, NULL);
	clearok(curscr, TRUE);  /* continued: the next refresh redraws everything */
	return 1;
}

int viz_screen_open(FILE *out, FILE *in, const char *term_name)
{
	static const int fatal[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	const char *cs = nl_langinfo(CODESET);

	if (screen)
		return 0;
	/* Before newterm, which installs its own SIGTSTP handler only if there is
	 * none; a shell that ignores SIGTSTP (no job control) keeps it ignored. */
	tstp_ours.sa_handler = on_tstp;
	sigemptyset(&tstp_ours.sa_mask);
	tstp_ours.sa_flags = 0;         /* no SA_RESTART: the UI loop wakes up at once */
	if (sigaction(SIGTSTP, NULL, &tstp_before) == 0 && tstp_before.sa_handler == SIG_DFL)
		tstp_installed = sigaction(SIGTSTP, &tstp_ours, NULL) == 0;
	tstp_pending = 0;
	screen = newterm(term_name, out, in);
	if (!screen)
		return -1;
	set_term(screen);
	viz_screen_set_utf8(cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8")));
	cbreak();               /* Ctrl-C still raises SIGINT: main's signal thread takes it */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_styles();
	for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
		signal(fatal[i], fatal_signal);
	return 0;
}

void viz_screen_close(void)
{
	if (!screen)
		return;
	endwin();
	delscreen(screen);
	screen = NULL;
	if (tstp_installed)
		sigaction(SIGTSTP, &tstp_before, NULL);
	tstp_installed = 0;
}

attr_t viz_attr(enum viz_style s)
{
	return s >= 0 && s < VS_COUNT ? attrs[s] : A_NORMAL;
}

int viz_screen_colour(void)
{
	return colour;
}

const struct viz_glyphs *viz_glyphs(void)
{
	return glyphs;
}

/* term.h defines a macro for every capability name: keep it last. */
#include <term.h>
#include <unistd.h>

int viz_available(void)
{
	const char *term = getenv("TERM");
	char *cup;
	int err, can;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || !term || !*term ||
	    !strcmp(term, "dumb"))
		return 0;
	if (setupterm(term, STDOUT_FILENO, &err) != OK)
		return 0;
	cup = tigetstr("cup");
	can = cup != NULL && cup != (char *)-1;
	del_curterm(cur_term);
	return can;
}
