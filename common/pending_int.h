/* pending_int: what the pending table's files share (pending.c: the records and
 * the dials; pending_poll.c: poll and select; pending_epoll.c: the program's
 * epoll registrations; pending_own.c: the shim's descriptors kept from the
 * program's close_range). Nothing else includes it.
 *
 * Promise: every function here is called with pending_mu held.
 */
#ifndef DIALSHIM_PENDING_INT_H
#define DIALSHIM_PENDING_INT_H

#include "common/pending.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#define REC_FDS 8 /* numbers one socket may have (dup); more are the kernel's plain copies */

/* One dialed socket: a dial in flight, or what is left to tell of one. */
struct rec {
    int refs;                /* numbers holding it, and the driver while it runs */
    int nfds, fds[REC_FDS];  /* the program's numbers of the socket */
    bool pending, abandoned; /* the dial runs / nobody waits for it any more */
    bool ok;                 /* connected: getpeername answers with peer */
    bool finishing;          /* the engine's bookkeeping runs unlocked: numbers stay */
    int err;                 /* a failed dial's errno, until reported once */
    int dupfd, efd;          /* the driver's duplicate; the waiters' eventfd */
    dev_t dev;               /* the program's socket, to recognise its numbers */
    ino_t ino;
    struct sockaddr_storage peer; /* what the program connected to */
    socklen_t peerlen;
    struct pend_dial *pd; /* while the dial runs */
    const struct pend_ops *ops;
    struct rec *prev, *next; /* the records with descriptors (pending_own.c) */
    bool listed;
    bool forked_abort; /* failed by a fork: not logged yet (pending_forked_log) */
};

extern pthread_mutex_t pending_mu;
extern pthread_cond_t pending_cv; /* a record's bookkeeping ended */

/* The record FD's number holds, or NULL. */
struct rec *rec_of(int fd);

/* R's dial failed in this fork child (ECONNABORTED): say so once, now that the
 * program asks. Not from the fork handler itself: a child of a threaded program
 * must not take the log's lock there (another thread of the parent may have held
 * it at the fork). Called with pending_mu held. */
void pending_forked_log(struct rec *r);

/* R loses a holder (a number, the driver, a waiter); the last frees it and its
 * eventfd. */
void rec_unref(struct rec *r);

/* pending_own.c: R has descriptors of the shim's (the duplicate, the eventfd)
 * that a program's close_range must not close / it has none any more. */
void rec_list(struct rec *r);
void rec_unlist(struct rec *r);

/* pending_epoll.c. Hide: take FD's recorded registrations (every epoll set)
 * out of the kernel; they stay recorded, and the program's epoll_ctl on FD
 * acts on the record while R is pending. Show: make every recorded
 * registration of R's numbers again in the kernel (a fresh evaluation: a new
 * edge for EPOLLET). */
void pending_epoll_hide(struct rec *r, int fd);
void pending_epoll_show(struct rec *r);

#endif
