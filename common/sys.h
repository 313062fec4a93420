/* sys: the real socket functions, as the shim found them with dlsym(RTLD_NEXT).
 *
 * Promise: code under common/ and conf/ calls no function the shim hooks by its
 * name (`make check` runs `make layercheck`, which fails the build when one of
 * their objects, or the c-ares and inih archives linked into the library, names
 * one), so every call that reaches a hook is the program's. The shim fills the
 * table before any hook acts; unit tests may fill it with the libc functions or
 * with fakes. Every required member is non-NULL once sys_init_default() or the
 * shim has run.
 */
#ifndef DIALSHIM_SYS_H
#define DIALSHIM_SYS_H

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>
#include <time.h>

/* Every real function the shim uses, once: X(member, symbol, required). shim/init.c
 * fills the table from this list with one lookup (the next definition after ours),
 * common/sys_default.c with the functions linked into a program that is not
 * preloaded. A function that is not REQUIRED may be missing from an older libc: its
 * member stays NULL and the hook that needs it fails with ENOSYS. */
#define SYS_FUNCTIONS(X)                                                                           \
    X(write, write, 1)                                                                             \
    X(socket, socket, 1)                                                                           \
    X(connect, connect, 1)                                                                         \
    X(close, close, 1)                                                                             \
    X(read, read, 1)                                                                               \
    X(recv, recv, 1)                                                                               \
    X(recvfrom, recvfrom, 1)                                                                       \
    X(recvmsg, recvmsg, 1)                                                                         \
    X(sendto, sendto, 1)                                                                           \
    X(sendmsg, sendmsg, 1)                                                                         \
    X(getaddrinfo, getaddrinfo, 1)                                                                 \
    X(freeaddrinfo, freeaddrinfo, 1)                                                               \
    X(getnameinfo, getnameinfo, 1)                                                                 \
    X(gethostbyname, gethostbyname, 1)                                                             \
    X(gethostbyname2, gethostbyname2, 1)                                                           \
    X(gethostbyname_r, gethostbyname_r, 1)                                                         \
    X(gethostbyname2_r, gethostbyname2_r, 1)                                                       \
    X(gethostbyaddr, gethostbyaddr, 1)                                                             \
    X(gethostbyaddr_r, gethostbyaddr_r, 1)                                                         \
    X(send, send, 1)                                                                               \
    X(sendmmsg, sendmmsg, 1)                                                                       \
    X(recvmmsg, recvmmsg, 1)                                                                       \
    X(readv, readv, 1)                                                                             \
    X(writev, writev, 1)                                                                           \
    X(getpeername, getpeername, 1)                                                                 \
    X(getsockname, getsockname, 1)                                                                 \
    X(syscall, syscall, 1)                                                                         \
    X(read_chk, __read_chk, 1)                                                                     \
    X(recv_chk, __recv_chk, 1)                                                                     \
    X(recvfrom_chk, __recvfrom_chk, 1)                                                             \
    X(dup, dup, 1)                                                                                 \
    X(dup2, dup2, 1)                                                                               \
    X(dup3, dup3, 1)                                                                               \
    X(fcntl, fcntl, 1)                                                                             \
    X(fcntl64, fcntl64, 0)                                                                         \
    X(close_range, close_range, 0)                                                                 \
    X(closefrom, closefrom, 0)                                                                     \
    X(getsockopt, getsockopt, 1)                                                                   \
    X(setsockopt, setsockopt, 1)                                                                   \
    X(shutdown, shutdown, 1)                                                                       \
    X(ioctl, ioctl, 1)                                                                             \
    X(poll, poll, 1)                                                                               \
    X(ppoll, ppoll, 1)                                                                             \
    X(select, select, 1)                                                                           \
    X(pselect, pselect, 1)                                                                         \
    X(poll_chk, __poll_chk, 0)                                                                     \
    X(ppoll_chk, __ppoll_chk, 0)                                                                   \
    X(epoll_ctl, epoll_ctl, 1)

