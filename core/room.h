/*
 * room.h: a classroom racing on one shared PostgreSQL (racelab room).
 *
 * The instructor's projector opens a room: a schema of its own in the database,
 * racelab_room_<code>, named by a random six-digit code.  Every student's
 * terminal joins it and becomes one thread of the race: its own connection runs
 * the scenario's real steps, one per key press (or free-running with --auto).
 * Nothing but PostgreSQL sits between them: the room's tables say what the
 * instructor decided (room: the round, the strategy, the state) and what every
 * student did (steps: one row per step, numbered per student), and NOTIFY on the
 * room's channel wakes whoever listens.  No racelab server, no port of our own.
 *
 * Exactly once: each student numbers its rows 1, 2, 3 … on its own connection,
 * in autocommit, so when row N is visible every row before it is too.  The
 * projector asks for the rows past the last number it applied for each student
 * and applies row N only after N - 1; (student, n) is also the table's primary
 * key.  So every step appears on the projector's model once, whatever the order
 * in which NOTIFYs arrive or are coalesced.
 *
 * Who may do what is the database's to say where it can: the instructor's role
 * owns the schema (only it can drop it, reset the data or change the room's
 * state); students, when they log in as another role, get SELECT on the room,
 * INSERT of their own rows (row-level security ties a row to the connection
 * that joined) and the rows of the scenario's tables to read and write (never
 * to truncate, alter or drop them), nothing more.
 * Names and codes are data: always bound parameters, or a validated identifier.
 *
 * This file knows no curses and no scenario: the screens are viz/room.c's, the
 * loops app/room_cmd.c's, and what the students race (the scenario's tables, its
 * declared steps, its check) app/room_play.c's, read from the scenario's
 * declaration.  Here are the room's own tables, the connections, and the
 * projector's model of the rows.
 */
#ifndef RACELAB_ROOM_H
#define RACELAB_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "scenario.h"

#define ROOM_CODE_LEN 6                 /* digits of a room's code */
#define ROOM_NAME_MAX 64                /* characters of a student's name */
#define ROOM_NAME_BYTES (ROOM_NAME_MAX * 4 + 1)
#define ROOM_LANE 24                    /* steps a lane remembers */
#define ROOM_ERRLEN 256
#define ROOM_DEFAULT_OPS 3              /* operations per student per round */

/* ---- codes and names ---------------------------------------------------------- */

/* Is CODE six digits?  Only then is it turned into a schema name. */
int room_code_valid(const char *code);
/* A fresh random code (from /dev/urandom) into CODE[ROOM_CODE_LEN + 1]. */
void room_code_new(char *code);
/* Is NAME a name a student may use: 1 to ROOM_NAME_MAX characters of valid
 * UTF-8, no control characters?  Anything else, quotes and semicolons included,
 * is fine: it is data. */
int room_name_valid(const char *name);

/* ---- the room in the database --------------------------------------------------- */

enum room_state {
	ROOM_IDLE,              /* between rounds */
	ROOM_RUNNING,           /* a round is on: students take their steps */
	ROOM_ENDING,            /* the instructor ended the round: stop, roll back */
	ROOM_CLOSED,            /* the room is gone */
};

/* What the room's row says. */
struct room_info {
	char scenario[16];
	char strategy[16];
	int ops;                /* operations per student per round */
	int round;              /* 0 before the first */
	enum room_state state;
};

struct room_conn;               /* one libpq connection, LISTENing or not */

/* Connect to CONNINFO (PASSWORD, if not NULL, as well); NULL with one line in
 * err (never the password), and *NEEDS_PASSWORD (may be NULL) set if the server
 * asked for a password that was not given. */
struct room_conn *room_connect(const char *conninfo, const char *password,
                               int *needs_password, char *err);
void room_disconnect(struct room_conn *c);
/* The server, as host, port, database and user: safe to print. */
const char *room_conn_name(struct room_conn *c);
/* The socket to poll, and reading what arrived: returns how many NOTIFYs came
 * (0 none), or -1 if the connection is lost. */
