/*
 * cast.h: a recording of the terminal as an asciicast v2 file (the format of
 * asciinema): one JSON header line, then one JSON array per event, each stamped
 * with the seconds since the recording began:
 *
 *     {"version": 2, "width": 100, "height": 30, "timestamp": 1764648000, ...}
 *     [0.250000, "o", "\u001b[H..."]      what was written to the terminal
 *     [0.250000, "m", "t1.read"]          a marker: a chapter a player can jump to
 *
 * The recorder knows nothing of curses or of the dashboard: it is given bytes
 * (what the terminal was sent) and labels (markers), and stamps them.
 *
 * DESIGN: two clocks.  The wall clock stamps what happened when it happened, with
 * idle gaps longer than CAST_IDLE_MAX_S shortened to that, so a pause to talk
 * does not make a viewer wait.  The virtual clock ignores time altogether: it
 * moves only when the caller says a step was taken (cast_step), by one pace per
 * step, so the same seed and schedule give the same file, byte for byte.
 */
#ifndef RACELAB_CAST_H
#define RACELAB_CAST_H

#include <stddef.h>
#include <stdint.h>

#define CAST_IDLE_MAX_S 2.0     /* longest gap between two events in the file */

enum cast_clock {
	CAST_WALL,              /* timestamps from the monotonic clock */
	CAST_VIRTUAL,           /* timestamps from the steps taken: repeatable */
};

struct cast;

/* Create PATH and write the header: WIDTH x HEIGHT, TITLE.  The environment's
 * SHELL and TERM go into the header, and the wall clock's start time unless the
 * clock is virtual (then SOURCE_DATE_EPOCH, if set, stands in for it).  STEP_NS
 * is the virtual clock's advance per step.  Returns NULL with one line in err. */
struct cast *cast_open(const char *path, int width, int height, const char *title,
                       enum cast_clock clock, int64_t step_ns, char *err, size_t errlen);

/* An "o" event: LEN bytes the terminal was sent.  A UTF-8 character split
 * between two calls is held back until it is whole: the file is valid JSON. */
void cast_output(struct cast *c, const void *data, size_t len);
/* An "m" event with LABEL (a chapter). */
void cast_marker(struct cast *c, const char *label);

/* The virtual clock: one step was taken (the wall clock ignores this). */
void cast_step(struct cast *c);
/* Move the virtual clock on by NS (a pause the viewer should see: the verdict). */
void cast_pause(struct cast *c, int64_t ns);
/* The recording's clock now, in nanoseconds since it began (idle gaps capped). */
int64_t cast_now_ns(struct cast *c);
enum cast_clock cast_clock_kind(const struct cast *c);

/* Finish the file.  Returns 0, or -1 with one line in err if any write failed. */
int cast_close(struct cast *c, char *err, size_t errlen);

/* JSON-escape LEN bytes of valid UTF-8 from S into a string literal (quotes
 * included) in BUF of N bytes; returns the length, or -1 if it does not fit. */
long cast_json_string(const char *s, size_t len, char *buf, size_t n);

#endif
