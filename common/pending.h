/* pending: dials the engine runs in the background, and what the program is told
 * about its socket meanwhile and after.
 *
 * A connect on a non-blocking socket that cannot finish at once (a proxy chain,
 * a fake address to resolve and race, Happy Eyeballs, network_strategy) starts
 * here and connect gives EINPROGRESS (a blocking socket with SO_SNDTIMEO
 * starts the same way and waits up to the timeout: pending_wait). The dial runs on a driver thread
 * (common/driver.h) with the same blocking code a blocking socket runs inline,
 * on a duplicate of the program's socket (F_DUPFD_CLOEXEC, a high number), so a
 * program that closes its number and reuses it never meets the dial. One record
 * per dialed socket, reached by every descriptor number that holds it (dup,
 * also one made before the connect: fdtab FD_COPIED).
 *
 * Promise: while a dial is pending, fdtab's FD_PENDING is set on each number
 * of the socket: reads and writes give EAGAIN (the hooks read that bit and take
 * no lock), connect EALREADY, getsockopt(SO_ERROR) EINPROGRESS, getpeername
 * ENOTCONN, and the socket is never reported ready (poll and select here,
 * epoll in common/pending_epoll.c). When the dial ends the bit goes, every
 * waiter of that dial wakes (an eventfd per record), the program's epoll
 * registrations are made again, and SO_ERROR (or a second connect) gives the
 * dial's errno once; a failed dial's connection to a proxy is dissolved first
 * (the program sees the hang-up). A record also gives getpeername the
 * destination the program asked for (also for blocking proxied sockets:
 * pending_record_peer) until the last number is closed. Closing the last
 * number of a pending socket, or shutdown, abandons the dial at once: the
 * duplicate is shut down (the proxy sees it) and replaced, so nothing leaves
 * after that; the driver frees the record and its descriptors. One mutex,
 * never held across a dial; pending_count() is a relaxed load.
 */
#ifndef DIALSHIM_PENDING_H
#define DIALSHIM_PENDING_H

#include "common/dialer/dialer.h"
#include "common/fakeip.h"

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

/* One dial to run in the background: the engine fills it, the driver runs it. */
struct pend_dial {
    struct dial d; /* d.fd: the duplicate while the dial runs */
    struct sockaddr_storage sa;
    char host[FAKEIP_NAME_MAX];
    uint32_t fst;
    int rule, maker;
    bool had_options;
    struct timespec t0;
};

/* The engine's two halves of a dial: RUN dials PD->d on the duplicate and
 * returns 0 or an errno; DONE does the bookkeeping for the program's FD (fdtab,
 * pins, the log line), called with the table locked and only while the program
 * still holds the socket. */
struct pend_ops {
    int (*run)(struct pend_dial *pd);
    void (*done)(int fd, struct pend_dial *pd, int err);
};

/* Start PD (copied) for the program's non-blocking socket FD. Returns 0 (the
 * caller gives EINPROGRESS) or an errno (no memory, no descriptor, no thread;
 * nothing was started and nothing leaked). */
int pending_start(int fd, const struct pend_dial *pd, const struct pend_ops *ops);

/* This process is a fork child (pending_atfork_child ran): a relaxed load. */
bool pending_forked(void);

/* Dials in flight in this process (a relaxed load: the wait hooks' fast path). */
int pending_count(void);

/* A connect on FD while it has a record: EALREADY while pending, a failed dial's
 * errno once, EISCONN after success; 0 when the connect is the program's to
 * make again (the record is dropped). */
int pending_connect_again(int fd);

/* A blocking connect of FD whose dial was started here, bounded by the
 * socket's SO_SNDTIMEO (MS > 0) as the kernel bounds its own: waits for the
 * dial and returns 0 or its errno (reported then, not again), or EINPROGRESS
 * when MS ran out first (EINTR when a signal came: the kernel never restarts a
 * connect with a timeout), the dial going on as a non-blocking one's. */
int pending_wait(int fd, long ms);

/* getsockopt(SO_ERROR) of FD with a record: true with *ERR set (EINPROGRESS
 * while pending, a failed dial's errno once); false: ask the kernel. */
bool pending_so_error(int fd, int *err);

/* getpeername of FD with a record: 1 (answered, 0 or -1 with errno in *RET),
 * 0: ask the kernel. */
int pending_peer(int fd, struct sockaddr *sa, socklen_t *len, int *ret);

/* A blocking dial of FD through the engine reached SA (LEN bytes): keep it for
 * getpeername. Without memory nothing is kept (the kernel's answer stands). */
void pending_record_peer(int fd, const struct sockaddr *sa, socklen_t len);

/* FD's number goes (close, close_range, dup2 onto it, shutdown of a pending
 * one: ABANDON even when other numbers hold the socket); nothing in a vfork
 * child (common/owner.h). */
void pending_close(int fd, bool abandon);
/* pending_close for a caller that has made sure this is not a vfork child
 * (owner_foreign): the check made once per close, not twice. */
void pending_release(int fd, bool abandon);

/* True while some dial holds descriptors of the shim's (its duplicate, its
 * eventfd) in this process (a relaxed load). */
bool pending_keeps_fds(void);

/* close_range(2) of FIRST..LAST that leaves those open, and the shim's
 * registered ones (common/ownfd.h). Returns like close_range. */
int pending_close_range(unsigned first, unsigned last, int flags);

/* NEWFD was made a copy of OLDFD: the same record. The caller has made sure
 * this is not a vfork child (owner_foreign). */
void pending_dup(int oldfd, int newfd);

/* For a waiter on FD: the record's eventfd (readable once the dial is done)
 * while FD is pending, else -1. */
int pending_waitfd(int fd);

/* FD's dial ended in an error not yet reported (poll adds POLLERR as the kernel
 * does for a refused connect). */
bool pending_failed(int fd);

/* poll(2)/ppoll(2) with pending descriptors among FDS: each waits on its dial's
 * eventfd instead, and reports ready only when done. TIMEOUT NULL: forever. */
int pending_poll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                 const sigset_t *mask);

/* select(2)/pselect(2) the same way (through pending_poll). TIMEOUT NULL:
 * forever; *LEFT (may be NULL) gets the time left, as Linux's select does. */
int pending_select(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                   const sigset_t *mask, struct timespec *left);

/* True when a wait on FDS (N entries) / on the sets must go through the above. */
bool pending_in_pollfds(const struct pollfd *fds, nfds_t n);
bool pending_in_sets(int n, const fd_set *r, const fd_set *w, const fd_set *e);

/* epoll_ctl(2) on a TCP socket: recorded (the registrations are made again
 * after a dial that hid them); on a pending socket it acts on the record and
 * answers as the kernel would (EEXIST, ENOENT). Returns like epoll_ctl. */
int pending_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);

/* FD's number is closed (or replaced): its recorded registrations go. */
void pending_epoll_closed(int fd);

/* Another socket took FD's number inside a dial that ran in the program's thread
 * (a direct dialer's netns swap): the program's recorded registrations of FD are
 * made again on it (they went with the old socket). */
void pending_epoll_swapped(int fd);

/* Fork handlers, registered with the first record (pthread_atfork). */
void pending_atfork_prepare(void);
void pending_atfork_parent(void);
void pending_atfork_child(void);

#endif
