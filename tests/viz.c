/*
 * viz.c: the dashboard drawn headless: a screen opened on /dev/null, a known
 * sequence of events fed to the model, and the text read back with mvwinnwstr():
 * panels, lanes, the lost-update and double-redemption marks, the counts, the
 * verdicts, the too-small message, ASCII glyphs, and no colour under NO_COLOR;
 * and step mode: each lane's next step and its SQL, what it holds, whom a
 * waiting thread waits for, the challenge's goal, the win, and why a safe
 * strategy cannot be beaten.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../demos/demo.h"
#include "../viz/draw.h"
#include "../viz/model.h"
#include "../viz/screen.h"
#include "tap.h"

static FILE *out, *in;

/* Row Y of the screen as UTF-8. */
static const char *row(int y)
{
	static char buf[4096];
	wchar_t w[1024];
	int n = mvwinnwstr(stdscr, y, 0, w, 1023);

	if (n < 0)
		n = 0;
	w[n] = 0;
	if (wcstombs(buf, w, sizeof buf) == (size_t)-1)
		buf[0] = '\0';
	return buf;
}

/* The first row that contains TEXT, or -1. */
static int find(const char *text)
{
	for (int y = 0; y < LINES; y++)
		if (strstr(row(y), text))
			return y;
	return -1;
}

/* Every character on screen is ASCII, or a line of a box. */
static int ascii_only(void)
{
	static const char *boxes = "│─┌┐└┘├┤";

	for (int y = 0; y < LINES; y++) {
		const char *p = row(y);

		while (*p) {
			if ((unsigned char)*p < 0x80) {
				p++;
				continue;
			}
			int len = ((unsigned char)*p >= 0xe0) ? 3 : 2;
			char ch[4] = { 0 };

			memcpy(ch, p, (size_t)len);
			if (!strstr(boxes, ch)) {
				diag("row %d has '%s'", y, ch);
				return 0;
			}
			p += len;
		}
	}
	return 1;
}

static void show_screen(void)
{
	for (int y = 0; y < LINES; y++)
		diag("%2d|%s", y, row(y));
}

static void has(const char *text, const char *what)
{
	if (!ok(find(text) >= 0, "%s: '%s' is on screen", what, text))
		show_screen();
}

static void open_screen(int rows, int cols)
{
	char r[16], c[16];

	snprintf(r, sizeof r, "%d", rows);
	snprintf(c, sizeof c, "%d", cols);
	setenv("LINES", r, 1);
	setenv("COLUMNS", c, 1);
	out = fopen("/dev/null", "w");
	in = fopen("/dev/null", "r");
	if (!out || !in || viz_screen_open(out, in, "xterm-256color") != 0) {
		printf("Bail out! cannot open a curses screen on /dev/null\n");
		exit(1);
	}
	viz_screen_set_utf8(1);
}

static void close_screen(void)
{
	viz_screen_close();
	fclose(out);
	fclose(in);
}

/* ---- a known sequence of events ---------------------------------------- */

static int64_t clock_ns;

/* What the harness adds to a step's events: its role and effects as the
 * scenario declares them, and (for a step keyed by a coupon) the coupon's code
 * as demos/coupon.c binds it. */
static void declare(const struct viz_model *m, struct event *e)
{
	const struct scn_step *d = e->step ? scn_step(m->panels[e->strategy].strategy, e->step)
	                                   : NULL;

	if (!d)
		return;
	e->role = d->role;
	e->effects = d->effects;
	e->key_arg = d->key_arg;
	e->value_arg = d->value_arg;
	if (d->key_arg > 0 && e->nargs < d->key_arg &&
	    (e->kind == EV_STEP || e->kind == EV_READY)) {
		e->nargs = d->key_arg;
		e->args[d->key_arg - 1].type = DB_TEXT;
		snprintf(e->args[d->key_arg - 1].s, sizeof e->args[0].s, "C%04d", e->op + 1);
	}
}

static void feed(struct viz_model *m, enum ev_kind kind, int strategy, int thread, int op,
                 const char *step, const char *sql, int64_t arg)
{
	struct event e = { 0 };

	e.kind = kind;
	e.strategy = strategy;
	e.thread = thread;
	e.op = op;
	e.step = step;
	e.sql = sql;
	e.t_ns = clock_ns += 1000000;
	if ((kind == EV_STEP || kind == EV_READY) && arg >= 0) {
		e.nargs = 1;
		e.args[0].type = DB_INT;
		e.args[0].i = arg;
	}
	declare(m, &e);
	viz_model_event(&e, m);
}

static void done(struct viz_model *m, int strategy, int thread, int op, const char *step,
                 int has_value, int64_t value, int64_t changes)
{
	struct event e = { 0 };

	e.kind = EV_DONE;
	e.strategy = strategy;
	e.thread = thread;
	e.op = op;
	e.step = step;
	e.has_value = has_value;
	e.value = value;
	e.changes = changes;
	e.t_ns = clock_ns += 1000000;
	declare(m, &e);
	viz_model_event(&e, m);
}

static void commit(struct viz_model *m, int strategy, int thread, int op, int64_t effects)
{
	struct event e = { .kind = EV_COMMIT, .strategy = strategy, .thread = thread, .op = op,
	                   .has_value = 1, .value = effects };

	e.t_ns = clock_ns += 1000000;
	viz_model_event(&e, m);
}

#define SELECT "SELECT number_sold FROM products WHERE id = 1"
#define UPDATE "UPDATE products SET number_sold = $1 WHERE id = 1"
#define ADD "UPDATE products SET number_sold = number_sold + 1 WHERE id = 1"

