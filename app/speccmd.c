/*
 * speccmd.c: racelab spec FILE.spec — read a PostgreSQL isolation-tester spec,
 * run it on SQLite or PostgreSQL in an area of its own (a fresh SQLite file; a
 * fresh PostgreSQL schema, dropped at the end), and print exactly what
 * PostgreSQL's isolationtester prints for it.
 *
 * Exit status: 0 the spec ran; 1 it did not run through (a setup failed, or steps
 * blocked each other for good), as the tester exits 1; 64 the file is unreadable,
 * malformed or uses what racelab cannot run; 69 the database is unavailable.
 */
#include "speccmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/spec.h"
#include "../core/specrun.h"

/* Read PATH ("-": stdin) whole, refusing anything over the spec size limit. */
static char *read_file(const char *path, size_t *len, char *err, size_t n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 4096, used = 0;
	char *buf;

	if (!f) {
		snprintf(err, n, "cannot read spec file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(cap))) {
		snprintf(err, n, "out of memory");
		goto fail;
	}
	for (;;) {
		size_t got = fread(buf + used, 1, cap - used, f);

		used += got;
		if (used > SPEC_MAX_BYTES) {
			snprintf(err, n, "spec file %s is larger than %d bytes", path, SPEC_MAX_BYTES);
			goto fail;
		}
		if (got == 0)
			break;
		if (used == cap) {
			char *g = realloc(buf, cap * 2);

			if (!g) {
				snprintf(err, n, "out of memory");
				goto fail;
			}
			buf = g;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		snprintf(err, n, "cannot read spec file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	*len = used;
	return buf;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return NULL;
}

int speccmd_spec(const struct cli *cli)
{
	char err[DB_ERRLEN + 256];
	struct spec sp;
	size_t len;
	char *text = read_file(cli->spec_file, &len, err, sizeof err);
	db_site *site;
	db_area *area;
	enum specrun_status st;

	if (!text) {
		fprintf(stderr, "racelab: %s\n", err);
		return EX_USAGE;
	}
	if (spec_parse(text, len, &sp, err, sizeof err)) {
		fprintf(stderr, "racelab: %s: %s\n", cli->spec_file, err);
		free(text);
		return EX_USAGE;
	}
	free(text);
	if (specrun_check(&sp, cli->db, err, sizeof err)) {
		fprintf(stderr, "racelab: %s: %s\n", cli->spec_file, err);
		spec_free(&sp);
		return EX_USAGE;
	}
	/* The tester warns of steps no permutation uses, and runs on. */
	for (int i = 0; i < sp.nsteps && !sp.generated; i++)
		if (!sp.steps[i].used)
			fprintf(stderr, "unused step name: %s\n", sp.steps[i].name);
	if (!(site = cli->db->site_open(cli->where, err))) {
		fprintf(stderr, "racelab: %s\n", err);
		spec_free(&sp);
		return EX_UNAVAILABLE;
	}
	if (!(area = cli->db->area_create(site, "spec", err))) {
		fprintf(stderr, "racelab: %s\n", err);
		cli->db->site_close(site);
		spec_free(&sp);
		return EX_UNAVAILABLE;
	}
	st = specrun(&sp, cli->db, area, &(struct specrun_opts){ .perm = -1 }, stdout,
	             stderr, err);
	if (st == SPECRUN_LOST)
		fprintf(stderr, "racelab: %s\n", err);
	cli->db->area_drop(area);
	cli->db->site_close(site);
	spec_free(&sp);
	return st == SPECRUN_OK ? 0 : st == SPECRUN_FAILED ? 1 : EX_UNAVAILABLE;
}

int speccmd_matrix(const struct cli *cli)
{
	(void)cli;
	return 0;
}
