/* socket(2) and close(2): the descriptor table's birth and death, and MPTCP,
 * which can only be chosen when the socket is made; getpeername(2) of a UDP
 * socket connected through a SOCKS5 relay, and getpeername(2)/getsockname(2) of
 * an IPv4 socket the shim made IPv6 (common/family.h). */
#include "common/engine.h"
#include "common/fdtab.h"
#include "common/sys.h"
#include "shim/init.h"

#include <errno.h>
#include <unistd.h>

HOOK int socket(int domain, int type, int protocol)
{
    int r;

    if (!shim_enter())
        return sys.socket(domain, type, protocol);
    switch (engine_gate(domain)) {
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

HOOK int close(int fd)
{
    int r;

    if (!shim_enter())
        return sys.close(fd);
    r = engine_close(fd);
    shim_leave();
    return r;
}

/* A UDP socket connected through a SOCKS5 relay is connected to the relay: the
 * program is told the peer it connected to. Others: one fdtab_get(). */
HOOK int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    int r;

    if (!(fdtab_get(fd) & (FD_ASSOC | FD_FAMILY)) || !shim_enter()) {
        if (!sys.getpeername)
            shim_resolve();
        if (!sys.getpeername) {
            errno = ENOSYS;
            return -1;
        }
        return sys.getpeername(fd, sa, len);
    }
    r = engine_getpeername(fd, sa, len);
    shim_leave();
    return r;
}

HOOK int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    int r;

    if (!(fdtab_get(fd) & FD_FAMILY) || !shim_enter()) {
        if (!sys.getsockname)
            shim_resolve();
        if (!sys.getsockname) {
            errno = ENOSYS;
            return -1;
        }
        return sys.getsockname(fd, sa, len);
    }
    r = engine_getsockname(fd, sa, len);
    shim_leave();
    return r;
}
