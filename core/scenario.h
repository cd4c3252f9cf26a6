/*
 * scenario.h: what a scenario declares, and all that the harness, the reports and
 * the dashboard know of it.
 *
 * DESIGN: a scenario owns its meaning.  Its file (one in demos/, a test's own
 * scenario, a spec file read as data) declares its tables, its strategies, the
 * role of every step (a read, a write, a lock, ...) and the effect a step has on
 * what the database holds (it writes a value computed from a read; it uses up a
 * resource), and its own words: the nouns, the goal, the verdicts, why a safe
 * strategy cannot lose, the extra figures of its report.  Shared code reads these
 * tables and never asks which scenario it runs: the lost update is "a write of a
 * value computed from a read, over a value another thread wrote since that read",
 * the double redemption "a second use of one resource", whatever the SQL says.
 *
 *     static const struct scn_strategy naive = {
 *         .name = "naive", .op = naive_op, .steps = {
 *             { "read", ROLE_READ },
 *             { "write", ROLE_WRITE, EFF_FROM_READ, .value_arg = 1 }, ... } };
 *
 * A strategy's op is a C function that performs one operation (one sale, one
 * redemption) through the step helpers of step.h.  A scenario given as data (a
 * spec file) has one generic op that reads its steps from `data`.
 */
#ifndef RACELAB_SCENARIO_H
#define RACELAB_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "step.h"

#define SCN_STRATEGIES 8        /* strategies one scenario may declare */
#define SCN_STEPS 10            /* steps one strategy may declare */
#define SCN_EXTRAS 4            /* extra figures a scenario's check may report */

/* What a step does, as the dashboard and the reports read it. */
enum scn_role {
	ROLE_OTHER = 0,         /* none of the below: shown, never interpreted */
	ROLE_READ,              /* reads a value the application acts on later */
	ROLE_WRITE,             /* writes a row (an UPDATE the application computed) */
	ROLE_UPDATE,            /* reads and writes in one statement (F() style) */
	ROLE_CLAIM,             /* a conditional write: changes the row only if it is
	                           still as the condition says; 0 rows: someone was first */
	ROLE_INSERT,            /* creates a row */
	ROLE_DELETE,            /* removes a row */
	ROLE_BEGIN,             /* opens a transaction */
	ROLE_LOCK,              /* reads under a row lock (SELECT ... FOR UPDATE) */
	ROLE_COMMIT,
	ROLE_ROLLBACK,
};

/* What a step does to what the database holds (flags, combined with |). */
#define EFF_FROM_READ 0x01      /* writes value_arg, a value the thread computed from its
                                   last read of the same key: it erases whatever other
                                   threads wrote since that read (the lost update) */
#define EFF_ADDS      0x02      /* the database adds the rows it changed to the key's
                                   value itself (number_sold = number_sold + 1) */
#define EFF_USES      0x04      /* uses up the resource named by key_arg once: any use
                                   after the first is the anomaly (double redemption) */
