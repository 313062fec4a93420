/* dnscache: the per-process cache of DNS answers (common/dns.h "Cache").
 *
 * Promise: DNS_CACHE_SIZE entries, least recently used evicted, keyed by (conf,
 * resolver, lower-case name, family); an entry lives TTL seconds from its put
 * and comes back with its TTLs reduced by its age. The table is allocated by the
 * first answer put (no memory: nothing is kept, lookups still work). One mutex,
 * never held across I/O; fork-safe through the dnscache_atfork_* handlers (the
 * child's cache starts empty).
 */
#ifndef DIALSHIM_DNSCACHE_H
#define DIALSHIM_DNSCACHE_H

#include "common/dnsanswer.h"
#include "conf/conf.h"

#include <stdbool.h>
#include <stdint.h>

#define DNS_CACHE_SIZE 256 /* entries */

struct cache_key {
    const struct conf *conf;
    int resolver;
    int family;
    uint32_t hash;
    char name[DNS_NAME_MAX]; /* lower case */
};

/* The key of NAME for FAMILY under RESOLVER of C (the built-in resolver, -1,
 * is one for every configuration). */
void dnscache_key_make(struct cache_key *k, const struct conf *c, int resolver, const char *name,
                       int family);

/* A hit copies the answer, with TTLs reduced to what is left, and its rc. */
bool dnscache_get(const struct cache_key *k, struct dns_answer *out, int *rc);

/* Keeps ANS and its RC for TTL seconds (0: not at all). */
void dnscache_put(const struct cache_key *k, int rc, const struct dns_answer *ans, uint32_t ttl);

/* Forgets every entry. */
void dnscache_clear(void);

void dnscache_atfork_prepare(void);
void dnscache_atfork_parent(void);
void dnscache_atfork_child(void);

#endif
