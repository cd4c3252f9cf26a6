/*
 * cast.c: the asciicast writer on its own: the header, JSON escaping of what a
 * terminal is sent (quotes, backslashes, escape sequences, UTF-8 kept, broken
 * UTF-8 replaced), a character cut between two writes held until it is whole,
 * markers, the virtual clock (one pace per step, pauses), and a file that
 * cannot be written refused with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/cast.h"
#include "tap.h"

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

int main(void)
{
	char path[] = "/tmp/racelab-cast-XXXXXX", err[256], buf[256];
	int fd = mkstemp(path);
	struct cast *c;
	const char *text;

	if (fd < 0) {
		printf("Bail out! mkstemp\n");
		return 1;
	}
	close(fd);

	is_int(cast_json_string("a\"b\\c", 5, buf, sizeof buf), 9, "quotes and backslashes escaped");
	is_str(buf, "\"a\\\"b\\\\c\"", "... as \\\" and \\\\");
	cast_json_string("\x1b[H\r\n\t", 6, buf, sizeof buf);
	is_str(buf, "\"\\u001b[H\\r\\n\\t\"", "control characters: \\u001b, \\r, \\n, \\t");
	cast_json_string("T1 \xe2\x9c\x97 \xc2\xb7", 9, buf, sizeof buf);
	is_str(buf, "\"T1 \xe2\x9c\x97 \xc2\xb7\"", "UTF-8 kept as it is");
	cast_json_string("a\xff" "b\xe2\x9c", 5, buf, sizeof buf);
	is_str(buf, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"",
	       "bytes that are not UTF-8 become U+FFFD: the file stays valid JSON");
	ok(cast_json_string("abcdef", 6, buf, 4) == -1, "a literal that does not fit is refused");

	setenv("SHELL", "/bin/sh", 1);
	setenv("TERM", "xterm-256color", 1);
	unsetenv("SOURCE_DATE_EPOCH");
	c = cast_open(path, 100, 30, "racelab \"x\"", CAST_VIRTUAL, 250000000, err, sizeof err);
	ok(c != NULL, "a virtual-clock recording opens");
	if (!c)
		return done_testing();
	cast_output(c, "hello", 5);
	cast_step(c);
	cast_marker(c, "t1.read");
	cast_output(c, "\xe2\x9c", 2);  /* the first two bytes of ✗ ... */
	cast_output(c, "\x97!", 2);     /* ... and the last, with more */
	cast_step(c);
	cast_pause(c, 500000000);
	cast_output(c, "end\xe2", 4);   /* cut off at the very end */
	is_int(cast_now_ns(c), 1000000000, "virtual clock: two steps of 250 ms and a pause of 500 ms");
	is_int(cast_close(c, err, sizeof err), 0, "the recording closes without an error");
	text = slurp(path);
	is_str(text,
	       "{\"version\": 2, \"width\": 100, \"height\": 30, \"idle_time_limit\": 2.0,"
	       " \"title\": \"racelab \\\"x\\\"\", \"env\": {\"SHELL\": \"/bin/sh\","
	       " \"TERM\": \"xterm-256color\"}}\n"
	       "[0.000000, \"o\", \"hello\"]\n"
	       "[0.250000, \"m\", \"t1.read\"]\n"
	       "[0.250000, \"o\", \"\xe2\x9c\x97\"]\n"
	       "[0.250000, \"o\", \"!\"]\n"
	       "[1.000000, \"o\", \"end\"]\n"
	       "[1.000000, \"o\", \"\xef\xbf\xbd\"]\n",
	       "the file: header without a timestamp, events stamped by the steps, a split"
	       " character joined, a cut-off one replaced at the end");

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	c = cast_open(path, 80, 24, "t", CAST_VIRTUAL, 1, err, sizeof err);
	cast_close(c, err, sizeof err);
	ok(strstr(slurp(path), "\"timestamp\": 1700000000") != NULL,
	   "virtual clock: SOURCE_DATE_EPOCH stands in for the start time");
	unsetenv("SOURCE_DATE_EPOCH");

	c = cast_open(path, 80, 24, "t", CAST_WALL, 1, err, sizeof err);
	cast_step(c);
	cast_pause(c, 5000000000LL);
	ok(cast_now_ns(c) < 1000000000, "wall clock: steps and pauses do not move it");
	cast_close(c, err, sizeof err);
	ok(strstr(slurp(path), "\"timestamp\": ") != NULL, "wall clock: the header has the start time");

	c = cast_open("/nonexistent-dir/x.cast", 80, 24, "t", CAST_WALL, 1, err, sizeof err);
	ok(c == NULL && strstr(err, "cannot write the recording '/nonexistent-dir/x.cast'"),
	   "a file that cannot be created is refused with its name and why: %s", err);
	unlink(path);
	return done_testing();
}
