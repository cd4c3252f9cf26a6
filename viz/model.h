/*
 * model.h: what the dashboard knows about a run, built from the event stream
 * alone (htop's "update, then draw"): each strategy's lanes with their recent
 * operations, the anomalies — found from the steps' roles and effects, never from
 * which scenario runs — and the live figures.
 *
 * Everything here is "so far", as the events tell it.  The figures that count —
 * what the database holds at the end — come from run_result() after run_wait()
 * and are attached with viz_model_finish().  No curses here: the model can be
 * tested, and drawn, by anyone.
 */
#ifndef RACELAB_VIZ_MODEL_H
#define RACELAB_VIZ_MODEL_H

#include <stdint.h>

#include "../core/events.h"
#include "../core/run.h"

#define VIZ_OPS_KEPT 6          /* operations remembered per lane */
#define VIZ_TOKENS 12           /* steps remembered per operation */
#define VIZ_MARKS 16            /* anomalies remembered per panel, for its log */
#define VIZ_KEYS 16             /* rows or resources tracked at once per panel */
#define VIZ_LANE_KEYS 4         /* reads a lane remembers within one operation */
#define VIZ_CYCLE 64            /* threads a wait-for cycle may hold (-t at most) */
#define VIZ_RUNS 2              /* runs one dashboard shows side by side (one per backend) */
#define VIZ_PANELS (VIZ_RUNS * SCN_STRATEGIES)

enum viz_tok_kind {
	TOK_STEP,               /* a step that ran SQL */
	TOK_SKIP,               /* the thread's own logic skipped steps */
	TOK_RETRY,              /* the operation starts again */
	TOK_ABORT,              /* the operation gave up */
	TOK_EXIT,               /* the thread has finished its work */
};

enum viz_tok_state {
	TS_RUNNING,             /* its SQL is running */
	TS_WAITING,             /* waiting for a lock another thread holds */
	TS_DONE,
	TS_FAILED,              /* the database refused it */
};

/* One step on a lane. */
struct viz_token {
	enum viz_tok_kind kind;
	enum viz_tok_state state;
	const char *step;       /* static string from the scenario or the harness */
	int role;               /* enum scn_role, as the event declared it */
	unsigned effects;       /* EFF_* */
	int64_t key;            /* the row or resource it touches (0: the scenario's one) */
	char key_text[EV_TEXT]; /* ... as the argument read: "C0001"; "" if none */
	int64_t changes;        /* rows it changed, once done */
	int has_value;          /* it returned a value: what the thread saw */
	int64_t value;
	int has_arg;            /* it wrote a number: what the thread wrote */
	int64_t arg;
	int dml;                /* an INSERT, UPDATE or DELETE */
	int no_rows;            /* ... that changed nothing */
	int waited;             /* it had to wait for a lock */
	int64_t wait_from_ns;   /* run clock when the wait began */
	int64_t wait_ns;        /* how long the wait lasted, once it ended */
	int64_t lost;           /* EFF_FROM_READ: effects this write erased (> 0: lost update) */
	int victim;             /* ... the thread whose write it overwrote */
	int64_t victim_value;   /* ... and the value that thread had written */
	int nth;                /* EFF_USES: this use's rank for its resource (2+: extra) */
	int nskips;             /* TOK_SKIP: how many steps were skipped */
	char text[40];          /* TS_FAILED: the start of the database's message */
};

/* One operation (one sale, one round) of one thread. */
struct viz_op {
	int op;                 /* 0-based operation number */
	int ntok;
	int done;               /* committed or gave up: the next event opens a new op */
	struct viz_token tok[VIZ_TOKENS];
};

struct viz_lane {
	struct viz_op ops[VIZ_OPS_KEPT];/* a ring: ops[(nops - 1) % VIZ_OPS_KEPT] is newest */
	int nops;               /* operations seen, including those dropped from the ring */
	int exited;             /* the thread has finished */
	int64_t last_read;      /* the value its current op last read */
	int has_read;
	struct { int64_t key, value; } reads[VIZ_LANE_KEYS];    /* ... per row it read */
	int nreads;
	int refused_step;       /* a statement of the current operation failed */
	int in_txn;             /* a BEGIN has completed and no COMMIT or ROLLBACK yet */
	unsigned pending;       /* ... and these tokens of the newest op (bit i: tok[i])
	                           await the COMMIT to take effect */
	int holds_lock;         /* holds the lock the others wait for: SQLite's write lock
	                           after BEGIN IMMEDIATE, PostgreSQL's row lock after
	                           SELECT … FOR UPDATE; until COMMIT or ROLLBACK */
	int64_t locked[VIZ_LANE_KEYS];  /* with row locks: the rows it holds locked */
	int nlocked;

	/* Step mode: the step the thread waits at the gate to take (EV_READY). */
	int ready;
	const char *next_step;  /* static strings, as in the event */
	const char *next_sql;
	struct ev_arg next_args[EV_ARGS];
	int next_nargs;
};

/* An anomaly, for the panel's log. */
struct viz_mark {
	int thread;
	int op;
	struct viz_token tok;
	int64_t t_ns;
};

/* A row or resource, as the panel's steps have left it. */
struct viz_key {
	int64_t key;
	int64_t value;          /* what it holds now (EFF_FROM_READ, EFF_ADDS) */
	int writer;             /* the thread that wrote value last, 0: none */
	int uses;               /* EFF_USES: times used */
	int known;              /* value is what the row holds (a conserved sum's rows
	                           start as their first read says) */
};

