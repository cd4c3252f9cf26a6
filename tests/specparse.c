/*
 * specparse.c: the spec parser on its own: what it keeps (SQL trimmed as the
 * isolation tester trims it, quoted names, markers, "#!" notes), the order of
 * generated permutations, and a deterministic fuzz: every prefix of every spec
 * file in specs/, and thousands of seeded mutations of them (bytes flipped,
 * braces, quotes and parentheses inserted, pieces cut out), each either parsed
 * or refused with one line that names a line number — never a crash or a leak
 * (make test-asan runs this under AddressSanitizer and UBSan).
 */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/spec.h"
#include "tap.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* Parse TEXT; a refusal must be one line.  Returns 1 parsed, 0 refused well,
 * -1 refused badly. */
static int try_parse(const char *text, size_t len)
{
	struct spec sp;
	char err[256] = "";

	if (spec_parse(text, len, &sp, err, sizeof err) == 0) {
		spec_free(&sp);
		return 1;
	}
	return err[0] && !strchr(err, '\n') ? 0 : -1;
}

static uint64_t rng = 88172645463325252ull;

static unsigned next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

int main(void)
{
	struct spec sp;
	char err[256];
	const char *text =
	    "# a comment\n"
	    "#! anomaly if r2 = 11\n"
	    "setup { CREATE TABLE t (x int); }\n"
	    "setup\t{\tINSERT INTO t VALUES (1);   }\n"
	    "teardown { DROP TABLE t; }\n"
	    "session \"s \"\"one\"\"\"\n"
	    "setup { BEGIN; }\n"
	    "step r1 {\n  SELECT x FROM t;\n}\n"
	    "step w1 { UPDATE t SET x = 2; }\n"
	    "teardown { COMMIT; }\n"
	    "session s2\n"
	    "step r2 { SELECT x FROM t; }\n"
	    "step w2 { UPDATE t SET x = 3; }\n"
	    "step c2 { COMMIT; }\n"
	    "permutation r1 w1(*) r2 w2(w1, r1 notices 2) c2\n"
	    "permutation \"r2\" r1\n";
	int rc = spec_parse(text, strlen(text), &sp, err, sizeof err);

	ok(rc == 0, "a spec with every construct parses");
	if (rc) {
		diag("%s", err);
		return done_testing();
	}
	is_int(sp.nsetup, 2, "two setup blocks");
	is_str(sp.setup[1], "INSERT INTO t VALUES (1);", "blanks after { and before } are cut");
	is_str(sp.steps[0].sql, "\n  SELECT x FROM t;\n",
	       "newlines after { and before } are kept, as the tester keeps them");
	is_str(sp.sessions[0].name, "s \"one\"", "a quoted name, with \"\" for a quote");
	is_str(sp.sessions[0].teardown, "COMMIT;", "a session's teardown");
	is_int(sp.nsteps, 5, "five steps");
	is_int(sp.sessions[1].first, 2, "the second session's steps follow the first's");
	is_int(sp.nperms, 2, "two permutations");
	is_int(sp.perms[0].steps[1].nblockers, 1, "w1(*) has one marker");
	ok(sp.perms[0].steps[1].blockers[0].type == SPEC_BLOCK_ONCE, "(*) is SPEC_BLOCK_ONCE");
	ok(sp.perms[0].steps[3].nblockers == 2 &&
	   sp.perms[0].steps[3].blockers[0].type == SPEC_BLOCK_STEP &&
	   sp.perms[0].steps[3].blockers[1].type == SPEC_BLOCK_NOTICES &&
	   sp.perms[0].steps[3].blockers[1].notices == 2, "(w1, r1 notices 2): two markers");
	is_int(sp.nnotes, 1, "one #! note");
	is_str(sp.notes[0], " anomaly if r2 = 11", "the note's text");
	ok(sp.steps[4].used && sp.steps[0].used, "steps named in permutations are marked used");
	spec_free(&sp);

	/* No permutation lines: every interleaving, lowest session first. */
	const char *gen = "session a step a1 {1} step a2 {2}\n"
	                  "session b step b1 {1} step b2 {2} step b3 {3}\n";

	ok(spec_parse(gen, strlen(gen), &sp, err, sizeof err) == 0 && sp.generated,
	   "a spec without permutations gets generated ones");
	is_int(sp.nperms, 10, "2 and 3 steps interleave in 10 ways");
	ok(sp.perms[0].steps[0].step == 0 && sp.perms[0].steps[1].step == 1,
	   "the first order runs the first session's steps first");
	ok(sp.perms[9].steps[0].step == 2 && sp.perms[9].steps[4].step == 1,
	   "the last order runs the last session's steps first");
	spec_free(&sp);

	/* Refusals name the line. */
	const char *bad = "session s\nstep a { x }\npermutation a b\n";

	ok(spec_parse(bad, strlen(bad), &sp, err, sizeof err) == -1 &&
	   !strcmp(err, "line 3: undefined step \"b\" in a permutation"),
	   "an unknown step is refused with its line");
	diag("%s", err);

	/* The fuzz. */
	glob_t g;
	int files = 0, prefixes = 0, mutants = 0, badly = 0, parsed = 0;
	static const char inserts[] = "{}\"()*,#\n\0 ";

	if (glob("specs/*.spec", 0, NULL, &g) == 0) {
		glob("specs/matrix/*.spec", GLOB_APPEND, NULL, &g);
		for (size_t f = 0; f < g.gl_pathc; f++) {
			size_t len;
			char *src = slurp(g.gl_pathv[f], &len);

			if (!src)
				continue;
			files++;
			if (try_parse(src, len) != 1) {
				diag("%s does not parse", g.gl_pathv[f]);
				badly++;
			}
			for (size_t n = 0; n < len; n++, prefixes++) {
				int r = try_parse(src, n);

				badly += r < 0;
				parsed += r > 0;
			}
			for (int m = 0; m < 400; m++, mutants++) {
				char *mut = malloc(len + 4);
				size_t mlen = len, at = len ? next_rand() % len : 0;

				memcpy(mut, src, len);
				switch (next_rand() % 4) {
				case 0:         /* a flipped byte */
					mut[at] = (char)(next_rand() & 0xff);
					break;
				case 1:         /* an inserted special character */
					memmove(mut + at + 1, mut + at, len - at);
					mut[at] = inserts[next_rand() % (sizeof inserts - 1)];
					mlen++;
					break;
				case 2: {       /* a piece cut out */
					size_t cut = next_rand() % 40;

					if (cut > len - at)
						cut = len - at;
					memmove(mut + at, mut + at + cut, len - at - cut);
					mlen -= cut;
					break;
				}
				default:        /* a name replaced by an unknown one */
					if (len - at >= 3)
						memcpy(mut + at, "zq9", 3);
				}
				int r = try_parse(mut, mlen);

				badly += r < 0;
				parsed += r > 0;
				free(mut);
			}
			free(src);
		}
		globfree(&g);
	}
	ok(files >= 8, "the fuzz read the spec files in specs/ (%d)", files);
	is_int(badly, 0, "%d prefixes and %d mutations: each parsed or refused in one line",
	       prefixes, mutants);
	diag("%d of them parsed", parsed);

	/* Huge and deep inputs. */
	size_t hn = SPEC_MAX_BYTES + 1;
	char *huge = malloc(hn);

	memset(huge, '(', hn);
	ok(try_parse(huge, hn) == 0, "a file over the size limit is refused");
	memcpy(huge, "session s step a {1}\npermutation ", 33);
	for (size_t i = 33; i + 4 < 200000; i += 4)
		memcpy(huge + i, "a a ", 4);
	ok(try_parse(huge, 200000) == 0, "a permutation of 50000 steps is refused");
	free(huge);
	return done_testing();
}
