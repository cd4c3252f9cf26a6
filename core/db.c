/*
 * db.c: what every backend shares: lookup by name, running a list of statements,
 * and arguments as text for the clients that bind them so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

const db_backend *db_find(const char *name)
{
	if (!strcmp(name, "sqlite"))
		return db_sqlite();
	if (!strcmp(name, "postgres") || !strcmp(name, "postgresql"))
		return db_postgres();
	return NULL;
}

enum db_status db_exec_all(const db_backend *db, db_conn *conn, const char *const *sql,
                           char *err)
{
	for (; *sql; sql++) {
		enum db_status st = db->exec(conn, *sql, NULL, 0, NULL, err);

		if (st != DB_OK)
			return st;
	}
	return DB_OK;
}

void db_args_text(const db_value *args, int nargs, char (*buf)[DB_INT_TEXT],
                  const char **vals)
{
	for (int i = 0; i < nargs; i++) {
		if (args[i].type == DB_INT) {
			snprintf(buf[i], DB_INT_TEXT, "%" PRId64, args[i].i);
			vals[i] = buf[i];
		} else {
			vals[i] = args[i].type == DB_TEXT ? args[i].s : NULL;
		}
	}
}
