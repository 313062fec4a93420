/* dns: blocking name lookups with c-ares 1.18 (dialshim.ini(5) [resolver],
 * NAMES; docs/architecture.md "c-ares").
 *
 * Promise: dns_lookup() answers from, in this order, a numeric name, `localhost`
 * (and names under .localhost), the resolver's hosts file, the cache, and only then
 * a DNS query to the resolver's servers. It never takes longer than
 * timeout x attempts x servers + 250 ms, opens its sockets through `sys` with
 * SOCK_CLOEXEC and the socket options of the resolver's detour (or, through
 * dns_lookup_via, of the dialer whose names they are), and leaves no descriptor
 * or memory behind. Any number of threads may call it at once: each lookup has its
 * own c-ares channel, the cache has one mutex never held across I/O.
 *
 * Order of the answer ("as_is"): numeric and hosts answers in file order; DNS
 * answers to AF_UNSPEC give the A records, then the AAAA records, each in the
 * server's order (c-ares asks both in parallel, so arrival order would be random).
 * The strategy (strategy.h) is the caller's to apply: a dialer may override its
 * resolver's. Duplicates are dropped.
 *
 * Cache: per process, DNS_CACHE_SIZE entries (common/dnscache.h), least recently used evicted,
 * keyed by (conf, resolver, lower-case name, family). A positive answer lives for the smallest TTL
 * among its records and CNAMEs, at most DNS_MAX_TTL; a TTL of 0 is not cached. A negative answer
 * (EAI_NONAME: NXDOMAIN or no records) lives DNS_NEGATIVE_TTL seconds, so a program retrying an
 * unknown name doesn't send a query storm; failures (EAI_AGAIN and the rest) are never cached.
 * Local answers (numeric, localhost, hosts file) are never cached: the file is read each time, as
 * glibc does. Cached answers come back with their TTLs reduced by their age.
 *
 * The parts: the order of the sources and the local answers here, the hosts file
 * in common/hosts.c, the cache in common/dnscache.c, the query in common/cares.c,
 * what they share in common/dnsanswer.c.
 */
#ifndef DIALSHIM_DNS_H
#define DIALSHIM_DNS_H

#include "common/dnsanswer.h"
#include "conf/conf.h"

#include <stddef.h>
#include <stdint.h>

#define DNS_NEGATIVE_TTL 5 /* seconds an EAI_NONAME answer is remembered */

/* Resolve NAME for FAMILY (AF_UNSPEC, AF_INET, AF_INET6) with resolver number
 * RESOLVER of C (index into c->resolvers), or with the built-in default when
 * RESOLVER is -1 (C may then be NULL): servers and search list from
 * /etc/resolv.conf, as_is, 2 s timeout, 2 attempts, /etc/hosts, cache on.
 * A resolver with its own servers queries NAME as given, without the search list.
 *
 * Returns 0 (OUT->n >= 1) or an EAI_* code:
 *   EAI_NONAME     unknown name: NXDOMAIN, no record of the family, an empty or
 *                  malformed name
 *   EAI_AGAIN      timeout, SERVFAIL, REFUSED, no server reachable
 *   EAI_ADDRFAMILY a numeric name of the other family ("::1" with AF_INET), as glibc
 *   EAI_FAMILY     FAMILY is none of the three
 *   EAI_MEMORY     out of memory
 *   EAI_SYSTEM     no DNS socket: socket() failed (EMFILE...) or the kernel refused
 *                  a detour socket option (logged with the option's name); errno
 *                  holds the errno
 *   EAI_FAIL       anything else (a malformed reply, a RESOLVER out of range)
 * errno is preserved unless EAI_SYSTEM is returned. Thread cancellation is held
 * off during the call (it is bounded) so nothing leaks; it acts afterwards. */
int dns_lookup(const struct conf *c, int resolver, const char *name, int family,
               struct dns_answer *out);

/* dns_lookup() for the names of a dialer: the DNS sockets carry the socket options
 * of dialer OPTS of C (conf_dns_dialer; -1: none). When OPTS is not the
 * resolver's own detour, a server on a loopback address gets none of them (it is
 * on this host; binding its socket to an interface would only break it). The
 * cache is shared by all dialers of a resolver. */
int dns_lookup_via(const struct conf *c, int resolver, int opts, const char *name, int family,
                   struct dns_answer *out);

/* Only the answers that need no server: a numeric name, `localhost` and names
 * below it, the resolver's hosts file. Returns 0 (OUT->n >= 1), EAI_ADDRFAMILY
 * as dns_lookup() does, or EAI_NONAME when none of them knows NAME (a DNS query
 * might). For fake_ip mode, where such names still get real addresses. */
int dns_lookup_local(const struct conf *c, int resolver, const char *name, int family,
                     struct dns_answer *out);

/* The settings dns_lookup() uses for RESOLVER: the built-in default for -1,
 * NULL when RESOLVER is out of range. */
const struct conf_resolver *dns_resolver(const struct conf *c, int resolver);

/* "numeric", "localhost", "hosts", "dns", "cache": for logs and `explain`. */
const char *dns_source_name(enum dns_source s);

/* Forget every cached answer. Call it when replacing the configuration: the cache
 * key holds the conf pointer, which a new configuration may reuse. */
void dns_cache_clear(void);

/* pthread_atfork handlers: prepare takes the cache lock, parent releases it,
 * child re-creates it and empties the cache. Lookups in flight in other threads
 * do not exist in the child, and their channels were never shared. */
void dns_atfork_prepare(void);
void dns_atfork_parent(void);
void dns_atfork_child(void);

#endif