#define EFF_LOCKS     0x08      /* ROLE_BEGIN: takes the database's write lock where the
                                   backend has no row locks (SQLite's BEGIN IMMEDIATE) */
#define EFF_NOWAIT    0x10      /* takes its lock only if it is free now: a lock another
                                   holds fails the step at once instead of waiting.  With
                                   row locks the SQL says so (FOR UPDATE NOWAIT: 55P03);
                                   without (SQLite), the harness gives up at the busy
                                   handler's first call (SQLITE_BUSY) */

#define SCN_KEY_RESULT (-1)     /* key_arg: the step's returned value names its row */

/* A step may also declare its SQL and what its arguments and its result mean, so
 * that a driver other than the strategy's op can take the step itself: racelab
 * room, where each student's terminal takes one declared step per key press.
 * A strategy the room can play declares all of these for every step; the op
 * sends the same SQL (the scenario's file writes it once). */
#define SCN_BINDS 2             /* bound arguments a declared step may have */

/* What a declared step's $1, $2 hold. */
enum scn_bind {
	SCN_BIND_NONE = 0,
	SCN_BIND_KEY,           /* the operation's resource: scenario.key_format with the
	                           operation's number, 1 up ("C0001") */
	SCN_BIND_WHO,           /* who asks: scenario.who_format with the thread's
	                           number, 1 up ("customer3") */
	SCN_BIND_READ,          /* the value the operation's last read returned */
	SCN_BIND_NEXT,          /* that value plus one: the application adds one */
};

/* Whether the rest of the operation is for this thread, after a declared step.
 * When it is not, the op skips its steps up to its commit (which still runs), or
 * to its end, and commits no effect. */
enum scn_goes_on {
	SCN_GO_ALWAYS = 0,
	SCN_GO_IF_ZERO,         /* only if the value it read is 0 (still unused) */
	SCN_GO_IF_ROW,          /* only if it changed or returned a row */
};

struct scn_step {
	const char *name;       /* "read": the schedule's and the trace's name for it */
	enum scn_role role;
	unsigned effects;       /* EFF_* */
	int key_arg;            /* 1-based bound argument naming the row or resource the
	                           step touches ($1); 0: the scenario's one row;
	                           SCN_KEY_RESULT: the row the step itself found and
	                           returns (UPDATE ... RETURNING id) */
	int value_arg;          /* 1-based bound argument holding the value written
	                           (EFF_FROM_READ); 0: none */
	const char *sql;        /* the SQL the op sends where the backend has row locks
	                           (PostgreSQL), $1 … bound as BIND says; NULL: only the
	                           op knows it */
	enum scn_bind bind[SCN_BINDS];  /* what $1, $2 of SQL hold */
	enum scn_goes_on goes_on;       /* whether the op goes on after it */
};

struct worker;

struct scn_strategy {
	const char *name;               /* naive, atomic, locked, ... */
	int safe;                       /* must keep the invariant: an anomaly is a bug */
	const char *summary;            /* one line: what each operation does */
	const char *django;             /* the Django code it corresponds to */
	const char *why_safe;           /* safe ones: why no order of steps can break it */
	const char *why_safe_db_lock;   /* ... on a backend without row locks, if different */
	int fails_fast;                 /* a busy, lock-not-available or serialization error
	                                   fails the request instead of retrying it (as
	                                   Django does: it retries nothing by itself) */
	int backoff;                    /* sleep a short, growing, jittered while before each
	                                   retry (a retry loop around a transaction), so
	                                   that the threads do not collide again at once */
	const char *const *schema;      /* more statements for this strategy's area alone,
	                                   after the scenario's setup (a UNIQUE index), or
	                                   NULL: each strategy has its own area */
	const char *db_lock_note;       /* on a backend without row locks: a short note for
	                                   the dashboard's panel, or NULL ... */
	const char *db_lock_report;     /* ... and the report's sentence, after "NAME on
	                                   BACKEND: " */
	struct scn_step steps[SCN_STEPS + 1];   /* in order, ended by a NULL name */
	enum step_rc (*op)(struct worker *w);
	const void *data;               /* the op's own data (a spec's steps), or NULL */
};

/* What the invariant check found in one strategy's area after the run. */
struct scn_check {
	int64_t expected;               /* what the invariant demands */
	int64_t observed;               /* what the database holds */
	int64_t anomalies;              /* violations: lost updates, extra redemptions */
	int64_t extra[SCN_EXTRAS];      /* the scenario's own figures (scenario.extras) */
};

/* One of the scenario's own figures in the reports. */
struct scn_extra {
	const char *json;               /* its JSON field, e.g. "discount_lost" */
	const char *column;             /* its text report column, e.g. "$ lost"; NULL: JSON only */
	int width;                      /* the column's width; 0: 8 */
};

/* The scenario's own words.  %-free plain text unless said otherwise. */
struct scn_words {
	const char *effect, *effects;   /* one committed effect: "sale", "sales" */
	const char *op, *ops;           /* what -n counts: "operation(s)" or "round(s)" */
	const char *value;              /* what a read returns: "number_sold" */
	const char *resource;           /* what EFF_USES uses up: "ticket" (or NULL) */
	const char *used;               /* the verb for a use: "redeemed" */
	const char *anomaly;            /* its name: "lost update" */
	const char *anomalies;          /* the dashboard log's title: "lost updates" */
	const char *none;               /* no anomaly: "no sale lost" */
	const char *goal;               /* step mode's challenge: "Goal: make the counter
	                                   lose a sale" */
	const char *bug;                /* a safe strategy broke: "a sale was lost" */
	const char *observed;           /* what check()'s observed counts, as a name for
	                                   a live figure: "number_sold", "redemptions" */
	const char *between_ops;        /* a lane between two operations that start
	                                   together (rounds), or NULL */
	const char *help[8][2];         /* the help overlay's rows for its steps and marks:
	                                   { key, text }, ended by a NULL key */
};

struct scenario {
	const char *name;               /* its name on the command line */
	const char *title;              /* one line for --help and the dashboard */
	struct scn_words words;
	int rounds;                     /* every thread starts each operation at a barrier,
	                                   all on the same fresh resource */
	int default_ops;                /* -n when not given: a run of a moment */
	int default_think_ms;           /* --think when not given */
	int dashboard_ops;              /* -n on the dashboard: a run you can watch */
	int anomaly_cost;               /* money one anomaly gives away, or 0 */
	int default_strategies;         /* without -s, run the first N strategies (the
	                                   ones a first look needs); 0: all of them */
	int64_t conserved;              /* the invariant is a sum of its rows that never
	                                   changes (the balances' total), and this is it;
	                                   0: the rows count what was committed */
	const char *key_format;         /* SCN_BIND_KEY: printf format of the resource
	                                   operation N (1 up) uses, "C%04d"; or NULL */
	const char *who_format;         /* SCN_BIND_WHO: of thread N (1 up), "customer%d" */
	struct scn_extra extras[SCN_EXTRAS];    /* ended by a NULL json */
	struct scn_strategy strategies[SCN_STRATEGIES]; /* ended by a NULL name */

	/* Create the schema and the starting rows for OPS operations. */
	enum db_status (*setup)(const struct scenario *s, const db_backend *db, db_conn *conn,
	                        int ops, char *err);
	/* Check the invariant; COMMITTED is what the workers committed, ROUNDS the
	 * number of operations each thread started. */
	enum db_status (*check)(const struct scenario *s, const db_backend *db, db_conn *conn,
	                        int64_t committed, int rounds, struct scn_check *out, char *err);
	/* One sentence on a strategy's outcome, e.g. "269 of 1000 sales lost — lost update". */
	void (*verdict)(const struct scn_check *c, int64_t committed, char *buf, size_t n);
	/* The trace's closing line, after "result: ": what the database holds against
	 * what it should, and the anomaly by name.  Deterministic: golden files hold it. */
	void (*result)(const struct scn_check *c, int64_t committed, char *buf, size_t n);
	/* A query that shows what the database holds at the end, the rows check()
	 * judges, for the last step of a spec file exported from a schedule
	 * (--export-spec); NULL: none. */
	const char *final_sql;
	const void *data;               /* the scenario's own data (a spec), or NULL */
};

/* The number of strategies S declares. */
int scn_nstrategies(const struct scenario *s);
/* Index of strategy NAME in S, or -1. */
int scn_strategy_index(const struct scenario *s, const char *name);
/* The declaration of step NAME in strategy ST, or NULL. */
const struct scn_step *scn_step(const struct scn_strategy *st, const char *name);
/* Index of step NAME in ST; the number of steps if it is not declared. */
int scn_step_index(const struct scn_strategy *st, const char *name);
/* ST's step names in order, NULL-terminated, into NAMES[SCN_STEPS + 1]. */
void scn_step_names(const struct scn_strategy *st, const char *names[SCN_STEPS + 1]);
/* Whether ST has a step with ROLE or with any of the EFFECTS flags. */
int scn_has_role(const struct scn_strategy *st, enum scn_role role);
int scn_has_effect(const struct scn_strategy *st, unsigned effects);
/* Whether ROLE changes rows (a write of some kind). */
int scn_role_writes(enum scn_role role);
/* "sale" or "sales", as N says. */
const char *scn_effects(const struct scenario *s, int64_t n);
const char *scn_ops(const struct scenario *s, int64_t n);

#endif
