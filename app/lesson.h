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
 * (nothing with --json).  Returns 0, or an exit status with one line in err. */
int lesson_start(struct lesson *l, struct cli *cli, char **argv, char *err, size_t errlen);

/* On a terminal, before the dashboard takes the screen: wait for Enter. */
void lesson_pause(FILE *in, FILE *out);

/* After the run that ended with STATUS: say how it ended and print the rest of
 * the text.  Returns the exit status for racelab. */
int lesson_finish(struct lesson *l, const struct cli *cli, int status);

/* The directory the lessons are read from, into buf.  Returns 0, or -1 with a
 * line in err naming the places tried. */
int lesson_dir(char *buf, size_t n, char *err, size_t errlen);

#endif
