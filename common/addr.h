/* addr: small helpers over socket addresses.
 *
 * Promise: pure functions; no allocation, no system call. */
#ifndef DIALSHIM_ADDR_H
#define DIALSHIM_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_STRLEN 64 /* "[ffff:...:ffff]:65535" with room to spare */

/* "192.0.2.1:80" or "[2001:db8::1]:80"; "?" for other families. Returns BUF. */
char *addr_format(const struct sockaddr *sa, char *buf, size_t cap);

/* The port in host order (0 for other families). */
uint16_t addr_port(const struct sockaddr *sa);

/* AF_INET or AF_INET6 with a length the kernel takes (addr_min_len). */
bool addr_is_inet(const struct sockaddr *sa, socklen_t len);

/* The shortest destination of FAMILY the kernel takes: 16 for AF_INET, 24 for
 * AF_INET6 (RFC 2133's sockaddr_in6, without sin6_scope_id); 0 for others. */
socklen_t addr_min_len(int family);

/* SA (LEN bytes) read as a destination of FAMILY (AF_INET or AF_INET6), whatever
 * its own sa_family says (the kernel reads an AF_UNSPEC destination of an IPv4
 * datagram socket as AF_INET). SA itself when it has that family and the full
 * size, else a copy in BUF with the family set and what LEN leaves out (a 24-byte
 * AF_INET6's scope) zero; *OUTLEN gets the length to hand on. NULL when LEN is
 * shorter than the kernel takes (it answers EINVAL). */
const struct sockaddr *addr_read(const struct sockaddr *sa, socklen_t len, int family,
                                 struct sockaddr_in6 *buf, socklen_t *outlen);

#endif