int room_conn_socket(struct room_conn *c);
int room_conn_notified(struct room_conn *c);
/* What the NOTIFYs since the last ask said, one bit per payload letter:
 * ROOM_NEWS('j') a student joined, 's' steps, 'r' the room changed, 'c' closed. */
unsigned room_conn_news(struct room_conn *c);
#define ROOM_NEWS(letter) (1u << ((letter) - 'a'))
/* Where the connection went (libpq's view, with its defaults filled in). */
const char *room_conn_host(struct room_conn *c);
const char *room_conn_port(struct room_conn *c);
const char *room_conn_db(struct room_conn *c);
/* This connection's server process. */
int room_conn_pid(struct room_conn *c);

/* Make the scenario's data as new in the room, for INFO's strategy and OPS
 * operations per student: called inside the instructor's transaction, with C's
 * search_path the room's schema.  The room then lets the students' role read and
 * write every table the room's own are not.  0, or -1 with err. */
typedef int (*room_fresh_fn)(struct room_conn *c, const struct room_info *info, void *arg,
                             char *err);

/* Instructor: create room CODE for SCENARIO's STRATEGY, OPS operations per
 * student per round, its data made by FRESH(ARG); CONN then LISTENs to it.  -1
 * with err if it cannot. */
int room_create(struct room_conn *c, const char *code, const char *scenario,
                const char *strategy, int ops, room_fresh_fn fresh, void *arg, char *err);
/* Does room CODE exist?  1 yes, 0 no, -1 error.  Then use it on C: search_path
 * set to its schema, and LISTENing to its channel if LISTEN. */
int room_enter(struct room_conn *c, const char *code, int listen, char *err);
/* Instructor: drop the room and everything in it; tell everyone it is closed. */
int room_drop(struct room_conn *c, const char *code, char *err);
int room_info(struct room_conn *c, struct room_info *out, char *err);

/* Instructor: a new round with STRATEGY: the scenario's data as new (FRESH),
 * then tell the students.  room_end asks them to stop (the round ends when all
 * have); room_over records that it has ended (state idle). */
int room_start(struct room_conn *c, const char *strategy, room_fresh_fn fresh, void *arg,
               char *err);
int room_end(struct room_conn *c, char *err);
int room_over(struct room_conn *c, char *err);
/* Instructor: the scenario's data as new (FRESH), no round running. */
int room_reset(struct room_conn *c, room_fresh_fn fresh, void *arg, char *err);

/* The room's connection as a backend (core/db.h) with one slot, exec: what a
 * scenario's own setup() and check() call, run on C in the room's schema.  A
 * failure is DB_ERROR (DB_RETRY for a serialization failure, deadlock or lock
 * not available; DB_GONE when the connection is lost) with the server's message. */
const db_backend *room_db(void);
db_conn *room_db_conn(struct room_conn *c);

/* ---- a student --------------------------------------------------------------------- */

enum room_row_kind {
	ROOM_ROW_BEGIN = 'b',   /* the student begins round ROUND */
	ROOM_ROW_WAIT = 'w',    /* step STEP waits for a lock */
	ROOM_ROW_DONE = 'd',    /* step STEP completed with VALUE / CHANGES */
	ROOM_ROW_SKIP = 's',    /* the student's own logic skipped step STEP */
	ROOM_ROW_ABORT = 'a',   /* the operation was rolled back (round ended, error) */
	ROOM_ROW_END = 'e',     /* the student has finished round ROUND */
};

/* One row of the room's steps table. */
struct room_row {
	int student;
	int n;                  /* 1, 2, 3 … per student */
	int round, op;
	char step[16];
	enum room_row_kind kind;
	int64_t value, changes;
	int effect;             /* the step committed one effect */
	int64_t t_key;          /* the student's monotonic clock at the key press (ns) */
};

/* Student: join with NAME on C (entered); STEP_PID is the connection that runs
 * the steps.  Sets *ID.  -1 with err. */
