/* Put a scratch socket in the place of the program's descriptor, inside connect.
 *
 * Why: a racer that won (Happy Eyeballs), a fresh socket for a lockstep retry, or
 * a socket of the proxy's address family must become the program's fd before
 * connect returns; after it returns, epoll registrations would be lost. dup3 keeps
 * the number; we copy what the program set on the old socket (docs/architecture.md "connect"). */
#include "common/dialer/dialer.h"

#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

struct copied {
    int level, name;
    bool only_if_changed; /* buffer sizes: copy only when the program set them */
};

static const struct copied copied_opts[] = {
    {IPPROTO_TCP, TCP_NODELAY, false},  {SOL_SOCKET, SO_KEEPALIVE, false},
    {IPPROTO_TCP, TCP_KEEPIDLE, false}, {IPPROTO_TCP, TCP_KEEPINTVL, false},
    {IPPROTO_TCP, TCP_KEEPCNT, false},  {IPPROTO_TCP, TCP_USER_TIMEOUT, false},
    {SOL_SOCKET, SO_PRIORITY, false},   {SOL_SOCKET, SO_SNDBUF, true},
    {SOL_SOCKET, SO_RCVBUF, true},      {SOL_SOCKET, SO_OOBINLINE, false},
};

/* The kernel's default buffer sizes (tcp_wmem[1], tcp_rmem[1]): a program's
 * socket that still reads so never had its size set, and copying that value would
 * lock the new socket's buffer and switch off autotuning. Learnt from each fresh
 * racer socket (two getsockopt calls); reading /proc in the hand-over cost up to a
 * millisecond of the connect. -1: not seen yet. */
static int fresh_snd = -1, fresh_rcv = -1;

void dial_note_fresh(int fd)
{
    int snd, rcv;
    socklen_t len = sizeof(snd);

    if (sys.getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &len) == 0)
        __atomic_store_n(&fresh_snd, snd, __ATOMIC_RELAXED);
    len = sizeof(rcv);
    if (sys.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len) == 0)
        __atomic_store_n(&fresh_rcv, rcv, __ATOMIC_RELAXED);
}

/* The same from /proc, when no fresh socket was seen (a swap without a race). */
static int proc_default_buf(int name)
{
    const char *path =
        name == SO_SNDBUF ? "/proc/sys/net/ipv4/tcp_wmem" : "/proc/sys/net/ipv4/tcp_rmem";
    int lo = 0, mid = -1, fd = open(path, O_RDONLY | O_CLOEXEC);
    char buf[64];
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;

    if (fd >= 0)
        sys.close(fd);
    if (n > 0) {
        buf[n] = '\0';
        sscanf(buf, "%d %d", &lo, &mid);
    }
    return mid;
}

static int default_buf(int name)
{
    int v = __atomic_load_n(name == SO_SNDBUF ? &fresh_snd : &fresh_rcv, __ATOMIC_RELAXED);

    return v >= 0 ? v : proc_default_buf(name);
}

static void copy_int_opts(int from, int to)
{
    for (size_t i = 0; i < sizeof(copied_opts) / sizeof(copied_opts[0]); i++) {
        const struct copied *o = &copied_opts[i];
        int v, w;
        socklen_t len = sizeof(v);
        if (sys.getsockopt(from, o->level, o->name, &v, &len) < 0)
            continue;
        if (o->only_if_changed) {
            len = sizeof(w);
            if ((sys.getsockopt(to, o->level, o->name, &w, &len) == 0 && w == v) ||
                v == default_buf(o->name))
                continue;
            v /= 2; /* the kernel doubled what the program asked for */
        }
        sys.setsockopt(to, o->level, o->name, &v, sizeof(v));
    }
}

static void copy_struct_opts(int from, int to, int family)
{
    struct linger lg;
    struct timeval tv;
    socklen_t len = sizeof(lg);
    int tos;

    if (sys.getsockopt(from, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff)
        sys.setsockopt(to, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    len = sizeof(tv);
    if (sys.getsockopt(from, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0 && (tv.tv_sec || tv.tv_usec))
        sys.setsockopt(to, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    len = sizeof(tv);
    if (sys.getsockopt(from, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0 && (tv.tv_sec || tv.tv_usec))
        sys.setsockopt(to, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    len = sizeof(tos);
    if (family == AF_INET && sys.getsockopt(from, IPPROTO_IP, IP_TOS, &tos, &len) == 0 && tos)
        sys.setsockopt(to, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
    len = sizeof(tos);
    if (family == AF_INET6 && sys.getsockopt(from, IPPROTO_IPV6, IPV6_TCLASS, &tos, &len) == 0 &&
        tos > 0)
        sys.setsockopt(to, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
}

int dial_swap(int fd, int scratch, int old_family)
{
    int fdflags = sys.fcntl(fd, F_GETFD), flflags = sys.fcntl(fd, F_GETFL), err;

    if (fdflags < 0 || flflags < 0)
        goto fail;
    copy_int_opts(fd, scratch);
    copy_struct_opts(fd, scratch, old_family);
    if (sys.dup3(scratch, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
        goto fail;
    sys.close(scratch);
    /* File status flags belong to the open file: give the new one the program's. */
    sys.fcntl(fd, F_SETFL, flflags);
    return 0;
fail:
    err = errno;
    sys.close(scratch); /* every caller has let go of it: nobody else would close it */
    return err;
}
