/* engine: the policy behind every hook. The shim hands each intercepted call
 * here with its arguments; the engine decides (app, route, dialer), dials, logs
 * one line per decision, and answers the way the call's man page says.
 *
 * Promise: each function behaves exactly like the libc call it stands for
 * (return value and errno); on the direct path to a literal address it adds no
 * allocation, no lock and no system call beyond the options the dialer sets.
 * Must be entered with state_load() done.
 */
#ifndef DIALSHIM_ENGINE_H
#define DIALSHIM_ENGINE_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

int engine_socket(int domain, int type, int protocol);
int engine_connect(int fd, const struct sockaddr *sa, socklen_t len);
ssize_t engine_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                      socklen_t tolen);
ssize_t engine_sendmsg(int fd, const struct msghdr *msg, int flags);
int engine_close(int fd);

/* A socket with a SOCKS5 association (fdtab FD_ASSOC, common/relay.h): a send
 * without a destination (send, write, sendto/sendmsg with none) and every receive. */
ssize_t engine_send_assoc(int fd, const struct msghdr *msg, int flags);
ssize_t engine_recv_assoc(int fd, struct msghdr *msg, int flags);

/* getpeername(2) of a socket with an association: its peer, not the relay; of a
 * socket made IPv6 under the program (fdtab FD_FAMILY): the IPv4 address it
 * connected to. getsockname(2) of the latter: 0.0.0.0 and the local port. */
int engine_getpeername(int fd, struct sockaddr *sa, socklen_t *len);
int engine_getsockname(int fd, struct sockaddr *sa, socklen_t *len);

/* getsockopt(2) of a socket with a background dial (fdtab FD_PENDING or
 * FD_DIALED): SO_ERROR gives EINPROGRESS while it runs and its errno once after
 * (common/pending.h); everything else is the kernel's. */
int engine_getsockopt(int fd, int level, int name, void *val, socklen_t *len);

/* shutdown(2): a socket whose dial runs in the background abandons it first. */
int engine_shutdown(int fd, int how);

/* How many dials run in the background (a relaxed load), whether a wait's set
 * holds one of their sockets; poll/ppoll (TIMEOUT NULL: forever) and select/pselect when a
 * descriptor of the set has a dial running in the background (common/pending.h): it is reported
 * ready only when the dial is done. Return like the calls. */
int engine_pending(void);
bool engine_pending_in_pollfds(const struct pollfd *fds, nfds_t n);
bool engine_pending_in_sets(int n, const fd_set *r, const fd_set *w, const fd_set *e);
int engine_poll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask);
int engine_select(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                  const sigset_t *mask, struct timespec *left);

/* epoll_ctl(2) on a TCP socket: recorded, so that a dial in the background can
 * hold its readiness back and give it again (common/pending.h). */
int engine_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);

/* connect(2) with AF_UNSPEC on a socket the shim knows: the kernel dissolves the
 * association; a UDP socket also forgets the peer it had through a relay, and keeps
 * what the kernel's disconnect would drop of the dialer's options (its device, the
 * local port its relay knows). Returns like connect(2). */
int engine_disconnect(int fd, const struct sockaddr *sa, socklen_t len);

/* dup2/dup3 are about to make NEWFD a copy of OLDFD: take what sharing needs now,
 * so nothing can fail once the kernel has closed NEWFD, and move a watch on NEWFD
 * to a copy (common/watchdog.h). Returns 0 or an errno. */
int engine_dup_reserve(int oldfd, int newfd);

/* NEWFD was just made a copy of OLDFD (dup, dup2, dup3, F_DUPFD): it carries OLDFD's
 * state, the fdtab bits and a share of its SOCKS5 association; what NEWFD held
 * before is forgotten. Returns NEWFD, or -1 with errno after closing NEWFD again
 * (NEW: it was a new descriptor; never for dup2/dup3 after engine_dup_reserve). */
int engine_dup(int oldfd, int newfd, bool new);

/* FD is no socket of ours any more (ENOTSOCK: its number was reused behind our
 * back): forget it. Like close, dup2 onto a number and close_range below, nothing
 * in a vfork child for a number with state (common/owner.h). */
void engine_forget(int fd);

/* Descriptors FIRST..LAST are being closed without close(2) (close_range,
 * closefrom, a raw system call): forget what the shim knew of each, and end
 * their associations. */
void engine_forget_range(unsigned first, unsigned last);

/* True when a close_range of the program's must go through engine_close_range
 * (a relaxed load when no background dial has descriptors of its own). */
bool engine_keeps_fds(void);

/* close_range(2) of FIRST..LAST that leaves the shim's own descriptors open (its
 * registered ones, common/ownfd.h, and the background dials' duplicates and
 * eventfds, common/pending.h). Returns like close_range. */
int engine_close_range(unsigned first, unsigned last, int flags);

/* CALL (io_uring_setup, rcmd, getnetbyname, ...) is about to send what no hook
 * sees: 0 (let it) or ERR (refused, logged; common/other.h). */
int engine_unseen(const char *call, int err);

#endif
