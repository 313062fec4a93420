/* The descriptor side of the engine: connect(AF_UNSPEC) on a socket the shim knows,
 * copies of a descriptor (dup, dup2, dup3, F_DUPFD), closes the shim did not see,
 * and the names (getpeername, getsockname) of the sockets it changed.
 * Declared in common/engine.h with the rest of the engine's entry points. */
#include "common/engine.h"

#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/dnswire.h"
#include "common/fakepin.h"
#include "common/family.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/owner.h"
#include "common/ownfd.h"
#include "common/pending.h"
#include "common/relay.h"
#include "common/state.h"
#include "common/sys.h"
#include "common/watchdog.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What a UDP disconnect takes from the socket: the kernel unbinds the device
 * (SO_BINDTODEVICE) and, unless the port was bound explicitly, the local port. */
struct kept {
    char dev[IFNAMSIZ];
    struct sockaddr_storage local;
    socklen_t local_len;
};

static void keep(int fd, struct kept *k)
{
    socklen_t len = sizeof(k->dev);

    memset(k, 0, sizeof(*k));
    if (sys.getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, k->dev, &len) < 0)
        k->dev[0] = '\0';
    k->local_len = sizeof(k->local);
    if (sys.getsockname(fd, (struct sockaddr *)&k->local, &k->local_len) < 0)
        k->local_len = 0;
}

/* Put back what the disconnect took. The device: a dialer's bind_interface must
 * hold for every later datagram (else they leave by the main table). The port of
 * an associated socket: the proxy was told it and relays for it alone. A failure
 * leaves the options to be applied again by the next datagram (direct) and is
 * logged. */
static void restore(int fd, uint32_t fst, const struct kept *k)
{
    char dev[IFNAMSIZ] = "";
    struct sockaddr_storage now;
    socklen_t len = sizeof(dev);
    int err = 0;

    sys.getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len);
    if (k->dev[0] && !dev[0] &&
        sys.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, k->dev, strlen(k->dev) + 1) < 0)
        err = errno;
    len = sizeof(now);
    if (!err && (fst & FD_ASSOC) && k->local_len && addr_port((struct sockaddr *)&k->local) &&
        sys.getsockname(fd, (struct sockaddr *)&now, &len) == 0 &&
        addr_port((struct sockaddr *)&now) == 0 &&
        bind(fd, (struct sockaddr *)&k->local, k->local_len) < 0)
        err = errno;
    if (!err)
        return;
    fdtab_and(fd, ~FD_APPLIED);
    log_warn("%s[%d] udp fd %d: after connect(AF_UNSPEC) the dialer's %s could not be set "
             "again (%s)",
             state.prog, (int)getpid(), fd, k->dev[0] && !dev[0] ? "interface" : "local port",
             strerror(err));
}

int engine_disconnect(int fd, const struct sockaddr *sa, socklen_t len)
{
    uint32_t fst = fdtab_get(fd);
    struct kept k;

    if ((fst & FD_KIND_MASK) != FD_UDP || !(fst & (FD_APPLIED | FD_ASSOC)))
        return sys.connect(fd, sa, len);
    keep(fd, &k);
    if (sys.connect(fd, sa, len) < 0)
        return -1;
    if (fst & FD_ASSOC)
        relay_forget_peer(fd); /* later datagrams name their destination, or fail */
    restore(fd, fst, &k);
    return 0;
}

int engine_dup_reserve(int oldfd, int newfd)
{
    /* Another thread's dial blocks on the socket NEWFD names until now: its
     * watch moves to a copy before the number goes, as at a close. */
    if ((fdtab_get(newfd) & FD_WATCHED) && oldfd != newfd && !owner_foreign())
        watch_forget(newfd, true);
    return (fdtab_get(oldfd) & FD_ASSOC) && !owner_foreign() ? relay_reserve(newfd) : 0;
}

/* See engine_int.h. The word is reset before the association ends: a datagram
 * of another thread on this number meanwhile is routed afresh, never relayed. */
void engine_drop(int fd, uint32_t v)
{
    if (v & FD_WATCHED)
        watch_forget(fd, false); /* the number holds another file now: not ours to end */
    if (v & (FD_PENDING | FD_DIALED))
        pending_release(fd, false); /* a dial in flight is abandoned with its last number */
    if (v & FD_EPOLL)
        pending_epoll_closed(fd); /* its registrations went with the file */
    fdtab_set(fd, FD_UNKNOWN);
    if (v & FD_ASSOC)
        relay_close(fd); /* its control connections end with it */
    if (v & FD_ENGINE)
        fakepin_close(fd); /* its fake address may stand for another name now */
    if (v & FD_DNS)
        dnswire_forget(fd);
}

