/* dnswire_int: what the two files of the port-53 responder share (dnswire.c:
 * datagrams, the peers, the answers; dnswire_tcp.c: DNS over TCP). Nothing else
 * includes it.
 *
 * Promise: the same as common/dnswire.h for each function here.
 */
#ifndef DIALSHIM_DNSWIRE_INT_H
#define DIALSHIM_DNSWIRE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The answer to query Q (N bytes) of a socket whose every query is answered here
 * (a name whose route resolves for real: REFUSED; no query: FORMERR), into A (CAP
 * bytes): its length, or <= 0 when none can be made. */
int dnswire_answer(const uint8_t *q, size_t n, uint8_t *a, size_t cap);

/* FD's queries are answered here; getpeername gives SA (the server it asked). */
void dnswire_remember(int fd, const struct sockaddr *sa, socklen_t len);

/* connect(FD, SA) of a TCP socket to port 53 whose queries are answered here:
 * FD is connected to the process's stream responder on loopback instead. Always
 * true; *ERR 0, EINPROGRESS (a non-blocking socket) or the errno to fail with. */
bool dnswire_tcp_connect(int fd, const struct sockaddr *sa, socklen_t len, int *err);

/* Every complete query waiting on the stream responder's connections answered;
 * WAIT: give loopback a moment when nothing was there (after a send). */
void dnswire_tcp_pump(bool wait);

#endif
