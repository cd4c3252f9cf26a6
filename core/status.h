/*
 * status.h: what every layer says the same way: racelab's version and its exit
 * statuses (DESIGN.md, "Command line"), sysexits.h values where one fits.
 */
#ifndef RACELAB_STATUS_H
#define RACELAB_STATUS_H

#define RACELAB_VERSION "0.1.0"

#define RACELAB_MAX_THREADS 64  /* worker threads per strategy (-t), and schedule threads */

#define EX_ANOMALY 1            /* a safe strategy broke its invariant */
#define EX_USAGE 64             /* bad command line */
#define EX_UNAVAILABLE 69       /* the database cannot be opened, or was lost */
#define EX_SOFTWARE 70          /* internal error */
#define EX_INTERRUPTED 130      /* Ctrl-C, as a shell reports SIGINT */

#endif
