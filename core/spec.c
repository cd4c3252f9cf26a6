/*
 * spec.c: a parser for PostgreSQL's isolation-tester spec language, written for
 * racelab from the language's description (PostgreSQL's src/test/isolation/README,
 * specscanner.l and specparse.y were read for the facts: which characters make a
 * name, how SQL blocks are trimmed, the order of the sections).
 *
 *   spec        := setup* teardown? session+ permutation*
 *   setup       := "setup" SQL            teardown := "teardown" SQL
 *   session     := "session" NAME setup? step+ teardown?
 *   step        := "step" NAME SQL
 *   permutation := "permutation" pstep+
 *   pstep       := NAME ( "(" blocker ( "," blocker )* ")" )?
 *   blocker     := "*" | NAME ( "notices" INTEGER )?
 *
 * NAME is [A-Za-z_\200-\377][A-Za-z0-9_$\200-\377]* or "quoted" (with "" for a
 * quote); SQL is { ... }, everything up to the first "}", with the blanks (not the
 * newlines) after "{" and before "}" cut, exactly as the tester cuts them, because
 * the tester prints the SQL back and our output must match it byte for byte.
 * "#" starts a comment; a comment that starts "#!" is kept as a note (racelab's
 * matrix reads its verdicts from them; the tester ignores them).
 */
#include "spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok {
	T_EOF, T_NAME, T_SQL, T_INT, T_LPAREN, T_RPAREN, T_COMMA, T_STAR,
	T_PERMUTATION, T_SESSION, T_SETUP, T_STEP, T_TEARDOWN, T_NOTICES,
};

static const char *const keywords[] = {
	[T_PERMUTATION] = "permutation", [T_SESSION] = "session", [T_SETUP] = "setup",
	[T_STEP] = "step", [T_TEARDOWN] = "teardown", [T_NOTICES] = "notices",
};

struct lexer {
	const char *p, *end;
	int line;
	enum tok tok;           /* the current token */
	int tok_line;
	char *text;             /* T_NAME, T_SQL: malloc'd, owned until taken */
	long num;               /* T_INT */
	struct spec *spec;      /* for notes */
	char *err;
	size_t errlen;
	int failed;
};

static void fail(struct lexer *lx, int line, const char *fmt, const char *arg)
{
	char msg[200];

	if (lx->failed)
		return;
	lx->failed = 1;
	snprintf(msg, sizeof msg, fmt, arg);
	snprintf(lx->err, lx->errlen, "line %d: %s", line, msg);
}

static int is_name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0200;
}

static int is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f';
}

static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int add_ptr(void *arrayp, int *n, void *item)
{
	void ***array = arrayp;
	void **grown = realloc(*array, (size_t)(*n + 1) * sizeof **array);

	if (!grown)
		return -1;
	grown[(*n)++] = item;
	*array = grown;
	return 0;
}

