/* relay_int: what the relay's files share (relay.c: the table, the associations'
 * lifetime; relay_peer.c: the connected and recent peers; relayio.c: liveness, sending,
 * receiving). Nothing else includes it.
 *
 * Promise: the same as common/relay.h for each function here.
 */
#ifndef DIALSHIM_RELAY_INT_H
#define DIALSHIM_RELAY_INT_H

#include "common/relay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define RELAY_RECENT 8 /* destinations remembered to name the source of replies */

/* One destination the program sent to, as it named it. */
struct peer {
    char host[256];             /* a name the proxy resolves, or "" */
    struct sockaddr_storage ip; /* the address when host is "" */
    uint16_t port;
    struct sockaddr_storage view; /* what the program called it */
    socklen_t view_len;
};

struct assoc {
    struct relay_chain c; /* first: relay_chain_new hands out its address */
    int fd;               /* the program's socket as first numbered, for logs */
    int refs; /* under the table's lock: one per slot holding it and one per call inside */
    int fds;  /* under the table's lock: the slots holding it (dup shares the socket) */
    int dead; /* atomic: 0, or the errno that ended a control connection */
    /* atomic: 1 once the chain is open (its fields are set before, then never
     * change); 0 for an association a connect recorded, opened by the first
     * datagram (relay_open_begin) */
    int opened;
    pthread_mutex_t open_lock; /* held by the one thread opening the chain in place */
    pthread_mutex_t lock;      /* peer, connected, recent */
    bool connected;
    struct peer peer;
    struct peer recent[RELAY_RECENT];
    int next_recent;
    unsigned long long out, in, dropped; /* atomic counters, for the closing log line */
};

/* FD's association with a reference the caller puts, or NULL. Not nested. */
struct assoc *relay_get(int fd);
void relay_put(struct assoc *a);

/* Whether A's chain is open (its fields set, then never changed): no lock. */
static inline bool relay_is_open(const struct assoc *a)
{
    return __atomic_load_n(&a->opened, __ATOMIC_ACQUIRE) != 0;
}

/* Nested: FD's association is let go of without a lock; the descriptor is a plain
 * UDP socket from now on (a later datagram is routed afresh). */
void relay_let_go(int fd);

/* P names T's destination (and what the program calls it). */
void relay_set_peer(struct peer *p, const struct relay_target *t);

/* Remember where the program sends (A's recent peers), to name the source of the
 * replies. */
void relay_remember(struct assoc *a, const struct relay_target *t);

/* -1 with ERR and a log line: WHAT was asked inside another call of the thread. */
int relay_nested_refusal(const char *prog, int fd, const char *what, int err);

#endif
