/*
 * db.c: what every backend shares: lookup by name and running a list of statements.
 */
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
