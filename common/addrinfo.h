/* addrinfo: the getaddrinfo lists made here, and freeaddrinfo for them and for
 * glibc's.
 *
 * Promise: a list made here is laid out as glibc lays out its own (each node and
 * its sockaddr in one malloc block, ai_canonname a block of its own, the nodes
 * address-major: each address once per (socktype, protocol, port) tuple), so a
 * program may hand it to either free. netdb_freeaddrinfo frees a list made here
 * itself and hands every other to the real freeaddrinfo.
 *
 * Why a set of our lists' heads, when glibc's freeaddrinfo would free them too:
 * that works only while glibc's private layout stays what 2.36's is; with the set
 * each allocator frees only what it made, and the layout match is no more than a
 * safety net for a list freed past the hook. The set is exact (open addressing
 * keyed by the head's address, so nothing of a list is read to tell whose it is),
 * costs one short-held lock per getaddrinfo and freeaddrinfo. Thread-safe; fork-safe (its atfork
 * handlers are registered on first use).
 */
#ifndef DIALSHIM_ADDRINFO_H
#define DIALSHIM_ADDRINFO_H

#include "common/dnsaddr.h"

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One socket type a lookup yields: what getaddrinfo puts in each node besides
 * the address. */
struct gai_tuple {
    int socktype;
    int protocol;
    uint16_t port; /* network order */
};

/* The list of ADDRS[0..N) times T[0..NT) (address-major), ai_flags FLAGS, and
 * CANON as ai_canonname when FLAGS has AI_CANONNAME, into *RES. 0, EAI_NONAME
 * (an empty list) or EAI_MEMORY. */
int addrinfo_build(const struct dns_addr *addrs, size_t n, const char *canon,
                   const struct gai_tuple *t, int nt, int flags, struct addrinfo **res);

/* Frees a list made here, or hands it to the real freeaddrinfo. NULL is a no-op. */
void netdb_freeaddrinfo(struct addrinfo *res);

/* pthread_atfork handlers for the list set's lock (registered on first use). */
void netdb_atfork_prepare(void);
void netdb_atfork_parent(void);
void netdb_atfork_child(void);

#endif
