/* addr: small helpers over socket addresses.
 *
 * Promise: pure functions; no allocation, no system call. */
#ifndef DIALSHIM_ADDR_H
#define DIALSHIM_ADDR_H

#include <netinet/in.h>
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

/* The length of an inet sockaddr of FAMILY: sockaddr_in's for AF_INET, else
 * sockaddr_in6's. */
socklen_t addr_len(int family);

/* Any inet address as IPv6 (IPv4 mapped) in *A and its port (network order) in
 * *PORT, for comparing. False for other families. */
bool addr_as6(const struct sockaddr *sa, struct in6_addr *a, uint16_t *port);

/* X and Y name the same inet address (IPv4 and its mapped form alike), and with
 * WITH_PORT the same port. */
bool addr_same(const struct sockaddr *x, const struct sockaddr *y, bool with_port);

/* SA as a socket of FAMILY carries it: IPv4 in an IPv6 socket goes mapped, a
 * mapped address in an IPv4 socket goes plain; *OUT zeroed first, *LEN its
 * length. False when it cannot. */
bool addr_in_family(const struct sockaddr *sa, int family, struct sockaddr_storage *out,
                    socklen_t *len);

/* Set the port (host order) of the inet address SS. */
void addr_set_port(struct sockaddr_storage *ss, uint16_t port);

#endif
