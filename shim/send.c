/* sendto(2), sendmsg(2), sendmmsg(2): every destination of family AF_INET,
 * AF_INET6 or AF_UNSPEC (an IPv4 datagram socket sends to the latter as to
 * AF_INET) goes to the engine: UDP datagrams, TCP Fast Open's MSG_FASTOPEN, the
 * other inet protocols.
 * send(2), write(2) and writev(2): only for sockets with a SOCKS5 association (fdtab FD_ASSOC),
 * whose datagrams to the connected peer must be wrapped; any other descriptor
 * costs one fdtab_get(). */
#include "common/engine.h"
#include "common/state.h"
#include "common/sys.h"
#include "shim/assoc.h"
#include "shim/init.h"

#include <errno.h>
#include <stddef.h>
#include <sys/uio.h>

/* A datagram without a destination on an associated socket: to its connected peer. */
static ssize_t send_assoc(int fd, const void *buf, size_t n, int flags)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = n};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

    return engine_send_assoc(fd, &m, flags);
}

HOOK ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                    socklen_t tolen)
{
    ssize_t r;

    /* No destination: a connected socket, already decided at connect (wrapped if
     * that was through a proxy). */
    if (!to || tolen < sizeof(sa_family_t)) {
        if (!assoc(fd) || !shim_enter())
            RETURN_REAL(sendto, -1, fd, buf, n, flags, to, tolen);
        r = send_assoc(fd, buf, n, flags);
        shim_leave();
        return r;
    }
    if (!shim_enter())
        return sys.sendto(fd, buf, n, flags, to, tolen);
    switch (state_gate(to->sa_family)) {
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

/* One message: the engine for a destination, the association for none. Called
 * inside the shim (depth taken). */
static ssize_t sendmsg_one(int fd, const struct msghdr *msg, int flags)
{
    const struct sockaddr *to = msg ? msg->msg_name : NULL;

    if (!to || msg->msg_namelen < sizeof(sa_family_t))
        return assoc(fd) ? engine_send_assoc(fd, msg, flags) : sys.sendmsg(fd, msg, flags);
    switch (state_gate(to->sa_family)) {
    case GATE_PASS:
        return sys.sendmsg(fd, msg, flags);
    case GATE_DENY:
        errno = EACCES;
        return -1;
    default:
        return engine_sendmsg(fd, msg, flags);
    }
}

HOOK ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    const struct sockaddr *to = msg ? msg->msg_name : NULL;
    ssize_t r;

    if ((!to || msg->msg_namelen < sizeof(sa_family_t)) && !assoc(fd))
        RETURN_REAL(sendmsg, -1, fd, msg, flags);
    if (!shim_enter())
        return sys.sendmsg(fd, msg, flags);
    r = sendmsg_one(fd, msg, flags);
    shim_leave();
    return r;
}

/* Each message is routed like a sendmsg (a batch may name many destinations);
 * messages without one on a plain socket go to the kernel as one batch. */
HOOK int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    unsigned int i;
    bool named = false;
    int saved = errno;

    for (i = 0; vec && i < vlen && !named; i++)
        named = vec[i].msg_hdr.msg_name && vec[i].msg_hdr.msg_namelen >= sizeof(sa_family_t);
    if ((!named && !assoc(fd)) || !shim_enter())
        RETURN_REAL(sendmmsg, -1, fd, vec, vlen, flags);
    if (state_gate(AF_INET) == GATE_PASS && !assoc(fd)) {
        shim_leave(); /* no configuration: one batch, as the program asked */
        return sys.sendmmsg(fd, vec, vlen, flags);
    }
    for (i = 0; i < vlen; i++) {
        ssize_t r = sendmsg_one(fd, &vec[i].msg_hdr, flags);
        if (r < 0)
            break;
        vec[i].msg_len = (unsigned int)r;
    }
    shim_leave();
    if (i == 0 && vlen > 0)
        return -1;
    errno = saved; /* as the kernel: the error waits for the next call */
    return (int)i;
}

HOOK ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    ssize_t r;

    if (!assoc(fd) || !shim_enter())
        RETURN_REAL(send, -1, fd, buf, n, flags);
    r = send_assoc(fd, buf, n, flags);
    if (not_ours(fd, r))
        r = sys.send(fd, buf, n, flags);
    shim_leave();
    return r;
}

HOOK ssize_t writev(int fd, const struct iovec *iov, int n)
{
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n > 0 ? (size_t)n : 0};
    ssize_t r;

    if (n <= 0 || !assoc(fd) || !shim_enter())
        RETURN_REAL(writev, -1, fd, iov, n);
    r = engine_send_assoc(fd, &m, 0);
    if (not_ours(fd, r))
        r = sys.writev(fd, iov, n);
    shim_leave();
    return r;
}

HOOK ssize_t write(int fd, const void *buf, size_t n)
{
    ssize_t r;

    if (!assoc(fd) || !shim_enter())
        RETURN_REAL(write, -1, fd, buf, n);
    r = send_assoc(fd, buf, n, 0);
    if (not_ours(fd, r))
        r = sys.write(fd, buf, n);
    shim_leave();
    return r;
}
