/*
 * fuzz/lesson.c: libFuzzer target for the lesson files (lesson_parse in
 * app/lesson.c): the whole input is a lesson file's text.  What racelab does
 * with a loaded lesson's text runs too: the dashboard's caption and the demo's
 * command line.  Kept thin on purpose, so it follows the lesson format as it
 * changes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../app/lesson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lesson l;
	char *text = malloc(size + 1), err[1024], caption[1024];
	char *extra[] = { "--no-ui" };
	char **argv;
	int argc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lesson_parse(&l, "fuzz.md", text, err, sizeof err) == 0) {
		lesson_caption(&l, caption, sizeof caption);
		if ((argv = lesson_argv(&l, 1, extra, &argc))) {
			if (argv[argc] != NULL)
				abort();
			free(argv);
		}
		lesson_free(&l);
	}
	free(text);
	return 0;
}
