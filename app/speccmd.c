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
#include "../core/specplay.h"
#include "../core/specrun.h"
#include "../viz/specdash.h"
#include "../viz/viz.h"

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

static int interrupted(void)
{
	return atomic_load(&stop);
}

/* On a terminal, a spec plays on the dashboard unless --no-ui or --json says
 * otherwise (--step asks for it; main has refused it off a terminal). */
static int on_dashboard(const struct cli *cli)
{
	return cli->step || (cli->output == OUT_AUTO && !cli->trace && viz_available());
}

/* Play SP on the dashboard, then print the tester's text of what ran.  Returns
 * how the last permutation played ended; err says why when SPECRUN_LOST. */
static enum specrun_status play(const struct spec *sp, const db_backend *db, db_site *site,
                                const struct specplay_opts *opts, const char *title,
                                int (*verdict)(void *, const struct specplay_state *, char *,
                                               size_t, int *), void *arg, int step,
                                char *err)
{
	char version[64];
	struct specplay *p;
	enum specrun_status st;

	db->version(site, version, sizeof version);
	if (!(p = specplay_new(sp, db, site, opts, err)))
		return SPECRUN_LOST;
	st = viz_spec_run(p, &(struct viz_spec_host){ .spec = sp, .title = title,
	                  .backend = db->name, .version = version, .step = step,
	                  .interrupted = interrupted, .verdict = verdict, .verdict_arg = arg });
	specplay_stop(p);
	specplay_print(p, stdout);
	specplay_lock(p);
	snprintf(err, DB_ERRLEN, "%s", specplay_state(p)->error[0] ? specplay_state(p)->error
	         : "cannot start the dashboard on this terminal; try --no-ui");
	specplay_unlock(p);
	specplay_free(p);
	return st;
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
	if (on_dashboard(cli)) {
		const char *base = strrchr(cli->spec_file, '/');
		char title[PATH_MAX + 16];

		cli->db->area_drop(area);       /* the player makes one for each play */
		snprintf(title, sizeof title, "spec %s", base ? base + 1 : cli->spec_file);
		st = play(&sp, cli->db, site, &(struct specplay_opts){ .label = "spec" }, title,
		          NULL, NULL, cli->step, err);
		area = NULL;
	} else {
		st = specrun(&sp, cli->db, area, &(struct specrun_opts){ .perm = -1,
		             .stop = &stop }, stdout, stderr, err);
	}
	if (st == SPECRUN_LOST)
		fprintf(stderr, "racelab: %s\n", err);
	if (st == SPECRUN_INTERRUPTED)
		fprintf(stderr, "racelab: interrupted; the database was cleaned up\n");
	if (area)
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

/* matrix --show on the dashboard: the cell's verdict when its permutation ends. */
struct show {
	struct matrix *m;
	int a, l;
	int judged;                     /* the last play ended and was judged */
	int own;                        /* ... in an order of the learner's own */
};

static int show_verdict(void *arg, const struct specplay_state *st, char *buf, size_t n,
                        int *bad)
{
	struct show *sh = arg;
	const struct matrix_cell *c = &sh->m->cells[sh->a][sh->l];
	int own = 0;

	if (!st->seen || st->status == SPECRUN_LOST || st->status == SPECRUN_INTERRUPTED)
		return -1;
	for (int j = 0; j < st->ntaken; j++)
		own |= st->order[j] != j;
	matrix_judge(sh->m, sh->a, sh->l, st->seen, st->status);
	sh->judged = 1;
	sh->own = own;
	*bad = c->happened;
	if (own || c->hermitage < 0)
		snprintf(buf, n, "%s %s: %s%s", sh->m->anomalies[sh->a].id,
		         sh->m->anomalies[sh->a].title, c->how, own ? " (in your order, not the"
		         " spec's)" : "");
	else
		snprintf(buf, n, "%s %s: %s (Hermitage: %s%s)", sh->m->anomalies[sh->a].id,
		         sh->m->anomalies[sh->a].title, c->how, c->hermitage ? "happens"
		         : "prevented", c->hermitage == c->happened ? ", agrees" : ", DISAGREES");
	return 0;
}

/* racelab matrix --show on a terminal: the cell's spec, at the cell's level, on
 * the dashboard; then the text as off a terminal.  Returns the exit status. */
static int show_on_dashboard(const struct cli *cli, struct matrix *m, int a, int l,
                             const db_backend *db, db_site *site, const char *version,
                             const char *dir)
{
	struct spec *sp = &m->anomalies[a].spec;
	const char *prelude[2] = { matrix_levels[l].journal, NULL };
	char **saved = calloc((size_t)sp->nsteps + 1, sizeof *saved);
	char title[160], err[DB_ERRLEN];
	struct show sh = { m, a, l, 0, 0 };
	enum specrun_status st;

	if (!saved)
		return EX_SOFTWARE;
	snprintf(title, sizeof title, "matrix: %s %s under %s", m->anomalies[a].id,
	         m->anomalies[a].title, matrix_levels[l].name);
	matrix_cell_spec(m, a, l, saved);
	printf("%s %s under %s (%s): the spec %s/%s, as run\n\n", m->anomalies[a].id,
	       m->anomalies[a].title, matrix_levels[l].name, version, dir, m->anomalies[a].file);
	fflush(stdout);
	st = play(sp, db, site, &(struct specplay_opts){ .prelude = prelude, .defer = 1,
	          .label = "matrix" }, title, show_verdict, &sh, cli->step, err);
	matrix_cell_spec_undo(m, a, saved);
	free(saved);
	if (sh.judged) {
		const struct matrix_cell *c = &m->cells[a][l];

		printf("\n%s: %s", m->anomalies[a].id, c->how);
		if (sh.own)
			printf(" (in an order of your own, not the spec's)");
		else if (c->hermitage >= 0)
			printf(" (Hermitage: %s%s)", c->hermitage ? "happens" : "prevented",
			       c->hermitage == c->happened ? ", agrees" : ", DISAGREES");
		printf("\n");
	}
	if (st == SPECRUN_LOST)
		fprintf(stderr, "racelab: %s\n", err);
	if (st == SPECRUN_INTERRUPTED)
		fprintf(stderr, "racelab: interrupted; the databases were cleaned up\n");
	return st == SPECRUN_OK || st == SPECRUN_FAILED ? 0 : st == SPECRUN_INTERRUPTED
	       ? EX_INTERRUPTED : EX_UNAVAILABLE;
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
	if (cli->show && on_dashboard(cli)) {
		int b = want[0] ? 0 : 1;

		rc = show_on_dashboard(cli, m, a, l, dbs[b], sites[b], m->versions[b], dir);
		goto out;
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
