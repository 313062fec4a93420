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
 * One info-level log line per routed lookup. Thread-safe: nothing is shared
 * between calls but the fake-ip table and the set of lists made here (each with
 * its own lock, never held across I/O). No function here calls a hooked function
 * by name: the real ones come from `sys`.
 */
#ifndef DIALSHIM_NETDB_H
#define DIALSHIM_NETDB_H

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Lists made here are laid out as glibc's (each node and its sockaddr in one
 * malloc block, ai_canonname a block of its own), so either free works on them. */
int netdb_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res);

/* Frees a list made here, or hands it to the real freeaddrinfo. NULL is a no-op. */
void netdb_freeaddrinfo(struct addrinfo *res);

/* Whether RES is the head of a list made here and not yet freed (for tests). */
bool netdb_owns(const struct addrinfo *res);

int netdb_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
                      char *serv, socklen_t servlen, int flags);

/* The non-reentrant forms answer from thread-local storage (glibc's is static,
 * which no threaded program can rely on anyway). */
struct hostent *netdb_gethostbyname(const char *name);
struct hostent *netdb_gethostbyname2(const char *name, int af);
int netdb_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                          struct hostent **result, int *h_errnop);
int netdb_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                           struct hostent **result, int *h_errnop);
struct hostent *netdb_gethostbyaddr(const void *addr, socklen_t len, int type);
int netdb_gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret, char *buf,
                          size_t buflen, struct hostent **result, int *h_errnop);

/* ---- for the lookups that are not getaddrinfo's (common/resq.c) ---- */

/* What the configuration does with a name (or, for netdb_addr_way, an address's
 * reverse lookup): NETDB_OFF no configuration (the real call, untouched),
 * NETDB_DENY a broken one with fail_closed, NETDB_BLOCK a `block` route,
 * NETDB_FAKE mode fake_ip (netdb_lookup answers without a query), NETDB_REAL the
 * route resolves names for real. *REMOTE_DNS: the route's dialer is a proxy that
 * gets names, so no query for the name may leave the host. */
enum netdb_way { NETDB_OFF, NETDB_DENY, NETDB_BLOCK, NETDB_FAKE, NETDB_REAL };
struct conf;
/* The same for the route's DIALER under C, whatever the process's state. */
enum netdb_way netdb_dialer_way(const struct conf *c, int dialer, bool *remote_dns);
enum netdb_way netdb_name_way(const char *name, uint16_t port, bool udp, bool *remote_dns);
enum netdb_way netdb_addr_way(const struct sockaddr *sa, socklen_t len, bool *remote_dns);

/* NAME's addresses of FAMILY (AF_INET or AF_INET6) as getaddrinfo would give
 * them, logged as CALL: 0 and *N >= 1 addresses in OUT (DNS_MAX_ADDRS room, each
 * 4 or 16 bytes), or an EAI code. */
struct dns_addr;
int netdb_lookup(const char *call, const char *name, int family, struct dns_addr *out, size_t *n);

/* Whether getaddrinfo answers NODE without the network (NULL, digits). */
bool netdb_numeric(const char *node, int flags);

/* pthread_atfork handlers for the list set's lock (registered on first use). */
void netdb_atfork_prepare(void);
void netdb_atfork_parent(void);
void netdb_atfork_child(void);

#endif
