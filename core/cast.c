/*
 * cast.c: writing asciicast v2 files; see cast.h.
 *
 * Everything is written with stdio into the file as it comes: a frame of the
 * dashboard is one "o" event, escaped straight into the stream, so recording
 * costs a copy and an escape per byte the terminal is sent, and no allocation.
 */
#include "cast.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sys.h"

struct cast {
	FILE *f;
	char *path;
	enum cast_clock clock;
	int64_t step_ns;        /* virtual: the advance per step */
	int64_t t_ns;           /* the recording's clock at the last event */
	int64_t real_ns;        /* wall: the monotonic clock at the last event */
	unsigned char held[4];  /* the start of a UTF-8 character cut off by a write */
	int nheld;
};

/* The length of the UTF-8 sequence that byte B starts (0: not a lead byte). */
static int utf8_len(unsigned char b)
{
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef)
		return 3;
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	return 0;
}

/* Whether the N bytes at P are one whole, valid UTF-8 character of length N. */
static int utf8_ok(const unsigned char *p, int n)
{
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong three-byte forms, no surrogates, nothing past U+10FFFF. */
	if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
		return 0;
	if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
		return 0;
	return 1;
}

/* Write S (LEN bytes) as a JSON string literal; a byte that is not part of valid
 * UTF-8 becomes U+FFFD, so a player's JSON parser never refuses the file. */
static void put_json(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	putc('"', f);
	while (p < end) {
		unsigned char b = *p;
		int n = utf8_len(b);

		if (b == '"' || b == '\\') {
			putc('\\', f);
			putc(b, f);
		} else if (b == '\n') {
			fputs("\\n", f);
		} else if (b == '\r') {
			fputs("\\r", f);
		} else if (b == '\t') {
			fputs("\\t", f);
		} else if (b < 0x20 || b == 0x7f) {
			fprintf(f, "\\u%04x", b);
		} else if (n == 1) {
			putc(b, f);
		} else if (n && end - p >= n && utf8_ok(p, n)) {
			fwrite(p, 1, (size_t)n, f);
			p += n;
			continue;
		} else {
			fputs("\xef\xbf\xbd", f);       /* U+FFFD */
		}
		p++;
	}
	putc('"', f);
}

long cast_json_string(const char *s, size_t len, char *buf, size_t n)
{
	FILE *f = fmemopen(buf, n, "w");
	long used;

	if (!f)
		return -1;
	put_json(f, s, len);
	used = ftell(f);
	if (fclose(f) != 0 || used < 0 || (size_t)used >= n)
		return -1;
	return used;
}

struct cast *cast_open(const char *path, int width, int height, const char *title,
                       enum cast_clock clock, int64_t step_ns, char *err, size_t errlen)
{
	struct cast *c = calloc(1, sizeof *c);
	const char *shell = getenv("SHELL"), *term = getenv("TERM");
	const char *epoch = getenv("SOURCE_DATE_EPOCH");

	if (!c || !(c->path = strdup(path))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!(c->f = fopen(path, "we"))) {
		snprintf(err, errlen, "cannot write the recording '%s': %s", path, strerror(errno));
		free(c->path);
		free(c);
		return NULL;
	}
	c->clock = clock;
	c->step_ns = step_ns;
	c->real_ns = sys_now_ns();

	fprintf(c->f, "{\"version\": 2, \"width\": %d, \"height\": %d", width, height);
	if (clock == CAST_WALL)
		fprintf(c->f, ", \"timestamp\": %lld", (long long)time(NULL));
	else if (epoch && *epoch)
		fprintf(c->f, ", \"timestamp\": %lld", strtoll(epoch, NULL, 10));
	fprintf(c->f, ", \"idle_time_limit\": %.1f, \"title\": ", CAST_IDLE_MAX_S);
	put_json(c->f, title, strlen(title));
	fputs(", \"env\": {\"SHELL\": ", c->f);
	if (shell)
		put_json(c->f, shell, strlen(shell));
	else
		fputs("null", c->f);
	fputs(", \"TERM\": ", c->f);
	if (term)
		put_json(c->f, term, strlen(term));
	else
		fputs("null", c->f);
	fputs("}}\n", c->f);
	return c;
}

int64_t cast_now_ns(struct cast *c)
{
	if (c->clock == CAST_WALL) {
		int64_t real = sys_now_ns(), gap = real - c->real_ns;
		int64_t cap = (int64_t)(CAST_IDLE_MAX_S * 1e9);

		c->t_ns += gap < cap ? gap : cap;
		c->real_ns = real;
	}
	return c->t_ns;
}

enum cast_clock cast_clock_kind(const struct cast *c)
{
	return c->clock;
}

void cast_step(struct cast *c)
{
	if (c->clock == CAST_VIRTUAL)
		c->t_ns += c->step_ns;
}

void cast_pause(struct cast *c, int64_t ns)
{
	if (c->clock == CAST_VIRTUAL)
		c->t_ns += ns;
}

static void put_time(struct cast *c)
{
	int64_t t = cast_now_ns(c);

	fprintf(c->f, "[%lld.%06lld, ", (long long)(t / 1000000000),
	        (long long)(t % 1000000000 / 1000));
}

void cast_output(struct cast *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned char joined[8];
	size_t whole;

	if (!len)
		return;
	/* Complete a character held back from the last call first. */
	while (c->nheld && len) {
		int need = utf8_len(c->held[0]);

		if (c->nheld >= need || (*p & 0xc0) != 0x80) {
			memcpy(joined, c->held, (size_t)c->nheld);
			put_time(c);
			fputs("\"o\", ", c->f);
			put_json(c->f, (const char *)joined, (size_t)c->nheld);
			fputs("]\n", c->f);
			c->nheld = 0;
			break;
		}
		c->held[c->nheld++] = *p++;
		len--;
		if (c->nheld == need) {
			put_time(c);
			fputs("\"o\", ", c->f);
			put_json(c->f, (const char *)c->held, (size_t)c->nheld);
			fputs("]\n", c->f);
			c->nheld = 0;
		}
	}
	if (!len)
		return;
	/* Hold back a character the data cuts off at its end. */
	whole = len;
	for (size_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char b = p[len - back];
		int n = utf8_len(b);

		if ((b & 0xc0) == 0x80)
			continue;               /* a continuation byte: look further back */
		if (n > (int)back)
			whole = len - back;     /* a lead byte whose character is cut off */
		break;
	}
	if (whole) {
		put_time(c);
		fputs("\"o\", ", c->f);
		put_json(c->f, (const char *)p, whole);
		fputs("]\n", c->f);
	}
	memcpy(c->held, p + whole, len - whole);
	c->nheld = (int)(len - whole);
}

void cast_marker(struct cast *c, const char *label)
{
	put_time(c);
	fputs("\"m\", ", c->f);
	put_json(c->f, label, strlen(label));
	fputs("]\n", c->f);
}

int cast_close(struct cast *c, char *err, size_t errlen)
{
	int rc = 0;

	if (!c)
		return 0;
	if (c->nheld) {                 /* a cut-off character at the very end */
		put_time(c);
		fputs("\"o\", ", c->f);
		put_json(c->f, (const char *)c->held, (size_t)c->nheld);
		fputs("]\n", c->f);
	}
	if (ferror(c->f) | (fclose(c->f) != 0)) {
		snprintf(err, errlen, "writing the recording '%s' failed: %s", c->path,
		         strerror(errno));
		rc = -1;
	}
	free(c->path);
	free(c);
	return rc;
}
