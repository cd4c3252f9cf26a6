/*
 * matrix.c: Hermitage's anomalies, run live (racelab matrix).
 *
 * Each anomaly is one spec file in specs/matrix/ with one permutation: the
 * interleaving Hermitage uses to provoke it.  A cell runs that file in a fresh
 * area (a new SQLite file, a new PostgreSQL schema) after rewriting every step
 * whose SQL is exactly "BEGIN;" to the cell's level, with the schedule's defer
 * rule (a step of a waiting session runs when the session is free), because
 * SQLite's BEGIN IMMEDIATE waits where PostgreSQL waits at a later step.  The
 * file's "#! anomaly if" lines say when the anomaly happened, from the first
 * value each step returned; otherwise the cell says how it was prevented: the
 * first error's SQLSTATE or SQLite code, and whether a step had to wait first.
 *
 * Hermitage's published PostgreSQL table (github.com/ept/hermitage, README, run
 * on PostgreSQL 9.3) is below; read uncommitted, which Hermitage does not list,
 * is read committed in PostgreSQL (PostgreSQL 15 manual, section 13.2).
 */
#include "matrix.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sys.h"

const struct matrix_level matrix_levels[MATRIX_LEVELS] = {
	{ "read uncommitted", "postgres", "BEGIN ISOLATION LEVEL READ UNCOMMITTED;", NULL },
	{ "read committed", "postgres", "BEGIN ISOLATION LEVEL READ COMMITTED;", NULL },
	{ "repeatable read", "postgres", "BEGIN ISOLATION LEVEL REPEATABLE READ;", NULL },
	{ "serializable", "postgres", "BEGIN ISOLATION LEVEL SERIALIZABLE;", NULL },
	{ "deferred/WAL", "sqlite", "BEGIN DEFERRED;", "PRAGMA journal_mode = WAL" },
	{ "immediate/WAL", "sqlite", "BEGIN IMMEDIATE;", "PRAGMA journal_mode = WAL" },
	{ "deferred/rollback", "sqlite", "BEGIN DEFERRED;", "PRAGMA journal_mode = DELETE" },
	{ "immediate/rollback", "sqlite", "BEGIN IMMEDIATE;", "PRAGMA journal_mode = DELETE" },
};

static const char *const ids[MATRIX_ANOMALIES] = {
	"G0", "G1a", "G1b", "G1c", "OTV", "PMP", "P4", "G-single", "G2-item", "G2",
};
static const char *const files[MATRIX_ANOMALIES] = {
	"g0.spec", "g1a.spec", "g1b.spec", "g1c.spec", "otv.spec", "pmp.spec", "p4.spec",
	"g-single.spec", "g2-item.spec", "g2.spec",
};

/* Hermitage's PostgreSQL table: 1 where the anomaly is possible, by level
 * (read committed, repeatable read, serializable). */
static const char hermitage_pg[3][MATRIX_ANOMALIES] = {
	{ 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 },       /* read committed */
	{ 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 },       /* repeatable read */
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },       /* serializable */
};

int matrix_anomaly_index(const char *id)
{
	for (int a = 0; a < MATRIX_ANOMALIES; a++)
		if (!strcasecmp(ids[a], id))
			return a;
	return -1;
}

int matrix_level_index(const char *name)
{
	for (int l = 0; l < MATRIX_LEVELS; l++)
		if (!strcasecmp(matrix_levels[l].name, name))
			return l;
	return -1;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, used = 0, got;

	if (!f)
		return NULL;
	do {
		if (used + 4096 > cap) {
			char *g = realloc(buf, cap = cap * 2 + 8192);

			if (!g || cap > SPEC_MAX_BYTES * 2) {
				free(g ? g : buf);
				fclose(f);
				return NULL;
			}
			buf = g;
		}
		got = fread(buf + used, 1, cap - used, f);
		used += got;
	} while (got > 0);
	fclose(f);
	*len = used;
	return buf;
}

/* Check that every condition names steps of the spec; "no errors" is fine. */
static int check_cond(const struct spec *sp, const char *cond, char *err, size_t n)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof buf, "%s", cond);
	for (char *part = strtok_r(buf, "&", &save); part; part = strtok_r(NULL, "&", &save)) {
		char step[64], value[64];

		if (sscanf(part, " no errors %1s", value) == EOF)
			continue;
		if (sscanf(part, " %63s = %63s", step, value) != 2 ||
		    spec_step_index(sp, step) < 0) {
			snprintf(err, n, "a condition names no step of the spec: '%s'", part);
			return -1;
		}
	}
	return 0;
}

