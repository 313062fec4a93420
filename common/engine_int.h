/* engine_int: what the engine's two files share (engine.c: sockets, connects,
 * descriptors; datagram.c: sends with a destination, and the sends and receives
 * of sockets with a SOCKS5 association). Nothing else includes it.
 *
 * Promise: the same as common/engine.h for each function here.
 */
#ifndef DIALSHIM_ENGINE_INT_H
#define DIALSHIM_ENGINE_INT_H

#include "common/dialer/dialer.h"
#include "common/log.h"

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* The socket's fdtab word with its kind: from the table when our socket() made
 * it, else from the kernel (not inet: FD_OTHER | FD_FOREIGN). */
uint32_t fd_state(int fd);

/* One line per decision: program, pid, destination, app, rule, chain, result, time.
 * The level test is inline: most connects log nothing, and the line's work (and
 * its stack) stays out of the fast path. */
void log_decision_line(enum log_level l, const struct dial *d, int rule, int err,
                       const struct timespec *t0);

static inline void log_decision(enum log_level l, const struct dial *d, int rule, int err,
                                const struct timespec *t0)
{
    if (log_enabled(l))
        log_decision_line(l, d, rule, err, t0);
}

/* Before dialer D->dialer takes D->fd: D->applied as the socket's options stand,
 * *MAKER the dialer whose options it will carry (-1: none). Returns 0, or an
 * errno (EACCES for TCP, EPERM for datagrams) with D->why set when the socket
 * carries another dialer's options that the new one's cannot replace. */
int options_ready(struct dial *d, uint32_t fst, int *maker);

/* A TCP send with FLAGS to TO: a MSG_FASTOPEN one on a closed socket is routed
 * like a connect. Returns 0 (send it) or an errno, logged. */
int before_send(int fd, uint32_t fst, int flags, const struct sockaddr *to, socklen_t tolen);

/* -1 with EINVAL and a log line: a destination shorter than the kernel takes. */
int refuse_short(const char *call, int fd, const struct sockaddr *sa, socklen_t len);

#endif