/* Read the next token into lx->tok.  On error, lx->failed is set and tok is T_EOF. */
static void next(struct lexer *lx)
{
	free(lx->text);
	lx->text = NULL;
	for (;;) {
		if (lx->failed || lx->p >= lx->end) {
			lx->tok = T_EOF;
			lx->tok_line = lx->line;
			return;
		}
		char c = *lx->p;

		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (is_blank(c)) {
			lx->p++;
		} else if (c == '#') {
			const char *s = lx->p;

			while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
				lx->p++;
			if (lx->p - s >= 2 && s[1] == '!') {
				char *note = dup_range(s + 2, (size_t)(lx->p - s - 2));

				if (!note || add_ptr(&lx->spec->notes, &lx->spec->nnotes, note)) {
					free(note);
					fail(lx, lx->line, "out of memory%s", "");
				}
			}
		} else if (c == '\0') {
			fail(lx, lx->line, "a NUL byte%s is not allowed in a spec file", "");
		} else {
			break;
		}
	}
	lx->tok_line = lx->line;
	const char *s = lx->p;
	unsigned char c = (unsigned char)*s;

	if (is_name_start(c)) {
		while (lx->p < lx->end && is_name_char((unsigned char)*lx->p))
			lx->p++;
		size_t n = (size_t)(lx->p - s);

		for (int k = T_PERMUTATION; k <= T_NOTICES; k++)
			if (strlen(keywords[k]) == n && !memcmp(keywords[k], s, n)) {
				lx->tok = (enum tok)k;
				return;
			}
		lx->tok = T_NAME;
		if (!(lx->text = dup_range(s, n)))
			fail(lx, lx->line, "out of memory%s", "");
		return;
	}
	if (c >= '0' && c <= '9') {
		long v = 0;

		while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9') {
			if (v < 100000000)
				v = v * 10 + (*lx->p - '0');
			lx->p++;
		}
		lx->tok = T_INT;
		lx->num = v;
		return;
	}
	if (c == '"') {
		size_t cap = 16, n = 0;
		char *buf = malloc(cap);

		lx->p++;
		for (;;) {
			if (!buf) {
				fail(lx, lx->line, "out of memory%s", "");
				break;
			}
			if (lx->p >= lx->end) {
				fail(lx, lx->tok_line, "unterminated quoted name%s (a \" is missing)", "");
				break;
			}
			char d = *lx->p;

			if (d == '\n') {
				fail(lx, lx->line, "a quoted name%s cannot span lines", "");
				break;
			}
			if (d == '\0') {
				fail(lx, lx->line, "a NUL byte%s is not allowed in a spec file", "");
				break;
			}
			if (d == '"') {
				if (lx->p + 1 < lx->end && lx->p[1] == '"') {
					lx->p++;
				} else {
					lx->p++;
					buf[n] = '\0';
					lx->tok = T_NAME;
					lx->text = buf;
					return;
				}
			}
			if (n + 2 > cap) {
				char *g = realloc(buf, cap * 2);

				if (!g) {
					free(buf);
					buf = NULL;
					continue;
				}
				buf = g;
				cap *= 2;
			}
			buf[n++] = d;
			lx->p++;
		}
		free(buf);
		lx->tok = T_EOF;
		return;
	}
	if (c == '{') {
		const char *b, *e;

		lx->p++;
		while (lx->p < lx->end && is_blank(*lx->p))
			lx->p++;
		b = lx->p;
		while (lx->p < lx->end && *lx->p != '}') {
			if (*lx->p == '\n')
				lx->line++;
			if (*lx->p == '\0') {
				fail(lx, lx->line, "a NUL byte%s is not allowed in a spec file", "");
				lx->tok = T_EOF;
				return;
			}
			lx->p++;
		}
		if (lx->p >= lx->end) {
			fail(lx, lx->tok_line, "unterminated SQL block%s: a '{' without its '}'", "");
			lx->tok = T_EOF;
			return;
		}
		e = lx->p++;
		while (e > b && is_blank(e[-1]))
			e--;
		lx->tok = T_SQL;
		if (!(lx->text = dup_range(b, (size_t)(e - b))))
			fail(lx, lx->line, "out of memory%s", "");
		return;
	}
	lx->p++;
	switch (c) {
	case '(': lx->tok = T_LPAREN; return;
	case ')': lx->tok = T_RPAREN; return;
	case ',': lx->tok = T_COMMA; return;
	case '*': lx->tok = T_STAR; return;
	}
	{
		char shown[8];

		if (c >= 0x20 && c < 0x7f)
			snprintf(shown, sizeof shown, "%c", c);
		else
			snprintf(shown, sizeof shown, "\\x%02x", c);
		fail(lx, lx->line, "unexpected character '%s'", shown);
	}
	lx->tok = T_EOF;
}

static const char *tok_name(enum tok t)
{
	switch (t) {
	case T_EOF: return "the end of the file";
	case T_NAME: return "a name";
	case T_SQL: return "an SQL block";
	case T_INT: return "a number";
	case T_LPAREN: return "'('";
	case T_RPAREN: return "')'";
	case T_COMMA: return "','";
	case T_STAR: return "'*'";
	default: return keywords[t];
	}
}

/* Take the current token's text if it is of type T, else fail with WHAT. */
static char *take(struct lexer *lx, enum tok t, const char *what)
{
	char *s;

	if (lx->tok != t) {
		char msg[160];

		snprintf(msg, sizeof msg, "expected %s, found %s", what, tok_name(lx->tok));
		fail(lx, lx->tok_line, "%s", msg);
		return NULL;
	}
	s = lx->text;
	lx->text = NULL;
	next(lx);
	return s;
}

