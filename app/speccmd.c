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
#include <signal.h>
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

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Ctrl-C (or SIGTERM, SIGHUP) stops the spec between two looks at a step, so
 * that the area is still dropped. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
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
	setvbuf(stdout, NULL, _IOLBF, 0);       /* lines in order with stderr's, as the tester's */
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
	catch_signals();
	st = specrun(&sp, cli->db, area, &(struct specrun_opts){ .perm = -1, .stop = &stop },
	             stdout, stderr, err);
	if (st == SPECRUN_LOST)
		fprintf(stderr, "racelab: %s\n", err);
	if (st == SPECRUN_INTERRUPTED)
		fprintf(stderr, "racelab: interrupted; the database was cleaned up\n");
	cli->db->area_drop(area);
	cli->db->site_close(site);
	spec_free(&sp);
	return st == SPECRUN_OK ? 0 : st == SPECRUN_FAILED ? 1 :
	       st == SPECRUN_INTERRUPTED ? EX_INTERRUPTED : EX_UNAVAILABLE;
}

int speccmd_matrix(const struct cli *cli)
{
	(void)cli;
	return 0;
}