/* naive: T1 and T2 both read 0 and both write 1: T2's write erases T1's sale.
 * atomic: both add one.  locked: T1 holds the lock, T2 has waited since 1 s. */
static void product_events(struct viz_model *m)
{
	feed(m, EV_STEP, 0, 1, 0, "read", SELECT, -1);
	done(m, 0, 1, 0, "read", 1, 0, 0);
	feed(m, EV_STEP, 0, 2, 0, "read", SELECT, -1);
	done(m, 0, 2, 0, "read", 1, 0, 0);
	feed(m, EV_STEP, 0, 1, 0, "write", UPDATE, 1);
	done(m, 0, 1, 0, "write", 0, 0, 1);
	commit(m, 0, 1, 0, 1);
	feed(m, EV_STEP, 0, 2, 0, "write", UPDATE, 1);
	done(m, 0, 2, 0, "write", 0, 0, 1);
	commit(m, 0, 2, 0, 1);

	for (int t = 1; t <= 2; t++) {
		feed(m, EV_STEP, 1, t, 0, "update", ADD, -1);
		done(m, 1, t, 0, "update", 0, 0, 1);
		commit(m, 1, t, 0, 1);
	}

	feed(m, EV_STEP, 2, 1, 0, "begin", "BEGIN IMMEDIATE", -1);
	done(m, 2, 1, 0, "begin", 0, 0, 0);
	feed(m, EV_STEP, 2, 1, 0, "lock", SELECT, -1);
	done(m, 2, 1, 0, "lock", 1, 0, 0);
	feed(m, EV_STEP, 2, 1, 0, "write", UPDATE, 1);
	done(m, 2, 1, 0, "write", 0, 0, 1);
	feed(m, EV_STEP, 2, 2, 0, "begin", "BEGIN IMMEDIATE", -1);
	{
		struct event e = { .kind = EV_WAIT, .strategy = 2, .thread = 2, .op = 0,
		                   .step = "begin", .t_ns = 1000000000 };
		viz_model_event(&e, m);
	}
}

static struct viz_view view = { .pace_ms = 250, .clock_ns = 2500000000LL,
                                .backend = "sqlite", .row_locks = 0 };

