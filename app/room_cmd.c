/*
 * room_cmd.c: racelab room open and racelab room join: the command lines and
 * the two loops, the projector's and a student's (core/room.h has the design).
 *
 * Each is one thread polling its sockets: the room's LISTENing connection, the
 * student's step connection while a step is in flight, and the keyboard (the
 * terminal, or, without one, lines on stdin: commands for the projector, key
 * presses for a student).  Without a terminal both print what happens, one line
 * per event, so tests and scripts can follow a room.
 *
 * What the students race is the scenario's own declaration, read through
 * app/room_play.c: its data and check, its steps' SQL, arguments and flow, its
 * words (the verdict, the count's name) and whether a strategy is safe.
 */
#include "room_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../core/room.h"
#include "../core/status.h"
#include "../core/sys.h"
#include "../demos/demo.h"
#include "room_play.h"
#include "../viz/room.h"
#include "../viz/viz.h"

#define TICK_MS 250             /* who has gone, the shared count: this often */
#define WAIT_ROW_NS (30LL * 1000000)    /* a step not answered this soon waits */
#define CLOSE_WAIT_NS (3000LL * 1000000)/* close: how long students get to stop */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int room_cmd_interrupted(void)
{
	return interrupted;
}

void room_cmd_catch_signals(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_signal;      /* no SA_RESTART: poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static const char room_usage[] =
"usage: racelab room open -d CONNINFO [SCENARIO] [-s STRATEGY] [-n OPS]\n"
"                         [--join-db CONNINFO] [--no-ui]\n"
"       racelab room join -d CONNINFO CODE --name NAME [--auto] [--pace MS]\n"
"                         [--no-ui]\n"
"       racelab room host [--listen ADDRESS] [--port PORT]\n"
"\n"
"A classroom racing on one shared PostgreSQL: the instructor opens a room on\n"
"the projector, every student joins it from their own terminal and becomes one\n"
"thread of the race.\n"
"\n"
"  open   create a room (a schema of its own; its code is printed in big\n"
"         digits with the join command) and show the projector.  Keys: s start\n"
"         a round, e end it, r reset the data, n/a/l naive/atomic/locked for the\n"
"         next round, q close the room (drops everything it made).\n"
"         -s STRATEGY   the first round's (default naive)\n"
"         -n OPS        operations per student per round, 1-100 (default 3)\n"
"         --join-db C   the connection string students use, shown in the join\n"
"                       command (default: this server's host, port, database)\n"
"         Without a terminal (or with --no-ui): one line per event; commands\n"
"         on stdin: start [STRATEGY], end, reset, strategy NAME, close.\n"
"  join   join room CODE as NAME (1-64 characters): SPACE takes your next step.\n"
"         --auto        take the steps by themselves; --pace MS between them\n"
"         Without a terminal: each line on stdin is a key press.\n"
"  host   start a throwaway PostgreSQL on ADDRESS (default: every address) and\n"
"         PORT (default 5432) with a generated password, print what to hand\n"
"         out, and stop it, removing its data, at Ctrl-C.\n";

/* Parse S as a whole number in [LO, HI]. */
static int number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "racelab: ");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return EX_USAGE;
}

/* The scenario's verdict on a round, in its own words, and whether a strategy is
 * a safe one. */
static void verdict(const char *scenario, const struct scn_check *c, int64_t committed,
                    char *buf, size_t n)
{
	const struct scenario *d = demo_find(scenario);

	if (d)
		d->verdict(c, committed, buf, n);
	else
		snprintf(buf, n, "%lld anomalies", (long long)c->anomalies);
}

static int safe_strategy(const char *scenario, const char *strategy)
{
	const struct scenario *d = demo_find(scenario);
	int i = d ? scn_strategy_index(d, strategy) : -1;

	return i >= 0 && d->strategies[i].safe;
}

/* Whether strategy NAME of SCENARIO can be played in a room: 0, or -1 with the
 * line that says why not into BUF. */
static int strategy_refused(const char *scenario, const char *name, char *buf, size_t n)
{
	const struct scenario *d = demo_find(scenario);
	int i = d && name ? scn_strategy_index(d, name) : -1;
	char list[256] = "", why[128];

	if (i >= 0 && room_play_fits(d, &d->strategies[i], why, sizeof why) == 0)
		return 0;
	if (d)
		room_play_strategies(d, list, sizeof list);
	if (i < 0)
		snprintf(buf, n, "unknown strategy '%s': choose %s", name ? name : "", list);
	else
		snprintf(buf, n, "%s/%s cannot be played in a room (%s): choose %s", scenario,
		         name, why, list);
	return -1;
}

