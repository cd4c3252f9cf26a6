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
#include <fcntl.h>
#include <langinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "../core/cast.h"

static SCREEN *screen;
static int colour;
static attr_t attrs[VS_COUNT];

/* Recording (--record): curses writes into a pipe, and every byte it wrote is
 * copied to the terminal and to the recording.  A FILE of our own making
 * (fopencookie) cannot stand in for the terminal: ncurses writes to its file
 * descriptor with write(2), and sets the terminal's modes and reads its size
 * through that descriptor too.  So with a pipe in its place, the modes (cbreak,
 * no echo) are set here on the input terminal, and the size is read from the
 * real terminal and given to curses (viz_screen_poll_size). */
static struct {
	struct cast *cast;
	FILE *pipe_out;         /* what curses writes to */
	int pipe_in;            /* ... read back here, non-blocking */
	int tty;                /* the real terminal's output */
	int in;                 /* the input terminal, whose modes we set */
	struct termios saved;
	int have_saved;
	int rows, cols;         /* the size curses was last given */
} rec = { .pipe_in = -1, .tty = -1, .in = -1 };

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
	if (rec.pipe_in >= 0) {         /* what endwin wrote, then the modes: by hand */
		char buf[4096];
		ssize_t n;

		fflush(rec.pipe_out);
		while ((n = read(rec.pipe_in, buf, sizeof buf)) > 0)
			if (write(rec.tty, buf, (size_t)n) < 0)
				break;
		if (rec.have_saved)
			tcsetattr(rec.in, TCSANOW, &rec.saved);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The terminal's size, or -1. */
static int tty_size(int fd, int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || !ws.ws_row || !ws.ws_col)
		return -1;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}

static void rec_close(void)
{
	if (rec.pipe_out)
		fclose(rec.pipe_out);
	if (rec.pipe_in >= 0)
		close(rec.pipe_in);
	if (rec.have_saved)
		tcsetattr(rec.in, TCSANOW, &rec.saved);
	if (rec.cast)
		signal(SIGTSTP, SIG_DFL);
	rec.pipe_out = NULL;
	rec.pipe_in = -1;
	rec.have_saved = 0;
	rec.cast = NULL;
}

/* Put the pipe in the terminal's place.  Returns the FILE curses should write
 * to, or NULL. */
static FILE *rec_open(FILE *out, FILE *in, struct cast *cast)
{
	int fds[2];
	struct termios t;

	rec.tty = fileno(out);
	rec.in = fileno(in);
	if (pipe2(fds, O_CLOEXEC) != 0)
		return NULL;
	/* Room for the largest frame: curses must never block on a full pipe,
	 * because this same thread empties it (a full redraw of a 200x60 screen
	 * is some 100 kB; Linux allows 1 MB by default, fs.pipe-max-size). */
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	rec.pipe_in = fds[0];
	if (!(rec.pipe_out = fdopen(fds[1], "w"))) {
		close(fds[1]);
		rec_close();
		return NULL;
	}
	if (tcgetattr(rec.in, &rec.saved) == 0) {
		rec.have_saved = 1;
		t = rec.saved;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);        /* cbreak(), noecho() */
		t.c_iflag &= ~(tcflag_t)ICRNL;                  /* nonl() */
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(rec.in, TCSANOW, &t);
	}
	/* Ctrl-Z would have curses end and restart its screen through the pipe,
	 * with nobody to pass it on or to restore the terminal's modes: a take is
	 * not suspended. */
	signal(SIGTSTP, SIG_IGN);
	rec.cast = cast;
	return rec.pipe_out;
}

void viz_screen_pump(void)
{
	char buf[65536];
	ssize_t n;

	if (rec.pipe_in < 0)
		return;
	while ((n = read(rec.pipe_in, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(rec.tty, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;          /* the terminal is gone: keep recording */
			off += w;
		}
		if (rec.cast)
			cast_output(rec.cast, buf, (size_t)n);
	}
}

int viz_screen_poll_size(void)
{
	int rows, cols;

	if (rec.pipe_in < 0 || tty_size(rec.tty, &rows, &cols) != 0 ||
	    (rows == rec.rows && cols == rec.cols))
		return 0;
	rec.rows = rows;
	rec.cols = cols;
	resizeterm(rows, cols);
	return 1;
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
	return viz_screen_open_recorded(out, in, term_name, NULL);
}

int viz_screen_open_recorded(FILE *out, FILE *in, const char *term_name,
                             struct cast *cast)
{
	static const int fatal[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	const char *cs = nl_langinfo(CODESET);
	FILE *to = out;

	if (screen)
		return 0;
	if (cast && !(to = rec_open(out, in, cast)))
		return -1;
	/* Before newterm, which installs its own SIGTSTP handler only if there is
	 * none; a shell that ignores SIGTSTP (no job control) keeps it ignored, and
	 * so does a recording (rec_open: a take is not suspended). */
	tstp_ours.sa_handler = on_tstp;
	sigemptyset(&tstp_ours.sa_mask);
	tstp_ours.sa_flags = 0;         /* no SA_RESTART: the UI loop wakes up at once */
	if (sigaction(SIGTSTP, NULL, &tstp_before) == 0 && tstp_before.sa_handler == SIG_DFL)
		tstp_installed = sigaction(SIGTSTP, &tstp_ours, NULL) == 0;
	tstp_pending = 0;
	screen = newterm(term_name, to, in);
	if (!screen) {
		rec_close();
		if (tstp_installed)
			sigaction(SIGTSTP, &tstp_before, NULL);
		tstp_installed = 0;
		return -1;
	}
	set_term(screen);
	if (cast) {
		rec.rows = rec.cols = 0;
		viz_screen_poll_size();
	}
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
	viz_screen_pump();
	delscreen(screen);
	screen = NULL;
	rec_close();
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