static void test_product(void)
{
	struct run_config cfg = { .scenario = &demo_product, .strategies = { 0, 1, 2 },
	                          .nstrategies = 3, .threads = 2, .ops = 3, .seed = 42 };
	struct run_result res[3] = { 0 };
	const struct run_result *results[3] = { &res[0], &res[1], &res[2] };
	struct viz_model m;
	int y;

	cfg.db = db_sqlite();
	ok(viz_model_init(&m, &cfg) == 0, "the model starts empty");
	product_events(&m);
	is_int(m.panels[0].lost, 1, "model: naive has lost one sale");
	is_int(m.panels[0].counter, 1, "model: number_sold holds 1");
	is_int(m.panels[0].committed, 2, "model: two sales committed");
	is_int(m.panels[1].counter, 2, "model: atomic's counter is 2");
	is_int(m.panels[2].counter, 0, "model: locked's uncommitted write is not seen yet");
	is_int(m.panels[2].waiting, 1, "model: one thread waits in locked");

	viz_draw(stdscr, &m, &view);
	has("racelab product: a product counter that loses sales", "the title");
	has("sqlite · 2 threads × 3 ops · seed 42", "the configuration");
	y = find("─ naive ");
	ok(y == 2 && strstr(row(y), "─ atomic ") && strstr(row(y), "─ locked "),
	   "three panels side by side: naive, atomic, locked");
	has("p.number_sold += 1; p.save()", "naive's Django one-liner");
	has("SQLite has no FOR UPDATE", "the SQLite note on locked");
	has("threads: R read W write", "the legend of naive's lanes");
	has("T1 R 0 W 1", "T1's lane: read 0, wrote 1");
	has("T2 R 0 W 1 ✗ overwrote T1's 1", "T2's lane: the lost-update mark");
	has("T2 B ⏳ 1.5 s", "the lock wait, with how long it has lasted");
	has("T1 B L 0 W 1", "locked's T1 lane");
	has("T2 wrote 1 over T1's 1: 1 lost", "the lost-updates log");
	has("expected 2 · observed 1", "naive's live counts");
	has("✗ 1 sale lost", "naive's anomaly");
	has("expected 2 · observed 2", "atomic's live counts");
	has("0/6 ops", "locked's progress: nothing committed yet");
	has("so far", "live figures are labelled 'so far'");
	has("running 2.5 s", "the status line");
	has("speed 250 ms/step", "the speed");
	ok(find("space") == LINES - 1 && strstr(row(LINES - 1), "q  quit") &&
	   strstr(row(LINES - 1), "r  restart") && strstr(row(LINES - 1), "?  help") &&
	   strstr(row(LINES - 1), "+  faster"), "the footer lists the keys");

	/* With colour on, the mark has a colour pair (and NO_COLOR below takes it away). */
	{
		cchar_t c;
		attr_t a;
		short pair = 0;
		wchar_t wc[CCHARW_MAX + 1];
		int x;

		y = find("overwrote T1's");
		for (x = 0; y >= 0 && x < COLS; x++) {
			mvwin_wch(stdscr, y, x, &c);
			getcchar(&c, wc, &a, &pair, NULL);
			if (wc[0] == L'✗')
				break;
		}
		ok(y >= 0 && x < COLS && pair != 0, "with colour, the mark is coloured");
	}

	/* locked: T1 commits, T2's BEGIN gets through. */
	feed(&m, EV_STEP, 2, 1, 0, "commit", "COMMIT", -1);
	done(&m, 2, 1, 0, "commit", 0, 0, 0);
	commit(&m, 2, 1, 0, 1);
	is_int(m.panels[2].counter, 1, "model: locked's write counts once committed");
	is_int(m.panels[2].lost, 0, "model: and overwrote nothing");
	done(&m, 2, 2, 0, "begin", 0, 0, 0);
	is_int(m.panels[2].waiting, 0, "model: the wait is over when BEGIN completes");
	viz_draw(stdscr, &m, &view);
	has("T1 B L 0 W 1 C", "locked's T1 lane after its commit");
	ok(find("T2 B ⏳") < 0 && find("T2 B ") >= 0, "T2's wait glyph is gone once it got the lock");

	/* The end: the database's figures and the verdicts. */
	for (int i = 0; i < 3; i++) {
		res[i].strategy = m.panels[i].strategy;
		res[i].checked = 1;
		res[i].committed = 6;
		res[i].check.expected = 6;
		res[i].check.observed = i ? 6 : 4;
		res[i].check.anomalies = i ? 0 : 2;
		snprintf(res[i].verdict, sizeof res[i].verdict, i ? "all 6 sales counted"
		         : "2 of 6 sales lost — lost update");
	}
	viz_model_finish(&m, results);
	view.clock_ns = 4200000000LL;
	viz_draw(stdscr, &m, &view);
	has("finished in 4.2 s", "the status says the run is over");
	has("─ database ", "the figures are now the database's");
	has("expected 6 · observed 4", "naive's final counts, from the database");
	has("✗ race: 2 of 6 sales lost — lost update", "naive's verdict");
	has("✓ ok: all 6 sales counted", "atomic's verdict");
	y = find("─ naive ");
	ok(strstr(row(y), " race ") && strstr(row(y), " ok "), "the title bars say race and ok");
	has("r  run again", "the footer offers to run again");

	view.help = 1;
	viz_draw(stdscr, &m, &view);
	has("What you see", "? opens the help");
	has("this write erased the sale T2 had just saved", "the help explains the mark");
	has("waiting for a lock another thread holds", "the help explains the wait");
	view.help = 0;

	/* Narrow panels: short marks, and the lane still fits its panel. */
	resize_term(24, 80);
	viz_draw(stdscr, &m, &view);
	ok(find("T2 R 0 W 1 ✗") >= 0, "at 80x24 the lanes and marks are still there");
	has("expected 6 · got 4", "at 80x24 the counts use short labels");

	/* Too small, then big enough again. */
	resize_term(8, 30);
	viz_draw(stdscr, &m, &view);
	has("too small", "a 30x8 terminal gets the too-small message");
	ok(find("naive") < 0, "... and no panels");
	resize_term(40, 132);
	viz_draw(stdscr, &m, &view);
	has("─ naive ", "back at 132x40 the panels return");

	/* A lesson's caption: under the panels, above the footer, as many lines as fit. */
	view.caption = "Lesson 1: The lost update\nOn the dashboard: two lanes read the same value";
	viz_draw(stdscr, &m, &view);
	ok(strstr(row(37), "Lesson 1: The lost update") != NULL, "the lesson's title is under"
	   " the panels");
	ok(strstr(row(38), "two lanes read the same value") != NULL, "... then what to look at,"
	   " just above the footer");
	has("─ naive ", "... and the panels are still drawn");
	resize_term(24, 80);
	viz_draw(stdscr, &m, &view);
	ok(find("T2 R 0 W 1 ✗") >= 0 && find("too small") < 0,
	   "at 80x24 a caption never costs the lanes: it gives its rows up first");
	resize_term(40, 132);
	view.caption = NULL;

	/* ASCII stand-ins outside a UTF-8 locale. */
	viz_screen_set_utf8(0);
	viz_draw(stdscr, &m, &view);
	has("T2 R 0 W 1 X overwrote T1's 1", "ASCII: the mark reads X");
	has("expected 6 - observed 4", "ASCII: the separator is a hyphen");
	ok(ascii_only(), "ASCII: nothing but ASCII outside the box lines");
	viz_screen_set_utf8(1);
	viz_model_done(&m);
}

/* coupon/naive: all three threads redeem C0001; the 2nd and 3rd are extra. */
static void test_coupon(void)
{
	struct run_config cfg = { .scenario = &demo_coupon, .strategies = { 0 }, .nstrategies = 1,
	                          .threads = 3, .ops = 2, .seed = 7 };
	struct viz_model m;

	cfg.db = db_sqlite();
	viz_model_init(&m, &cfg);
	for (int t = 1; t <= 3; t++) {
		feed(&m, EV_STEP, 0, t, 0, "check", "SELECT redeemed FROM coupons WHERE code = $1",
		     -1);
		done(&m, 0, t, 0, "check", 1, 0, 0);
	}
	for (int t = 1; t <= 3; t++) {
		feed(&m, EV_STEP, 0, t, 0, "redeem", "INSERT INTO redemptions", -1);
		done(&m, 0, t, 0, "redeem", 0, 0, 1);
		commit(&m, 0, t, 0, 1);
	}
	is_int(m.panels[0].extra, 2, "model: two extra redemptions");
	is_int(m.panels[0].money, 50, "model: $50 given away");
	view.clock_ns = 1000000000LL;
	viz_draw(stdscr, &m, &view);
	has("racelab coupon:", "the coupon title");
	has("T1 check 0 redeem", "a single panel is wide: step names in words");
	has("T2 check 0 redeem ✗ 2nd use -$25", "the second redemption is marked with its cost");
	has("T3 check 0 redeem ✗ 3rd use -$25", "the third as well");
	has("✗ 2 extra, $50 lost", "the money lost so far");
	has("T3 redeemed C0001 again: -$25", "the extra-redemptions log");
	has("round 1/2", "the round");
	viz_model_done(&m);
}

