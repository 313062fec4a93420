/* dnsaddr: one resolved address, as the resolver, the strategy, the fake table
 * and the dialers pass it around.
 *
 * Promise: a plain value (no pointers); the function is pure: no allocation, no
 * lock, no system call.
 */
#ifndef DIALSHIM_DNSADDR_H
#define DIALSHIM_DNSADDR_H

#include <stdint.h>
#include <sys/socket.h>

struct dns_addr {
    int family;        /* AF_INET or AF_INET6 */
    uint8_t addr[16];  /* network order; AF_INET uses the first 4 bytes */
    uint32_t scope_id; /* AF_INET6 link-local scope ("fe80::1%eth0"), else 0 */
    uint32_t ttl;      /* seconds the resolver allows it to be cached; 0 = don't */
};

/* A's sockaddr_in or sockaddr_in6 with PORT (host order) at SA, which has room
 * for that one (a sockaddr_storage always does); its other bytes zero. Returns
 * its length. */
socklen_t dns_addr_to_sockaddr(const struct dns_addr *a, uint16_t port, void *sa);

#endif