struct sys_table {
    int (*socket)(int domain, int type, int protocol);
    int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
    int (*close)(int fd);
    ssize_t (*read)(int fd, void *buf, size_t n);
    ssize_t (*recv)(int fd, void *buf, size_t n, int flags);
    ssize_t (*recvfrom)(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                        socklen_t *fromlen);
    ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
    ssize_t (*sendto)(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                      socklen_t tolen);
    ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
    int (*getaddrinfo)(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
    void (*freeaddrinfo)(struct addrinfo *res);
    int (*getnameinfo)(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
                       char *serv, socklen_t servlen, int flags);
    struct hostent *(*gethostbyname)(const char *name);
    struct hostent *(*gethostbyname2)(const char *name, int af);
    int (*gethostbyname_r)(const char *name, struct hostent *ret, char *buf, size_t buflen,
                           struct hostent **result, int *h_errnop);
    int (*gethostbyname2_r)(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                            struct hostent **result, int *h_errnop);
    struct hostent *(*gethostbyaddr)(const void *addr, socklen_t len, int type);
    int (*gethostbyaddr_r)(const void *addr, socklen_t len, int type, struct hostent *ret,
                           char *buf, size_t buflen, struct hostent **result, int *h_errnop);
    /* UDP ASSOCIATE: the calls that carry datagrams of an associated socket */
    ssize_t (*send)(int fd, const void *buf, size_t n, int flags);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*sendmmsg)(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
    int (*recvmmsg)(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
                    struct timespec *timeout);
    ssize_t (*readv)(int fd, const struct iovec *iov, int n);
    ssize_t (*writev)(int fd, const struct iovec *iov, int n);
    int (*getpeername)(int fd, struct sockaddr *sa, socklen_t *len);
    int (*getsockname)(int fd, struct sockaddr *sa, socklen_t *len);
    long (*syscall)(long number, ...); /* libuv's sendmmsg/recvmmsg come this way */
    /* _FORTIFY_SOURCE builds call these instead of read, recv, recvfrom */
    ssize_t (*read_chk)(int fd, void *buf, size_t n, size_t buflen);
    ssize_t (*recv_chk)(int fd, void *buf, size_t n, size_t buflen, int flags);
    ssize_t (*recvfrom_chk)(int fd, void *buf, size_t n, size_t buflen, int flags,
                            struct sockaddr *from, socklen_t *fromlen);
    /* descriptors: the shim copies, moves and closes its own with these */
    int (*dup)(int fd);
    int (*dup2)(int oldfd, int newfd);
    int (*dup3)(int oldfd, int newfd, int flags);
    int (*fcntl)(int fd, int cmd, ...);
    int (*fcntl64)(int fd, int cmd, ...); /* _FILE_OFFSET_BITS=64 programs call this one */
    int (*close_range)(unsigned first, unsigned last, int flags);
    void (*closefrom)(int lowfd);
    /* non-blocking dials (common/pending.h): what the program asks of a pending socket */
    int (*getsockopt)(int fd, int level, int name, void *val, socklen_t *len);
    int (*setsockopt)(int fd, int level, int name, const void *val, socklen_t len);
    int (*shutdown)(int fd, int how);
    int (*ioctl)(int fd, unsigned long request, ...);
    int (*poll)(struct pollfd *fds, nfds_t n, int timeout);
    int (*ppoll)(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask);
    int (*select)(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t);
    int (*pselect)(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t,
                   const sigset_t *mask);
    int (*poll_chk)(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
    int (*ppoll_chk)(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask,
                     size_t fdslen);
    int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev);
};

/* The one table; zero until filled. */
extern struct sys_table sys;

/* Fill every member with the libc function linked into this binary (for the
 * tool and the unit tests, which are not preloaded). */
void sys_init_default(void);

#endif
