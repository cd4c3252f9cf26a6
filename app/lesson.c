/*
 * lesson.c: finding, listing and loading the lessons; see lesson.h for the file
 * format.  Running a lesson's demo is main.c's job: it parses lesson_argv() with
 * cli_parse, exactly as if the user had typed it, and runs it the usual way.
 */
#include "lesson.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#ifndef RACELAB_DATADIR                 /* the Makefile passes $(DATADIR) */
#define RACELAB_DATADIR "/usr/local/share/racelab"
#endif

#define MAX_LESSONS 100

struct entry {
	int number;
	char name[256];
};

/* "NN-something.md": its number, or -1 if NAME is not a lesson file. */
static int lesson_number(const char *name)
{
	size_t len = strlen(name);
	const char *p = name;
	long n = 0;

	if (!isdigit((unsigned char)*p) || len < 5 || strcmp(name + len - 3, ".md") != 0)
		return -1;
	while (isdigit((unsigned char)*p) && n < 100000)
		n = n * 10 + (*p++ - '0');
	return *p == '-' && p[1] != '.' && n > 0 && n < 100000 ? (int)n : -1;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

/* The lesson files in DIR, sorted by number.  Returns how many, or -1. */
static int scan(const char *dir, struct entry *out, int max, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d) {
		snprintf(err, errlen, "cannot read the lessons in %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) && n < max) {
		int num = lesson_number(de->d_name);

		if (num < 0 || strlen(de->d_name) >= sizeof out[n].name)
			continue;
		out[n].number = num;
		snprintf(out[n].name, sizeof out[n].name, "%s", de->d_name);
		n++;
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof *out, cmp_entry);
	for (int i = 1; i < n; i++)
		if (out[i].number == out[i - 1].number) {
			snprintf(err, errlen, "two lessons are numbered %d in %s: %s and %s",
			         out[i].number, dir, out[i - 1].name, out[i].name);
			return -1;
		}
	return n;
}

static int has_lessons(const char *dir)
{
	struct entry e[MAX_LESSONS];
	char err[512];

	return scan(dir, e, MAX_LESSONS, err, sizeof err) > 0;
}

int lesson_dir(char *buf, size_t n, char *err, size_t errlen)
{
	const char *env = getenv("RACELAB_LESSONS");
	char exe[PATH_MAX], tried[3 * (PATH_MAX + 40)] = "";
	ssize_t len;

	if (env && *env) {
		snprintf(buf, n, "%s", env);
		return 0;
	}
	/* Run from the build tree: build/racelab finds ../lessons, build/x/racelab
	 * ../../lessons.  An installed PREFIX/bin/racelab finds its own
	 * PREFIX/share/racelab/lessons, even when moved or built for another prefix. */
	len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		static const char *const up[] = { "/../lessons", "/../../lessons",
		                                  "/../share/racelab/lessons" };
		char *slash;

		exe[len] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
			char dir[PATH_MAX + 32];

			snprintf(dir, sizeof dir, "%s%s", exe, up[i]);
			if (has_lessons(dir)) {
				if (!realpath(dir, buf) || strlen(buf) >= n)
					snprintf(buf, n, "%s", dir);
				return 0;
			}
			snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "%s, ", dir);
		}
	}
	if (has_lessons(RACELAB_DATADIR "/lessons")) {
		snprintf(buf, n, "%s", RACELAB_DATADIR "/lessons");
		return 0;
	}
	snprintf(err, errlen, "cannot find the lessons (looked in %s%s); set RACELAB_LESSONS"
	         " to the lessons directory", tried, RACELAB_DATADIR "/lessons");
	return -1;
}

/* The whole of file PATH, NUL-terminated, or NULL with err set. */
static char *slurp(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = cap ? cap * 2 : 16384);

			if (!p) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "out of memory reading %s", path);
				return NULL;
			}
			buf = p;
		}
		size_t got = fread(buf + len, 1, cap - len - 1, f);

		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* The heading without its markup and without a leading "Lesson N:". */
static void set_title(char *title, size_t n, const char *line, size_t len)
{
	const char *p = line + 2, *end = line + len;

	while (p < end && *p == ' ')
		p++;
	if (end - p > 7 && !strncmp(p, "Lesson ", 7) && isdigit((unsigned char)p[7])) {
		const char *q = p + 7;

		while (q < end && isdigit((unsigned char)*q))
			q++;
		if (q < end && (*q == ':' || *q == '.'))
			q++;
		while (q < end && (*q == ' ' || *q == '-'))
			q++;
		p = q;
	}
	while (end > p && (end[-1] == ' ' || end[-1] == '\r'))
		end--;
	snprintf(title, n, "%.*s", (int)(end - p), p);
}