/* NO_COLOR: not one cell carries a colour, and the mark is still reversed. */
static void test_no_color(void)
{
	struct run_config cfg = { .scenario = &demo_product, .strategies = { 0, 1, 2 },
	                          .nstrategies = 3, .threads = 2, .ops = 3, .seed = 42 };
	struct viz_model m;
	int coloured = 0, mark_reversed = 0;

	setenv("NO_COLOR", "1", 1);
	open_screen(40, 132);
	cfg.db = db_sqlite();
	viz_model_init(&m, &cfg);
	product_events(&m);
	view.clock_ns = 2500000000LL;
	viz_draw(stdscr, &m, &view);
	ok(!viz_screen_colour(), "NO_COLOR: colour is off");
	for (int y = 0; y < LINES; y++)
		for (int x = 0; x < COLS; x++) {
			cchar_t c;
			attr_t a;
			short pair;
			wchar_t wc[CCHARW_MAX + 1];

			mvwin_wch(stdscr, y, x, &c);
			getcchar(&c, wc, &a, &pair, NULL);
			if (pair)
				coloured++;
			if (wc[0] == L'✗' && (a & A_REVERSE))
				mark_reversed = 1;
		}
	is_int(coloured, 0, "NO_COLOR: no cell has a colour pair");
	ok(mark_reversed, "NO_COLOR: the lost-update mark is in reverse video instead");
	has("T2 B ⏳ 1.5 s", "NO_COLOR: the wait keeps its glyph");
	viz_model_done(&m);
	close_screen();
	unsetenv("NO_COLOR");
}

/* ---- step mode --------------------------------------------------------- */

static void wait_event(struct viz_model *m, int thread, const char *step)
{
	struct event e = { .kind = EV_WAIT, .strategy = 0, .thread = thread, .op = 0,
	                   .step = step };

	e.t_ns = clock_ns += 1000000;
	viz_model_event(&e, m);
}

static void exit_event(struct viz_model *m, int thread)
{
	struct event e = { .kind = EV_EXIT, .strategy = 0, .thread = thread, .op = 0 };

	e.t_ns = clock_ns += 1000000;
	viz_model_event(&e, m);
}

static struct viz_view step_view = { .pace_ms = 250, .backend = "sqlite", .step = 1,
                                     .awaiting = 1 };

/* product/naive, keys 1 2 1 2: the lanes say what comes next and what each
 * thread holds, then the win. */
static void test_step_naive(void)
{
	struct run_config cfg = { .scenario = &demo_product, .strategies = { 0 }, .nstrategies = 1,
	                          .threads = 2, .ops = 1, .seed = 5, .step = 1 };
	struct viz_model m;
	int y;

	cfg.db = db_sqlite();
	viz_model_init(&m, &cfg);
	feed(&m, EV_READY, 0, 1, 0, "read", SELECT, -1);
	feed(&m, EV_READY, 0, 2, 0, "read", SELECT, -1);
	step_view.nsteps = 0;
	viz_draw(stdscr, &m, &step_view);
	has("Goal: make the counter lose a sale", "step: the goal");
	has("Not yet: no sale lost so far.", "step: no win yet");
	has("next  read: SELECT number_sold FROM products WHERE id = 1", "step: T1's next step");
	y = find("next  read:");
	ok(y > 0 && strstr(row(y - 1), "T1") && find("holds nothing yet") == y + 1,
	   "step: the next step and 'holds nothing yet' are under T1's lane");
	has("STEP  your move: 1 or 2 moves that thread one step, n takes the next step in"
	    " thread order", "step: the status line says whose move it is");
	has("0 steps taken", "step: the count of steps");
	ok(strstr(row(LINES - 1), " 1-2  step ") && strstr(row(LINES - 1), " u  undo ") &&
	   strstr(row(LINES - 1), " n  next ") && strstr(row(LINES - 1), " q  quit"),
	   "step: the footer lists 1-2, n, u and q");

	/* 1: T1 reads 0; it will write 1. */
	feed(&m, EV_STEP, 0, 1, 0, "read", SELECT, -1);
	done(&m, 0, 1, 0, "read", 1, 0, 0);
	feed(&m, EV_READY, 0, 1, 0, "write", UPDATE, 1);
	/* 2: T2 reads 0. */
	feed(&m, EV_STEP, 0, 2, 0, "read", SELECT, -1);
	done(&m, 0, 2, 0, "read", 1, 0, 0);
	feed(&m, EV_READY, 0, 2, 0, "write", UPDATE, 1);
	/* 1: T1 writes 1 and finishes. */
	feed(&m, EV_STEP, 0, 1, 0, "write", UPDATE, 1);
	done(&m, 0, 1, 0, "write", 0, 0, 1);
	commit(&m, 0, 1, 0, 1);
	exit_event(&m, 1);
	step_view.nsteps = 3;
	viz_draw(stdscr, &m, &step_view);
	has("next  write: UPDATE products SET number_sold = 1 WHERE id = 1",
	    "step: the next SQL has the value the thread will write");
	has("holds number_sold = 0, as it read it (stale: number_sold is 1 now)",
	    "step: T2 holds the value it read, and it is stale");
	has("T1 read 0 write 1", "step: T1's lane");
	has("finished", "step: T1 has finished");
	has("3 steps taken", "step: three steps taken");
	ok(find("You won") < 0, "step: not won yet");

	/* 2: T2 writes 1 over T1's 1: won. */
	feed(&m, EV_STEP, 0, 2, 0, "write", UPDATE, 1);
	done(&m, 0, 2, 0, "write", 0, 0, 1);
	commit(&m, 0, 2, 0, 1);
	exit_event(&m, 2);
	ok(viz_panel_won(&m, &m.panels[0]), "model: the challenge is won");
	viz_draw(stdscr, &m, &step_view);
	has("✓ You won: T2 wrote 1 over T1's 1, so T1's sale is lost.", "step: the win");
	has("T2 read 0 write 1 ✗ overwrote T1's 1", "step: the mark on T2's lane");

	/* A key the run cannot take is said on the status line. */
	step_view.message = "there is no T3: this run has T1 and T2 (-t 2)";
	viz_draw(stdscr, &m, &step_view);
	has("STEP  there is no T3: this run has T1 and T2 (-t 2)", "step: a refused key is said");
	step_view.message = NULL;

	/* The help explains step mode. */
	step_view.help = 1;
	viz_draw(stdscr, &m, &step_view);
	has("undo the last step: the steps before it are replayed", "step: the help explains u");
	step_view.help = 0;
	viz_model_done(&m);
}