int engine_dup(int oldfd, int newfd, bool new)
{
    uint32_t v = fdtab_get(oldfd);
    int err;

    if (newfd == oldfd)
        return newfd;
    /* A vfork child (python's subprocess dup2s its stdin onto 0): a share of the
     * parent's association would keep it open for good, a close of the number's
     * state would take the parent's. */
    if (((v | fdtab_get(newfd)) & FD_STATE) && owner_foreign())
        return newfd;
    engine_drop(newfd, fdtab_get(newfd)); /* dup2/dup3 closed what the number held */
    err = (v & FD_ASSOC) ? relay_dup(oldfd, newfd) : 0;
    if (err && new) {
        fdtab_set(newfd, FD_UNKNOWN);
        sys.close(newfd);
        errno = err;
        return -1;
    }
    /* Without a share (no memory after all) the copy must not claim one: its
     * datagrams then open their own association, never go direct. */
    v &= ~(uint32_t)FD_EPOLL; /* registrations belong to a number, not its copies */
    /* A send timeout set through either number is the socket's: neither claims none. */
    /* So are its file status flags: a copy's F_SETFL or FIONBIO is not seen on
     * the other number. */
    v &= ~(uint32_t)(FD_NO_SNDTIMEO | FD_BLOCKING | FD_WATCHED);
    fdtab_and(oldfd, ~(FD_NO_SNDTIMEO | FD_BLOCKING));
    if ((v & FD_KIND_MASK) == FD_TCP && !(v & (FD_PENDING | FD_DIALED))) {
        /* no record to share yet: a dial that starts on either finds the other */
        fdtab_or(oldfd, FD_COPIED);
        v |= FD_COPIED;
    }
    fdtab_set(newfd, err ? v & ~(FD_ASSOC | FD_APPLIED) : v);
    if (v & FD_ENGINE)
        fakepin_dup(oldfd, newfd);
    if (v & FD_FAMILY)
        family_dup(oldfd, newfd);
    if (v & (FD_PENDING | FD_DIALED))
        pending_dup(oldfd, newfd); /* the same dial; the bits follow its state */
    return newfd;
}

/* Whether a number in FIRST..TOP has state elsewhere in the shim's memory. */
static bool range_has_state(unsigned first, long top)
{
    for (long fd = first; fd <= top; fd++)
        if (fdtab_get((int)fd) & FD_STATE)
            return true;
    return false;
}

void engine_forget_range(unsigned first, unsigned last)
{
    long top = (long)last < fdtab_high() ? (long)last : fdtab_high();

    /* A vfork child (Python's subprocess calls close_range there) runs in its
     * parent's memory: what the shim knows is the parent's, associations, pins
     * and dials included (owner_foreign first: a load, until a vfork). */
    if (owner_foreign() && range_has_state(first, top))
        return;
    for (long fd = first; fd <= top; fd++) {
        uint32_t v = fdtab_get((int)fd);
        /* before the close: another thread's dial blocked on it keeps its deadline
         * on a copy of the shim's (which the close_range then leaves open) */
        if (v & FD_WATCHED) {
            watch_forget((int)fd, true);
            v &= ~(uint32_t)FD_WATCHED;
        }
        if (v)
            engine_drop((int)fd, v);
    }
}

bool engine_keeps_fds(void)
{
    return pending_keeps_fds();
}

int engine_close_range(unsigned first, unsigned last, int flags)
{
    if (pending_keeps_fds())
        return pending_close_range(first, last, flags);
    return ownfd_close_range(first, last, flags, NULL, 0);
}

void engine_forget(int fd)
{
    uint32_t v = fdtab_get(fd);

    if ((v & FD_STATE) && owner_foreign())
        return; /* a vfork child: the parent's */
    engine_drop(fd, v);
}

int engine_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    int err;

    if (level == SOL_SOCKET && name == SO_ERROR && val && len && *len >= sizeof(int) &&
        pending_so_error(fd, &err)) {
        /* EINPROGRESS while the dial runs (asyncio, libuv and Go wait on it), a
         * failed dial's errno once, as the kernel reports a refused connect */
        *(int *)val = err;
        *len = sizeof(int);
        return 0;
    }
    return sys.getsockopt(fd, level, name, val, len);
}

int engine_shutdown(int fd, int how)
{
    if (fdtab_get(fd) & FD_PENDING)
        pending_close(fd, true); /* the program gave up on its connect */
    return sys.shutdown(fd, how);
}

int engine_poll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    return pending_poll(fds, n, timeout, mask);
}

int engine_select(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                  const sigset_t *mask, struct timespec *left)
{
    return pending_select(n, r, w, e, timeout, mask, left);
}

int engine_pending(void)
{
    return pending_count();
}

bool engine_pending_in_pollfds(const struct pollfd *fds, nfds_t n)
{
    return pending_in_pollfds(fds, n);
}

bool engine_pending_in_sets(int n, const fd_set *r, const fd_set *w, const fd_set *e)
{
    return pending_in_sets(n, r, w, e);
}

/* Whether the program's epoll registrations must be recorded: only when a dial
 * may hide them or a swap lose them. Asked once (the configuration never
 * changes); a race computes the same answer twice. */
static bool epoll_recorded(void)
{
    static int known; /* 0: not asked yet, 1: no, 2: yes */
    int k = __atomic_load_n(&known, __ATOMIC_RELAXED);

    if (!k) {
        k = state.conf && dialer_may_defer(state.conf) ? 2 : 1;
        __atomic_store_n(&known, k, __ATOMIC_RELAXED);
    }
    return k == 2;
}

int engine_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    if (!epoll_recorded())
        return sys.epoll_ctl(epfd, op, fd, ev); /* no lock, no record: nothing to hide */
    return pending_epoll_ctl(epfd, op, fd, ev);
}

/* getpeername and getsockname: what the program connected to, in the family it
 * made the socket in. */
int engine_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    int r;

    if ((fdtab_get(fd) & (FD_PENDING | FD_DIALED)) && sa && len && pending_peer(fd, sa, len, &r))
        return r;
    if (fdtab_get(fd) & FD_FAMILY)
        return family_peer(fd, sa, len);
    if (sa && len && relay_peer(fd, sa, len))
        return 0;
    if (sa && len && (fdtab_get(fd) & FD_DNS) && dnswire_peer(fd, sa, len))
        return 0;
    return sys.getpeername(fd, sa, len);
}

int engine_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    if (fdtab_get(fd) & FD_FAMILY)
        return family_local(fd, sa, len);
    return sys.getsockname(fd, sa, len);
}