/* LINE (LEN bytes, no newline) is "<!-- KEY ... -->": the text after KEY, trimmed,
 * into *val (allocated), and 1; else 0. */
static int directive(const char *line, size_t len, const char *key, char **val)
{
	const char *p = line, *end = line + len;
	size_t klen = strlen(key);

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (end - p < 7 || strncmp(p, "<!--", 4) || strncmp(end - 3, "-->", 3))
		return 0;
	p += 4;
	end -= 3;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if ((size_t)(end - p) < klen || strncmp(p, key, klen))
		return 0;
	p += klen;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (val && !(*val = strndup(p, (size_t)(end - p))))
		return -1;
	return 1;
}

/* LINE (LEN bytes) opens an HTML comment: "<!--" after optional blanks. */
static int comment_opens(const char *line, size_t len)
{
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	return len >= 4 && !strncmp(line, "<!--", 4);
}

/* Split S into words the way a shell would for a plain command line: blanks
 * separate, '...' and "..." quote, a backslash escapes the next character
 * (except inside '...').  Returns the number of words, or -1. */
static int split_words(const char *s, char *store, char **argv, int max)
{
	int argc = 0;
	char *o = store;

	for (;;) {
		char quote = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (argc == max)
			return -1;
		argv[argc] = o;
		for (; *s; s++) {
			if (quote) {
				if (*s == quote)
					quote = 0;
				else if (*s == '\\' && quote == '"' && (s[1] == '"' || s[1] == '\\'))
					*o++ = *++s;
				else
					*o++ = *s;
			} else if (*s == '\'' || *s == '"') {
				quote = *s;
			} else if (*s == '\\' && s[1]) {
				*o++ = *++s;
			} else if (*s == ' ' || *s == '\t') {
				break;
			} else {
				*o++ = *s;
			}
		}
		if (quote)
			return -1;
		*o++ = '\0';
		argc++;
	}
	argv[argc] = NULL;
	return argc;
}

/* Split the file's text into the lesson's parts. */
static int parse(struct lesson *l, const char *text, char *err, size_t errlen)
{
	/* Each line gets its newline back: one more than the text when its last
	 * line has none (found by tests/fuzz/lesson.c). */
	size_t cap = strlen(text) + 2;
	char *before = malloc(cap), *after = malloc(cap);
	char *out = before;
	size_t blen = 0, alen = 0, *olen = &blen;
	const char *p = text;
	int lineno = 0, in_comment = 0;

	if (!before || !after) {
		free(before);
		free(after);
		snprintf(err, errlen, "out of memory");
		return EX_SOFTWARE;
	}
	l->before = before;
	l->after = after;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *cmd = NULL;
		int d;

		lineno++;
		if (in_comment) {
			/* a hidden block (<!-- check ... -->): for tests/docs.t only */
			if (memmem(p, len, "-->", 3))
				in_comment = 0;
		} else if ((d = directive(p, len, "racelab:", &cmd)) != 0) {
			if (d < 0 || l->command) {
				free(cmd);
				if (d < 0)
					snprintf(err, errlen, "out of memory");
				else
					snprintf(err, errlen, "%s:%d: a second racelab: line (a lesson"
					         " declares one demo)", l->path, lineno);
				return EX_SOFTWARE;
			}
			l->command = cmd;
		} else if (directive(p, len, "expect:", NULL)) {
			/* for tests/docs.t */
		} else if (directive(p, len, "run", NULL) && out == before) {
			out = after;
			olen = &alen;
		} else if (comment_opens(p, len)) {
			/* Markdown does not show an HTML comment; neither do we */
			in_comment = !memmem(p, len, "-->", 3);
		} else {
			if (!l->title[0] && len >= 2 && p[0] == '#' && p[1] == ' ')
				set_title(l->title, sizeof l->title, p, len);
			memcpy(out + *olen, p, len);
			*olen += len;
			out[(*olen)++] = '\n';
		}
		p += len + (nl != NULL);
	}
	if (in_comment) {
		snprintf(err, errlen, "%s: an HTML comment (<!-- ...) is never closed (-->)",
		         l->path);
		return EX_SOFTWARE;
	}
	before[blen] = '\0';
	after[alen] = '\0';
	if (l->command) {
		if (!(l->words = malloc(strlen(l->command) + 1))) {
			snprintf(err, errlen, "out of memory");
			return EX_SOFTWARE;
		}
		l->argc = split_words(l->command, l->words, l->argv, LESSON_MAX_ARGS);
		if (l->argc < 0) {
			snprintf(err, errlen, "%s: cannot read the racelab: line (an unclosed quote,"
			         " or more than %d words)", l->path, LESSON_MAX_ARGS);
			return EX_SOFTWARE;
		}
	}
	return 0;
}