static int parse_session(struct lexer *lx, struct spec *sp)
{
	struct spec_session *grown, *ss;

	next(lx);                       /* "session" */
	grown = realloc(sp->sessions, (size_t)(sp->nsessions + 1) * sizeof *grown);
	if (!grown)
		return fail(lx, lx->line, "out of memory%s", ""), -1;
	sp->sessions = grown;
	ss = &sp->sessions[sp->nsessions];
	memset(ss, 0, sizeof *ss);
	if (!(ss->name = take(lx, T_NAME, "a session name after 'session'")))
		return -1;
	sp->nsessions++;
	if (sp->nsessions > SPEC_MAX_SESSIONS) {
		fail(lx, lx->tok_line, "too many sessions (at most %s)", "16");
		return -1;
	}
	if (lx->tok == T_SETUP) {
		next(lx);
		if (!(ss->setup = take(lx, T_SQL, "an SQL block { ... } after 'setup'")))
			return -1;
	}
	ss->first = sp->nsteps;
	if (lx->tok != T_STEP) {
		char msg[120];

		snprintf(msg, sizeof msg, "session \"%.40s\" needs at least one step, found %s",
		         ss->name, tok_name(lx->tok));
		fail(lx, lx->tok_line, "%s", msg);
		return -1;
	}
	while (lx->tok == T_STEP) {
		struct spec_step *gs, *st;

		next(lx);
		if (sp->nsteps >= SPEC_MAX_STEPS) {
			fail(lx, lx->tok_line, "too many steps (at most %s)", "256");
			return -1;
		}
		gs = realloc(sp->steps, (size_t)(sp->nsteps + 1) * sizeof *gs);
		if (!gs)
			return fail(lx, lx->line, "out of memory%s", ""), -1;
		sp->steps = gs;
		st = &sp->steps[sp->nsteps];
		memset(st, 0, sizeof *st);
		st->session = sp->nsessions - 1;
		if (!(st->name = take(lx, T_NAME, "a step name after 'step'")))
			return -1;
		sp->nsteps++;
		ss->nsteps++;
		if (!(st->sql = take(lx, T_SQL, "the step's SQL block { ... }")))
			return -1;
	}
	if (lx->tok == T_TEARDOWN) {
		next(lx);
		if (!(ss->teardown = take(lx, T_SQL, "an SQL block { ... } after 'teardown'")))
			return -1;
	}
	return 0;
}

/* The index of NAME among the steps, or -1 with a failure naming it. */
static int find_step(struct lexer *lx, struct spec *sp, const char *name, const char *role,
                     int line)
{
	int i = spec_step_index(sp, name);

	if (i < 0) {
		char msg[160];

		snprintf(msg, sizeof msg, "undefined %s \"%.60s\" in a permutation", role, name);
		fail(lx, line, "%s", msg);
	}
	return i;
}

static int parse_blocker(struct lexer *lx, struct spec *sp, struct spec_pstep *ps)
{
	struct spec_blocker b = { 0 }, *grown;
	int line = lx->tok_line;

	if (lx->tok == T_STAR) {
		b.type = SPEC_BLOCK_ONCE;
		next(lx);
	} else {
		char *name = take(lx, T_NAME, "'*' or a step name inside ( )");

		if (!name)
			return -1;
		b.type = SPEC_BLOCK_STEP;
		b.step = find_step(lx, sp, name, "blocking step", line);
		free(name);
		if (b.step < 0)
			return -1;
		if (sp->steps[b.step].session == sp->steps[ps->step].session) {
			char msg[160];

			snprintf(msg, sizeof msg, "step \"%.60s\" cannot wait for a step of its own"
			         " session", sp->steps[ps->step].name);
			fail(lx, line, "%s", msg);
			return -1;
		}
		if (lx->tok == T_NOTICES) {
			next(lx);
			if (lx->tok != T_INT) {
				fail(lx, lx->tok_line, "expected a number after 'notices', found %s",
				     tok_name(lx->tok));
				return -1;
			}
			b.type = SPEC_BLOCK_NOTICES;
			b.notices = (int)lx->num;
			next(lx);
		}
	}
	grown = realloc(ps->blockers, (size_t)(ps->nblockers + 1) * sizeof *grown);
	if (!grown)
		return fail(lx, line, "out of memory%s", ""), -1;
	ps->blockers = grown;
	ps->blockers[ps->nblockers++] = b;
	return 0;
}

