/* poll, ppoll, select and pselect with pending sockets (common/pending.h): a
 * pending descriptor is waited for through its dial's eventfd, so only the
 * waiters of that dial wake when it ends, and it is reported ready only then;
 * a blocking connect bounded by SO_SNDTIMEO waits on the same eventfd. */
#include "common/fdtab.h"
#include "common/monotime.h"
#include "common/pending_int.h"
#include "common/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SMALL 16

bool pending_in_pollfds(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (fds[i].fd >= 0 && (fdtab_get(fds[i].fd) & FD_PENDING))
            return true;
    return false;
}

bool pending_in_sets(int n, const fd_set *r, const fd_set *w, const fd_set *e)
{
    for (int fd = 0; fd < n && fd < FD_SETSIZE; fd++)
        if ((fdtab_get(fd) & FD_PENDING) &&
            ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))))
            return true;
    return false;
}

/* What the kernel reports now for P's socket, whose dial has ended; a failed
 * dial shows POLLERR as a refused connect does. */
static short now_revents(const struct pollfd *p)
{
    struct pollfd q = {.fd = p->fd, .events = p->events};
    short rev = sys.poll(&q, 1, 0) > 0 ? q.revents : 0;

    if (pending_failed(p->fd))
        rev |= POLLERR;
    return rev;
}

static long long ns_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One wait on CP, a copy of FDS with each pending socket's eventfd in its place
 * (SUB marks them). Returns the kernel's answer; FDS' revents are filled and
 * *READY counts the program's ready entries. */
static int wait_once(struct pollfd *fds, struct pollfd *cp, bool *sub, nfds_t n,
                     const struct timespec *left, const sigset_t *mask, int *ready)
{
    int r;

    for (nfds_t i = 0; i < n; i++) {
        int w =
            fds[i].fd >= 0 && (fdtab_get(fds[i].fd) & FD_PENDING) ? pending_waitfd(fds[i].fd) : -1;
        cp[i] = fds[i];
        sub[i] = w >= 0;
        if (sub[i])
            cp[i] = (struct pollfd){.fd = w, .events = POLLIN};
    }
    if ((r = sys.ppoll(cp, n, left, mask)) < 0)
        return r;
    *ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = sub[i] ? (cp[i].revents ? now_revents(&fds[i]) : 0) : cp[i].revents;
        *ready += fds[i].revents != 0;
    }
    return r;
}

int pending_poll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    struct pollfd small[SMALL], *cp = n <= SMALL ? small : malloc(n * sizeof(*cp));
    bool smallsub[SMALL], *sub = n <= SMALL ? smallsub : malloc(n * sizeof(*sub));
    long long end = timeout ? ns_now() + timeout->tv_sec * 1000000000LL + timeout->tv_nsec : 0;
    int r, ready = 0;

    if (!cp || !sub) {
        if (cp != small)
            free(cp);
        if (sub != smallsub)
            free(sub);
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        struct timespec left, *lp = NULL;
        if (timeout) {
            long long ns = end - ns_now();
            if (ns < 0)
                ns = 0;
            left = (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
            lp = &left;
        }
        r = wait_once(fds, cp, sub, n, lp, mask, &ready);
        /* A dial ended with nothing the program asked for: wait on */
        if (r <= 0 || ready || (timeout && ns_now() >= end))
            break;
    }
    if (cp != small)
        free(cp);
    if (sub != smallsub)
        free(sub);
    return r < 0 ? r : ready;
}

/* select's sets as poll entries: what the kernel's select maps them to. */
static nfds_t to_pollfds(int n, const fd_set *r, const fd_set *w, const fd_set *e, struct pollfd *p)
{
    nfds_t k = 0;

    for (int fd = 0; fd < n && fd < FD_SETSIZE; fd++) {
        short ev = (r && FD_ISSET(fd, r) ? POLLIN : 0) | (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
                   (e && FD_ISSET(fd, e) ? POLLPRI : 0);
        if (ev)
            p[k++] = (struct pollfd){.fd = fd, .events = ev};
    }
    return k;
}

int pending_select(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                   const sigset_t *mask, struct timespec *left)
{
    struct pollfd *p = malloc(FD_SETSIZE * sizeof(*p));
    long long end = timeout ? ns_now() + timeout->tv_sec * 1000000000LL + timeout->tv_nsec : 0;
    nfds_t k;
    int got, count = 0;

    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    k = to_pollfds(n, r, w, e, p);
    got = pending_poll(p, k, timeout, mask);
    for (nfds_t i = 0; got >= 0 && i < k; i++) {
        if (p[i].revents & POLLNVAL) {
            errno = EBADF;
            got = -1;
        }
    }
    if (got >= 0) {
        if (r)
            FD_ZERO(r);
        if (w)
            FD_ZERO(w);
        if (e)
            FD_ZERO(e);
        for (nfds_t i = 0; i < k; i++) {
            short rev = p[i].revents, ev = p[i].events;
            if ((ev & POLLIN) && (rev & (POLLIN | POLLHUP | POLLERR)) && ++count)
                FD_SET(p[i].fd, r);
            if ((ev & POLLOUT) && (rev & (POLLOUT | POLLERR)) && ++count)
                FD_SET(p[i].fd, w);
            if ((ev & POLLPRI) && (rev & POLLPRI) && ++count)
                FD_SET(p[i].fd, e);
        }
    }
    if (left && timeout) {
        long long ns = end - ns_now();
        if (ns < 0)
            ns = 0;
        *left = (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
    }
    free(p);
    return got < 0 ? -1 : count;
}

/* The record is held (a close meanwhile cannot free its eventfd) and its
 * eventfd, readable once the dial is done, waited for without the lock. */
int pending_wait(int fd, long ms)
{
    long long until = monotime_ms() + ms;
    struct pollfd p = {.fd = -1, .events = POLLIN};
    struct rec *r;
    int e = 0, n = 0;

    pthread_mutex_lock(&pending_mu);
    if ((r = rec_of(fd))) {
        r->refs++;
        p.fd = r->efd;
    }
    pthread_mutex_unlock(&pending_mu);
    if (!r)
        return 0;
    while (__atomic_load_n(&r->pending, __ATOMIC_RELAXED) && n >= 0) {
        long long left = until - monotime_ms();
        if (left <= 0)
            break;
        n = sys.poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n < 0 && errno != EINTR)
            n = 0; /* the eventfd cannot fail: wait on */
    }
    pthread_mutex_lock(&pending_mu);
    if (r->pending)
        e = n < 0 ? EINTR : EINPROGRESS;
    else if (r->err)
        e = r->err;
    else if (!r->ok)
        e = ECONNABORTED; /* abandoned by another thread's close */
    if (!r->pending)
        __atomic_store_n(&r->err, 0, __ATOMIC_RELAXED); /* told now, not again */
    rec_unref(r);
    pthread_mutex_unlock(&pending_mu);
    return e;
}