/* product/locked: T1 holds the lock, T2 waits for it (T2 → T1); at the end, why
 * no order of steps can lose a sale.  On SQLite the lock is the database's,
 * taken at BEGIN IMMEDIATE; on PostgreSQL the row's, at SELECT ... FOR UPDATE. */
static void test_step_locked(const db_backend *db)
{
	struct run_config cfg = { .scenario = &demo_product, .strategies = { 2 }, .nstrategies = 1,
	                          .threads = 2, .ops = 1, .seed = 5, .step = 1 };
	const char *begin = db->row_locks ? "BEGIN" : "BEGIN IMMEDIATE";
	const char *lock = db->row_locks ? SELECT " FOR UPDATE" : SELECT;
	const char *waits_at = db->row_locks ? "lock" : "begin";
	char text[160];
	struct viz_model m;

	cfg.db = db;
	viz_model_init(&m, &cfg);
	feed(&m, EV_STEP, 0, 1, 0, "begin", begin, -1);
	done(&m, 0, 1, 0, "begin", 0, 0, 0);
	feed(&m, EV_STEP, 0, 1, 0, "lock", lock, -1);
	done(&m, 0, 1, 0, "lock", 1, 0, 0);
	feed(&m, EV_READY, 0, 1, 0, "write", UPDATE, 1);
	if (db->row_locks) {
		feed(&m, EV_STEP, 0, 2, 0, "begin", begin, -1);
		done(&m, 0, 2, 0, "begin", 0, 0, 0);
	}
	feed(&m, EV_STEP, 0, 2, 0, waits_at, db->row_locks ? lock : begin, -1);
	wait_event(&m, 2, waits_at);
	is_int(viz_lane_waits_for(&m, 0, 2), 1, "model (%s): T2 waits for T1", db->name);
	is_int(viz_lane_waits_for(&m, 0, 1), 0, "model (%s): T1 waits for nobody", db->name);
	step_view.backend = db->name;
	viz_draw(stdscr, &m, &step_view);
	snprintf(text, sizeof text, "⏳ T2 → T1  T2's %s waits for %s, which T1 holds until it"
	         " commits", waits_at, db->row_locks ? "the row lock" : "the database write lock");
	has(text, db->row_locks ? "step (postgres): T2 waits for T1's row lock"
	    : "step (sqlite): T2 waits for T1's database write lock");
	snprintf(text, sizeof text, "holds number_sold = 0, as it read it · %s",
	         db->row_locks ? "the row lock" : "the database write lock");
	has(text, "step: T1 holds what it read and the lock");
	has("T2 begin", "step: T2's lane");
	ok(find("waiting") >= 0 && find(" ms") < 0, "step: a wait is not timed in step mode");

	/* T1 writes and commits; T2 gets the lock and reads 1. */
	feed(&m, EV_STEP, 0, 1, 0, "write", UPDATE, 1);
	done(&m, 0, 1, 0, "write", 0, 0, 1);
	feed(&m, EV_STEP, 0, 1, 0, "commit", "COMMIT", -1);
	done(&m, 0, 1, 0, "commit", 0, 0, 0);
	commit(&m, 0, 1, 0, 1);
	exit_event(&m, 1);
	done(&m, 0, 2, 0, waits_at, !!db->row_locks, 1, 0);
	is_int(viz_lane_waits_for(&m, 0, 2), 0, "model: T2 waits no more");
	if (!db->row_locks) {
		feed(&m, EV_STEP, 0, 2, 0, "lock", lock, -1);
		done(&m, 0, 2, 0, "lock", 1, 1, 0);
	}
	feed(&m, EV_STEP, 0, 2, 0, "write", UPDATE, 2);
	done(&m, 0, 2, 0, "write", 0, 0, 1);
	feed(&m, EV_STEP, 0, 2, 0, "commit", "COMMIT", -1);
	done(&m, 0, 2, 0, "commit", 0, 0, 0);
	commit(&m, 0, 2, 0, 1);
	exit_event(&m, 2);
	viz_draw(stdscr, &m, &step_view);
	has("(waited)", "step: the wait is remembered, untimed");
	snprintf(text, sizeof text, "No order of steps loses a sale: the second thread waits"
	         " at %s until the first commits", db->row_locks ? "SELECT … FOR UPDATE"
	         : "BEGIN IMMEDIATE");
	has(text, "step: why locked cannot lose a sale");
	ok(find("You won") < 0, "step: locked is not won");
	viz_model_done(&m);
	step_view.backend = "sqlite";
}