static int parse_permutation(struct lexer *lx, struct spec *sp)
{
	struct spec_perm *grown, *pm;

	if (sp->nperms >= SPEC_MAX_PERMUTATIONS) {
		fail(lx, lx->tok_line, "too many permutations (at most %s)", "5000");
		return -1;
	}
	next(lx);                       /* "permutation" */
	grown = realloc(sp->perms, (size_t)(sp->nperms + 1) * sizeof *grown);
	if (!grown)
		return fail(lx, lx->line, "out of memory%s", ""), -1;
	sp->perms = grown;
	pm = &sp->perms[sp->nperms++];
	memset(pm, 0, sizeof *pm);
	if (lx->tok != T_NAME) {
		fail(lx, lx->tok_line, "expected a step name after 'permutation', found %s",
		     tok_name(lx->tok));
		return -1;
	}
	while (lx->tok == T_NAME) {
		struct spec_pstep *gs, *ps;
		int line = lx->tok_line;
		char *name = take(lx, T_NAME, "a step name");

		if (!name)
			return -1;
		if (pm->nsteps >= 4 * SPEC_MAX_STEPS) {
			free(name);
			fail(lx, line, "a permutation of more than %s steps", "1024");
			return -1;
		}
		gs = realloc(pm->steps, (size_t)(pm->nsteps + 1) * sizeof *gs);
		if (!gs) {
			free(name);
			return fail(lx, line, "out of memory%s", ""), -1;
		}
		pm->steps = gs;
		ps = &pm->steps[pm->nsteps];
		memset(ps, 0, sizeof *ps);
		ps->step = find_step(lx, sp, name, "step", line);
		free(name);
		if (ps->step < 0)
			return -1;
		pm->nsteps++;
		sp->steps[ps->step].used = 1;
		if (lx->tok == T_LPAREN) {
			next(lx);
			if (parse_blocker(lx, sp, ps))
				return -1;
			while (lx->tok == T_COMMA) {
				next(lx);
				if (parse_blocker(lx, sp, ps))
					return -1;
			}
			if (lx->tok != T_RPAREN) {
				fail(lx, lx->tok_line, "expected ')' or ',' in a step's markers, found %s",
				     tok_name(lx->tok));
				return -1;
			}
			next(lx);
		}
	}
	return 0;
}

/* Every interleaving of the sessions' steps that keeps each session's order, in
 * the order the tester runs them: at each position, the lowest session first. */
