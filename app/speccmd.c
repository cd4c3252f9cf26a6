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

#ifndef RACELAB_DATADIR                 /* the Makefile passes $(DATADIR) */
#define RACELAB_DATADIR "/usr/local/share/racelab"
#endif

#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/matrix.h"
#include "../core/spec.h"
#include "../core/sys.h"
#include "../core/specrun.h"

/* Read PATH ("-": stdin) whole, refusing anything over the spec size limit. */
static char *read_file(const char *path, size_t *len, char *err, size_t n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 4096, used = 0;
	char *buf;

	if (!f) {
		snprintf(err, n, "cannot read spec file %.300s: %s", path, strerror(errno));
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
			snprintf(err, n, "spec file %.300s is larger than %d bytes", path, SPEC_MAX_BYTES);
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
		snprintf(err, n, "cannot read spec file %.300s: %s", path, strerror(errno));
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

static atomic_int stop;

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
	char err[DB_ERRLEN + 256], dir[PATH_MAX], shipped[PATH_MAX + 64];
	struct spec sp;
	size_t len;
	const char *file = cli->spec_file;
	char *text;

	/* "specs/x.spec" that is not here is racelab's own (lessons name them so). */
	if (!strncmp(file, "specs/", 6) && access(file, F_OK) != 0 &&
	    speccmd_dir(dir, sizeof dir, err, sizeof err) == 0) {
		snprintf(shipped, sizeof shipped, "%s/%s", dir, file + 6);
		if (access(shipped, R_OK) == 0)
			file = shipped;
	}
	text = read_file(file, &len, err, sizeof err);
	db_site *site;
	db_area *area;
	enum specrun_status st;

	if (!text) {
		fprintf(stderr, "racelab: %s\n", err);
		return EX_USAGE;
	}
	if (cli->both) {
		fprintf(stderr, "racelab: racelab spec runs on one backend: choose -b sqlite or"
		        " -b postgres (the tester's output is one server's)\n");
		free(text);
		return EX_USAGE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);       /* lines in order with stderr's, as the tester's */
	if (spec_parse(text, len, &sp, err, sizeof err)) {
		fprintf(stderr, "racelab: %s: %s\n", file, err);
		free(text);
		return EX_USAGE;
	}
	free(text);
	if (specrun_check(&sp, cli->db, err, sizeof err)) {
		fprintf(stderr, "racelab: %s: %s\n", file, err);
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

int speccmd_dir(char *buf, size_t n, char *err, size_t errlen)
{
	const char *env = getenv("RACELAB_SPECS");
	static const char *const up[] = { "/../specs", "/../../specs", "/../share/racelab/specs" };
	char exe[PATH_MAX], probe[PATH_MAX + 64];
	ssize_t len;

	if (env && *env) {
		snprintf(buf, n, "%s", env);
		return 0;
	}
	/* As for the lessons: beside the build tree, or the installed share/. */
	len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		char *slash;

		exe[len] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
			snprintf(probe, sizeof probe, "%s%s/matrix/p4.spec", exe, up[i]);
			if (access(probe, R_OK) == 0) {
				snprintf(probe, sizeof probe, "%s%s", exe, up[i]);
				if (!realpath(probe, buf) || strlen(buf) >= n)
					snprintf(buf, n, "%s", probe);
				return 0;
			}
		}
	}
	if (access(RACELAB_DATADIR "/specs/matrix/p4.spec", R_OK) == 0) {
		snprintf(buf, n, "%s", RACELAB_DATADIR "/specs");
		return 0;
	}
	snprintf(err, errlen, "cannot find racelab's spec files (specs/matrix/); set"
	         " RACELAB_SPECS to the specs directory");
	return -1;
}

/* The level names, for a refusal. */
static void list_levels(char *buf, size_t n)
{
	buf[0] = '\0';
	for (int l = 0; l < MATRIX_LEVELS; l++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s'%s'", l ? ", " : "",
		         matrix_levels[l].name);
}

int speccmd_matrix(const struct cli *cli)
{
	char dir[PATH_MAX], err[DB_ERRLEN + 256], names[512];
	const db_backend *dbs[2] = { db_postgres(), db_sqlite() };
	db_site *sites[2] = { NULL, NULL };
	int want[2], a = -1, l = -1, rc = 0;
	struct matrix *m = calloc(1, sizeof *m);
	int64_t t0;

	if (!m)
		return EX_SOFTWARE;
	want[0] = !cli->backend_given || cli->both || cli->db == db_postgres();
	want[1] = !cli->backend_given || cli->both || cli->db == db_sqlite();
	if (cli->show) {
		if ((a = matrix_anomaly_index(cli->show)) < 0) {
			fprintf(stderr, "racelab: unknown anomaly '%s' for --show: choose G0, G1a,"
			        " G1b, G1c, OTV, PMP, P4, G-single, G2-item or G2\n", cli->show);
			free(m);
			return EX_USAGE;
		}
		list_levels(names, sizeof names);
		if (!cli->level || (l = matrix_level_index(cli->level)) < 0) {
			if (cli->level)
				fprintf(stderr, "racelab: unknown level '%s' for --level: choose %s\n",
				        cli->level, names);
			else
				fprintf(stderr, "racelab: --show %s needs --level, one of %s\n",
				        cli->show, names);
			free(m);
			return EX_USAGE;
		}
		want[0] = !strcmp(matrix_levels[l].backend, "postgres");
		want[1] = !want[0];
		if (cli->backend_given && !cli->both && !want[cli->db == db_postgres() ? 0 : 1]) {
			fprintf(stderr, "racelab: level '%s' is %s's, not %s's\n", cli->level,
			        matrix_levels[l].backend, cli->db->name);
			free(m);
			return EX_USAGE;
		}
	}
	if (speccmd_dir(dir, sizeof dir - 8, err, sizeof err) ||
	    (strcat(dir, "/matrix"), matrix_load(m, dir, err, sizeof err))) {
		fprintf(stderr, "racelab: %s\n", err);
		free(m);
		return EX_SOFTWARE;
	}
	catch_signals();
	for (int b = 0; b < 2; b++) {
		/* -d names the PostgreSQL server unless -b sqlite says it is SQLite's. */
		const char *where = (b == 0) == (cli->db == db_postgres() || !cli->backend_given ||
		                                 cli->both) ? cli->where : NULL;

		if (!want[b])
			continue;
		if (!(sites[b] = dbs[b]->site_open(where, err))) {
			fprintf(stderr, "racelab: %s%s\n", err, b == 0 && !cli->backend_given ?
			        " (for the SQLite rows alone: racelab matrix -b sqlite)" : "");
			rc = EX_UNAVAILABLE;
			goto out;
		}
		dbs[b]->version(sites[b], m->versions[b], sizeof m->versions[b]);
	}
	t0 = sys_now_ns();
	for (int ai = 0; ai < MATRIX_ANOMALIES; ai++)
		for (int li = 0; li < MATRIX_LEVELS; li++) {
			int b = strcmp(matrix_levels[li].backend, "postgres") ? 1 : 0;

			if (!want[b] || (cli->show && (ai != a || li != l)))
				continue;
			if (stop) {
				fprintf(stderr, "racelab: interrupted; the databases were cleaned up\n");
				rc = EX_INTERRUPTED;
				goto out;
			}
			if (matrix_run_cell(m, ai, li, dbs[b], sites[b], err)) {
				fprintf(stderr, "racelab: %s\n", stop ? "interrupted; the databases were"
				        " cleaned up" : err);
				rc = stop ? EX_INTERRUPTED : EX_UNAVAILABLE;
				goto out;
			}
		}
	m->seconds = (double)(sys_now_ns() - t0) / 1e9;
	if (cli->show) {
		const struct matrix_cell *c = &m->cells[a][l];

		printf("%s %s under %s (%s): the spec %s/%s, as run\n\n", m->anomalies[a].id,
		       m->anomalies[a].title, matrix_levels[l].name, m->versions[want[0] ? 0 : 1],
		       dir, m->anomalies[a].file);
		fputs(c->trace ? c->trace : "", stdout);
		printf("\n%s: %s", m->anomalies[a].id, c->how);
		if (c->hermitage >= 0)
			printf(" (Hermitage: %s%s)", c->hermitage ? "happens" : "prevented",
			       c->hermitage == c->happened ? ", agrees" : ", DISAGREES");
		printf("\n");
	} else if (cli->output == OUT_JSON) {
		matrix_print_json(stdout, m);
	} else {
		printf("racelab matrix: Hermitage's anomalies under every isolation level, run"
		       " live\n");
		matrix_print_text(stdout, m, cli->markdown);
	}
out:
	for (int b = 0; b < 2; b++)
		if (sites[b])
			dbs[b]->site_close(sites[b]);
	matrix_free(m);
	free(m);
	return rc;
}
