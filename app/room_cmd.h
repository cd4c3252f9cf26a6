/*
 * room_cmd.h: racelab room open|join|host, the classroom on one shared
 * PostgreSQL (core/room.h has the design).  main() hands it the command line
 * from "room" on.
 */
#ifndef RACELAB_ROOM_CMD_H
#define RACELAB_ROOM_CMD_H

/* ARGV[0] is "room".  Returns the exit status. */
int room_cmd_main(int argc, char **argv);

/* racelab room host (app/room_host.c). */
int room_host_main(int argc, char **argv);

/* SIGINT, SIGTERM or SIGHUP has arrived (handlers set by room_cmd_main). */
int room_cmd_interrupted(void);
/* Set those handlers (without SA_RESTART: a poll in progress returns EINTR). */
void room_cmd_catch_signals(void);

#endif
