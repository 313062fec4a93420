/* dnswire: a program's own DNS on the wire (its resolver's, dig's, a browser's
 * UDP to port 53, and DNS over TCP to port 53) answered in the process under
 * fake_ip routes (dns_hijack).
 *
 * Promise: a query whose name's route is fake_ip (remote_dns included) never
 * leaves the host and opens no UDP association: the datagram is re-pointed at a
 * responder socket the shim owns on loopback (127.0.0.1, or ::1 for IPv6
 * sockets; close-on-exec, at a high number, one per process: a child of fork
 * makes its own), and answered from there with common/dnsresp.h's answer
 * before the send returns (the fake addresses, PTR of a fake address, other
 * types empty NOERROR; a `block` route REFUSED). The program sees the answer
 * come from the server it asked: the source address of its receives and its
 * getpeername are rewritten.
 *   - a connect of a UDP socket to port 53 is pointed at the responder when the
 *     app's own route (the route of no name) is fake_ip; every query on it is
 *     then answered here (names whose route resolves for real get REFUSED, and a
 *     log line);
 *   - a datagram with a destination on port 53 is answered here when its
 *     question's route is fake_ip, and goes its usual way otherwise;
 *   - a connect of a TCP socket to port 53, under the same rule as a UDP one, is
 *     pointed at a stream responder the shim owns on loopback (dnswire_tcp.c):
 *     no connection leaves the host; each query (after its 2-byte length) is
 *     answered as a connected datagram is, by the program's own sends and
 *     receives on the socket (no thread); blocking and non-blocking sockets
 *     (EINPROGRESS, then writable) alike;
 *   - sockets so handled carry fdtab FD_DNS (their sends, receives and
 *     getpeername reach the engine); closing forgets them.
 * Off (everything goes its usual way) without fake addresses or with
 * `dns_hijack = false`. Refusals and answers are logged (info).
 */
#ifndef DIALSHIM_DNSWIRE_H
#define DIALSHIM_DNSWIRE_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

/* True when the process answers port-53 datagrams at all. */
bool dnswire_on(void);

/* connect(FD, SA) of a UDP socket, or a TCP one (TCP): true when taken here
 * (pointed at the responder; *ERR 0, EINPROGRESS for a non-blocking TCP socket,
 * or the errno to fail with). */
bool dnswire_connect(int fd, const struct sockaddr *sa, socklen_t len, bool tcp, int *err);

/* A datagram MSG to a destination on port 53 (msg_name set): -2 when it is not
 * answered here (route it as usual), else what sendmsg returns. */
ssize_t dnswire_sendto(int fd, const struct msghdr *msg, int flags);

/* A datagram without a destination on an FD_DNS socket. */
ssize_t dnswire_send(int fd, const struct msghdr *msg, int flags);

/* recvmsg on an FD_DNS socket: the kernel's, with the responder's address
 * rewritten to the server the program asked. */
ssize_t dnswire_recv(int fd, struct msghdr *msg, int flags);

/* getpeername of an FD_DNS socket: the server it connected to. False when FD has
 * none recorded. */
bool dnswire_peer(int fd, struct sockaddr *sa, socklen_t *len);

void dnswire_forget(int fd);

#endif
