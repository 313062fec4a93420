/* unseen: calls that send what no hook sees (a ring's connects, libc's own
 * connects and lookups inside rcmd(3) and friends).
 *
 * Promise: shim_unseen_refused() returns false when CALL may go ahead (no
 * configuration, or one whose every destination for the app goes direct with no
 * option to set), else sets errno to ERR, logs one line naming CALL and returns
 * true. A broken configuration under fail_closed refuses too.
 */
#ifndef DIALSHIM_SHIM_UNSEEN_H
#define DIALSHIM_SHIM_UNSEEN_H

#include <stdbool.h>

bool shim_unseen_refused(const char *call, int err);

#endif
