/* family: sockets whose address family the shim changed under the program.
 *
 * A program that made an IPv4 socket and connected it to a fake address can be
 * handed an IPv6 connection: Happy Eyeballs found only the name's IPv6 address
 * alive, or the proxy is reached over IPv6, and the winning socket was dup3'd over
 * the program's descriptor. The program still holds sockaddr_in buffers and
 * believes in the address it connected to; the kernel would now write 28-byte
 * IPv6 addresses into them, truncated. For such descriptors getpeername(2)
 * answers with the IPv4 address the program connected to and getsockname(2) with
 * 0.0.0.0 and the real local port (the local IPv6 address has no IPv4 form).
 *
 * Promise: lock-free and fork-safe; memory is taken in the slow path that
 * changes a family (chunks of 1024 descriptors, kept for the process's life),
 * never by the lookups. fdtab's FD_FAMILY bit says whether a descriptor is one.
 */
#ifndef DIALSHIM_FAMILY_H
#define DIALSHIM_FAMILY_H

#include <stdbool.h>
#include <sys/socket.h>

/* FD, an IPv4 socket connected to PEER (a sockaddr_in), is now IPv6: remember
 * PEER and set FD_FAMILY. False (nothing recorded) without memory. */
bool family_keep(int fd, const struct sockaddr *peer);

/* NEWFD is a copy of OLDFD (dup and friends): the same answers. */
void family_dup(int oldfd, int newfd);

/* The IPv4 view of FD for getpeername/getsockname: 0, or -1 with errno. */
int family_peer(int fd, struct sockaddr *sa, socklen_t *len);
int family_local(int fd, struct sockaddr *sa, socklen_t *len);

#endif
