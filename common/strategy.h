/* strategy: which resolved addresses a program gets, and in what order
 * (dialshim.ini(5) strategy; docs/architecture.md "Happy Eyeballs").
 *
 * Promise: pure functions over caller-owned arrays. They allocate nothing, take no
 * lock and keep the resolver's order within each family (stable), so the same
 * input always gives the same output.
 */
#ifndef DIALSHIM_STRATEGY_H
#define DIALSHIM_STRATEGY_H

#include "common/dnsaddr.h"
#include "conf/conf.h"

#include <stddef.h>
#include <stdint.h>

/* Filter and order IN[0..N) per S into OUT (room for CAP); returns the number
 * written. ipv4_only/ipv6_only drop the other family, prefer_ipv4/prefer_ipv6
 * move that family first, as_is copies. S must not be STRATEGY_UNSET (treated
 * as as_is). OUT must not overlap IN. */
size_t strategy_apply(enum strategy s, const struct dns_addr *in, size_t n, struct dns_addr *out,
                      size_t cap);

/* The Happy Eyeballs attempt order (RFC 8305 section 4, First Address Family
 * Count 1): the filtered list with families interleaved, starting with the
 * preferred family (as_is: the family of the first address). Same contract as
 * strategy_apply(). prefer_ipv6 [6a,6b,4a,4b] gives [6a,4a,6b,4b]. */
size_t strategy_happy_eyeballs(enum strategy s, const struct dns_addr *in, size_t n,
                               struct dns_addr *out, size_t cap);

/* The family worth asking the resolver for when a program asks for FAMILY
 * (AF_UNSPEC, AF_INET, AF_INET6) under S: ipv4_only turns AF_UNSPEC into
 * AF_INET, so no AAAA query is sent for nothing. -1 when S rules out every
 * address the program could accept (ipv6_only and AF_INET). */
int strategy_query_family(enum strategy s, int family);

#endif
