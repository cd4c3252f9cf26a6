/*
 * spec.h: PostgreSQL's isolation-tester spec language, parsed (DESIGN.md, "Spec
 * files").  A spec names global setup and teardown SQL, sessions with their own
 * setup, steps and teardown, and permutations: orders in which to run the steps,
 * with optional markers on a step ("(*)": report it as waiting at once; "(s2a)":
 * do not report it complete while step s2a runs; "(s2a notices 2)": nor before
 * s2a's session has sent two more notices).  No permutation line means every
 * interleaving that keeps each session's steps in order.
 *
 * The parser does no I/O and never exits: bad input returns -1 with one line
 * naming the problem and its line, which is what the fuzzer checks.
 */
#ifndef RACELAB_SPEC_H
#define RACELAB_SPEC_H

#include <stddef.h>

#define SPEC_MAX_BYTES (1 << 20)        /* a spec file larger than 1 MiB is refused */
#define SPEC_MAX_SESSIONS 16            /* one connection each, plus the control one */
#define SPEC_MAX_STEPS 256              /* steps in all sessions together */
#define SPEC_MAX_PERMUTATIONS 5000      /* run, listed or generated */

enum spec_block_type {
	SPEC_BLOCK_ONCE,                /* (*): shown as waiting when it starts */
	SPEC_BLOCK_STEP,                /* (s2a): not complete while step s2a is active */
	SPEC_BLOCK_NOTICES,             /* (s2a notices N): nor until N more notices */
};

struct spec_blocker {
	enum spec_block_type type;
	int step;                       /* SPEC_BLOCK_STEP, _NOTICES: index into steps */
	int notices;                    /* SPEC_BLOCK_NOTICES */
};

struct spec_step {
	char *name;
	char *sql;                      /* as written, leading and trailing blanks cut */
	int session;                    /* index into sessions */
	int used;                       /* named by some permutation */
};

struct spec_session {
	char *name;
	char *setup, *teardown;         /* NULL when absent */
	int first, nsteps;              /* its steps: steps[first .. first+nsteps-1] */
};

struct spec_pstep {                     /* one step of a permutation */
	int step;                       /* index into steps */
	int nblockers;
	struct spec_blocker *blockers;
};

struct spec_perm {
	int nsteps;
	struct spec_pstep *steps;
};

struct spec {
	char **setup;                   /* the global setup blocks, in order */
	int nsetup;
	char *teardown;                 /* NULL when absent */
	struct spec_session *sessions;
	int nsessions;
	struct spec_step *steps;        /* every session's steps, session by session */
	int nsteps;
	struct spec_perm *perms;        /* as listed, or every interleaving */
	int nperms;
	int generated;                  /* perms were generated (no permutation lines) */
	char **notes;                   /* the text after "#!" on comment lines */
	int nnotes;
};

/* Parse TEXT (LEN bytes, not necessarily NUL-terminated).  Returns 0, or -1 with
 * one line in err ("line 3: unterminated sql block").  On success, free with
 * spec_free; on failure nothing is left to free. */
int spec_parse(const char *text, size_t len, struct spec *out, char *err, size_t errlen);

void spec_free(struct spec *spec);

/* The index of the step called NAME, or -1. */
int spec_step_index(const struct spec *spec, const char *name);

#endif
