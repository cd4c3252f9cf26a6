/*
 * msg.h: a database's message cut to the one line racelab prints, and a
 * server's name as racelab prints it.
 *
 * libpq's messages come with a severity ("ERROR:  "), sometimes a "connection to
 * server at … failed: " that repeats what the site's name already says, and
 * DETAIL or HINT lines after the first.  A report, a trace line and stderr want
 * one line; every libpq caller (the backend, the room) cuts it here.
 */
#ifndef RACELAB_MSG_H
#define RACELAB_MSG_H

#include <stddef.h>

/* Write PREFIX and the first line of MSG (NULL or empty: "unknown error") into
 * OUT of N bytes, without libpq's "connection to server … failed: ", without a
 * leading "ERROR:" or "FATAL:", and without blanks around it. */
void msg_first_line(char *out, size_t n, const char *prefix, const char *msg);

/* Append NAME=VALUE to OUT (N bytes), after a blank if OUT is not empty, VALUE
 * quoted as in a conninfo when it holds a blank, a quote or a backslash; nothing
 * when VALUE is NULL or empty.  "host=/tmp/sock port=5432 dbname=racelab". */
void msg_add_field(char *out, size_t n, const char *name, const char *value);

#endif
