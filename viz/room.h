/*
 * room.h (viz): the screens of racelab room: the projector (every student's
 * lane, the live counts, the verdict from the database, the code in big
 * digits) and a student's terminal (their own lane, their next step and its
 * SQL, the shared count).  No curses types here; app/room_cmd.c drives them.
 * What a step shows is read from the strategy's declaration (core/scenario.h).
 */
#ifndef RACELAB_VIZ_ROOM_H
#define RACELAB_VIZ_ROOM_H

#include <stdint.h>

#include "../core/room.h"
#include "../core/scenario.h"

/* What the projector shows besides the model. */
struct viz_room_view {
	const char *code;
	const char *join;               /* the exact join command */
	const char *title;              /* the scenario in one line */
	const char *count_label;        /* the scenario's name for its observed figure */
	const char *effect;             /* its word for one effect */
	const struct scn_strategy *strategy;    /* the room's, as declared, or NULL */
	const char *next_strategy;      /* for the next round */
	const char *verdict;            /* the last round's, from the database; or NULL */
	int verdict_bad;                /* an anomaly */
	const char *message;            /* what the last key did, or NULL */
};

/* One step of a student's own lane, as the student's screen shows it. */
struct viz_room_mine {
	int op;
	char step[16];
	char text[48];                  /* "-> 10", "11", "waiting", "skipped" */
	int bad;                        /* rolled back, failed */
};

#define VIZ_ROOM_MINE 32

/* What a student's terminal shows. */
struct viz_room_student {
	const char *code, *name;
	int id;
	const struct room_info *info;
	const struct scn_strategy *strategy;    /* this round's, as declared, or NULL */
	int next;                       /* the step a key takes (its index), or -1 */
	const char *next_args;          /* "$1 = 11", or "" */
	int op;                         /* 0-based, in the round */
	int busy, waiting;              /* a step is in flight; it waits for a lock */
	int finished;                   /* this round is done for this student */
	int auto_run;                   /* --auto */
	struct viz_room_mine mine[VIZ_ROOM_MINE];
	int nmine;
	int64_t count;
	const char *count_label;
	const char *message;            /* or NULL */
};

/* Start and end curses on the terminal; 0, or -1 if it cannot start. */
int viz_room_start(void);
void viz_room_stop(void);
/* The next key, or -1 if none is waiting. */
int viz_room_key(void);
/* Draw and show the screen. */
void viz_room_projector(const struct room_model *m, const struct viz_room_view *v);
void viz_room_student(const struct viz_room_student *s);
/* Keys: the same whatever the terminal sends for them. */
#define VIZ_ROOM_RESIZE (-2)

#endif
