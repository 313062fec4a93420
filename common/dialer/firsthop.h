/* firsthop: the connection to a detour chain's first proxy, on the program's own
 * descriptor (common/dialer/detour.c walks the chain from there).
 *
 * Promise: the socket is made non-blocking only where the connection needs it
 * (dial_nonblocking: D->fl_changed, the detour puts the flags back); a blocking
 * socket is connected as the program would connect it, the watchdog bounding the
 * call (common/watchdog.h), and then its flags are never touched. A proxy's
 * failure (refused, unreachable, no answer) is told apart from ours.
 */
#ifndef DIALSHIM_DIALER_FIRSTHOP_H
#define DIALSHIM_DIALER_FIRSTHOP_H

#include "common/dialer/dialer.h"

#include <stdbool.h>

/* TCP-connect D's socket to the first proxy, dialer FIRST, with MAKER's options,
 * by DEADLINE. An IPv4 socket cannot reach an IPv6 proxy: a scratch socket takes
 * its place. *PROXY_FAULT: the failure is the proxy's. *IN_FLIGHT: the connect
 * goes on (the first hop's first write waits for it). *SLOT: the watchdog's slot
 * when it bounds the blocking calls from here on (>= 0; the caller disarms it),
 * left alone otherwise. 0 or an errno. */
int firsthop_connect(struct dial *d, int maker, int first, long long deadline, bool *proxy_fault,
                     bool *in_flight, int *slot);

/* A new non-blocking TCP socket of FAMILY, of the program's protocol, takes D's
 * descriptor (a socket of OLD_FAMILY); the program's flags go back on it at the
 * end of the dial. 0 or an errno. */
int firsthop_swap(struct dial *d, int family, int old_family);

/* A fresh start on D's socket for a lockstep retry or the next member: the
 * program's socket disconnected (its bound address, options and epoll
 * registrations kept), or a fresh one swapped in. 0 or an errno. */
int firsthop_renew(struct dial *d);

/* The connection to the chain's first proxy (dialer FIRST) failed with ERR: D's
 * reason says so. Returns ERR. */
int firsthop_failed(struct dial *d, int first, int err);

#endif