/* One strategy's panel (of one run: with several backends, one per backend). */
struct viz_panel {
	const struct scn_strategy *strategy;
	const char *backend;            /* its backend's title ("SQLite"), for the panel title
	                                   when the model holds several runs; else NULL */
	int row_locks;                  /* its backend locks rows (else the whole database) */
	int uses_resources;             /* the strategy has EFF_USES steps: its anomaly is a
	                                   second use, else an overwritten value */
	struct viz_lane *lanes;         /* [threads] */

	int64_t ops_done;               /* operations finished (committed or given up) */
	int64_t committed;              /* effects committed: sales, redemptions */
	struct viz_key keys[VIZ_KEYS];  /* a ring of the rows and resources seen */
	int nkeys;
	int64_t counter;                /* what the rows hold now, added up */
	int64_t lost;                   /* effects erased by overwrites (lost updates) */
	int last_writer;                /* the thread that wrote last, 0: none */
	int64_t uses;                   /* EFF_USES steps that changed a row */
	int64_t used;                   /* resources used at least once */
	int64_t extra;                  /* uses beyond each resource's first */
	int64_t money;                  /* what the extra uses gave away */
	int round;                      /* rounds: the latest round seen (0-based) */
	int64_t waits, retries, fails;  /* lock waits, retries, failed statements */
	int64_t aborts;                 /* operations that failed (the report's "failed") */
	int64_t refused;                /* operations that committed after a failed statement:
	                                   the application answered the refusal itself */
	int waiting;                    /* threads waiting for a lock right now */
	int exited;                     /* threads finished */
	int64_t end_ns;                 /* run clock when the last thread finished */

	struct viz_token last;          /* the step that happened last, as it ended or */
	int last_thread;                /* began to wait, and its thread (0: none yet) */

	struct viz_mark marks[VIZ_MARKS];       /* a ring of the latest anomalies */
	int nmarks;
	const struct run_result *result;        /* the database's figures, once finished */
};

struct viz_model {
	const struct run_config *cfg;
	const struct scenario *scenario;
	int cost;                       /* money one extra use gives away */
	int step;                       /* step mode: lanes say what comes next */
	int row_locks;                  /* the first run's backend locks rows (else the
	                                   database); each panel knows its own */
	int npanels;
	int nruns;                      /* runs whose panels the model holds (viz_model_add) */
	int nthreads;
	struct viz_panel panels[VIZ_PANELS];
	int64_t events;                 /* events seen */
	int64_t now_ns;                 /* run clock of the latest event */
	int finished;                   /* run_wait() is done: results are attached */
};

/* Set up an empty model for a run with configuration CFG (which must outlive it).
 * Returns 0, or -1 out of memory. */
int viz_model_init(struct viz_model *m, const struct run_config *cfg);
void viz_model_done(struct viz_model *m);
/* Add the panels of another run of the same scenario, strategies and threads on
 * another backend (CFG): its events come with e->strategy counted from the first
 * panel it added (viz_model_init's run: 0; this one: the npanels before the call).
 * Every panel is then titled with its backend.  Returns 0, or -1 out of memory or
 * out of room. */
int viz_model_add(struct viz_model *m, const struct run_config *cfg);

/* Feed one event (an ev_fn for run_drain). */
void viz_model_event(const struct event *e, void *model);

/* The run is over and checked: attach each strategy's result (run_result(r, i)
 * for panel I), which must outlive the model or the next viz_model_init. */
void viz_model_finish(struct viz_model *m, const struct run_result *const *results);

/* What the panel's rows hold now, for the live figures: expected, observed and
 * anomalies so far. */
void viz_panel_figures(const struct viz_model *m, const struct viz_panel *p,
                       int64_t *expected, int64_t *observed, int64_t *anomalies);

/* In words, what the last step of PANEL did and why it matters, from the
 * steps' roles and effects and the scenario's words: "T2 read number_sold = 4 —
 * T1 read the same and has not written yet: one sale will be lost".  Empty
 * before the first step. */
void viz_narrate(const struct viz_model *m, int panel, char *buf, size_t n);

/* KEY's row in PANEL, or NULL if the panel has not seen it. */
const struct viz_key *viz_panel_key(const struct viz_panel *p, int64_t key);

/* The I-th newest operation of LANE (0: the newest), or NULL. */
const struct viz_op *viz_lane_op(const struct viz_lane *lane, int i);

/* Thread THREAD of PANEL waits for a lock: the thread holding it (from what the
 * model saw: who took the lock and has not committed), -1 if no thread seems to
 * hold it; 0 if THREAD is not waiting. */
int viz_lane_waits_for(const struct viz_model *m, int panel, int thread);

/* THREAD waits for a thread that waits, through others, for THREAD: a deadlock.
 * Writes the threads of the cycle, THREAD first, into CYCLE[VIZ_CYCLE]; returns
 * how many, or 0 if THREAD is in no cycle. */
int viz_lane_cycle(const struct viz_model *m, int panel, int thread, int *cycle);

/* The challenge is won: the panel shows the anomaly (an overwritten value, a
 * resource used twice). */
int viz_panel_won(const struct viz_model *m, const struct viz_panel *p);

#endif
