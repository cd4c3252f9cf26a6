/*
 * fuzz/spec.c: a libFuzzer target for the spec parser (core/spec.c), the parser
 * of the files racelab spec reads.  Any input must either parse or be refused
 * with one line that names a line; the parse must free everything it made
 * (LeakSanitizer) and never read or write out of bounds (AddressSanitizer).
 * Seed corpus: tests/fuzz/corpus/spec/ (racelab's own spec files and a few
 * broken ones).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec sp;
	char err[256] = "";

	if (spec_parse((const char *)data, size, &sp, err, sizeof err) == 0) {
		/* Everything a runner reads must be there. */
		for (int p = 0; p < sp.nperms; p++)
			for (int j = 0; j < sp.perms[p].nsteps; j++)
				if (sp.perms[p].steps[j].step < 0 ||
				    sp.perms[p].steps[j].step >= sp.nsteps)
					abort();
		for (int i = 0; i < sp.nsteps; i++)
			if (!sp.steps[i].name || !sp.steps[i].sql ||
			    sp.steps[i].session >= sp.nsessions)
				abort();
		spec_free(&sp);
	} else if (!err[0] || strchr(err, '\n') || strncmp(err, "line ", 5) != 0) {
		/* Size and interleaving limits are the only refusals without a line. */
		if (!strstr(err, "bytes") && !strstr(err, "ways") && !strstr(err, "memory"))
			abort();
	}
	return 0;
}