/* "a and b and c" -> "a&b&c", so that strtok can split it. */
static void ands(char *s)
{
	char *p;

	while ((p = strstr(s, " and ")))
		memmove(p + 1, p + 5, strlen(p + 5) + 1), *p = '&';
}

int matrix_load(struct matrix *m, const char *dir, char *err, size_t n)
{
	memset(m, 0, sizeof *m);
	for (int a = 0; a < MATRIX_ANOMALIES; a++) {
		struct matrix_anomaly *an = &m->anomalies[a];
		char path[4096], perr[256];
		size_t len;
		char *text;

		an->id = ids[a];
		an->file = files[a];
		snprintf(path, sizeof path, "%s/%s", dir, files[a]);
		if (!(text = read_all(path, &len))) {
			snprintf(err, n, "cannot read the matrix's spec file %s", path);
			goto fail;
		}
		if (spec_parse(text, len, &an->spec, perr, sizeof perr)) {
			snprintf(err, n, "%s: %s", path, perr);
			free(text);
			goto fail;
		}
		free(text);
		if (an->spec.nperms != 1 || an->spec.generated) {
			snprintf(err, n, "%s: a matrix spec has exactly one permutation line", path);
			goto fail;
		}
		for (int i = 0; i < an->spec.nnotes; i++) {
			const char *note = an->spec.notes[i];

			while (*note == ' ')
				note++;
			if (!strncmp(note, "anomaly if ", 11)) {
				if (an->nconds == MATRIX_CONDS || !(an->conds[an->nconds] = strdup(note + 11)))
					continue;
				ands(an->conds[an->nconds]);
				if (check_cond(&an->spec, an->conds[an->nconds++], perr, sizeof perr)) {
					snprintf(err, n, "%s: %s", path, perr);
					goto fail;
				}
			} else if (!strncmp(note, "anomaly ", 8)) {
				const char *t = note + 8 + strlen(ids[a]);

				while (*t == ' ')
					t++;
				snprintf(an->title, sizeof an->title, "%s", t);
			}
		}
		if (!an->nconds) {
			snprintf(err, n, "%s: no '#! anomaly if' line says when it happened", path);
			goto fail;
		}
	}
	return 0;
fail:
	matrix_free(m);
	return -1;
}

void matrix_free(struct matrix *m)
{
	for (int a = 0; a < MATRIX_ANOMALIES; a++) {
		spec_free(&m->anomalies[a].spec);
		for (int c = 0; c < m->anomalies[a].nconds; c++)
			free(m->anomalies[a].conds[c]);
		for (int l = 0; l < MATRIX_LEVELS; l++)
			free(m->cells[a][l].trace);
	}
	memset(m, 0, sizeof *m);
}

/* Did COND hold in this run? */
static int holds(const struct spec *sp, const struct specrun_seen *seen, const char *cond)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof buf, "%s", cond);
	for (char *part = strtok_r(buf, "&", &save); part; part = strtok_r(NULL, "&", &save)) {
		char step[64], value[64];
		int i;

		if (sscanf(part, " no errors %1s", value) == EOF) {
			for (i = 0; i < sp->nsteps; i++)
				if (seen[i].code[0])
					return 0;
			continue;
		}
		if (sscanf(part, " %63s = %63s", step, value) != 2 ||
		    (i = spec_step_index(sp, step)) < 0 || !seen[i].ran || !seen[i].has_value ||
		    strcmp(seen[i].value, value))
			return 0;
	}
	return 1;
}

void matrix_cell_spec(struct matrix *m, int a, int l, char **saved)
{
	struct spec *sp = &m->anomalies[a].spec;

	for (int i = 0; i < sp->nsteps; i++) {
		saved[i] = NULL;
		if (!strcmp(sp->steps[i].sql, "BEGIN;")) {
			saved[i] = sp->steps[i].sql;
			sp->steps[i].sql = (char *)matrix_levels[l].begin;
		}
	}
}

void matrix_cell_spec_undo(struct matrix *m, int a, char **saved)
{
	struct spec *sp = &m->anomalies[a].spec;

	for (int i = 0; i < sp->nsteps; i++)
		if (saved[i])
			sp->steps[i].sql = saved[i];
}

void matrix_judge(struct matrix *m, int a, int l, const struct specrun_seen *seen,
                  enum specrun_status st)
{
	struct matrix_anomaly *an = &m->anomalies[a];
	struct matrix_cell *cell = &m->cells[a][l];
	struct spec *sp = &an->spec;

