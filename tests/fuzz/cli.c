/*
 * fuzz/cli.c: libFuzzer target for the command line (cli_parse in app/cli.c).
 *
 * The input is argv[1..]: words separated by NUL bytes (a trailing NUL ends the
 * last word), so any byte but NUL can be in a word, as from a shell.  Besides
 * crashes and sanitizer reports, it checks cli_parse's contract: 0 with a
 * coherent struct cli, or 64 with exactly one non-empty line in err.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../app/cli.h"

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_WORDS + 2], err[256];
	struct cli c;
	int argc = 1, rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "racelab";
	for (size_t i = 0; i < size && argc <= MAX_WORDS; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	err[0] = '\0';
	rc = cli_parse(argc, argv, &c, err, sizeof err);
	if (rc == 0) {
		if (c.action == ACT_RUN && (c.threads < 1 || c.threads > 64 || c.nstrategies < 1 ||
		                            c.nstrategies > SCN_STRATEGIES || !c.scenario || !c.db ||
		                            c.ops < 0))
			abort();
	} else if (rc != EX_USAGE || !err[0] || strlen(err) >= sizeof err) {
		abort();
	}
	free(buf);
	return 0;
}