/* product/atomic and coupon/naive: the other goal, and the other explanations. */
static void test_step_others(void)
{
	struct run_config cfg = { .scenario = &demo_product, .strategies = { 1 }, .nstrategies = 1,
	                          .threads = 2, .ops = 1, .seed = 5, .step = 1 };
	struct viz_model m;

	cfg.db = db_sqlite();
	viz_model_init(&m, &cfg);
	for (int t = 1; t <= 2; t++) {
		feed(&m, EV_STEP, 0, t, 0, "update", ADD, -1);
		done(&m, 0, t, 0, "update", 0, 0, 1);
		commit(&m, 0, t, 0, 1);
		exit_event(&m, t);
	}
	viz_draw(stdscr, &m, &step_view);
	has("No order of steps loses a sale: the database reads and writes number_sold in"
	    " one statement, under the row's lock", "step: why atomic cannot lose a sale");
	viz_model_done(&m);

	cfg.scenario = &demo_coupon;
	cfg.strategies[0] = 0;
	viz_model_init(&m, &cfg);
	for (int t = 1; t <= 2; t++) {
		feed(&m, EV_STEP, 0, t, 0, "check", "SELECT redeemed FROM coupons WHERE code = $1",
		     -1);
		done(&m, 0, t, 0, "check", 1, 0, 0);
	}
	feed(&m, EV_READY, 0, 1, 0, "redeem", "INSERT INTO redemptions", -1);
	viz_draw(stdscr, &m, &step_view);
	has("Goal: redeem one coupon twice", "step: the coupon's goal");
	has("holds redeemed = 0, as it read it", "step: the coupon's check is held");
	for (int t = 1; t <= 2; t++) {
		feed(&m, EV_STEP, 0, t, 0, "redeem", "INSERT INTO redemptions", -1);
		done(&m, 0, t, 0, "redeem", 0, 0, 1);
	}
	viz_draw(stdscr, &m, &step_view);
	has("✓ You won: T2 redeemed C0001 again, and $25 is given away.", "step: the coupon won");

	/* 80x24: still the goal, the next steps and the wait, in fewer words. */
	resize_term(24, 80);
	viz_draw(stdscr, &m, &step_view);
	has("Goal: redeem one coupon twice", "step at 80x24: the goal");
	has("your move: 1 or 2 moves a thread, n the next step", "step at 80x24: the status");
	ok(strstr(row(LINES - 1), " q  quit") != NULL, "step at 80x24: the footer keeps q");
	resize_term(40, 132);
	viz_model_done(&m);
}

/* The presenter's screen and its narration, from events alone: naive's lost
 * update told in words, locked's wait, blanking, and 80x24. */
static void test_present(void)
{
	struct run_config cfg = { .scenario = &demo_product, .strategies = { 0, 2 },
	                          .nstrategies = 2, .threads = 2, .ops = 1, .seed = 1 };
	struct viz_view pv = { .present = 1, .backend = "postgres", .row_locks = 1 };
	struct viz_model m;
	char text[256];

	cfg.db = db_postgres();
	viz_model_init(&m, &cfg);
	viz_narrate(&m, 0, text, sizeof text);
	is_str(text, "", "narration: nothing before the first step");
	feed(&m, EV_STEP, 0, 1, 0, "read", SELECT, -1);
	done(&m, 0, 1, 0, "read", 1, 0, 0);
	viz_narrate(&m, 0, text, sizeof text);
	is_str(text, "T1 read number_sold = 0", "narration: a read");
	feed(&m, EV_STEP, 0, 2, 0, "read", SELECT, -1);
	done(&m, 0, 2, 0, "read", 1, 0, 0);
	viz_narrate(&m, 0, text, sizeof text);
	is_str(text, "T2 read number_sold = 0; T1 read the same and has not written yet: both will"
	       " write the same new value, and one sale will be lost",
	       "narration: the second read says what is coming, from roles and effects");
	feed(&m, EV_STEP, 0, 1, 0, "write", UPDATE, 1);
	done(&m, 0, 1, 0, "write", 0, 0, 1);
	commit(&m, 0, 1, 0, 1);
	feed(&m, EV_STEP, 0, 2, 0, "write", UPDATE, 1);
	done(&m, 0, 2, 0, "write", 0, 0, 1);
	viz_narrate(&m, 0, text, sizeof text);
	is_str(text, "T2 wrote 1 over T1's 1: T1's sale is lost", "narration: the lost update");

	feed(&m, EV_STEP, 1, 1, 0, "begin", "BEGIN", -1);
	done(&m, 1, 1, 0, "begin", 0, 0, 0);
	feed(&m, EV_STEP, 1, 1, 0, "lock", SELECT " FOR UPDATE", -1);
	done(&m, 1, 1, 0, "lock", 1, 0, 0);
	viz_narrate(&m, 1, text, sizeof text);
	is_str(text, "T1 read number_sold = 0 under the row's lock: the others wait at theirs"
	       " until T1 commits", "narration: a row lock (PostgreSQL)");
	feed(&m, EV_STEP, 1, 2, 0, "begin", "BEGIN", -1);
	done(&m, 1, 2, 0, "begin", 0, 0, 0);
	feed(&m, EV_STEP, 1, 2, 0, "lock", SELECT " FOR UPDATE", -1);
	{
		struct event e = { .kind = EV_WAIT, .strategy = 1, .thread = 2, .op = 0,
		                   .step = "lock", .t_ns = clock_ns += 1000000 };
		viz_model_event(&e, &m);
	}
	viz_narrate(&m, 1, text, sizeof text);
	is_str(text, "T2 waits: T1 holds the lock until it commits", "narration: a wait, and whom for");

	close_screen();
	open_screen(24, 80);
	viz_draw(stdscr, &m, &pv);
	has("racelab product:", "present 80x24: the title");
	has("─ naive ", "present 80x24: naive's panel");
	has("─ locked ", "present 80x24: locked's panel");
	has("> T2 wrote 1 over T1's 1: T1's", "present 80x24: the narration under naive's lanes");
	has("> T2 waits: T1 holds the lock", "present 80x24: the narration under locked's lanes");
	has("✗ 1 sale lost", "present 80x24: the loss, in words");
	has("space/n next step", "present 80x24: the keys");
	ok(find("ops/s") < 0, "present: no per-second figures");
	pv.blank = 1;
	viz_draw(stdscr, &m, &pv);
	ok(find("naive") < 0 && find("T1") < 0, "present: b blanks the screen");
	pv.blank = 0;
	close_screen();
	open_screen(30, 100);
	viz_draw(stdscr, &m, &pv);
	has("> T2 wrote 1 over T1's 1: T1's sale is lost", "present 100x30: the whole narration");
	close_screen();
	open_screen(40, 132);
	viz_model_done(&m);
}

