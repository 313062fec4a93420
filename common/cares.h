/* cares: one DNS query with c-ares 1.18 (docs/architecture.md "c-ares").
 *
 * Promise: cares_query() asks the resolver's servers (or resolv.conf's) for NAME
 * and returns within timeout x attempts x servers + DNS_SLACK_MS. Its sockets
 * are opened through `sys` with SOCK_CLOEXEC, SOCK_NONBLOCK and the socket
 * options of the resolver's detour or of the dialer whose names it resolves, and closed before it
 * returns; its channel is its own, so any number of threads may query at once. c-ares reads no
 * hosts file (that is common/hosts.c's) and sorts nothing: A records first, then AAAA, each in the
 * server's order, each family keeping at least half of DNS_MAX_ADDRS. It takes
 * more than 5 KiB of stack: the caller runs it on a big stack (common/bigstack.h).
 */
#ifndef DIALSHIM_CARES_H
#define DIALSHIM_CARES_H

#include "common/dnsanswer.h"
#include "conf/conf.h"

#include <stdbool.h>

/* Beyond timeout x attempts x servers: room for the last reply to arrive and be
 * parsed, small enough that a caller's own timeout rarely fires first. */
#define DNS_SLACK_MS 250

/* Whether c-ares is initialised (once per process) and the sys table is filled. */
bool cares_ready(void);

/* 0 (OUT->n >= 1) or an EAI code as dns_lookup() documents them. *CACHEABLE:
 * the answer is complete (not cut short by the deadline). */
/* OPTS: the dialer of C whose socket options the DNS sockets carry (-1: none);
 * unless it is R's own detour, a loopback server's socket gets none of them. */
int cares_query(const struct conf *c, const struct conf_resolver *r, int opts, const char *name,
                int family, struct dns_answer *out, bool *cacheable);

#endif
