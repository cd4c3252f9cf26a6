/*
 * speccmd.h: the commands that run spec files: racelab spec FILE.spec (a
 * PostgreSQL isolation-tester spec, printed as the tester prints it) and racelab
 * matrix (Hermitage's anomalies under every isolation level, from the spec files
 * in specs/matrix/).
 */
#ifndef RACELAB_SPECCMD_H
#define RACELAB_SPECCMD_H

#include "cli.h"

/* Each returns racelab's exit status. */
int speccmd_spec(const struct cli *cli);
int speccmd_matrix(const struct cli *cli);

/* Where the matrix's spec files are: RACELAB_SPECS, else specs/ beside the
 * build tree or the installed share/racelab/specs.  0, or -1 with err. */
int speccmd_dir(char *buf, size_t n, char *err, size_t errlen);

#endif
