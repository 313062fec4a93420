/* ioctl(2): FIONBIO sets or clears O_NONBLOCK as fcntl(F_SETFL) does (Python's
 * setblocking and settimeout use it): the socket is no longer known to be
 * blocking (fdtab FD_BLOCKING). Every request goes to the real ioctl with its
 * argument as it came; only the number is looked at.
 */
#include "common/fdtab.h"
#include "shim/init.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* Like glibc's own: one pointer-sized argument whatever the request. */
HOOK int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (request == FIONBIO && (fdtab_get(fd) & FD_BLOCKING))
        fdtab_and(fd, ~FD_BLOCKING);
    if (!SYS_REAL(ioctl)) {
        errno = ENOSYS;
        return -1;
    }
    return sys.ioctl(fd, request, arg);
}