	cell->ran = 1;
	cell->happened = cell->waited = 0;
	cell->code[0] = '\0';
	for (int c = 0; c < an->nconds && !cell->happened; c++)
		cell->happened = holds(sp, seen, an->conds[c]);
	/* The first error and any wait, in the order of the permutation. */
	for (int j = 0; j < sp->perms[0].nsteps; j++) {
		const struct specrun_seen *s = &seen[sp->perms[0].steps[j].step];

		cell->waited |= s->waited;
		if (s->code[0]) {
			snprintf(cell->code, sizeof cell->code, "%s", s->code);
			break;
		}
	}
	if (st == SPECRUN_FAILED)
		snprintf(cell->how, sizeof cell->how, "did not run through");
	else if (cell->happened)
		snprintf(cell->how, sizeof cell->how, "happened");
	else if (cell->code[0]) {
		char code[sizeof cell->code];

		memcpy(code, cell->code, sizeof code);
		snprintf(cell->how, sizeof cell->how, "%s%s", cell->waited ? "blocked, then " :
		         "aborted ", code);
	}
	else
		snprintf(cell->how, sizeof cell->how, cell->waited ? "blocked" : "prevented");
	cell->hermitage = -1;
	if (!strcmp(matrix_levels[l].backend, "postgres"))
		cell->hermitage = hermitage_pg[l == 0 ? 0 : l - 1][a];
}

int matrix_run_cell(struct matrix *m, int a, int l, const db_backend *db, db_site *site,
                    char *err)
{
	struct matrix_anomaly *an = &m->anomalies[a];
	struct matrix_cell *cell = &m->cells[a][l];
	const struct matrix_level *lv = &matrix_levels[l];
	struct spec *sp = &an->spec;
	struct specrun_seen *seen = calloc((size_t)sp->nsteps, sizeof *seen);
	char **saved = calloc((size_t)sp->nsteps, sizeof *saved);
	const char *prelude[2] = { lv->journal, NULL };
	char *trace = NULL;
	size_t tlen = 0;
	FILE *out = NULL;
	db_area *area = NULL;
	enum specrun_status st;
	int64_t t0 = sys_now_ns();
	int rc = -1;

	free(cell->trace);
	memset(cell, 0, sizeof *cell);
	cell->hermitage = -1;
	if (!seen || !saved || !(out = open_memstream(&trace, &tlen))) {
		snprintf(err, DB_ERRLEN, "out of memory");
		goto done;
	}
	matrix_cell_spec(m, a, l, saved);
	if (!(area = db->area_create(site, "matrix", err)))
		goto restore;
	st = specrun(sp, db, area, &(struct specrun_opts){ .prelude = prelude, .perm = 0,
	             .seen = seen, .defer = 1 }, out, out, err);    /* errors too: one trace */
	db->area_drop(area);
	if (st == SPECRUN_LOST || st == SPECRUN_INTERRUPTED)
		goto restore;
	matrix_judge(m, a, l, seen, st);
	rc = 0;
restore:
	matrix_cell_spec_undo(m, a, saved);
done:
	if (out)
		fclose(out);
	cell->trace = trace;
	cell->seconds = (double)(sys_now_ns() - t0) / 1e9;
	free(seen);
	free(saved);
	return rc;
}

/* ---- reports ---- */

static const char *cell_text(const struct matrix_cell *c, char *buf, size_t n)
{
	if (!c->ran)
		return "";
	if (c->hermitage >= 0 && c->hermitage != c->happened)
		snprintf(buf, n, "%s (Hermitage: %s)", c->how, c->hermitage ? "happens" :
		         "prevented");
	else
		snprintf(buf, n, "%s", c->how);
	return buf;
}

