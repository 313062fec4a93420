/* lookup: one routed name lookup: the route for the name, then its dialer's
 * resolver in its mode (real or fake_ip) and strategy; and what the other
 * lookups (common/resq.c) need to know of a route.
 *
 * Promise: lookup_resolve() answers `localhost` and the names below it with
 * loopback, whatever the route; any other name takes the app's route: a `block`
 * dialer fails it with EAI_FAIL; mode real resolves it (dns_lookup, then the
 * strategy, then the query's family and AI_V4MAPPED/AI_ALL); mode fake_ip gives
 * the hosts file's real addresses or the fake range's (a full or memoryless fake
 * table: EAI_AGAIN, EAI_MEMORY; no range for a family under a remote_dns proxy:
 * EAI_NONAME; no range at all otherwise: resolved for real). One info-level log
 * line per routed lookup (program, pid, call, name, app, rule, dialer, resolver,
 * mode, strategy, result, time); errno is kept. A reverse lookup of a real
 * address whose route's proxy gets names has no PTR query (lookup_no_ptr).
 * Nothing is shared between calls but the fake table and the DNS cache, each
 * with its own lock.
 */
#ifndef DIALSHIM_LOOKUP_H
#define DIALSHIM_LOOKUP_H

#include "common/dns.h"
#include "common/route.h"
#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One routed lookup: what was asked. */
struct query {
    const char *call; /* for the log */
    const char *name;
    int family;    /* AF_UNSPEC, AF_INET, AF_INET6 */
    bool v4mapped; /* AF_INET6 that takes IPv4 as ::ffff:a.b.c.d */
    bool all;      /* with v4mapped: IPv6 and mapped IPv4 both */
    uint16_t port; /* host order, for the route */
    enum net_kind net;
    bool as_app; /* route by APP's rules, not the process's (the supervisor answers */
    int app;     /* for many programs, each with its own [app]) */
};

/* ... and what it decided and found. */
struct answer {
    size_t n;
    struct dns_addr addrs[DNS_MAX_ADDRS];
    char canon[DNS_NAME_MAX];
    int dialer, rule, resolver;
    enum resolver_mode mode;
    enum strategy strategy;
    const char *source; /* "dns", "hosts", "cache", "fake"... */
    const char *why;    /* a reason for the log, or NULL */
    bool blocked;       /* the route chose a `block` dialer */
};

/* The route for Q's name, then its dialer's resolver in its mode. Returns 0
 * (OUT->n >= 1) or an EAI_* code; logs one line either way. */
int lookup_resolve(const struct query *q, struct answer *out);

/* What the configuration does with a name (or, for netdb_addr_way, an address's
 * reverse lookup): NETDB_OFF no configuration (the real call, untouched),
 * NETDB_DENY a broken one with fail_closed, NETDB_BLOCK a `block` route,
 * NETDB_FAKE mode fake_ip (netdb_lookup answers without a query), NETDB_REAL the
 * route resolves names for real. *REMOTE_DNS: the route's dialer is a proxy that
 * gets names, so no query for the name may leave the host. */
enum netdb_way { NETDB_OFF, NETDB_DENY, NETDB_BLOCK, NETDB_FAKE, NETDB_REAL };
/* The same for the route's DIALER under C, whatever the process's state. */
enum netdb_way netdb_dialer_way(const struct conf *c, int dialer, bool *remote_dns);
enum netdb_way netdb_name_way(const char *name, uint16_t port, bool udp, bool *remote_dns);
enum netdb_way netdb_addr_way(const struct sockaddr *sa, socklen_t len, bool *remote_dns);

/* NAME's addresses of FAMILY (AF_INET or AF_INET6) as getaddrinfo would give
 * them, logged as CALL: 0 and *N >= 1 addresses in OUT (DNS_MAX_ADDRS room, each
 * 4 or 16 bytes), or an EAI code. */
int netdb_lookup(const char *call, const char *name, int family, struct dns_addr *out, size_t *n);
/* The same under APP's routes (an index into conf->apps, or APP_BUILTIN). */
int netdb_lookup_app(const char *call, const char *name, int family, int app, struct dns_addr *out,
                     size_t *n);
/* netdb_lookup_app with room for CAP addresses only (the first CAP): what a DNS
 * responder's lookup callback (common/dnsresp.h) does. */
int netdb_lookup_capped(const char *call, const char *name, int family, int app,
                        struct dns_addr *out, size_t cap, size_t *n);

/* Whether a reverse lookup of SA (LEN bytes) must stay here: the route's proxy
 * gets names, so a PTR query would tell the local resolver what the proxy hides
 * (the caller answers in digits, or with no name). Logged with CALL. */
bool lookup_no_ptr(const char *call, const struct sockaddr *sa, socklen_t len);
/* The same for gethostbyaddr's arguments (ADDR of LEN bytes, family TYPE). */
bool lookup_no_ptr_addr(const char *call, const void *addr, socklen_t len, int type);

#endif