static int find_lessons(char *dir, size_t dirlen, struct entry *e, int *n, char *err,
                        size_t errlen)
{
	if (lesson_dir(dir, dirlen, err, errlen) != 0)
		return EX_SOFTWARE;
	if ((*n = scan(dir, e, MAX_LESSONS, err, errlen)) < 0)
		return EX_SOFTWARE;
	if (*n == 0) {
		snprintf(err, errlen, "no lessons (NN-name.md files) in %s", dir);
		return EX_SOFTWARE;
	}
	return 0;
}

int lesson_list(FILE *out, char *err, size_t errlen)
{
	struct entry e[MAX_LESSONS];
	char dir[PATH_MAX];
	int n, rc;

	if ((rc = find_lessons(dir, sizeof dir, e, &n, err, errlen)))
		return rc;
	for (int i = 0; i < n; i++) {
		struct lesson l;

		if ((rc = lesson_load(e[i].number, &l, err, errlen)))
			return rc;
		fprintf(out, "%3d  %s\n", l.number, l.title[0] ? l.title : e[i].name);
		lesson_free(&l);
	}
	fprintf(out, "\nracelab lesson N runs lesson N: its text, its demo, then the answers;"
	        " on a terminal\nit waits for a key before the demo and before each answer"
	        " (--no-pause: it does not).\nThe lessons are in %s\n", dir);
	return 0;
}

int lesson_load(int number, struct lesson *l, char *err, size_t errlen)
{
	struct entry e[MAX_LESSONS];
	char dir[PATH_MAX];
	char *text;
	int n, rc;

	memset(l, 0, sizeof *l);
	if ((rc = find_lessons(dir, sizeof dir, e, &n, err, errlen)))
		return rc;
	for (int i = 0; i < n; i++) {
		if (e[i].number != number)
			continue;
		l->number = number;
		if (!(l->path = malloc(strlen(dir) + strlen(e[i].name) + 2))) {
			snprintf(err, errlen, "out of memory");
			return EX_SOFTWARE;
		}
		sprintf(l->path, "%s/%s", dir, e[i].name);
		if (!(text = slurp(l->path, err, errlen))) {
			lesson_free(l);
			return EX_SOFTWARE;
		}
		rc = parse(l, text, err, errlen);
		free(text);
		if (rc)
			lesson_free(l);
		return rc;
	}
	snprintf(err, errlen, "no lesson %d: the lessons are numbered %d to %d"
	         " (racelab lessons lists them)", number, e[0].number, e[n - 1].number);
	return EX_USAGE;
}