static int generate(struct spec *sp, int *piles, int *order, int depth, char *err,
                    size_t errlen)
{
	int found = 0;

	for (int s = 0; s < sp->nsessions; s++) {
		if (piles[s] >= sp->sessions[s].nsteps)
			continue;
		found = 1;
		order[depth] = sp->sessions[s].first + piles[s];
		piles[s]++;
		if (generate(sp, piles, order, depth + 1, err, errlen))
			return -1;
		piles[s]--;
	}
	if (found)
		return 0;
	if (sp->nperms >= SPEC_MAX_PERMUTATIONS) {
		snprintf(err, errlen, "these sessions' steps interleave in more than %d ways:"
		         " list the orders to run with 'permutation' lines",
		         SPEC_MAX_PERMUTATIONS);
		return -1;
	}
	struct spec_perm *grown = realloc(sp->perms, (size_t)(sp->nperms + 1) * sizeof *grown);

	if (!grown)
		goto oom;
	sp->perms = grown;
	struct spec_perm *pm = &sp->perms[sp->nperms];

	if (!(pm->steps = calloc((size_t)depth, sizeof *pm->steps)))
		goto oom;
	pm->nsteps = depth;
	for (int i = 0; i < depth; i++)
		pm->steps[i].step = order[i];
	sp->nperms++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int spec_step_index(const struct spec *sp, const char *name)
{
	for (int i = 0; i < sp->nsteps; i++)
		if (!strcmp(sp->steps[i].name, name))
			return i;
	return -1;
}

int spec_parse(const char *text, size_t len, struct spec *sp, char *err, size_t errlen)
{
	struct lexer lx = { .p = text, .end = text + len, .line = 1, .spec = sp,
	                    .err = err, .errlen = errlen };

	memset(sp, 0, sizeof *sp);
	if (len > SPEC_MAX_BYTES) {
		snprintf(err, errlen, "the spec is %zu bytes: at most %d are allowed", len,
		         SPEC_MAX_BYTES);
		return -1;
	}
	next(&lx);
	while (lx.tok == T_SETUP) {
		char *sql;

		next(&lx);
		if (!(sql = take(&lx, T_SQL, "an SQL block { ... } after 'setup'")))
			goto fail;
		if (add_ptr(&sp->setup, &sp->nsetup, sql)) {
			free(sql);
			fail(&lx, lx.line, "out of memory%s", "");
			goto fail;
		}
	}
	if (lx.tok == T_TEARDOWN) {
		next(&lx);
		if (!(sp->teardown = take(&lx, T_SQL, "an SQL block { ... } after 'teardown'")))
			goto fail;
	}
	if (lx.tok != T_SESSION) {
		fail(&lx, lx.tok_line, lx.tok == T_SETUP ? "'setup' blocks must come before"
		     " 'teardown'%s" : "expected 'session', found %s",
		     lx.tok == T_SETUP ? "" : tok_name(lx.tok));
		goto fail;
	}
	while (lx.tok == T_SESSION)
		if (parse_session(&lx, sp))
			goto fail;
	/* Step names are unique: a permutation names steps, not sessions. */
	for (int i = 0; i < sp->nsteps; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(sp->steps[i].name, sp->steps[j].name)) {
				fail(&lx, lx.tok_line, "duplicate step name \"%.60s\"", sp->steps[i].name);
				goto fail;
			}
	while (lx.tok == T_PERMUTATION)
		if (parse_permutation(&lx, sp))
			goto fail;
	if (lx.failed)
		goto fail;
	if (lx.tok != T_EOF) {
		fail(&lx, lx.tok_line, sp->nperms ? "expected 'permutation' or the end of the"
		     " file, found %s" : "expected 'session', 'permutation' or the end of the"
		     " file, found %s", tok_name(lx.tok));
		goto fail;
	}
	if (sp->nperms == 0) {
		int *piles = calloc((size_t)sp->nsessions, sizeof *piles);
		int *order = calloc((size_t)sp->nsteps, sizeof *order);
		int rc = piles && order ? generate(sp, piles, order, 0, err, errlen) : -1;

		if (!piles || !order)
			snprintf(err, errlen, "out of memory");
		free(piles);
		free(order);
		sp->generated = 1;
		if (rc) {
			free(lx.text);
			spec_free(sp);
			return -1;
		}
	}
	free(lx.text);
	return 0;
fail:
	free(lx.text);
	spec_free(sp);
	return -1;
}

void spec_free(struct spec *sp)
{
	for (int i = 0; i < sp->nsetup; i++)
		free(sp->setup[i]);
	free(sp->setup);
	free(sp->teardown);
	for (int i = 0; i < sp->nsessions; i++) {
		free(sp->sessions[i].name);
		free(sp->sessions[i].setup);
		free(sp->sessions[i].teardown);
	}
	free(sp->sessions);
	for (int i = 0; i < sp->nsteps; i++) {
		free(sp->steps[i].name);
		free(sp->steps[i].sql);
	}
	free(sp->steps);
	for (int i = 0; i < sp->nperms; i++) {
		for (int j = 0; j < sp->perms[i].nsteps; j++)
			free(sp->perms[i].steps[j].blockers);
		free(sp->perms[i].steps);
	}
	free(sp->perms);
	for (int i = 0; i < sp->nnotes; i++)
		free(sp->notes[i]);
	free(sp->notes);
	memset(sp, 0, sizeof *sp);
}
