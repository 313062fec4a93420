/* connect(2): every AF_INET and AF_INET6 connect of the program goes through the
 * engine (TCP, UDP and the other inet protocols, common/other.h), and so does a
 * disconnect (AF_UNSPEC) of a socket the shim knows; any other AF_UNSPEC connect
 * costs one fdtab_get(). */
#include "common/engine.h"
#include "common/state.h"
#include "common/fdtab.h"
#include "common/sys.h"
#include "shim/init.h"
#include "common/hotpath.h"

#include <errno.h>

static int disconnect(int fd, const struct sockaddr *sa, socklen_t len)
{
    int r, saved = errno;

    if (!fdtab_get(fd) || !shim_enter()) {
        shim_resolve(); /* the program's first call may come before our constructor */
        return sys.connect(fd, sa, len);
    }
    r = engine_disconnect(fd, sa, len);
    shim_leave();
    if (r == 0)
        errno = saved;
    return r;
}

HOT_PATH HOOK int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    int r, saved = errno;

    /* No address at all: the kernel's EFAULT or EINVAL, even as the program's very
     * first call (the real function is looked up first). */
    if (!sa || len < sizeof(sa_family_t)) {
        if (!SYS_REAL(connect)) {
            errno = ENOSYS;
            return -1;
        }
        return sys.connect(fd, sa, len);
    }
    if (sa->sa_family == AF_UNSPEC)
        return disconnect(fd, sa, len);
    if (!shim_enter())
        return sys.connect(fd, sa, len);
    switch (state_gate(sa->sa_family)) {
    case GATE_PASS:
        r = sys.connect(fd, sa, len);
        break;
    case GATE_DENY:
        errno = EACCES;
        r = -1;
        break;
    default:
        r = engine_connect(fd, sa, len);
    }
    shim_leave();
    if (r == 0)
        errno = saved; /* our own system calls on the way must not show */
    return r;
}