int lesson_parse(struct lesson *l, const char *path, const char *text, char *err,
                 size_t errlen)
{
	int rc;

	memset(l, 0, sizeof *l);
	if (!(l->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		return EX_SOFTWARE;
	}
	if ((rc = parse(l, text, err, errlen)))
		lesson_free(l);
	return rc;
}

void lesson_free(struct lesson *l)
{
	free(l->run_argv);
	free(l->path);
	free(l->before);
	free(l->after);
	free(l->command);
	free(l->words);
	memset(l, 0, sizeof *l);
}

char **lesson_argv(const struct lesson *l, int nextra, char *const *extra, int *argc)
{
	char **v = malloc(sizeof *v * (size_t)(1 + l->argc + nextra + 1));
	int k = 0;

	if (!v)
		return NULL;
	v[k++] = "racelab";
	for (int i = 0; i < l->argc; i++)
		v[k++] = l->argv[i];
	for (int i = 0; i < nextra; i++)
		v[k++] = extra[i];
	v[k] = NULL;
	*argc = k;
	return v;
}

/* Write WORD so that a shell would read it back as one word. */
static void print_word(FILE *out, const char *word)
{
	if (*word && !strpbrk(word, " \t\"'\\$`!*?[]{}()<>|&;#~"))
		fputs(word, out);
	else {
		fputc('\'', out);
		for (; *word; word++)
			if (*word == '\'')
				fputs("'\\''", out);
			else
				fputc(*word, out);
		fputc('\'', out);
	}
}

void lesson_print_command(FILE *out, const struct lesson *l, int nextra,
                          char *const *extra)
{
	fprintf(out, "==> racelab%s%s", l->command && *l->command ? " " : "",
	        l->command ? l->command : "");
	for (int i = 0; i < nextra; i++) {
		if (!strcmp(extra[i], "--no-pause"))
			continue;       /* the lesson's option: the demo would refuse it */
		fputc(' ', out);
		print_word(out, extra[i]);
	}
	fputc('\n', out);
}

/* Wait for one key on the terminal: raw mode, no echo, then the terminal as it
 * was.  Ctrl-C is read as a key here (no signal), so nothing can leave the
 * terminal raw. */
static enum lesson_go lesson_key(struct lesson *l, const char *prompt)
{
	int fd = fileno(l->in);
	struct termios old, raw;
	int have = tcgetattr(fd, &old) == 0;
	ssize_t r;
	char c = 0;

	fprintf(l->out, "-- %s (any key; q stops the lesson) --", prompt);
	fflush(l->out);
	if (have) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(fd, TCSANOW, &raw);
	}
	do
		r = read(fd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (have)
		tcsetattr(fd, TCSANOW, &old);
	fputs("\r\033[K", l->out);      /* the prompt goes; the lesson reads on */
	fflush(l->out);
	if (r == 1 && c == 3)
		return LESSON_INTERRUPTED;
	return r <= 0 || c == 'q' || c == 'Q' || c == 4 ? LESSON_STOP : LESSON_GO;
}

/* Print TEXT as the learner reads it: "<details><summary>S</summary>" becomes
 * "S:", "</details>" goes, and when the lesson pauses, it waits for a key
 * before "## The answer" and before each <details> (a check's or an exercise's
 * answer), so that an answer never scrolls past with its question. */
static enum lesson_go show(struct lesson *l, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t ind = strspn(p, " ");    /* an answer may sit inside a list item */
		const char *t = p + (ind < len ? ind : len);
		size_t tlen = len - (size_t)(t - p);
		enum lesson_go go = LESSON_GO;

		if (len >= 13 && !strncmp(p, "## The answer", 13)) {
			if (l->pause)
				go = lesson_key(l, "the answer");
			if (go == LESSON_GO)
				fprintf(l->out, "%.*s\n", (int)len, p);
		} else if (tlen >= 18 && !strncmp(t, "<details><summary>", 18)) {
			const char *s = t + 18, *e = memmem(s, tlen - 18, "</summary>", 10);
			int slen = e ? (int)(e - s) : (int)(tlen - 18);
			char what[200];

			snprintf(what, sizeof what, "%.*s", slen, s);
			if (l->pause)
				go = lesson_key(l, what);
			if (go == LESSON_GO)
				fprintf(l->out, "%.*s%s:\n", (int)(t - p), p, what);
		} else if (!(tlen >= 10 && !strncmp(t, "</details>", 10))) {
			fprintf(l->out, "%.*s\n", (int)len, p);
		}
		if (go != LESSON_GO)
			return go;
		p += len + (nl != NULL);
	}
	fflush(l->out);
	return LESSON_GO;
}

