/* poll(2), ppoll(2), select(2), pselect(2) and their _FORTIFY_SOURCE twins,
 * getsockopt(2), shutdown(2) and epoll_ctl(2): what a program asks of a socket whose dial runs
 * in the background (fdtab FD_PENDING, common/pending.h). Readiness is held back
 * until the dial is done; SO_ERROR reports it. While no dial is pending in the
 * process a wait costs one load; getsockopt and shutdown one fdtab_get(). */
#include "common/engine.h"
#include "common/fdtab.h"
#include "common/sys.h"
#include "shim/init.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>

/* glibc declares poll's array write-only (access attribute); the kernel reads
 * its events, and so do these hooks. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask,
                size_t fdslen);

/* Whether a wait on FDS must go to the engine; entered (shim_enter) when true. */
static bool pollfds_ours(const struct pollfd *fds, nfds_t n)
{
    if (__builtin_expect(!engine_pending(), 1) || !fds)
        return false;
    if (!shim_enter())
        return false;
    if (engine_pending_in_pollfds(fds, n))
        return true;
    shim_leave();
    return false;
}

static int poll_entered(struct pollfd *fds, nfds_t n, int timeout)
{
    struct timespec ts = {timeout / 1000, timeout % 1000 * 1000000L};
    int r = engine_poll(fds, n, timeout < 0 ? NULL : &ts, NULL);

    shim_leave();
    return r;
}

HOOK int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!pollfds_ours(fds, n))
        RETURN_REAL(poll, -1, fds, n, timeout);
    return poll_entered(fds, n, timeout);
}

HOOK int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    if (fdslen / sizeof(*fds) < n || !pollfds_ours(fds, n))
        RETURN_REAL(poll_chk, -1, fds, n, timeout, fdslen); /* it fails the check as glibc's */
    return poll_entered(fds, n, timeout);
}

static int ppoll_entered(struct pollfd *fds, nfds_t n, const struct timespec *t,
                         const sigset_t *mask)
{
    int r;

    if (t && (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000L)) {
        shim_leave();
        errno = EINVAL;
        return -1;
    }
    r = engine_poll(fds, n, t, mask);
    shim_leave();
    return r;
}

HOOK int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
    if (!pollfds_ours(fds, n))
        RETURN_REAL(ppoll, -1, fds, n, t, mask);
    return ppoll_entered(fds, n, t, mask);
}

HOOK int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask,
                     size_t fdslen)
{
    if (fdslen / sizeof(*fds) < n || !pollfds_ours(fds, n))
        RETURN_REAL(ppoll_chk, -1, fds, n, t, mask, fdslen);
    return ppoll_entered(fds, n, t, mask);
}

static bool sets_ours(int n, const fd_set *r, const fd_set *w, const fd_set *e)
{
    if (__builtin_expect(!engine_pending(), 1) || n <= 0 || n > FD_SETSIZE)
        return false;
    if (!shim_enter())
        return false;
    if (engine_pending_in_sets(n, r, w, e))
        return true;
    shim_leave();
    return false;
}

HOOK int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    struct timespec ts, left;
    int got;

    if (!sets_ours(n, r, w, e))
        RETURN_REAL(select, -1, n, r, w, e, tv);
    if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0)) {
        shim_leave();
        errno = EINVAL;
        return -1;
    }
    if (tv)
        ts = (struct timespec){tv->tv_sec + tv->tv_usec / 1000000, tv->tv_usec % 1000000 * 1000};
    got = engine_select(n, r, w, e, tv ? &ts : NULL, NULL, &left);
    shim_leave();
    if (tv) /* Linux's select tells the time left */
        *tv = (struct timeval){left.tv_sec, left.tv_nsec / 1000};
    return got;
}

HOOK int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t,
                 const sigset_t *mask)
{
    int got;

    if (!sets_ours(n, r, w, e))
        RETURN_REAL(pselect, -1, n, r, w, e, t, mask);
    if (t && (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000L)) {
        shim_leave();
        errno = EINVAL;
        return -1;
    }
    got = engine_select(n, r, w, e, t, mask, NULL);
    shim_leave();
    return got;
}

HOOK int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    int r;

    if (!(fdtab_get(fd) & (FD_PENDING | FD_DIALED)) || !shim_enter())
        RETURN_REAL(getsockopt, -1, fd, level, name, val, len);
    r = engine_getsockopt(fd, level, name, val, len);
    shim_leave();
    return r;
}

HOOK int shutdown(int fd, int how)
{
    int r;

    if (!(fdtab_get(fd) & FD_PENDING) || !shim_enter())
        RETURN_REAL(shutdown, -1, fd, how);
    r = engine_shutdown(fd, how);
    shim_leave();
    return r;
}

/* Only TCP sockets the shim knows: those are the ones it may dial in the background. */
HOOK int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    int r;

    if ((fdtab_get(fd) & FD_KIND_MASK) != FD_TCP || !shim_enter())
        RETURN_REAL(epoll_ctl, -1, epfd, op, fd, ev);
    r = engine_epoll_ctl(epfd, op, fd, ev);
    shim_leave();
    return r;
}
