/* engine_int: what the engine's files share (engine.c: sockets and connects;
 * engine_async.c: dials in the background; engine_fd.c: descriptors; engine_log.c:
 * the decision lines; datagram.c: sends with a destination, and the sends and
 * receives of sockets with a SOCKS5 association). Nothing else includes it.
 *
 * Promise: the same as common/engine.h for each function here.
 */
#ifndef DIALSHIM_ENGINE_INT_H
#define DIALSHIM_ENGINE_INT_H

#include "common/dialer/dialer.h"
#include "common/log.h"

#include <stdbool.h>
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

/* What the shim keeps for number FD, whose fdtab word is V, goes: the dial and
 * epoll records, the SOCKS5 association, the fake-address pin, the DNS answers;
 * the word becomes FD_UNKNOWN. The caller has made sure this is not a vfork
 * child (common/owner.h). close, dup2 onto a number, close_range, a stale word
 * found by socket(), ENOTSOCK. */
void engine_drop(int fd, uint32_t v);

/* After the dial of D (ERR) for the program's FD, which the program connected to
 * SA (LEN bytes) by RULE: the fdtab bits, the pins, the views, the log line.
 * HAD_OPTIONS: D's socket carried MAKER's options before; T0: the dial's start. */
void dial_finish(int fd, uint32_t fst, struct dial *d, const struct sockaddr *sa, socklen_t len,
                 int rule, int err, bool had_options, int maker, const struct timespec *t0);

/* Start D (FST: its socket's fdtab word) in the background: EINPROGRESS (the
 * program is told so) or an errno, logged (nothing started). */
int dial_async(const struct dial *d, uint32_t fst, int rule, int maker, const struct timespec *t0);

/* How long the program waits for a TCP dial of FD that may run in the background
 * (the slow path only: no system call for a socket known to be blocking, fdtab
 * FD_BLOCKING; else one fcntl, whose answer *FL keeps for the dial, -1 when
 * not read; one getsockopt for a blocking socket that may have SO_SNDTIMEO): 0
 * for a non-blocking socket, a blocking one's SO_SNDTIMEO in ms, -1: the dial
 * runs inline (a blocking socket without it, a dial nested in a signal handler). */
long async_wait_ms(int fd, uint32_t fst, int *fl);

/* A TCP send with FLAGS to TO: a MSG_FASTOPEN one on a closed socket is routed
 * like a connect. Returns 0 (send it) or an errno, logged. */
int before_send(int fd, uint32_t fst, int flags, const struct sockaddr *to, socklen_t tolen);

/* -1 with EINVAL and a log line: a destination shorter than the kernel takes. */
int refuse_short(const char *call, int fd, const struct sockaddr *sa, socklen_t len);

#endif
