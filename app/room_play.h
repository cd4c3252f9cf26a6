/*
 * room_play.h: what a room races, read from the scenario's declaration
 * (core/scenario.h): which scenarios and strategies a room can play, their data
 * and their check on the room's connection, and each declared step as a student
 * takes it.  core/room.c knows none of this; it keeps the room's own tables and
 * the projector's model.
 *
 * A room plays a strategy whose every step declares its SQL (scn_step.sql), binds
 * only what a student's terminal knows (the operation's key, who the student is,
 * the value the operation read, or that plus one) and says when the operation
 * goes on (scn_step.goes_on).  The student's terminal then takes the declared
 * steps one per key press, on a connection of its own, exactly as the strategy's
 * op sends them.
 */
#ifndef RACELAB_ROOM_PLAY_H
#define RACELAB_ROOM_PLAY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/room.h"
#include "../core/scenario.h"

/* Can strategy ST of S be played in a room?  0 yes; -1 no, with the reason in
 * WHY (N bytes), e.g. "step read_from declares no SQL". */
int room_play_fits(const struct scenario *s, const struct scn_strategy *st, char *why,
                   size_t n);
/* S's strategies a room can play, as "naive, atomic or locked" into BUF (empty
 * if none). */
void room_play_strategies(const struct scenario *s, char *buf, size_t n);
/* The registered scenarios a room can play (those with at least one strategy
 * that fits), as "product, coupon or tickets". */
void room_play_scenarios(char *buf, size_t n);
/* Strategy NAME of the scenario called SCENARIO, if a room can play it; else NULL. */
const struct scn_strategy *room_play_strategy(const char *scenario, const char *name);

/* room_fresh_fn for core/room.c: the scenario's own setup for INFO's operations
 * per student, and the strategy's own schema, on the room's connection. */
int room_play_fresh(struct room_conn *c, const struct room_info *info, void *arg, char *err);
/* The scenario's own check of the round just played (COMMITTED effects), into OUT. */
int room_play_check(struct room_conn *c, const struct room_info *info, int64_t committed,
                    struct scn_check *out, char *err);
/* The figure everyone watches while a round runs: what the check observes now. */
int room_play_count(struct room_conn *c, const struct room_info *info, int64_t *out,
                    char *err);
/* Its name on the screens ("number_sold"). */
const char *room_play_count_label(const char *scenario);

/* ---- one declared step, as a student takes it ------------------------------------ */

/* The number of steps ST declares. */
int room_play_nsteps(const struct scn_strategy *st);
/* The arguments step STEP binds for student WHO (1 up) in operation OP (0 up)
 * after reading READ, as text into ARGS[SCN_BINDS]; returns how many. */
int room_play_bind(const struct scenario *s, const struct scn_step *step, int who, int op,
                   int64_t read, char (*args)[24]);
/* Does STEP return the value the operation acts on (a read, a lock, an UPDATE …
 * RETURNING), and does it write the value computed from that read? */
int room_play_reads(const struct scn_step *step);
int room_play_writes_next(const struct scn_step *step);
/* Does the operation go on after STEP answered VALUE, CHANGES rows? */
int room_play_goes_on(const struct scn_step *step, int64_t value, int64_t changes);
/* Where an operation that does not go on after step I goes on: its commit (which
 * still runs) or its end (the number of steps). */
int room_play_skip_to(const struct scn_strategy *st, int i);
/* The step whose completion commits the operation's one effect: its commit, or
 * in autocommit the first step that writes the effect. */
int room_play_effect_step(const struct scn_strategy *st);

#endif