int lesson_start(struct lesson *l, struct cli *cli, char **argv, char *err, size_t errlen)
{
	char *const *extra = argv + 1;
	int nextra = cli->nopts, argc, rc;
	char why[256];

	if ((rc = lesson_load(cli->lesson, l, err, errlen)))
		return rc;
	if (!l->command) {
		snprintf(err, errlen, "%s declares no demo: add a line <!-- racelab: SCENARIO"
		         " OPTIONS --> (see docs/architecture.md)", l->path);
		lesson_free(l);
		return EX_SOFTWARE;
	}
	if (!(l->run_argv = lesson_argv(l, nextra, extra, &argc))) {
		snprintf(err, errlen, "out of memory");
		lesson_free(l);
		return EX_SOFTWARE;
	}
	rc = cli_parse(argc, l->run_argv, cli, why, sizeof why);
	if (rc == 0 && cli->action != ACT_RUN && cli->action != ACT_SPEC &&
	    cli->action != ACT_MATRIX) {
		snprintf(why, sizeof why, "it is not a demo (racelab [SCENARIO] [OPTIONS])");
		rc = EX_USAGE;
	}
	if (rc) {
		/* Blame the lesson only when the lesson alone is at fault. */
		struct cli alone;
		char *lone[LESSON_MAX_ARGS + 2];
		int nlone;
		char ignored[256];

		lone[0] = "racelab";
		memcpy(lone + 1, l->argv, sizeof *lone * (size_t)l->argc);
		lone[nlone = l->argc + 1] = NULL;
		if (cli_parse(nlone, lone, &alone, ignored, sizeof ignored) == 0)
			snprintf(err, errlen, "%s", why);
		else
			snprintf(err, errlen, "lesson %d's demo (racelab %s): %s", l->number,
			         l->command, why);
		lesson_free(l);
		return EX_USAGE;
	}
	l->in = stdin;
	l->out = stdout;
	l->quiet = cli->output == OUT_JSON;
	l->pause = !l->quiet && !cli->no_pause && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (!l->quiet) {
		l->go = show(l, l->before);
		if (l->go == LESSON_GO)
			lesson_print_command(l->out, l, nextra, extra);
		fflush(l->out);
	}
	return 0;
}

enum lesson_go lesson_pause(struct lesson *l, int dashboard)
{
	if (l->go == LESSON_GO && l->pause) {
		fputc('\n', l->out);
		l->go = lesson_key(l, dashboard ? "run it on the dashboard, where q ends the run"
		                   " and the lesson goes on" : "run it");
		if (l->go != LESSON_GO)
			fputs("\n", l->out);
	}
	return l->go;
}

int lesson_stopped(struct lesson *l)
{
	int status = l->go == LESSON_INTERRUPTED ? 130 : 0;

	fflush(l->out);
	lesson_free(l);
	return status;
}

int lesson_finish(struct lesson *l, const struct cli *cli, int status)
{
	const char *what;

	if (!l->quiet) {
		switch (status) {
		case 0:
			what = ": every safe strategy kept its invariant";
			break;
		case 1:
			what = ": a safe strategy broke its invariant";
			break;
		case 130:
			what = ": interrupted";
			break;
		default:
			what = ": the demo did not run to the end";
			break;
		}
		fprintf(l->out, "==> exit status %d%s\n", status, what);
		if (status != 130 && show(l, l->after) == LESSON_INTERRUPTED)
			status = 130;
		fflush(l->out);
	}
	(void)cli;
	lesson_free(l);
	return status;
}

/* Append LINE[0..LEN) to BUF without Markdown's ` and ** marks. */
static void caption_append(char *buf, size_t n, const char *line, size_t len)
{
	size_t k = strlen(buf);

	if (k && k + 1 < n)
		buf[k++] = '\n';
	for (size_t i = 0; i < len && k + 1 < n; i++) {
		if (line[i] == '`' || (line[i] == '*' && i + 1 < len && line[i + 1] == '*')) {
			i += line[i] == '*';
			continue;
		}
		buf[k++] = line[i];
	}
	buf[k] = '\0';
}

void lesson_caption(const struct lesson *l, char *buf, size_t n)
{
	const char *texts[] = { l->before, l->after };
	char title[200];
	int bullets = 0;

	buf[0] = '\0';
	snprintf(title, sizeof title, "Lesson %d: %s", l->number, l->title);
	caption_append(buf, n, title, strlen(title));
	for (int t = 0; t < 2; t++) {
		const char *p = texts[t] ? strstr(texts[t], "\n## What to look at") : NULL;

		if (!p)
			continue;
		p = strchr(p + 1, '\n');
		while (p && *++p && strncmp(p, "## ", 3) != 0 && bullets < 3) {
			const char *end = strchr(p, '\n');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			if (!strncmp(p, "- ", 2)) {
				caption_append(buf, n, p + 2, len - 2);
				bullets++;
				/* the bullet's indented continuation lines, on the same line */
				while (end && end[1] == ' ' && end[2] == ' ') {
					const char *more = end + 1, *next = strchr(more, '\n');
					size_t k = strlen(buf);

					while (*more == ' ')
						more++;
					if (k + 1 < n)
						strcpy(buf + k, " ");
					k = strlen(buf);
					caption_append(buf + k, n - k, "", 0);
					caption_append(buf + k, n - k, more,
					               next ? (size_t)(next - more) : strlen(more));
					end = next;
				}
			}
			p = end;
		}
		return;
	}
}
