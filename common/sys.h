/* sys: the real socket functions, as the shim found them with dlsym(RTLD_NEXT).
 *
 * Promise: code under common/ reaches the network only through this table, so it
 * never re-enters the shim's own hooks. The shim fills it before any hook acts;
 * unit tests may fill it with the libc functions or with fakes. Every member is
 * always non-NULL once sys_init_default() or the shim has run.
 */
#ifndef DIALSHIM_SYS_H
#define DIALSHIM_SYS_H

#include <netdb.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>
#include <time.h>

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
};

/* The one table; zero until filled. */
extern struct sys_table sys;

/* Fill every member with the libc function linked into this binary (for the
 * tool and the unit tests, which are not preloaded). */
void sys_init_default(void);

#endif