void matrix_print_text(FILE *out, const struct matrix *m, int markdown)
{
	static const char *const names[2] = { "postgres", "sqlite" };
	int disagree = 0, ncells = 0;

	for (int b = 0; b < 2; b++) {
		int cols[MATRIX_LEVELS], ncols = 0, w[MATRIX_LEVELS + 1];
		char buf[128];

		for (int l = 0; l < MATRIX_LEVELS; l++)
			if (!strcmp(matrix_levels[l].backend, names[b]) && m->cells[0][l].ran)
				cols[ncols++] = l;
		if (!ncols)
			continue;
		fprintf(out, markdown ? "\n**%s**\n\n" : "\n%s\n", m->versions[b]);
		w[0] = 0;
		for (int a = 0; a < MATRIX_ANOMALIES; a++) {
			int len = (int)(strlen(m->anomalies[a].id) + 1 + strlen(m->anomalies[a].title));

			if (len > w[0])
				w[0] = len;
		}
		for (int c = 0; c < ncols; c++) {
			w[c + 1] = (int)strlen(matrix_levels[cols[c]].name);
			for (int a = 0; a < MATRIX_ANOMALIES; a++) {
				int len = (int)strlen(cell_text(&m->cells[a][cols[c]], buf, sizeof buf));

				if (len > w[c + 1])
					w[c + 1] = len;
			}
		}
		if (markdown) {
			fprintf(out, "| anomaly |");
			for (int c = 0; c < ncols; c++)
				fprintf(out, " %s |", matrix_levels[cols[c]].name);
			fprintf(out, "\n|---|");
			for (int c = 0; c < ncols; c++)
				fprintf(out, "---|");
			fputc('\n', out);
		} else {
			fprintf(out, "%-*s", w[0], "");
			for (int c = 0; c < ncols; c++)
				fprintf(out, "  %-*s", w[c + 1], matrix_levels[cols[c]].name);
			fputc('\n', out);
		}
		for (int a = 0; a < MATRIX_ANOMALIES; a++) {
			char label[96];

			snprintf(label, sizeof label, "%s %s", m->anomalies[a].id,
			         m->anomalies[a].title);
			if (markdown)
				fprintf(out, "| %s |", label);
			else
				fprintf(out, "%-*s", w[0], label);
			for (int c = 0; c < ncols; c++) {
				const struct matrix_cell *cell = &m->cells[a][cols[c]];

				disagree += cell->ran && cell->hermitage >= 0 &&
				            cell->hermitage != cell->happened;
				if (markdown)
					fprintf(out, " %s |", cell_text(cell, buf, sizeof buf));
				else
					fprintf(out, "  %-*s", w[c + 1], cell_text(cell, buf, sizeof buf));
			}
			fputc('\n', out);
		}
	}
	fprintf(out, "\n%s%s\n", m->versions[0][0] ? disagree ?
	        "Some PostgreSQL cells disagree with Hermitage's table (marked).  " :
	        "Every PostgreSQL cell agrees with Hermitage's published table.  " : "",
	        "\"blocked\": a step waited for a lock; \"aborted\": a step failed with that"
	        " code; \"prevented\": the reads saw a consistent state.");
	for (int a = 0; a < MATRIX_ANOMALIES; a++)
		for (int l = 0; l < MATRIX_LEVELS; l++)
			ncells += m->cells[a][l].ran;
	fprintf(out, "%d cells in %.1f s.  Replay one: racelab matrix --show P4 --level"
	        " \"read committed\"\n", ncells, m->seconds);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void matrix_print_json(FILE *out, const struct matrix *m)
{
	int first = 1;

	fprintf(out, "{\"versions\": {");
	fprintf(out, "\"postgres\": ");
	json_str(out, m->versions[0]);
	fprintf(out, ", \"sqlite\": ");
	json_str(out, m->versions[1]);
	fprintf(out, "}, \"elapsed_s\": %.2f, \"cells\": [", m->seconds);
	for (int a = 0; a < MATRIX_ANOMALIES; a++)
		for (int l = 0; l < MATRIX_LEVELS; l++) {
			const struct matrix_cell *c = &m->cells[a][l];

			if (!c->ran)
				continue;
			fprintf(out, "%s\n {\"anomaly\": \"%s\", \"title\": ", first ? "" : ",",
			        m->anomalies[a].id);
			json_str(out, m->anomalies[a].title);
			fprintf(out, ", \"backend\": \"%s\", \"level\": \"%s\", \"happened\": %s,"
			        " \"blocked\": %s, \"error\": ", matrix_levels[l].backend,
			        matrix_levels[l].name, c->happened ? "true" : "false",
			        c->waited ? "true" : "false");
			if (c->code[0])
				json_str(out, c->code);
			else
				fputs("null", out);
			fprintf(out, ", \"how\": ");
			json_str(out, c->how);
			if (c->hermitage >= 0)
				fprintf(out, ", \"hermitage\": \"%s\", \"agrees\": %s",
				        c->hermitage ? "happens" : "prevented",
				        c->hermitage == c->happened ? "true" : "false");
			fprintf(out, ", \"seconds\": %.3f}", c->seconds);
			first = 0;
		}
	fprintf(out, "\n]}\n");
}