/* The fix ladder: six strategies do not fit 80 or 132 columns; the status line
 * says which panels are shown, < > page, and at 200 columns all six fit. */
static void test_many_panels(void)
{
	struct run_config cfg = { .scenario = &demo_product,
	                          .strategies = { 0, 1, 2, 3, 4, 5 }, .nstrategies = 6,
	                          .threads = 4, .ops = 8, .seed = 1 };
	struct viz_view view = { .backend = "sqlite", .nsteps = -1 };
	struct viz_model m;

	cfg.db = db_sqlite();
	viz_model_init(&m, &cfg);
	resize_term(24, 80);
	viz_draw(stdscr, &m, &view);
	has("panels 1-3 of 6", "80x24, six strategies: the status line says panels 1-3 of 6");
	has("< > others", "... and which keys show the others");
	ok(find("─ locked ") >= 0 && find("─ deferred ") < 0,
	   "80x24: naive, atomic, locked are drawn, deferred is not");
	ok(strstr(row(LINES - 1), "< >") != NULL, "80x24: the footer lists < >");
	view.first_panel = 3;
	viz_draw(stdscr, &m, &view);
	has("panels 4-6 of 6", "> shows panels 4-6");
	ok(find("─ serializable ") >= 0 && find("─ naive ") < 0,
	   "80x24, panels 4-6: serializable is drawn, naive is not");
	resize_term(40, 132);
	viz_draw(stdscr, &m, &view);
	has("panels 2-6 of 6", "132x40: five fit; the page is clamped so it is full");
	has("too narrow for all: < > show the others", "132x40: the longer words fit");
	resize_term(60, 200);
	view.first_panel = 0;
	viz_draw(stdscr, &m, &view);
	ok(find("panels ") < 0 && find("─ naive ") >= 0 && find("─ serializable ") >= 0,
	   "200x60: all six panels, and no word of paging");
	ok(strstr(row(LINES - 1), "< >") == NULL, "200x60: the footer has no < >");
	resize_term(40, 132);
	viz_model_done(&m);

	/* A refused request answered by the application, and a failed one: both
	 * counted, in the narrowest panel too, before the waits. */
	cfg.scenario = &demo_coupon;
	cfg.strategies[0] = 3;          /* unique */
	cfg.strategies[1] = 4;          /* nowait */
	cfg.nstrategies = 2;
	viz_model_init(&m, &cfg);
	feed(&m, EV_STEP, 0, 1, 0, "redeem", "INSERT INTO redemptions", -1);
	feed(&m, EV_FAIL, 0, 1, 0, "redeem", NULL, -1);
	commit(&m, 0, 1, 0, 0);
	feed(&m, EV_STEP, 1, 1, 0, "lock", "SELECT redeemed FROM coupons WHERE code = $1"
	     " FOR UPDATE NOWAIT", -1);
	feed(&m, EV_FAIL, 1, 1, 0, "lock", NULL, -1);
	feed(&m, EV_ABORT, 1, 1, 0, NULL, NULL, -1);
	is_int(m.panels[0].refused, 1, "a failed INSERT in an operation that committed is refused");
	is_int(m.panels[0].aborts, 0, "... and not failed");
	is_int(m.panels[1].aborts, 1, "an aborted operation is failed");
	resize_term(24, 52);
	viz_draw(stdscr, &m, &view);
	has("1 refused", "a 26-column panel shows the refused request");
	has("1 failed", "... and the failed one");
	resize_term(40, 132);
	viz_model_done(&m);
}

/* An event with two integer arguments, as the ladder's scenarios bind them
 * ($1 the row, $2 the value written). */
static void feed2(struct viz_model *m, enum ev_kind kind, int thread, const char *step,
                  int64_t a1, int64_t a2)
{
	struct event e = { 0 };

	e.kind = kind;
	e.thread = thread;
	e.step = step;
	e.sql = "SQL";
	e.t_ns = clock_ns += 1000000;
	e.nargs = 2;
	e.args[0].type = e.args[1].type = DB_INT;
	e.args[0].i = a1;
	e.args[1].i = a2;
	declare(m, &e);
	viz_model_event(&e, m);
}

/* transfer/locked on PostgreSQL: T1 holds account 1 and waits for 2, T2 holds 2
 * and waits for 1.  Each waits for the thread holding the very row it wants, and
 * the lanes draw the cycle. */
