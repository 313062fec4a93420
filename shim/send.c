/* sendto(2), sendmsg(2): UDP datagrams and TCP Fast Open's MSG_FASTOPEN. */
#include "common/engine.h"
#include "common/sys.h"
#include "shim/init.h"

#include <errno.h>
#include <stddef.h>

HOOK ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                    socklen_t tolen)
{
    ssize_t r;

    /* No destination: a connected socket, already decided at connect. */
    if (!to || tolen < sizeof(sa_family_t) || !shim_enter())
        return sys.sendto(fd, buf, n, flags, to, tolen);
    switch (engine_gate(to->sa_family)) {
    case GATE_PASS:
        r = sys.sendto(fd, buf, n, flags, to, tolen);
        break;
    case GATE_DENY:
        errno = EACCES;
        r = -1;
        break;
    default:
        r = engine_sendto(fd, buf, n, flags, to, tolen);
    }
    shim_leave();
    return r;
}

HOOK ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    const struct sockaddr *to = msg ? msg->msg_name : NULL;
    ssize_t r;

    if (!to || msg->msg_namelen < sizeof(sa_family_t) || !shim_enter())
        return sys.sendmsg(fd, msg, flags);
    switch (engine_gate(to->sa_family)) {
    case GATE_PASS:
        r = sys.sendmsg(fd, msg, flags);
        break;
    case GATE_DENY:
        errno = EACCES;
        r = -1;
        break;
    default:
        r = engine_sendmsg(fd, msg, flags);
    }
    shim_leave();
    return r;
}