/* Read a password from the terminal without echoing it. */
static int ask_password(const char *who, char *buf, size_t n)
{
	FILE *tty = fopen("/dev/tty", "r+");
	struct termios old, quiet;
	int ok;

	if (!tty)
		return -1;
	fprintf(tty, "Password for %s: ", who);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = fgets(buf, (int)n, tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* Connect, asking for a password on the terminal if the server wants one. */
static struct room_conn *connect_room(const char *conninfo, char *password, size_t n,
                                      char *err)
{
	int needs = 0;
	struct room_conn *c = room_connect(conninfo, password[0] ? password : NULL, &needs,
	                                   err);

	if (!c && needs && !password[0] && isatty(STDIN_FILENO) &&
	    ask_password("the room's database", password, n) == 0)
		c = room_connect(conninfo, password, NULL, err);
	return c;
}

/* SRC in single quotes for a shell. */
static void shell_quote(char *out, size_t n, const char *src)
{
	size_t len = 0;

	if (n < 3)
		return;
	out[len++] = '\'';
	for (; *src && len + 5 < n; src++) {
		if (*src == '\'') {
			memcpy(out + len, "'\\''", 4);
			len += 4;
		} else {
			out[len++] = *src;
		}
	}
	out[len++] = '\'';
	out[len] = '\0';
}

/* ---- the projector ------------------------------------------------------------- */

struct projector {
	struct room_conn *c;
	struct room_model m;
	char code[ROOM_CODE_LEN + 1];
	char join[600];
	char next[16];                  /* the next round's strategy */
	char verdict[256];
	int have_verdict, verdict_bad;
	char message[640];
	int ui;
	int status;                     /* the exit status so far */
	int closing;                    /* asked to close: waiting for the round to stop */
	int64_t closing_since;
	int dirty;                      /* redraw */
	int lags;                       /* RACELAB_ROOM_LAG: print the delays at the end */
	size_t lags_drawn;              /* the delays that include their drawing */
};

static void say(struct projector *p, const char *msg)
{
	snprintf(p->message, sizeof p->message, "%s", msg);
	p->dirty = 1;
	if (!p->ui)
		printf("%s\n", msg);
}

static void show_row(const struct room_model *m, const struct room_seat *s,
                     const struct room_row *row, void *arg)
{
	struct projector *p = arg;

	(void)m;
	p->dirty = 1;
	if (p->ui)
		return;
	printf("row %d.%d %c round %d op %d %s value %" PRId64 " effect %d: %s\n",
	       row->student, row->n, (char)row->kind, row->round, row->op, row->step,
	       row->value, row->effect, s->name);
}

static void show_seat(const struct room_model *m, const struct room_seat *s,
                      const char *what, void *arg)
{
	struct projector *p = arg;

	(void)m;
	p->dirty = 1;
	if (!p->ui)
		printf("%s %d: %s\n", what, s->id, s->name);
}

/* Every student still here has finished: check the data and say the verdict. */
static int finish_round(struct projector *p, char *err)
{
	struct room_model *m = &p->m;
	char line[600];

	/* the rows of students who left just now, the last of them */
	if (room_model_poll(p->c, m, ROOM_POLL_STUDENTS | ROOM_POLL_GONE, show_row, show_seat,
	                    p, err) < 0 ||
	    room_play_check(p->c, &m->info, m->effects, &m->check, err) ||
	    room_over(p->c, err))
		return -1;
	m->checked = 1;
	m->count = m->check.observed;   /* what the verdict was read from */
	m->info.state = ROOM_IDLE;
	verdict(m->info.scenario, &m->check, m->effects, p->verdict, sizeof p->verdict);
	p->have_verdict = 1;
	p->verdict_bad = m->check.anomalies > 0;
	if (m->check.anomalies > 0 && safe_strategy(m->info.scenario, m->info.strategy))
		p->status = EX_ANOMALY;
	if (p->ui)      /* the verdict has a line of its own: say what comes next */
		snprintf(line, sizeof line, "round %d (%s) is over: s starts the next, n/a/l"
		         " choose its strategy", m->info.round, m->info.strategy);
	else
		snprintf(line, sizeof line, "round %d over (%s): %s", m->info.round,
		         m->info.strategy, p->verdict);
	say(p, line);
	if (!p->ui)
		printf("check: round=%d strategy=%s steps=%" PRId64 " effects=%" PRId64
		       " expected=%" PRId64 " observed=%" PRId64 " anomalies=%" PRId64
		       " rows=%" PRId64 " out_of_order=%" PRId64 "\n", m->info.round,
		       m->info.strategy, m->steps, m->effects, m->check.expected,
		       m->check.observed, m->check.anomalies, m->total_rows, m->out_of_order);
	fflush(stdout);
	return 0;
}

static int here(const struct room_model *m)
{
	int n = 0;

	for (int i = 0; i < m->nseats; i++)
		n += !m->seats[i].gone;
	return n;
}

/* A command (headless) or a key (on the projector).  Returns 1 to close. */
static int command(struct projector *p, const char *cmd, const char *arg, char *err)
{
	struct room_model *m = &p->m;
	char line[300];

	if (!strcmp(cmd, "start")) {
		if (arg && *arg) {
			if (strategy_refused(m->info.scenario, arg, line, sizeof line)) {
				say(p, line);
				return 0;
			}
			snprintf(p->next, sizeof p->next, "%s", arg);
		}
		if (m->info.state != ROOM_IDLE) {
			say(p, "a round is on: end it first (e)");
			return 0;
		}
		if (!here(m)) {
			say(p, "nobody has joined yet");
			return 0;
		}
		if (room_start(p->c, p->next, room_play_fresh, NULL, err) ||
		    room_info(p->c, &m->info, err))
			return -1;
		room_model_new_round(m, m->info.round);
		p->have_verdict = 0;
		snprintf(line, sizeof line, "round %d started (%s)", m->info.round, m->info.strategy);
		say(p, line);
	} else if (!strcmp(cmd, "end")) {
		if (m->info.state == ROOM_RUNNING) {
			if (room_end(p->c, err))
				return -1;
			m->info.state = ROOM_ENDING;
			say(p, "ending the round: students stop and roll back (e again: now)");
		} else if (m->info.state == ROOM_ENDING) {
			/* someone's terminal is stuck: end it without them */
			for (int i = 0; i < m->nseats; i++)
				if (!(m->seats[i].round == m->info.round && m->seats[i].finished))
					m->seats[i].gone = 1;
			return finish_round(p, err) ? -1 : 0;
		} else {
			say(p, "no round is on");
		}
	} else if (!strcmp(cmd, "reset")) {
		if (m->info.state != ROOM_IDLE) {
			say(p, "a round is on: end it first (e)");
			return 0;
		}
		if (room_reset(p->c, room_play_fresh, NULL, err))
			return -1;
		room_model_new_round(m, m->info.round);
		p->have_verdict = 0;
		say(p, "the data is as new");
	} else if (!strcmp(cmd, "strategy")) {
		if (strategy_refused(m->info.scenario, arg, line, sizeof line)) {
			say(p, line);
			return 0;
		}
		snprintf(p->next, sizeof p->next, "%s", arg);
		snprintf(line, sizeof line, "next round: %s", arg);
		say(p, line);
	} else if (!strcmp(cmd, "close") || !strcmp(cmd, "quit")) {
		return 1;
	} else {
		snprintf(line, sizeof line, "unknown command '%s': start [STRATEGY], end, reset,"
		         " strategy NAME, close", cmd);
		say(p, line);
	}
	return 0;
}

/* Close the room: ask a running round to stop (students roll back and let go
 * of their locks), then drop the schema; a student too stuck to stop is cut
 * off if the server lets us. */
static int close_room(struct projector *p, char *err)
{
	int64_t until = sys_now_ns() + CLOSE_WAIT_NS;

	if (p->m.info.state == ROOM_RUNNING && room_end(p->c, err) == 0)
		p->m.info.state = ROOM_ENDING;
	while (p->m.info.state == ROOM_ENDING && sys_now_ns() < until) {
		struct pollfd fd = { room_conn_socket(p->c), POLLIN, 0 };

		if (room_model_poll(p->c, &p->m, ROOM_POLL_STUDENTS | ROOM_POLL_GONE, show_row,
		                    show_seat, p, err) < 0)
			break;
		if (room_model_round_done(&p->m))
			break;
		poll(&fd, 1, 50);
		room_conn_notified(p->c);
	}
	if (room_exec(p->c, "SET lock_timeout = '5s'", err) == 0 &&
	    room_drop(p->c, p->code, err) == 0)
		return 0;
	/* cut off whoever holds a lock on the room's tables, then again */
	{
		char sql[300];

		snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(step_pid) FROM"
		         " racelab_room_%s.students", p->code);
		room_exec(p->c, sql, err);
	}
	return room_drop(p->c, p->code, err);
}

static void draw(struct projector *p)
{
	struct viz_room_view v = {
		.code = p->code, .join = p->join,
		.title = demo_find(p->m.info.scenario) ? demo_find(p->m.info.scenario)->title : "",
		.count_label = room_play_count_label(p->m.info.scenario),
		.strategy = room_play_strategy(p->m.info.scenario, p->m.info.strategy),
		.effect = demo_find(p->m.info.scenario)
		          ? demo_find(p->m.info.scenario)->words.effect : "effect",
		.next_strategy = p->next,
		.verdict = p->have_verdict ? p->verdict : NULL, .verdict_bad = p->verdict_bad,
		.message = p->message[0] ? p->message : NULL,
	};

	viz_room_projector(&p->m, &v);
	p->dirty = 0;
	/* make bench: a step is shown once it is drawn, not when it was applied */
	if (p->lags) {
		int64_t drawn = sys_now_ns() - p->m.polled_ns;

		for (size_t i = p->lags_drawn; i < p->m.nlags; i++)
			p->m.lags[i] += drawn;
		p->lags_drawn = p->m.nlags;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void print_lags(struct room_model *m)
{
	if (!m->nlags) {
		fprintf(stderr, "key to projector: no steps\n");
		return;
	}
	qsort(m->lags, m->nlags, sizeof *m->lags, cmp_i64);
	fprintf(stderr, "key to projector: %zu steps, median %.1f ms, p99 %.1f ms, max %.1f ms\n",
	        m->nlags, m->lags[m->nlags / 2] / 1e6,
	        m->lags[(m->nlags * 99) / 100 < m->nlags ? (m->nlags * 99) / 100 : m->nlags - 1] / 1e6,
	        m->lags[m->nlags - 1] / 1e6);
}

/* The name of the Nth (0 up) strategy of SCENARIO a room plays, or "" if none. */
static const char *nth_strategy(const char *scenario, int n)
{
	const struct scenario *d = demo_find(scenario);
	char why[128];

	for (int i = 0; d && i < scn_nstrategies(d); i++)
		if (room_play_fits(d, &d->strategies[i], why, sizeof why) == 0 && n-- == 0)
			return d->strategies[i].name;
	return "";
}

/* Handle what the keyboard (UI) or stdin (headless) says.  Returns 1 to close,
 * -1 on a database error, 0 otherwise. */
static int projector_input(struct projector *p, int *confirm, char *err)
{
	if (p->ui) {
		int ch, rc = 0;

		while (rc == 0 && (ch = viz_room_key()) != -1) {
			const char *cmd = NULL, *arg = NULL;

			p->dirty = 1;
			if (*confirm) {
				*confirm = 0;
				if (ch == 'y' || ch == 'Y')
					return 1;
				say(p, "the room stays open");
				continue;
			}
			switch (ch) {
			case 's': cmd = "start"; break;
			case 'e': cmd = "end"; break;
			case 'r': cmd = "reset"; break;
			case 'n': cmd = "strategy"; arg = "naive"; break;
			case 'a': cmd = "strategy"; arg = "atomic"; break;
			case 'l': cmd = "strategy"; arg = "locked"; break;
			case '1': case '2': case '3': case '4': case '5': case '6': case '7':
			case '8':       /* the Nth strategy the room plays: 4 is skip_locked */
				cmd = "strategy";
				arg = nth_strategy(p->m.info.scenario, ch - '1');
				break;
			case 'q':
				*confirm = 1;
				say(p, "close the room and drop everything in it? y/n");
				continue;
			default: continue;
			}
			rc = command(p, cmd, arg, err);
		}
		return rc;
	} else {
		char line[256], *cmd, *arg, *save = NULL;

		if (!fgets(line, sizeof line, stdin))
			return 1;       /* stdin closed: close the room */
		cmd = strtok_r(line, " \t\r\n", &save);
		arg = strtok_r(NULL, " \t\r\n", &save);
		return cmd ? command(p, cmd, arg, err) : 0;
	}
}

static int room_open(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "strategy", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "join-db", required_argument, NULL, 'j' },
		{ "no-ui", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *where = NULL, *joindb = NULL, *scenario = demo_scenarios[0]->name,
	           *strategy = "naive";
	long ops = ROOM_DEFAULT_OPS;
	int no_ui = 0, ch, rc = 0, confirm = 0, created = 0;
	char err[ROOM_ERRLEN], password[256] = "", q[512];
	struct projector p = { 0 };
	int64_t next_tick = 0, count_at = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:s:n:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': where = optarg; break;
		case 's': strategy = optarg; break;
		case 'n':
			if (number(optarg, 1, 100, &ops))
				return usage_error("bad value '%s' for -n: operations per student, 1-100",
				                   optarg);
			break;
		case 'j': joindb = optarg; break;
		case 'u': no_ui = 1; break;
		case 'h': fputs(room_usage, stdout); return 0;
		default: return EX_USAGE;
		}
	}
	if (optind < argc)
		scenario = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s' for racelab room open", argv[optind]);
	if (!demo_find(scenario)) {
		room_play_scenarios(q, sizeof q);
		fprintf(stderr, "racelab: unknown scenario '%s': choose %s\n", scenario, q);
		return EX_USAGE;
	}
	room_play_strategies(demo_find(scenario), q, sizeof q);
	if (!q[0]) {
		/* say why with its first strategy: the others fail the same way */
		const struct scn_strategy *first = &demo_find(scenario)->strategies[0];
		char why[128], can[256];

		room_play_fits(demo_find(scenario), first, why, sizeof why);
		room_play_scenarios(can, sizeof can);
		fprintf(stderr, "racelab: %s cannot be raced in a room: in %s, %s (a room takes"
		        " the steps a scenario declares); a room races %s\n", scenario, first->name,
		        why, can);
		return EX_USAGE;
	}
	if (strategy_refused(scenario, strategy, q, sizeof q)) {
		fprintf(stderr, "racelab: %s\n", q);
		return EX_USAGE;
	}
	if (joindb && strstr(joindb, "assword"))
		return usage_error("%s", "--join-db is shown to everyone: leave the password out"
		                   " (students are asked for it)");
	if (joindb && (strchr(joindb, '@') && strstr(joindb, "://") &&
	               strchr(strstr(joindb, "://") + 3, ':') &&
	               strchr(strstr(joindb, "://") + 3, ':') < strchr(joindb, '@')))
		return usage_error("%s", "--join-db is shown to everyone: leave the password out"
		                   " (students are asked for it)");

	room_cmd_catch_signals();
	p.ui = !no_ui && viz_available();
	p.c = connect_room(where, password, sizeof password, err);
	if (!p.c) {
		fprintf(stderr, "racelab: %s\n", err);
		return EX_UNAVAILABLE;
	}
	/* a fresh code; a collision with an open room is retried */
	for (int tries = 0; tries < 8 && !created; tries++) {
		room_code_new(p.code);
		created = room_create(p.c, p.code, scenario, strategy, (int)ops, room_play_fresh,
		                      NULL, err) == 0;
	}
	if (!created) {
		fprintf(stderr, "racelab: %s\n", err);
		room_disconnect(p.c);
		return EX_UNAVAILABLE;
	}
	snprintf(p.next, sizeof p.next, "%s", strategy);
	room_model_init(&p.m);
	if (getenv("RACELAB_ROOM_LAG") && room_model_keep_lags(&p.m) == 0)
		p.lags = 1;
	if (room_info(p.c, &p.m.info, err))
		goto fail;
	if (joindb) {
		shell_quote(q, sizeof q, joindb);
	} else {
		char ci[400] = "";
		const char *h = room_conn_host(p.c), *port = room_conn_port(p.c),
		           *db = room_conn_db(p.c);

		snprintf(ci, sizeof ci, "host=%s port=%s dbname=%s", h ? h : "", port ? port : "",
		         db ? db : "");
		shell_quote(q, sizeof q, ci);
	}
	snprintf(p.join, sizeof p.join, "racelab room join -d %s %s --name YOUR_NAME", q, p.code);

	if (p.ui && viz_room_start() != 0)
		p.ui = 0;
	if (!p.ui) {
		printf("racelab room %s is open: %s, %s, %ld operation%s per student per round\n",
		       p.code, scenario, strategy, ops, ops == 1 ? "" : "s");
		printf("join: %s\n", p.join);
		fflush(stdout);
	}
	p.dirty = 1;
	for (;;) {
		struct pollfd fds[2] = {
			{ room_conn_socket(p.c), POLLIN, 0 },
			{ STDIN_FILENO, POLLIN, 0 },
		};
		int64_t now = sys_now_ns();
		int news, tick = now >= next_tick;

		if (interrupted)
			break;
		if (p.ui && p.dirty)
			draw(&p);
		if (poll(fds, 2, TICK_MS) < 0 && errno != EINTR)
			break;
		if (interrupted)
			break;
		if ((news = room_conn_notified(p.c)) < 0) {
			snprintf(err, sizeof err, "the connection to the room's database was lost");
			goto fail;
		}
		now = sys_now_ns();
		tick = now >= next_tick;
		if (news > 0 || tick) {
			unsigned what = room_conn_news(p.c);
			int applied = room_model_poll(p.c, &p.m, (tick ? ROOM_POLL_STUDENTS |
			                              ROOM_POLL_GONE : 0) | (what & ROOM_NEWS('j')
			                              ? ROOM_POLL_STUDENTS : 0), show_row,
			                              show_seat, &p, err);

			if (applied < 0)
				goto fail;
			/* the shared count: at most ten times a second */
			if (p.ui && (applied > 0 || tick) && now - count_at >= 100000000LL &&
			    room_play_count(p.c, &p.m.info, &p.m.count, err) == 0) {
				count_at = now;
				p.dirty = 1;
			}
			if (tick)
				next_tick = now + TICK_MS * 1000000LL;
			if (!p.ui)
				fflush(stdout);
		}
		if ((p.m.info.state == ROOM_RUNNING || p.m.info.state == ROOM_ENDING) &&
		    room_model_round_done(&p.m) && finish_round(&p, err))
			goto fail;
		if (fds[1].revents & (POLLIN | POLLHUP)) {
			int r = projector_input(&p, &confirm, err);

			if (r < 0)
				goto fail;
			if (r == 1)
				break;
		}
	}
	if (p.ui)
		viz_room_stop();
	if (close_room(&p, err)) {
		fprintf(stderr, "racelab: could not close room %s: %s\n", p.code, err);
		rc = EX_UNAVAILABLE;
	} else {
		printf("racelab room %s is closed; everything it made is dropped\n", p.code);
		if (p.have_verdict)
			printf("last round (%s): %s\n", p.m.info.strategy, p.verdict);
	}
	if (p.lags)
		print_lags(&p.m);
	room_model_done(&p.m);
	room_disconnect(p.c);
	return rc ? rc : interrupted ? EX_INTERRUPTED : p.status;
fail:
	if (p.ui)
		viz_room_stop();
	fprintf(stderr, "racelab: %s\n", err);
	{
		/* try to leave nothing behind, on a fresh connection if need be */
		char e2[ROOM_ERRLEN];
		struct room_conn *c = room_connect(where, password[0] ? password : NULL, NULL, e2);

		if (c) {
			room_drop(c, p.code, e2);
			room_disconnect(c);
		}
	}
	room_model_done(&p.m);
	room_disconnect(p.c);
	return EX_UNAVAILABLE;
}

/* ---- a student ------------------------------------------------------------------ */

struct student {
	struct room_conn *ctl, *stp;    /* rows and news; the scenario's steps */
	char code[ROOM_CODE_LEN + 1];
	const char *name;
	int id, n;                      /* the student's id; rows written */
	struct room_info info;
	const struct scenario *scn;     /* the room's */
	const struct scn_strategy *st;  /* this round's, as declared */
	int nsteps, effect_step;        /* its steps; the one that commits the effect */
	int round;                      /* the round being played (0: none yet) */
	int op, idx;                    /* operation, step in it */
	int finished;                   /* the round is done for us */
	int busy, waiting, in_txn, skipped;
	int64_t read;                   /* the value the operation read */
	int64_t sent_at, t_key, logged_value;
	char args[SCN_BINDS][24];
	int nargs;                      /* of the step in flight */
	int ui, auto_run, pace_ms;
	int64_t next_auto;
	struct viz_room_student view;
	char next_args[64], message[640];
	int64_t count;
	int64_t count_at;
	int dirty;
};

static void note(struct student *s, const char *msg)
{
	snprintf(s->message, sizeof s->message, "%s", msg);
	s->dirty = 1;
	if (!s->ui) {
		printf("%s\n", msg);
		fflush(stdout);
	}
}

static void mine(struct student *s, const char *step, const char *text, int bad)
{
	struct viz_room_mine *m;

	if (s->view.nmine == VIZ_ROOM_MINE) {
		memmove(&s->view.mine[0], &s->view.mine[1],
		        (VIZ_ROOM_MINE - 1) * sizeof *s->view.mine);
		s->view.nmine--;
	}
	m = &s->view.mine[s->view.nmine++];
	m->op = s->op;
	snprintf(m->step, sizeof m->step, "%s", step);
	snprintf(m->text, sizeof m->text, "%s", text);
	m->bad = bad;
	s->dirty = 1;
}

static int log_row(struct student *s, enum room_row_kind kind, const char *step,
                   int64_t value, int64_t changes, int effect, char *err)
{
	struct room_row row = {
		.student = s->id, .n = s->n + 1, .round = s->round, .op = s->op, .kind = kind,
		.value = value, .changes = changes, .effect = effect,
		.t_key = kind == ROOM_ROW_DONE || kind == ROOM_ROW_SKIP ? s->t_key : 0,
	};

	snprintf(row.step, sizeof row.step, "%s", step);
	if (room_log(s->ctl, &row, err))
		return -1;
	s->n++;
	return 0;
}

/* The arguments step ST binds, into s->args; returns how many. */
static int bind(struct student *s, const struct scn_step *st)
{
	return room_play_bind(s->scn, st, s->id, s->op, s->read, s->args);
}

static int end_round(struct student *s, char *err)
{
	char msg[64];

	s->finished = 1;
	if (log_row(s, ROOM_ROW_END, "end", 0, 0, 0, err))
		return -1;
	snprintf(msg, sizeof msg, "round %d: finished", s->round);
	note(s, msg);
	return 0;
}

/* Stop the operation in flight: cancel the statement, roll back. */
static int abort_op(struct student *s, char *err)
{
	int64_t v, ch;
	int failed, started = s->busy || s->idx > 0;

	if (s->busy) {
		room_cancel(s->stp);
		for (;;) {
			struct pollfd fd = { room_conn_socket(s->stp), POLLIN, 0 };
			int r = room_result(s->stp, &v, &ch, &failed, err);

			if (r < 0)
				return -1;
			if (r == 1)
				break;
			poll(&fd, 1, 100);
		}
		s->busy = s->waiting = 0;
		/* a step that completed all the same had its effect */
		if (!failed && s->st->steps[s->idx].role == ROLE_BEGIN)
			s->in_txn = 1;
	}
	if (s->in_txn && room_exec(s->stp, "ROLLBACK", err))
		return -1;
	s->in_txn = 0;
	if (started) {
		if (log_row(s, ROOM_ROW_ABORT, "rollback", 0, 0, 0, err))
			return -1;
		mine(s, "rolled", "back", 1);
	}
	s->idx = 0;
	return 0;
}

/* Take the next step (a key press at T_KEY). */
static int take_step(struct student *s, int64_t t_key, char *err)
{
	const struct scn_step *st;
	const char *args[SCN_BINDS] = { s->args[0], s->args[1] };

	if (!s->round || s->finished || s->busy || s->info.state != ROOM_RUNNING) {
		if (!s->auto_run)       /* a key press that takes nothing says why */
			note(s, s->busy ? "your last step is still running"
			     : s->round && s->finished && s->info.state == ROOM_RUNNING
			     ? "you have finished this round" : "no round is on: wait for the instructor");
		return 0;
	}
	st = &s->st->steps[s->idx];
	s->nargs = bind(s, st);
	s->logged_value = room_play_writes_next(st) ? s->read + 1 : 0;
	if (room_send(s->stp, st->sql, s->nargs, args, err))
		return -1;
	s->busy = 1;
	s->waiting = 0;
	s->sent_at = sys_now_ns();
	s->t_key = t_key;
	s->dirty = 1;
	return 0;
}

/* The step in flight has its answer. */
static int step_done(struct student *s, int64_t value, int64_t changes, int failed,
                     const char *why, char *err)
{
	const struct scn_step *st = &s->st->steps[s->idx];
	int select = room_play_reads(st);
	int effect = s->idx == s->effect_step && !s->skipped;
	char text[64], line[600];

	s->busy = s->waiting = 0;
	if (failed) {
		snprintf(line, sizeof line, "step %s failed: %s", st->name, why);
		note(s, line);
		return abort_op(s, err) ? -1 : (s->op++, s->op >= s->info.ops ? end_round(s, err) : 0);
	}
	if (st->role == ROLE_BEGIN)
		s->in_txn = 1;
	else if (st->role == ROLE_COMMIT)
		s->in_txn = 0;
	if (select)
		s->read = value;
	if (log_row(s, ROOM_ROW_DONE, st->name, select ? value : s->logged_value, changes,
	            effect, err))
		return -1;
	if (select)
		snprintf(text, sizeof text, "-> %" PRId64, value);
	else if (room_play_writes_next(st))
		snprintf(text, sizeof text, "%" PRId64, s->logged_value);
	else
		snprintf(text, sizeof text, "%s", effect ? "committed" : "ok");
	mine(s, st->name, text, 0);
	if (!s->ui) {
		printf("step %s: %s%s%s%s -> %" PRId64 " (%" PRId64 " row%s)\n", st->name, st->sql,
		       s->nargs ? " [" : "", s->nargs ? s->args[0] : "", s->nargs ? "]" : "",
		       value, changes, changes == 1 ? "" : "s");
		fflush(stdout);
	}
	if (!room_play_goes_on(st, value, changes)) {
		int to = room_play_skip_to(s->st, s->idx);

		for (int j = s->idx + 1; j < to; j++) {
			if (log_row(s, ROOM_ROW_SKIP, s->st->steps[j].name, 0, 0, 0, err))
				return -1;
			mine(s, s->st->steps[j].name, "skipped", 0);
		}
		s->skipped = 1;
		s->idx = to;
	} else {
		s->idx++;
	}
	if (s->idx >= s->nsteps) {
		s->idx = 0;
		s->skipped = 0;
		if (++s->op >= s->info.ops)
			return end_round(s, err);
	}
	return 0;
}

/* What the room's row says now: a new round, the end of one, or the end. */
static int room_news(struct student *s, char *err)
{
	char msg[128];

	if (room_info(s->ctl, &s->info, err))
		return -1;
	if (s->info.state == ROOM_CLOSED)
		return 1;
	if (s->info.state == ROOM_RUNNING && s->info.round != s->round) {
		if (s->busy || s->in_txn)       /* cannot happen: a round ends first */
			abort_op(s, err);
		s->round = s->info.round;
		s->scn = demo_find(s->info.scenario);
		s->st = room_play_strategy(s->info.scenario, s->info.strategy);
		s->op = s->idx = s->finished = s->skipped = 0;
		s->view.nmine = 0;
		if (!s->st) {
			snprintf(err, ROOM_ERRLEN, "the room plays a strategy this racelab does not"
			         " know: %s", s->info.strategy);
			return -1;
		}
		s->nsteps = room_play_nsteps(s->st);
		s->effect_step = room_play_effect_step(s->st);
		if (log_row(s, ROOM_ROW_BEGIN, "begin-round", 0, 0, 0, err))
			return -1;
		snprintf(msg, sizeof msg, "round %d: %s, %d operation%s", s->round, s->st->name,
		         s->info.ops, s->info.ops == 1 ? "" : "s");
		note(s, msg);
		s->next_auto = sys_now_ns();
	} else if (s->info.state == ROOM_ENDING && s->round == s->info.round && !s->finished) {
		if (abort_op(s, err) || end_round(s, err))
			return -1;
	}
	s->dirty = 1;
	return 0;
}

static void draw_student(struct student *s)
{
	s->view.code = s->code;
	s->view.name = s->name;
	s->view.id = s->id;
	s->view.info = &s->info;
	s->view.strategy = s->round ? s->st : NULL;
	s->view.next = s->round && !s->finished && s->info.state == ROOM_RUNNING ? s->idx : -1;
	s->next_args[0] = '\0';
	if (s->view.next >= 0) {
		int n = s->busy ? s->nargs : bind(s, &s->st->steps[s->idx]);

		if (n == 1)
			snprintf(s->next_args, sizeof s->next_args, "$1 = %s", s->args[0]);
		else if (n == 2)
			snprintf(s->next_args, sizeof s->next_args, "$1 = %s, $2 = %s", s->args[0],
			         s->args[1]);
	}
	s->view.next_args = s->next_args;
	s->view.op = s->op;
	s->view.busy = s->busy;
	s->view.waiting = s->waiting;
	s->view.finished = s->finished;
	s->view.auto_run = s->auto_run;
	s->view.count = s->count;
	s->view.count_label = room_play_count_label(s->info.scenario);
	s->view.message = s->message[0] ? s->message : NULL;
	viz_room_student(&s->view);
	s->dirty = 0;
}

static int room_join_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'N' },
		{ "auto", no_argument, NULL, 'a' },
		{ "pace", required_argument, NULL, 'p' },
		{ "no-ui", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *where = NULL, *code = NULL;
	int no_ui = 0, ch, rc = 0, found, pace_given = 0;
	long pace = 0;
	char err[ROOM_ERRLEN], password[256] = "", msg[600];
	struct student s = { 0 };

	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': where = optarg; break;
		case 'N': s.name = optarg; break;
		case 'a': s.auto_run = 1; break;
		case 'p':
			if (number(optarg, 0, 60000, &pace))
				return usage_error("bad value '%s' for --pace: milliseconds, 0-60000",
				                   optarg);
			pace_given = 1;
			break;
		case 'u': no_ui = 1; break;
		case 'h': fputs(room_usage, stdout); return 0;
		default: return EX_USAGE;
		}
	}
	if (optind < argc)
		code = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s' for racelab room join", argv[optind]);
	if (!code)
		return usage_error("%s", "racelab room join needs the room's code (six digits)");
	if (!room_code_valid(code))
		return usage_error("bad room code '%s': six digits, as the projector shows", code);
	if (!s.name)
		return usage_error("%s", "racelab room join needs --name NAME");
	if (!room_name_valid(s.name))
		return usage_error("bad name for --name: 1 to 64 characters, no control"
		                   " characters%s", "");
	snprintf(s.code, sizeof s.code, "%s", code);

	room_cmd_catch_signals();
	s.ui = !no_ui && viz_available();
	s.pace_ms = pace_given ? (int)pace : s.ui ? 400 : 0;
	if (!(s.ctl = connect_room(where, password, sizeof password, err)) ||
	    !(s.stp = room_connect(where, password[0] ? password : NULL, NULL, err))) {
		fprintf(stderr, "racelab: %s\n", err);
		room_disconnect(s.ctl);
		return EX_UNAVAILABLE;
	}
	memset(password, 0, sizeof password);
	found = room_enter(s.ctl, code, 1, err);
	if (found == 1)
		found = room_enter(s.stp, code, 0, err);
	if (found != 1) {
		if (found == 0)
			fprintf(stderr, "racelab: no room %s at %s: check the code on the projector\n",
			        code, room_conn_name(s.ctl));
		else
			fprintf(stderr, "racelab: %s\n", err);
		room_disconnect(s.stp);
		room_disconnect(s.ctl);
		return found == 0 ? EX_USAGE : EX_UNAVAILABLE;
	}
	if (room_join(s.ctl, s.name, room_conn_pid(s.stp), &s.id, err) ||
	    room_info(s.ctl, &s.info, err))
		goto fail;
	if (s.ui && viz_room_start() != 0)
		s.ui = 0;
	snprintf(msg, sizeof msg, "joined room %s as %s (student %d): %s, %s", code, s.name,
	         s.id, s.info.scenario, s.info.strategy);
	note(&s, msg);
	if ((found = room_news(&s, err)) < 0)
		goto fail;
	if (found == 0 && !s.round)
		note(&s, "waiting for the instructor to start a round");
	while (found == 0 && !interrupted) {
		struct pollfd fds[3] = {
			{ room_conn_socket(s.ctl), POLLIN, 0 },
			{ room_conn_socket(s.stp), s.busy ? POLLIN : 0, 0 },
			{ STDIN_FILENO, s.auto_run && !s.ui ? 0 : POLLIN, 0 },
		};
		int64_t now = sys_now_ns();
		int timeout = 1000, news;

		if (s.ui && s.dirty)
			draw_student(&s);
		if (s.busy && !s.waiting)
			timeout = (int)((s.sent_at + WAIT_ROW_NS - now) / 1000000) + 1;
		else if (s.auto_run && s.round && !s.finished && !s.busy &&
		         s.info.state == ROOM_RUNNING)
			timeout = (int)((s.next_auto - now) / 1000000);
		if (timeout < 0)
			timeout = 0;
		if (poll(fds, 3, timeout) < 0 && errno != EINTR)
			break;
		if (interrupted)
			break;
		now = sys_now_ns();
		if ((news = room_conn_notified(s.ctl)) < 0) {
			snprintf(err, sizeof err, "the connection to the room's database was lost");
			goto fail;
		}
		if (news > 0) {
			unsigned what = room_conn_news(s.ctl);

			if (what & (ROOM_NEWS('r') | ROOM_NEWS('c'))) {
				if ((found = room_news(&s, err)) < 0)
					goto fail;
				if (found)
					break;
			}
			if (s.ui && (what & ROOM_NEWS('s')) && now - s.count_at > 100000000LL) {
				if (room_play_count(s.ctl, &s.info, &s.count, err) == 0)
					s.dirty = 1;
				s.count_at = now;
			}
		}
		if (s.busy) {
			int64_t v, changes;
			int failed, r = room_result(s.stp, &v, &changes, &failed, err);

			if (r < 0)
				goto fail;
			if (r == 1) {
				char why[ROOM_ERRLEN];

				snprintf(why, sizeof why, "%s", err);
				if (step_done(&s, v, changes, failed, why, err))
					goto fail;
				s.next_auto = now + s.pace_ms * 1000000LL;
				if (s.ui && room_play_count(s.ctl, &s.info, &s.count, err) == 0)
					s.count_at = now;
			} else if (!s.waiting && now - s.sent_at >= WAIT_ROW_NS) {
				s.waiting = 1;
				s.dirty = 1;
				if (log_row(&s, ROOM_ROW_WAIT, s.st->steps[s.idx].name, 0, 0, 0, err))
					goto fail;
				mine(&s, s.st->steps[s.idx].name, "waiting", 0);
				s.view.nmine--;         /* shown by the "waiting" line, not kept */
			}
		}
		if (s.auto_run && !s.busy && now >= s.next_auto && take_step(&s, now, err))
			goto fail;
		if (fds[2].revents & (POLLIN | POLLHUP)) {
			if (s.ui) {
				int key;

				while ((key = viz_room_key()) != -1) {
					if (key == 'q' || key == 'Q') {
						found = 2;
						break;
					}
					if ((key == ' ' || key == '\n' || key == '\r')
					    && !s.auto_run && take_step(&s, sys_now_ns(), err))
						goto fail;
					s.dirty = 1;
				}
			} else {
				char line[64];

				if (!fgets(line, sizeof line, stdin) || line[0] == 'q') {
					found = 2;      /* stdin closed: leave */
				} else if (take_step(&s, sys_now_ns(), err)) {
					goto fail;
				}
			}
		}
	}
	if (s.ui)
		viz_room_stop();
	if (found == 1)
		printf("racelab: room %s was closed by the instructor\n", code);
	else if (s.round && !s.finished && s.info.state == ROOM_RUNNING)
		abort_op(&s, err);      /* leave no transaction open; the room sees us go */
	room_disconnect(s.stp);
	room_disconnect(s.ctl);
	return interrupted ? EX_INTERRUPTED : rc;
fail:
	if (s.ui)
		viz_room_stop();
	fprintf(stderr, "racelab: %s\n", err);
	room_disconnect(s.stp);
	room_disconnect(s.ctl);
	return EX_UNAVAILABLE;
}

int room_cmd_main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		if (argc < 2) {
			fputs(room_usage, stderr);
			return EX_USAGE;
		}
		fputs(room_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "open"))
		return room_open(argc - 1, argv + 1);
	if (!strcmp(argv[1], "join"))
		return room_join_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "host"))
		return room_host_main(argc - 1, argv + 1);
	return usage_error("unknown room command '%s': open, join or host", argv[1]);
}