int room_join(struct room_conn *c, const char *name, int step_pid, int *id, char *err);
/* Student: append ROW (row->student, row->n set by the caller) and wake the room. */
int room_log(struct room_conn *c, const struct room_row *row, char *err);

/* The student's step connection: the scenario's SQL, sent without waiting. */
int room_send(struct room_conn *c, const char *sql, int nargs, const char *const *args,
              char *err);
/* Poll-driven: 1 the result is in (value, changes, or err and *failed), 0 not yet,
 * -1 connection lost. */
int room_result(struct room_conn *c, int64_t *value, int64_t *changes, int *failed,
                char *err);
/* Cancel the statement in flight. */
void room_cancel(struct room_conn *c);
/* Run SQL (no arguments) and wait: ROLLBACK after an aborted operation. */
int room_exec(struct room_conn *c, const char *sql, char *err);

/* ---- the projector's model -------------------------------------------------------- */

struct room_lane_step {
	char step[16];
	enum room_row_kind kind;
	int64_t value;
	int op;
	int effect;
	int waited;             /* a done step that had to wait for a lock first */
};

struct room_seat {
	int id;
	char name[ROOM_NAME_BYTES];
	int pid;                        /* its control connection's server process */
	int gone;                       /* disconnected */
	int last_n;                     /* rows applied: 1 … last_n, each once */
	int round;                      /* the round it last began */
	int finished;                   /* it has finished that round */
	int waiting;                    /* its last step waits for a lock */
	int64_t steps, effects;         /* in the current round */
	struct room_lane_step lane[ROOM_LANE];  /* the newest steps, oldest first */
	int nlane;
};

struct room_model {
	struct room_info info;
	struct room_seat *seats;
	int nseats, cap;
	int64_t steps, effects;         /* in the current round, all students */
	int64_t total_rows;             /* rows applied since the room opened */
	int64_t out_of_order;           /* rows seen before their predecessor (never
	                                   applied; asked for again) */
	int checked;                    /* the round is over and checked */
	struct scn_check check;         /* the scenario's check of the round */
	int64_t count;                  /* the shared count, last read */
	/* Key press → applied delays (ns), for make bench; NULL unless asked. */
	int64_t *lags;
	size_t nlags, caplags;
	int64_t polled_ns;              /* when the last poll applied its rows */
};

void room_model_init(struct room_model *m);
void room_model_done(struct room_model *m);
/* The seat of student ID, or NULL. */
struct room_seat *room_model_seat(struct room_model *m, int id);
/* A student has joined (again: nothing happens).  -1 out of memory. */
int room_model_join(struct room_model *m, int id, const char *name, int pid);
/* Apply ROW: 1 applied, 0 already applied, -1 its predecessor is missing or no
 * such student (not applied). */
int room_model_apply(struct room_model *m, const struct room_row *row, int64_t now_ns);
/* A new round: the lanes and the round's counts start empty. */
void room_model_new_round(struct room_model *m, int round);
/* Every student still here has finished the round (and there is one). */
int room_model_round_done(const struct room_model *m);

/* Keep every key press → applied delay in m->lags (make bench). */
int room_model_keep_lags(struct room_model *m);

/* Projector: fetch new rows of the students it knows (applying each, calling SHOW
 * for each applied if not NULL) and, as WHAT asks, new students and who has gone.
 * Returns rows applied, or -1 with err. */
#define ROOM_POLL_STUDENTS 1            /* someone joined: read the students */
#define ROOM_POLL_GONE 2                /* see who has gone */
typedef void (*room_show_fn)(const struct room_model *m, const struct room_seat *s,
                             const struct room_row *row, void *arg);
typedef void (*room_seat_fn)(const struct room_model *m, const struct room_seat *s,
                             const char *what, void *arg);
int room_model_poll(struct room_conn *c, struct room_model *m, int what,
                    room_show_fn show, room_seat_fn seat, void *arg, char *err);

#endif
