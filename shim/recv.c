/* recv(2), recvfrom(2), recvmsg(2), recvmmsg(2), read(2), readv(2) and the _FORTIFY_SOURCE
 * twins: the receive side of SOCKS5 UDP ASSOCIATE. Only sockets with an association
 * (fdtab FD_ASSOC) reach the engine; every other descriptor costs one fdtab_get(),
 * which matters for read(2) on files and pipes. */
#include "common/engine.h"
#include "common/sys.h"
#include "shim/assoc.h"
#include "shim/init.h"

#include <errno.h>
#include <stddef.h>
#include <sys/uio.h>
#include <time.h>

/* One datagram into one buffer, through the engine. */
static ssize_t recv_one(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                        socklen_t *fromlen)
{
    struct iovec iov = {.iov_base = buf, .iov_len = n};
    struct msghdr m = {.msg_name = from && fromlen ? from : NULL,
                       .msg_namelen = from && fromlen ? *fromlen : 0,
                       .msg_iov = &iov,
                       .msg_iovlen = 1};
    ssize_t r = engine_recv_assoc(fd, &m, flags);

    if (r >= 0 && from && fromlen)
        *fromlen = m.msg_namelen;
    return r;
}

/* The bodies of recvfrom, recv and read and of their _FORTIFY_SOURCE twins, once
 * the shim is entered: one datagram through the engine, or the kernel's call when
 * the number is no socket any more. */
static ssize_t recvfrom_entered(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                                socklen_t *fromlen)
{
    ssize_t r = recv_one(fd, buf, n, flags, from, fromlen);

    if (not_ours(fd, r))
        r = sys.recvfrom(fd, buf, n, flags, from, fromlen);
    shim_leave();
    return r;
}

static ssize_t recv_entered(int fd, void *buf, size_t n, int flags)
{
    ssize_t r = recv_one(fd, buf, n, flags, NULL, NULL);

    if (not_ours(fd, r))
        r = sys.recv(fd, buf, n, flags);
    shim_leave();
    return r;
}

static ssize_t read_entered(int fd, void *buf, size_t n)
{
    ssize_t r = recv_one(fd, buf, n, 0, NULL, NULL);

    if (not_ours(fd, r))
        r = sys.read(fd, buf, n);
    shim_leave();
    return r;
}

HOOK ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                      socklen_t *fromlen)
{
    if (!assoc(fd) || !shim_enter())
        RETURN_REAL(recvfrom, -1, fd, buf, n, flags, from, fromlen);
    return recvfrom_entered(fd, buf, n, flags, from, fromlen);
}

HOOK ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    if (!assoc(fd) || !shim_enter())
        RETURN_REAL(recv, -1, fd, buf, n, flags);
    return recv_entered(fd, buf, n, flags);
}

HOOK ssize_t read(int fd, void *buf, size_t n)
{
    if (!assoc(fd) || !shim_enter())
        RETURN_REAL(read, -1, fd, buf, n);
    return read_entered(fd, buf, n);
}

HOOK ssize_t readv(int fd, const struct iovec *iov, int n)
{
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n > 0 ? (size_t)n : 0};
    ssize_t r;

    if (n <= 0 || !assoc(fd) || !shim_enter())
        RETURN_REAL(readv, -1, fd, iov, n);
    r = engine_recv_assoc(fd, &m, 0);
    if (not_ours(fd, r))
        r = sys.readv(fd, iov, n);
    shim_leave();
    return r;
}

HOOK ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    ssize_t r;

    if (!msg || !assoc(fd) || !shim_enter())
        RETURN_REAL(recvmsg, -1, fd, msg, flags);
    r = engine_recv_assoc(fd, msg, flags);
    if (not_ours(fd, r))
        r = sys.recvmsg(fd, msg, flags);
    shim_leave();
    return r;
}

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One datagram at a time, as the kernel's own loop does: MSG_WAITFORONE makes the
 * ones after the first non-blocking; the timeout is checked after each (as the
 * kernel does, see BUGS in recvmmsg(2)). */
HOOK int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
                  struct timespec *timeout)
{
    long long deadline = timeout ? now_ns() + timeout->tv_sec * 1000000000LL + timeout->tv_nsec : 0;
    unsigned int i;
    int saved = errno;

    if (!vec || !vlen || !assoc(fd) || !shim_enter())
        RETURN_REAL(recvmmsg, -1, fd, vec, vlen, flags, timeout);
    for (i = 0; i < vlen; i++) {
        int f = flags & ~MSG_WAITFORONE;
        ssize_t r;
        if (i > 0 && (flags & MSG_WAITFORONE))
            f |= MSG_DONTWAIT;
        r = engine_recv_assoc(fd, &vec[i].msg_hdr, f);
        if (r < 0)
            break;
        vec[i].msg_len = (unsigned int)r;
        if (timeout && now_ns() >= deadline) {
            i++;
            break;
        }
    }
    shim_leave();
    if (i == 0)
        return -1;
    errno = saved; /* as the kernel: the error waits for the next call */
    return (int)i;
}

/* _FORTIFY_SOURCE: the checks first (the real function fails them as glibc would). */

HOOK ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (n > buflen || !assoc(fd) || !shim_enter())
        RETURN_REAL(read_chk, -1, fd, buf, n, buflen);
    return read_entered(fd, buf, n);
}

HOOK ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    if (n > buflen || !assoc(fd) || !shim_enter())
        RETURN_REAL(recv_chk, -1, fd, buf, n, buflen, flags);
    return recv_entered(fd, buf, n, flags);
}

HOOK ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                            struct sockaddr *from, socklen_t *fromlen)
{
    if (n > buflen || !assoc(fd) || !shim_enter())
        RETURN_REAL(recvfrom_chk, -1, fd, buf, n, buflen, flags, from, fromlen);
    return recvfrom_entered(fd, buf, n, flags, from, fromlen);
}
