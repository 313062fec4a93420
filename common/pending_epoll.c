/* The program's epoll registrations of TCP sockets (common/pending.h).
 *
 * An unconnected socket reports EPOLLHUP even to a registration with no events,
 * and a socket connected to a proxy reports EPOLLOUT long before the dial is
 * done: masking with EPOLL_CTL_MOD cannot hide either. So while a dial is
 * pending the program's registrations are taken out of the kernel
 * (EPOLL_CTL_DEL), kept here, and added again when it ends: a fresh evaluation,
 * a new edge for EPOLLET, and EPOLLEXCLUSIVE and EPOLLONESHOT as they were. The
 * record is made from the program's epoll_ctl calls on its TCP sockets (nginx
 * registers before connect, libuv after). */
#include "common/fdtab.h"
#include "common/pending_int.h"
#include "common/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One registration: epoll set EPFD watches the socket under this number. */
struct preg {
    int epfd;
    struct epoll_event ev;
    struct preg *next;
};

static struct preg **regs; /* by the program's number; under pending_mu */
static int cap_regs;

static struct preg **slot(int fd, bool grow)
{
    if (fd < 0)
        return NULL;
    if (fd >= cap_regs && grow) {
        int cap = cap_regs ? cap_regs : 64;
        struct preg **p;
        while (cap <= fd)
            cap *= 2;
        if (!(p = realloc(regs, (size_t)cap * sizeof(*p))))
            return NULL;
        memset(p + cap_regs, 0, (size_t)(cap - cap_regs) * sizeof(*p));
        regs = p;
        cap_regs = cap;
    }
    return fd < cap_regs ? &regs[fd] : NULL;
}

static struct preg **find(int fd, int epfd)
{
    struct preg **pp = slot(fd, false);

    while (pp && *pp && (*pp)->epfd != epfd)
        pp = &(*pp)->next;
    return pp && *pp ? pp : NULL;
}

/* The record follows what the kernel (or the emulation) accepted. Locked. */
static int record(int epfd, int op, int fd, const struct epoll_event *ev)
{
    struct preg **pp = find(fd, epfd), **head, *p;

    switch (op) {
    case EPOLL_CTL_ADD:
        if (pp)
            return EEXIST;
        if (!ev)
            return EFAULT;
        if (!(head = slot(fd, true)) || !(p = malloc(sizeof(*p))))
            return ENOMEM;
        *p = (struct preg){.epfd = epfd, .ev = *ev, .next = *head};
        *head = p;
        fdtab_or(fd, FD_EPOLL);
        return 0;
    case EPOLL_CTL_MOD:
        if (!pp)
            return ENOENT;
        if (!ev)
            return EFAULT;
        if ((*pp)->ev.events & EPOLLEXCLUSIVE)
            return EINVAL; /* as the kernel: an exclusive registration is never modified */
        (*pp)->ev = *ev;
        return 0;
    case EPOLL_CTL_DEL:
        if (!pp)
            return ENOENT;
        p = *pp;
        *pp = p->next;
        free(p);
        return 0;
    }
    return EINVAL;
}

int pending_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct rec *r;
    int err, ret;

    pthread_mutex_lock(&pending_mu);
    r = rec_of(fd);
    if (r && r->pending) {
        /* held back: the kernel sees it when the dial ends */
        err = epfd == fd ? EINVAL : record(epfd, op, fd, ev);
        ret = err ? -1 : 0;
    } else if ((ret = sys.epoll_ctl(epfd, op, fd, ev)) == 0) {
        err = record(epfd, op, fd, ev);
        /* ENOMEM: unrecorded, so a dial could not hide it; the registration
         * itself stands */
        ret = 0;
        err = 0;
    } else {
        err = errno;
    }
    pthread_mutex_unlock(&pending_mu);
    if (ret < 0)
        errno = err;
    return ret;
}

void pending_epoll_hide(struct rec *r, int fd)
{
    struct preg **pp = slot(fd, false);

    (void)r;
    for (struct preg *p = pp ? *pp : NULL; p; p = p->next)
        sys.epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Make FD's recorded registrations again in the kernel (pending_mu held). */
static void remake(int fd)
{
    struct preg **pp = slot(fd, false), *p;

    while (pp && (p = *pp)) {
        struct epoll_event ev = p->ev;
        if (sys.epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST) {
            *pp = p->next; /* the set is gone (EBADF): so is the registration */
            free(p);
            continue;
        }
        pp = &p->next;
    }
}

void pending_epoll_show(struct rec *r)
{
    for (int i = 0; i < r->nfds; i++)
        remake(r->fds[i]);
}

void pending_epoll_swapped(int fd)
{
    pthread_mutex_lock(&pending_mu);
    remake(fd);
    pthread_mutex_unlock(&pending_mu);
}

void pending_epoll_closed(int fd)
{
    struct preg **pp, *p;

    pthread_mutex_lock(&pending_mu);
    pp = slot(fd, false);
    while (pp && (p = *pp)) {
        *pp = p->next;
        free(p);
    }
    fdtab_and(fd, ~(uint32_t)FD_EPOLL);
    pthread_mutex_unlock(&pending_mu);
}
