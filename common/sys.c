/* The table, and the names c-ares and inih call libc by.
 *
 * Both libraries are linked statically into libdialshim.so, and their calls of
 * libc functions would bind at run time to the shim's own exported hooks (the
 * preloaded library comes first in the lookup order). The build renames every
 * such reference in a copy of each archive (Makefile, tools/layer.sh rewrite):
 * `close` becomes `sys_libc_close`, defined below as a call through the table.
 * A hooked name the libraries start to use without a function here fails the
 * link, never silently reaches a hook. */
#include "common/sys.h"

#include "common/reentry.h"
#include "common/nobss.h"

#include <stdarg.h>

struct sys_table sys FIRST_DATA;
__thread int shim_depth __attribute__((tls_model("initial-exec")));

#define LIBC(ret, name, params, args)                                                              \
    ret sys_libc_##name params;                                                                    \
    ret sys_libc_##name params                                                                     \
    {                                                                                              \
        return sys.name args;                                                                      \
    }

LIBC(int, socket, (int d, int t, int p), (d, t, p))
LIBC(int, connect, (int fd, const struct sockaddr *sa, socklen_t n), (fd, sa, n))
LIBC(int, close, (int fd), (fd))
LIBC(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
LIBC(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
LIBC(ssize_t, readv, (int fd, const struct iovec *v, int n), (fd, v, n))
LIBC(ssize_t, writev, (int fd, const struct iovec *v, int n), (fd, v, n))
LIBC(ssize_t, recv, (int fd, void *b, size_t n, int f), (fd, b, n, f))
LIBC(ssize_t, send, (int fd, const void *b, size_t n, int f), (fd, b, n, f))
LIBC(ssize_t, recvfrom, (int fd, void *b, size_t n, int f, struct sockaddr *sa, socklen_t *l),
     (fd, b, n, f, sa, l))
LIBC(ssize_t, sendto,
     (int fd, const void *b, size_t n, int f, const struct sockaddr *sa, socklen_t l),
     (fd, b, n, f, sa, l))
LIBC(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f))
LIBC(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f), (fd, m, f))
LIBC(int, getsockname, (int fd, struct sockaddr *sa, socklen_t *l), (fd, sa, l))
LIBC(int, getpeername, (int fd, struct sockaddr *sa, socklen_t *l), (fd, sa, l))
LIBC(int, getsockopt, (int fd, int lv, int nm, void *v, socklen_t *l), (fd, lv, nm, v, l))
LIBC(int, setsockopt, (int fd, int lv, int nm, const void *v, socklen_t l), (fd, lv, nm, v, l))
LIBC(int, shutdown, (int fd, int how), (fd, how))
LIBC(int, poll, (struct pollfd * f, nfds_t n, int t), (f, n, t))
LIBC(int, select, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t), (n, r, w, e, t))
LIBC(int, epoll_ctl, (int ep, int op, int fd, struct epoll_event *ev), (ep, op, fd, ev))

/* Like glibc's own fcntl: one pointer-sized argument whatever the command. */
int sys_libc_fcntl(int fd, int cmd, ...);
int sys_libc_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return sys.fcntl(fd, cmd, arg);
}
