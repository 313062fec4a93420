/* The libc functions by name, for programs that are not preloaded (the dialshim
 * tool, unit tests). Never referenced by the shim, so the linker leaves this file
 * out of libdialshim.so, where these names would be the shim's own hooks. */
#include "common/sys.h"

#include <sys/uio.h>
#include <unistd.h>

/* glibc's fortified entry points (declared by its headers only under _FORTIFY_SOURCE). */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from,
                       socklen_t *fromlen);

void sys_init_default(void)
{
    sys.socket = socket;
    sys.connect = connect;
    sys.close = close;
    sys.read = read;
    sys.recv = recv;
    sys.recvfrom = recvfrom;
    sys.recvmsg = recvmsg;
    sys.sendto = sendto;
    sys.sendmsg = sendmsg;
    sys.getaddrinfo = getaddrinfo;
    sys.freeaddrinfo = freeaddrinfo;
    sys.getnameinfo = getnameinfo;
    sys.gethostbyname = gethostbyname;
    sys.gethostbyname2 = gethostbyname2;
    sys.gethostbyname_r = gethostbyname_r;
    sys.gethostbyname2_r = gethostbyname2_r;
    sys.gethostbyaddr = gethostbyaddr;
    sys.gethostbyaddr_r = gethostbyaddr_r;
    sys.send = send;
    sys.write = write;
    sys.sendmmsg = sendmmsg;
    sys.recvmmsg = recvmmsg;
    sys.readv = readv;
    sys.writev = writev;
    sys.getpeername = getpeername;
    sys.getsockname = getsockname;
    sys.syscall = syscall;
    sys.read_chk = __read_chk;
    sys.recv_chk = __recv_chk;
    sys.recvfrom_chk = __recvfrom_chk;
}
