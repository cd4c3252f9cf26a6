/*
 * cli.h: the command line, parsed into a struct cli and nothing else, so that
 * tests can check every accepted and refused input without running anything.
 */
#ifndef RACELAB_CLI_H
#define RACELAB_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "../demos/demo.h"
#include "../core/db.h"
#include "../core/status.h"
#include "../viz/viz.h"

#define CLI_STEP_THREADS VIZ_STEP_THREADS        /* --step: keys 1 to 9 */
#define CLI_LATENCIES 8         /* --latency: values in one sweep */

/* How racelab reports. */
enum cli_output {
	OUT_AUTO,               /* the dashboard on a terminal, else text */
	OUT_TEXT,               /* --no-ui */
	OUT_JSON,               /* --json */
};

enum cli_action {
	ACT_RUN,                /* run a scenario */
	ACT_HELP,
	ACT_VERSION,
	ACT_LESSONS,            /* racelab lessons: list them */
	ACT_LESSON,             /* racelab lesson N: the options are argv[1..nopts] */
	ACT_SPEC,               /* racelab spec FILE.spec */
	ACT_MATRIX,             /* racelab matrix */
	ACT_COMPARE,            /* racelab compare [SCENARIO]: the cost table */
};

struct cli {
	enum cli_action action;
	const struct scenario *scenario;
	const db_backend *db;
	const char *where;              /* -d */
	int strategies[SCN_STRATEGIES]; /* indices into scenario->strategies */
	int nstrategies;
	int threads;
	int threads_given;              /* -t was given (a schedule's default differs) */
	int ops;                        /* 0: the scenario's default */
	int think_ms;                   /* -1: the scenario's default */
	uint64_t seed;
	int seed_given;
	enum cli_output output;
	int trace;
	int latencies[CLI_LATENCIES];   /* --latency, in ms: one, or a sweep of several */
	int nlatencies;
	int procs;                      /* --procs: workers are processes */
	int present;                    /* --present: the presenter's dashboard */
	int all_orders;                 /* --schedule all: every order, printed */
	int both;                       /* -b sqlite,postgres: the run on each, side by side */
	char hidden[200];               /* --present: the strategies not shown */
	const char *schedule;           /* --schedule, as given; NULL for a free run */
	const char *export_spec;        /* --export-spec FILE ("-": stdout), or NULL */
	int step;                       /* --step: the dashboard in step mode */
	const char *record;             /* --record FILE.cast, or NULL */
	int record_virtual;             /* --record-clock virtual */
	const char *svg;                /* --svg FILE, or NULL */
	int svg_dark;                   /* --svg-theme dark */
	int lesson;                     /* ACT_LESSON: the lesson's number */
	int no_pause;                   /* --no-pause: a lesson waits for no key */
	/* racelab spec and racelab matrix (app/speccmd.c) */
	int backend_given;              /* -b was given */
	const char *spec_file;          /* ACT_SPEC: the spec file ("-": stdin) */
	int markdown;                   /* --markdown: the matrix as a Markdown table */
	const char *show;               /* --show ANOMALY: replay one cell of the matrix */
	const char *level;              /* --level LEVEL: that cell's level */
	int nopts;                      /* argv[1..nopts] were options (getopt moves the
	                                   words to the end), for lesson_argv */
};

/* Parse ARGV.  Returns 0, or 64 (EX_USAGE) with one line in err (no newline). */
int cli_parse(int argc, char **argv, struct cli *out, char *err, size_t errlen);

/* The --help text. */
extern const char cli_usage[];

#endif
