/* syscall(2): libuv (1.44, Debian 12; node, bind9's dig) sends and receives UDP
 * batches with syscall(SYS_sendmmsg / SYS_recvmmsg), not with the libc functions,
 * and any program may connect or send that way. SYS_socket, SYS_connect,
 * SYS_sendto, SYS_sendmsg, SYS_sendmmsg, SYS_recvfrom, SYS_recvmsg and
 * SYS_recvmmsg take the hooks of the same name, SYS_close and SYS_close_range the
 * close hooks; SYS_vfork, SYS_clone with CLONE_VM and SYS_clone3 are noted
 * (common/owner.h) and made; SYS_fcntl's F_SETFL and SYS_ioctl's FIONBIO forget
 * that a socket is blocking; every other number goes to the real syscall()
 * untouched (one jump table: futex-heavy programs call it often). */
#include "common/fdtab.h"
#include "common/owner.h"
#include "common/ownfd.h"
#include "common/sys.h"
#include "shim/init.h"
#include "shim/unseen.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

HOOK long syscall(long number, ...)
{
    va_list ap;
    long a[6];

    /* Like glibc's own syscall(), take six arguments whatever the number needs. */
    va_start(ap, number);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    switch (number) {
    /* The socket calls a program can make this way take their hooks: a raw
     * system call must not be a way around the route. */
    case SYS_socket:
        return socket((int)a[0], (int)a[1], (int)a[2]);
    case SYS_connect:
        return connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
    case SYS_sendto:
        return sendto((int)a[0], (const void *)a[1], (size_t)a[2], (int)a[3],
                      (const struct sockaddr *)a[4], (socklen_t)a[5]);
    case SYS_sendmsg:
        return sendmsg((int)a[0], (const struct msghdr *)a[1], (int)a[2]);
    case SYS_recvfrom:
        return recvfrom((int)a[0], (void *)a[1], (size_t)a[2], (int)a[3], (struct sockaddr *)a[4],
                        (socklen_t *)a[5]);
    case SYS_recvmsg:
        return recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
    case SYS_sendmmsg:
        return sendmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3]);
    case SYS_recvmmsg:
        return recvmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2], (int)a[3],
                        (struct timespec *)a[4]);
    /* A background dial's socket answers these for the program (common/pending.h) */
    case SYS_getsockopt:
        return getsockopt((int)a[0], (int)a[1], (int)a[2], (void *)a[3], (socklen_t *)a[4]);
    case SYS_setsockopt:
        return setsockopt((int)a[0], (int)a[1], (int)a[2], (const void *)a[3], (socklen_t)a[4]);
    case SYS_shutdown:
        return shutdown((int)a[0], (int)a[1]);
    case SYS_poll:
        return poll((struct pollfd *)a[0], (nfds_t)a[1], (int)a[2]);
    case SYS_ppoll:
        return ppoll((struct pollfd *)a[0], (nfds_t)a[1], (const struct timespec *)a[2],
                     (const sigset_t *)a[3]);
    case SYS_epoll_ctl:
        return epoll_ctl((int)a[0], (int)a[1], (int)a[2], (struct epoll_event *)a[3]);
    /* O_NONBLOCK set or cleared: the socket is no longer known to be blocking
     * (fdtab FD_BLOCKING; shim/dup.c, shim/ioctl.c) */
    case SYS_fcntl:
        if (a[1] == F_SETFL && (fdtab_get((int)a[0]) & FD_BLOCKING))
            fdtab_and((int)a[0], ~FD_BLOCKING);
        break;
    case SYS_ioctl:
        if ((unsigned long)a[1] == FIONBIO && (fdtab_get((int)a[0]) & FD_BLOCKING))
            fdtab_and((int)a[0], ~FD_BLOCKING);
        break;
    case SYS_io_uring_setup:
        if (shim_unseen_refused("io_uring_setup", ENOSYS))
            return -1; /* as a kernel without io_uring: programs fall back to plain calls */
        break;
    /* A child that may share the program's memory (common/owner.h). clone3's
     * flags sit in memory the kernel reads: any clone3 counts. */
    case SYS_vfork:
    case SYS_clone3:
        owner_shared_child();
        break;
    case SYS_clone:
        if (a[0] & CLONE_VM)
            owner_shared_child();
        break;
    /* The shim must see its sockets go (shim/socket.c). Only those: allocators
     * (jemalloc) close their own files this way while holding their locks, and
     * the close hook's first call would load the configuration, which allocates. */
    case SYS_close:
        if (fdtab_get((int)a[0]) || ownfd_count())
            return close((int)a[0]);
        break;
    case SYS_close_range:
        if (fdtab_high() >= 0 || ownfd_count())
            return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
        break;
    }
    if (!sys.syscall)
        shim_resolve();
    if (!sys.syscall) {
        errno = ENOSYS;
        return -1;
    }
    return sys.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
