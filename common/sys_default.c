/* The libc functions by name, for programs that are not preloaded (the dialshim
 * tool, unit tests). Never referenced by the shim, so the linker leaves this file
 * out of libdialshim.so, where these names would be the shim's own hooks (the one
 * object `make layercheck` lets name them). */
#include "common/sys.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* glibc's fortified entry points (declared by its headers only under _FORTIFY_SOURCE). */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from,
                       socklen_t *fromlen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask,
                size_t fdslen);

void sys_init_default(void)
{
#define DEFAULT(member, symbol, required) sys.member = (__typeof__(sys.member))(void *)symbol;
    SYS_FUNCTIONS(DEFAULT)
#undef DEFAULT
}