static void test_transfer_deadlock(void)
{
	struct run_config cfg = { .scenario = &demo_transfer, .strategies = { 1 },
	                          .nstrategies = 1, .threads = 2, .ops = 1, .seed = 5, .step = 1 };
	int cycle[VIZ_CYCLE];
	struct viz_model m;

	cfg.db = db_postgres();
	viz_model_init(&m, &cfg);
	for (int t = 1; t <= 2; t++) {
		feed(&m, EV_STEP, 0, t, 0, "begin", "BEGIN", -1);
		done(&m, 0, t, 0, "begin", 0, 0, 0);
		feed2(&m, EV_STEP, t, "lock_from", t, 0);
		done(&m, 0, t, 0, "lock_from", 1, 1000, 0);
	}
	feed2(&m, EV_STEP, 1, "lock_to", 2, 0);
	wait_event(&m, 1, "lock_to");
	is_int(viz_lane_waits_for(&m, 0, 1), 2, "model: T1 waits for T2, who holds account 2");
	is_int(viz_lane_cycle(&m, 0, 1, cycle), 0, "model: one wait is no cycle");
	feed2(&m, EV_STEP, 2, "lock_to", 1, 0);
	wait_event(&m, 2, "lock_to");
	is_int(viz_lane_waits_for(&m, 0, 2), 1, "model: T2 waits for T1, who holds account 1");
	ok(viz_lane_cycle(&m, 0, 1, cycle) == 2 && cycle[0] == 1 && cycle[1] == 2,
	   "model: T1 → T2 → T1 is a cycle");
	step_view.backend = "postgres";
	viz_draw(stdscr, &m, &step_view);
	has("⏳ T1 → T2 → T1  deadlock", "step: T1's lane draws the cycle");
	has("⏳ T2 → T1 → T2  deadlock", "step: T2's lane draws the cycle");
	step_view.backend = "sqlite";
	viz_model_done(&m);
}

/* transfer/naive: both read 1000 and 1000; T1 debits 1 and credits 2, T2 debits 2
 * and credits 1, each over the other's write: the total, live, is 2020 of 2000. */
static void test_transfer_total(void)
{
	struct run_config cfg = { .scenario = &demo_transfer, .strategies = { 0 },
	                          .nstrategies = 1, .threads = 2, .ops = 1, .seed = 5 };
	int64_t expected, observed, anomalies;
	struct viz_model m;

	cfg.db = db_sqlite();
	viz_model_init(&m, &cfg);
	for (int t = 1; t <= 2; t++) {
		feed2(&m, EV_STEP, t, "read_from", t, 0);
		done(&m, 0, t, 0, "read_from", 1, 1000, 0);
		feed2(&m, EV_STEP, t, "read_to", 3 - t, 0);
		done(&m, 0, t, 0, "read_to", 1, 1000, 0);
	}
	feed2(&m, EV_STEP, 1, "debit", 1, 990);
	done(&m, 0, 1, 0, "debit", 0, 0, 1);
	feed2(&m, EV_STEP, 2, "debit", 2, 990);
	done(&m, 0, 2, 0, "debit", 0, 0, 1);
	feed2(&m, EV_STEP, 1, "credit", 2, 1010);
	done(&m, 0, 1, 0, "credit", 0, 0, 1);
	feed2(&m, EV_STEP, 2, "credit", 1, 1010);
	done(&m, 0, 2, 0, "credit", 0, 0, 1);
	viz_panel_figures(&m, &m.panels[0], &expected, &observed, &anomalies);
	is_int(expected, 2000, "model: transfer's expected is the conserved total");
	is_int(observed, 2020, "model: the balances now add up to 2020");
	is_int(anomalies, 2, "model: two credits overwrote a debit (up or down, both count)");
	viz_model_done(&m);
}

/* tickets/atomic: the seat a booking took is the value its UPDATE returned
 * (SCN_KEY_RESULT); two bookings of seats 5 and 6 are fine, a second of 5 is not. */
static void test_tickets_returned_key(void)
{
	struct run_config cfg = { .scenario = &demo_tickets, .strategies = { 1 },
	                          .nstrategies = 1, .threads = 3, .ops = 1, .seed = 5 };
	struct viz_model m;
	const int64_t seat[] = { 5, 6, 5 };

	cfg.db = db_sqlite();
	viz_model_init(&m, &cfg);
	for (int t = 1; t <= 3; t++) {
		feed(&m, EV_STEP, 0, t, 0, "begin", "BEGIN IMMEDIATE", -1);
		done(&m, 0, t, 0, "begin", 0, 0, 0);
		feed(&m, EV_STEP, 0, t, 0, "book", "UPDATE seats ... RETURNING id", -1);
		done(&m, 0, t, 0, "book", 1, seat[t - 1], 1);
		feed(&m, EV_STEP, 0, t, 0, "commit", "COMMIT", -1);
		done(&m, 0, t, 0, "commit", 0, 0, 0);
		commit(&m, 0, t, 0, 1);
		if (t == 2)
			is_int(m.panels[0].extra, 0, "model: seats 5 and 6, each booked once");
	}
	is_int(m.panels[0].extra, 1, "model: seat 5 booked again is the anomaly");
	ok(viz_panel_key(&m.panels[0], 5) && viz_panel_key(&m.panels[0], 5)->uses == 2,
	   "model: the key is the returned seat, 5, used twice");
	viz_model_done(&m);
}

int main(void)
{
	if (!setlocale(LC_ALL, "C.UTF-8") && !setlocale(LC_ALL, "en_US.UTF-8")) {
		printf("1..0 # SKIP no UTF-8 locale\n");
		return 0;
	}
	unsetenv("NO_COLOR");
	open_screen(40, 132);
	test_product();
	test_coupon();
	test_step_naive();
	test_step_locked(db_sqlite());
	test_step_locked(db_postgres());
	test_step_others();
	test_present();
	test_many_panels();
	test_transfer_deadlock();
	test_transfer_total();
	test_tickets_returned_key();
	close_screen();
	test_no_color();
	return done_testing();
}
