/*
 * lesson.c: lesson files parsed from their text (lesson_parse), edge by edge,
 * including every input the fuzzer (tests/fuzz/lesson.c) found a crash with.
 * Run under make test-asan, an overflow here is a failure, not luck.
 */
#include <stdlib.h>
#include <string.h>

#include "../app/lesson.h"
#include "tap.h"

static int parse(struct lesson *l, const char *text, char *err)
{
	err[0] = '\0';
	return lesson_parse(l, "test.md", text, err, 1024);
}

int main(void)
{
	struct lesson l;
	char err[1024];

	/* Found by the fuzzer: a last line without a newline got one back, one byte
	 * past the buffer sized for the text. */
	is_int(parse(&l, "2", err), 0, "a one-line lesson without a final newline parses");
	is_str(l.before, "2\n", "its text gets its newline back, within the buffer");
	lesson_free(&l);
	is_int(parse(&l, "# Lesson 3: Title\n<!-- run -->\nafter", err), 0,
	       "a lesson whose text after the run marker has no final newline parses");
	is_str(l.after, "after\n", "the text after the marker, newline restored");
	is_str(l.title, "Title", "the title loses its 'Lesson N:'");
	lesson_free(&l);
	is_int(parse(&l, "", err), 0, "an empty lesson parses");
	is_str(l.before, "", "and has no text");
	lesson_free(&l);

	is_int(parse(&l, "<!-- racelab: product -s \"naive\" a\\ b -->\n", err), 0,
	       "a demo line with quotes and an escaped blank parses");
	is_int(l.argc, 4, "into four words");
	is_str(l.argv[3], "a b", "the escaped blank stays in its word");
	lesson_free(&l);
	is_int(parse(&l, "<!-- racelab: \"unclosed -->\n", err), 70,
	       "an unclosed quote in the demo line is refused");
	ok(strstr(err, "test.md") && strstr(err, "unclosed quote"), "naming the file and why");
	is_int(parse(&l, "<!-- racelab: a -->\n<!-- racelab: b -->\n", err), 70,
	       "a second demo line is refused");
	ok(strstr(err, "test.md:2") != NULL, "naming the file and line");
	return done_testing();
}
