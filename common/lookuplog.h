/* lookuplog: the one log line of a routed name lookup.
 *
 * Promise: lookup_log() writes one info-level line (program, pid, call, name,
 * app, rule, dialer, resolver, mode, strategy, result with at most LOG_ADDRS
 * addresses, time since T0) and nothing when info is off; errno is kept.
 */
#ifndef DIALSHIM_LOOKUPLOG_H
#define DIALSHIM_LOOKUPLOG_H

#include "common/lookup.h"

#include <time.h>

/* "ok", "EAI_NONAME"...: the name of getaddrinfo's return code RC. */
const char *lookup_eai_name(int rc);

void lookup_log(const struct query *q, const struct answer *a, int rc, const struct timespec *t0);

#endif
