/* netdb: the policy behind the name-lookup hooks (dialshim.ini(5) NAMES).
 *
 * Promise: each function behaves like the glibc call it stands for (return
 * value, errno, h_errno, the layout of what it returns), except that names are
 * resolved the way the configuration says:
 *   - no configuration: the real function, untouched;
 *   - a broken one with fail_closed: EAI_SYSTEM/EACCES (gethostby*: NULL with
 *     h_errno NO_RECOVERY; the _r forms return EACCES);
 *   - numeric hosts, a NULL node and `localhost` go to the real getaddrinfo,
 *     which answers them without any network I/O;
 *   - any other name takes the app's route (name, service port, tcp/udp): a
 *     `block` dialer fails it with EAI_FAIL; otherwise the dialer's resolver and
 *     strategy resolve it with c-ares (mode real) or hand out an address from the
 *     fake range that connect() maps back to the name (mode fake_ip). Names in
 *     the resolver's hosts file get their real addresses in both modes. A fake
 *     table that has no memory or no free address fails the name (EAI_MEMORY,
 *     EAI_AGAIN); a family without a fake range under a remote_dns proxy has no
 *     answer (EAI_NONAME): a name meant for the proxy is never resolved here.
 * The parts: getaddrinfo and getnameinfo here, the route and resolver behind a
 * name in common/lookup.c, glibc's rules for hints and services in
 * common/gairules.c, the lists and freeaddrinfo in common/addrinfo.c,
 * gethostby* in common/hostent.c (both headers included below, for the hooks).
 * One info-level log line per routed lookup. Thread-safe: nothing is shared
 * between calls but the fake-ip table and the set of lists made here (each with
 * its own lock, never held across I/O). No function here calls a hooked function
 * by name: the real ones come from `sys`.
 */
#ifndef DIALSHIM_NETDB_H
#define DIALSHIM_NETDB_H

#include "common/addrinfo.h"
#include "common/hostent.h"

#include <netdb.h>
#include <sys/socket.h>

/* A list made here is freed with netdb_freeaddrinfo (common/addrinfo.h) or glibc's. */
int netdb_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res);

int netdb_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
                      char *serv, socklen_t servlen, int flags);

#endif
