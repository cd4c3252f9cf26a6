/*
 * lesson.h: the course.  Each lesson is one Markdown file, lessons/NN-name.md,
 * that declares its own demo in an HTML comment, so an instructor adds a lesson
 * without touching C:
 *
 *     <!-- racelab: product -s naive -t 2 --schedule "t1.read t2.read t1.write t2.write" -->
 *     <!-- expect: exit 0; "number_sold = 1" -->
 *     # Lesson 2: One bad interleaving, step by step
 *     ... the text up to the demo ...
 *     <!-- run -->
 *     ... the text after it: the answers ...
 *
 * The number comes from the file name, the title from the first "# " heading,
 * the demo from the "racelab:" comment (scenario and options, split like a shell
 * line with '...' and "..." quoting).  "<!-- run -->" marks where the demo runs:
 * the text before it is shown first, the rest after the run (so a "predict first"
 * answer is never shown before the run); without it the demo runs after the text.
 * The "expect:" comment is for tests/docs.t; racelab itself ignores it.
 *
 * Hidden checks.  Every other racelab command a lesson shows (in a fenced block,
 * for the learner to copy) is run by tests/docs.t too, and what it must print
 * is kept out of the learner's sight, in a "check" comment anywhere in the file,
 * keyed to the command exactly as shown (blanks collapsed):
 *
 *     <!-- check
 *     racelab product -s naive -t 1 --no-ui
 *         "all 2000 sales counted"
 *     racelab coupon -s naive -t 2 --schedule "t1.check t2.check" --trace
 *         exit 0 "redeemed 2 times" !"<waiting"
 *     -->
 *
 * A line that starts with "racelab" names a command; the indented lines after it
 * say what to expect of it, in the "expect:" line's words: exit N (default 0),
 * "text" (the output has it), !"text" (it has not), /regex/ (it matches).  A
 * command without a check is still run, and must exit 0.  docs.t fails on a check
 * whose command the file does not show, so a check cannot go stale unnoticed.
 * racelab shows no HTML comment: like a Markdown viewer, it prints none of these
 * (an unclosed one is an error, so it cannot swallow the rest of a lesson).
 *
 * On a terminal, racelab lesson N waits for a key before it runs the demo, before
 * "## The answer" and before each "<details><summary>S</summary>" (a check's or
 * an exercise's answer, shown as "S:"), so no answer scrolls past with its
 * question; q stops the lesson (exit 0), Ctrl-C too (exit 130).  --no-pause, or
 * stdin or stdout not being a terminal, prints straight through.
 *
 * Where the lessons are: $RACELAB_LESSONS if set; else, relative to the directory
 * of the running binary (/proc/self/exe), the source tree's ../lessons or
 * ../../lessons (a build tree) or ../share/racelab/lessons (an installed
 * PREFIX/bin/racelab); else RACELAB_DATADIR/lessons, where make install puts them
 * (the Makefile passes -DRACELAB_DATADIR=\"$(DATADIR)\").
 */
#ifndef RACELAB_LESSON_H
#define RACELAB_LESSON_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"

#define LESSON_MAX_ARGS 48

/* After a pause: go on, stop here (q), or stop because of Ctrl-C. */
enum lesson_go {
	LESSON_GO,
	LESSON_STOP,
	LESSON_INTERRUPTED,
};

struct lesson {
	int number;                     /* from the file name: 02-... is lesson 2 */
	char title[160];                /* the first "# " heading, "Lesson N:" removed */
	char *path;                     /* the file */
	char *before;                   /* the text shown before the demo */
	char *after;                    /* the text shown after it ("" if none) */
	char *command;                  /* the declared demo as written, or NULL */
	char *words;                    /* storage for argv's strings */
	char *argv[LESSON_MAX_ARGS + 1];/* the declared demo, split; NULL-terminated */
	int argc;
	char **run_argv;                /* lesson_start: what cli_parse was given */
	FILE *in, *out;                 /* lesson_start: the terminal, or not */
	int quiet;                      /* --json: no text at all */
	int pause;                      /* wait for a key before the demo and answers */
	enum lesson_go go;              /* LESSON_GO until the learner stops */
};

/* The lines the dashboard shows under a lesson's demo: "Lesson N: title", then
 * the first line of each bullet of its "What to look at" section (at most
 * three), without Markdown's marks; '\n'-separated, in BUF. */
void lesson_caption(const struct lesson *l, char *buf, size_t n);

/* Print the lessons, number and title, one a line.  Returns 0, or an exit
 * status (70: the lessons cannot be found) with one line in err. */
int lesson_list(FILE *out, char *err, size_t errlen);

/* Load lesson NUMBER.  Returns 0; 64 if there is no such lesson (err names the
 * range); 70 if the lessons cannot be found or read. */
int lesson_load(int number, struct lesson *l, char *err, size_t errlen);
void lesson_free(struct lesson *l);
/* Parse TEXT, a lesson file's contents, as lesson_load does once it has read the
 * file PATH (named in messages); the number stays 0.  Returns 0, or 70 with one
 * line in err.  For the fuzzer (tests/fuzz/lesson.c): no file needed. */
int lesson_parse(struct lesson *l, const char *path, const char *text, char *err,
                 size_t errlen);

/* The demo's command line: "racelab", the lesson's declared words, then EXTRA
 * (the user's own options, which therefore win).  Returns a NULL-terminated
 * array the caller frees (the strings are borrowed), or NULL if out of memory. */
char **lesson_argv(const struct lesson *l, int nextra, char *const *extra, int *argc);

/* The line shown before the demo's output: "==> racelab product -s naive ..." */
void lesson_print_command(FILE *out, const struct lesson *l, int nextra,
                          char *const *extra);

/* racelab lesson N, before the run: load lesson CLI->lesson, parse its demo
 * followed by the user's options (ARGV[1..CLI->nopts]) into CLI, as if typed,
 * then print the text that comes before the demo and the demo's command line
 * (nothing with --json), pausing before any answer in it.  Returns 0, or an exit
 * status with one line in err.  After 0, l->go says whether to go on. */
int lesson_start(struct lesson *l, struct cli *cli, char **argv, char *err, size_t errlen);

/* Before the demo runs (DASHBOARD: on the dashboard): on a terminal, wait for a
 * key.  Returns LESSON_GO, or how the learner stopped (see lesson_stopped). */
enum lesson_go lesson_pause(struct lesson *l, int dashboard);

/* The learner stopped before the demo ran: free L; the exit status (0, or 130
 * after Ctrl-C). */
int lesson_stopped(struct lesson *l);

/* After the run that ended with STATUS: say how it ended and print the rest of
 * the text, pausing before each answer.  Returns the exit status for racelab. */
int lesson_finish(struct lesson *l, const struct cli *cli, int status);

/* The directory the lessons are read from, into buf.  Returns 0, or -1 with a
 * line in err naming the places tried. */
int lesson_dir(char *buf, size_t n, char *err, size_t errlen);

#endif
