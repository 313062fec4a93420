/* monotime: the monotonic clock, in the units deadlines, cache lifetimes and
 * log lines count in.
 *
 * Promise: CLOCK_MONOTONIC only (never jumps with the wall clock); no
 * allocation, no lock; one clock_gettime (vDSO) a call.
 */
#ifndef DIALSHIM_MONOTIME_H
#define DIALSHIM_MONOTIME_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since an arbitrary point. */
int64_t monotime_ms(void);

/* Milliseconds (with fractions) since T0, a CLOCK_MONOTONIC reading. */
double monotime_ms_since(const struct timespec *t0);

#endif
