/* socket(2) and close(2): the descriptor table's birth and death, and MPTCP,
 * which can only be chosen when the socket is made; setsockopt(2), which only
 * notes a send timeout (fdtab FD_NO_SNDTIMEO: a blocking dial honours it); getpeername(2) of a UDP
 * socket connected through a SOCKS5 relay, and getpeername(2)/getsockname(2) of
 * an IPv4 socket the shim made IPv6 (common/family.h). The close hooks (close,
 * close_range, closefrom; dup2/dup3 onto a number in shim/dup.c) move the shim's
 * own descriptors out of the way first (common/ownfd.h); close_range and
 * closefrom also leave the background dials' descriptors open (common/pending.h). */
#include "common/engine.h"
#include "common/state.h"
#include "common/fdtab.h"
#include "common/ownfd.h"
#include "common/sys.h"
#include "shim/init.h"
#include "common/hotpath.h"

#include <errno.h>
#include <linux/close_range.h>
#include <unistd.h>

HOT_PATH HOOK int socket(int domain, int type, int protocol)
{
    int r;

    if (!shim_enter())
        return sys.socket(domain, type, protocol);
    switch (domain == AF_INET || domain == AF_INET6 ? state_gate(domain) : GATE_PASS) {
    case GATE_HANDLE:
        r = engine_socket(domain, type, protocol);
        break;
    default:
        /* A broken configuration denies at connect/send, where the errno means
         * something to the program; creating the socket is harmless. */
        r = sys.socket(domain, type, protocol);
    }
    shim_leave();
    return r;
}

/* Bookkeeping only, no entry: the option is the kernel's whatever we note. */
HOT_PATH HOOK int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    if (level == SOL_SOCKET && (name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW))
        fdtab_and(fd, ~FD_NO_SNDTIMEO);
    RETURN_REAL(setsockopt, -1, fd, level, name, val, len);
}

HOT_PATH HOOK int close(int fd)
{
    int r;

    if (ownfd_count())
        ownfd_evict(fd); /* the shim's own descriptor moves out of the way first */
    if (!shim_enter())
        return sys.close(fd);
    r = engine_close(fd);
    shim_leave();
    return r;
}

/* close_range(2) and closefrom(3) close sockets without close(): what the shim
 * knew of them must go too, or a later descriptor given the same number (a file,
 * a pipe) would be taken for the old socket and its writes for datagrams. */
static void forget_range(unsigned first, unsigned last)
{
    if (fdtab_high() >= 0 && first <= (unsigned)fdtab_high() && shim_enter()) {
        engine_forget_range(first, last);
        shim_leave();
    }
}

HOOK int close_range(unsigned first, unsigned last, int flags)
{
    if (!SYS_REAL(close_range)) {
        errno = ENOSYS;
        return -1;
    }
    /* CLOSE_RANGE_CLOEXEC closes nothing now; bad arguments close nothing at all */
    if (first <= last && !(flags & ~(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) &&
        !(flags & CLOSE_RANGE_CLOEXEC))
        forget_range(first, last);
    if (first <= last && (ownfd_in_range(first, last) || engine_keeps_fds()))
        return engine_close_range(first, last, flags); /* the shim's own stay open */
    return sys.close_range(first, last, flags);
}

HOOK void closefrom(int lowfd)
{
    if (lowfd >= 0)
        forget_range((unsigned)lowfd, ~0u);
    if (lowfd >= 0 && (ownfd_in_range((unsigned)lowfd, ~0u) || engine_keeps_fds()) &&
        SYS_REAL(close_range))
        engine_close_range((unsigned)lowfd, ~0u, 0); /* the shim's own stay open */
    else if (SYS_REAL(closefrom))
        sys.closefrom(lowfd);
}

/* A UDP socket connected through a SOCKS5 relay is connected to the relay, and an
 * IPv4 socket may have become IPv6 (common/family.h): the program is told what it
 * connected to. Others: one fdtab_get(). REAL points into the sys table, read at
 * each call: the hook may run before the table is filled. */
typedef int (*name_fn)(int fd, struct sockaddr *sa, socklen_t *len);

static int name_of(int fd, struct sockaddr *sa, socklen_t *len, uint32_t ours, name_fn *real,
                   name_fn engine)
{
    int r;

    if (!(fdtab_get(fd) & ours) || !shim_enter()) {
        if (!*real)
            shim_resolve();
        if (!*real) {
            errno = ENOSYS;
            return -1;
        }
        return (*real)(fd, sa, len);
    }
    r = engine(fd, sa, len);
    shim_leave();
    return r;
}

HOOK int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    return name_of(fd, sa, len, FD_ASSOC | FD_FAMILY | FD_DNS | FD_PENDING | FD_DIALED,
                   &sys.getpeername, engine_getpeername);
}

HOOK int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    return name_of(fd, sa, len, FD_FAMILY, &sys.getsockname, engine_getsockname);
}
