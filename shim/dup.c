/* dup(2), dup2(2), dup3(2), and fcntl(2)'s F_DUPFD / F_DUPFD_CLOEXEC: a copy of a
 * socket the shim knows is the same socket, and carries what the shim knows of it
 * (common/engine.c engine_dup: the fdtab bits, a share of its SOCKS5 association).
 * Descriptors the shim knows nothing about cost one fdtab_get(); dup2/dup3 look at
 * the target too, because the kernel closes it. F_SETFL also forgets that a
 * socket is blocking (fdtab FD_BLOCKING; shim/ioctl.c for FIONBIO). Every fcntl
 * command goes to the real fcntl with its argument as it came.
 */
#include "common/engine.h"
#include "common/fdtab.h"
#include "common/ownfd.h"
#include "shim/init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <unistd.h>

/* fcntl64: what programs built with _FILE_OFFSET_BITS=64 call (python3 does). */
int fcntl64(int fd, int cmd, ...);

static int real_dup(int fd)
{
    RETURN_REAL(dup, -1, fd);
}

static int real_dup3(int oldfd, int newfd, int flags, bool two)
{
    if (two)
        RETURN_REAL(dup2, -1, oldfd, newfd);
    RETURN_REAL(dup3, -1, oldfd, newfd, flags);
}

HOOK int dup(int fd)
{
    int r, saved = errno;

    if (!fdtab_get(fd) || !shim_enter())
        return real_dup(fd);
    r = real_dup(fd);
    if (r >= 0)
        r = engine_dup(fd, r, true);
    shim_leave();
    if (r >= 0)
        errno = saved;
    return r;
}

/* dup2 (TWO) and dup3: NEWFD is replaced, so what the shim knew of it goes too. */
static int dup_onto(int oldfd, int newfd, int flags, bool two)
{
    int r, err, saved = errno;

    if (ownfd_count() && oldfd != newfd)
        ownfd_evict(newfd); /* the shim's own descriptor moves out of the way first */
    if (!(fdtab_get(oldfd) | fdtab_get(newfd)) || oldfd == newfd || !shim_enter())
        return real_dup3(oldfd, newfd, flags, two);
    if ((err = engine_dup_reserve(oldfd, newfd))) {
        shim_leave();
        errno = err;
        return -1;
    }
    r = real_dup3(oldfd, newfd, flags, two);
    if (r >= 0)
        r = engine_dup(oldfd, r, false);
    shim_leave();
    if (r >= 0)
        errno = saved;
    return r;
}

HOOK int dup2(int oldfd, int newfd)
{
    return dup_onto(oldfd, newfd, 0, true);
}

HOOK int dup3(int oldfd, int newfd, int flags)
{
    return dup_onto(oldfd, newfd, flags, false);
}

/* F_DUPFD / F_DUPFD_CLOEXEC of a known socket; ARG is the lowest number wanted. */
static int dupfd(int (*f)(int, int, ...), int fd, int cmd, int arg)
{
    int r, saved = errno;

    if (!shim_enter())
        return f(fd, cmd, arg);
    r = f(fd, cmd, arg);
    if (r >= 0)
        r = engine_dup(fd, r, true);
    shim_leave();
    if (r >= 0)
        errno = saved;
    return r;
}

/* fcntl is variadic: like glibc's own, take one pointer-sized argument whatever the
 * command (an int, a pointer to struct flock, nothing) and hand it on as it came. */
#define FCNTL_BODY(name)                                                                           \
    va_list ap;                                                                                    \
    void *arg;                                                                                     \
                                                                                                   \
    va_start(ap, cmd);                                                                             \
    arg = va_arg(ap, void *);                                                                      \
    va_end(ap);                                                                                    \
    if (!SYS_REAL(name)) {                                                                         \
        errno = ENOSYS;                                                                            \
        return -1;                                                                                 \
    }                                                                                              \
    if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && fdtab_get(fd))                               \
        return dupfd(sys.name, fd, cmd, (int)(intptr_t)arg);                                       \
    if (cmd == F_SETFL && (fdtab_get(fd) & FD_BLOCKING))                                           \
        fdtab_and(fd, ~FD_BLOCKING);                                                               \
    return sys.name(fd, cmd, arg)

HOOK int fcntl(int fd, int cmd, ...)
{
    FCNTL_BODY(fcntl);
}

HOOK int fcntl64(int fd, int cmd, ...)
{
    FCNTL_BODY(fcntl64);
}
