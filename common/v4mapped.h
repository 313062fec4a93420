/* v4mapped: IPv4 addresses as IPv6 ones (::ffff:a.b.c.d, RFC 4291 2.5.5.2), the
 * form an AF_INET6 socket or an AI_V4MAPPED lookup takes IPv4 in.
 *
 * Promise: pure functions; no allocation, no lock, no system call.
 */
#ifndef DIALSHIM_V4MAPPED_H
#define DIALSHIM_V4MAPPED_H

#include <netinet/in.h>
#include <stdint.h>

/* ::ffff:V4 (V4: 4 bytes, network order) in the 16 bytes at OUT. OUT may start
 * where V4 does (a dns_addr mapped in place). */
void v4mapped(void *out, const void *v4);

/* The AF_INET6 destination ::ffff:V4 with PORT (network order), every other
 * byte of OUT zero. */
void v4mapped_sockaddr(struct sockaddr_in6 *out, const void *v4, uint16_t port);

#endif
