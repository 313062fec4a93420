#include "common/family.h"

#include "common/fdtab.h"
#include "common/nobss.h"
#include "common/sys.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK      1024
#define MAX_CHUNKS 1024 /* descriptors below 1 Mi; above, the kernel's answer stands */

static struct sockaddr_in *chunks[MAX_CHUNKS] NOBSS;

/* The slot of FD, made on demand when MAKE. */
static struct sockaddr_in *slot(int fd, bool make)
{
    struct sockaddr_in *c, *fresh;
    unsigned i = (unsigned)fd / CHUNK;

    if (fd < 0 || i >= MAX_CHUNKS)
        return NULL;
    c = __atomic_load_n(&chunks[i], __ATOMIC_ACQUIRE);
    if (!c && make) {
        if (!(fresh = calloc(CHUNK, sizeof(*fresh))))
            return NULL;
        /* two threads may race here: one chunk wins, the other is freed */
        if (__atomic_compare_exchange_n(&chunks[i], &c, fresh, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            c = fresh;
        else
            free(fresh);
    }
    return c ? &c[fd % CHUNK] : NULL;
}

bool family_keep(int fd, const struct sockaddr *peer)
{
    struct sockaddr_in *s = slot(fd, true);

    if (!s || peer->sa_family != AF_INET)
        return false;
    memcpy(s, peer, sizeof(*s));
    fdtab_or(fd, FD_FAMILY);
    return true;
}

void family_dup(int oldfd, int newfd)
{
    struct sockaddr_in *from = slot(oldfd, false), *to = slot(newfd, true);

    if (from && to)
        *to = *from;
    else
        fdtab_and(newfd, ~FD_FAMILY);
}

/* Copy IN into the program's buffer the way the kernel does: truncated to the
 * buffer, *LEN set to the full size. */
static int give(const struct sockaddr_in *in, struct sockaddr *sa, socklen_t *len)
{
    if (!sa || !len) {
        errno = EFAULT;
        return -1;
    }
    memcpy(sa, in, *len < sizeof(*in) ? *len : sizeof(*in));
    *len = sizeof(*in);
    return 0;
}

int family_peer(int fd, struct sockaddr *sa, socklen_t *len)
{
    struct sockaddr_in6 real;
    socklen_t rl = sizeof(real);
    struct sockaddr_in *s = slot(fd, false);

    /* a socket no longer connected says so, as the kernel would */
    if (sys.getpeername(fd, (struct sockaddr *)&real, &rl) < 0)
        return -1;
    if (!s || real.sin6_family != AF_INET6)
        return sys.getpeername(fd, sa, len);
    return give(s, sa, len);
}

int family_local(int fd, struct sockaddr *sa, socklen_t *len)
{
    struct sockaddr_in6 real;
    struct sockaddr_in in = {.sin_family = AF_INET};
    socklen_t rl = sizeof(real);

    if (sys.getsockname(fd, (struct sockaddr *)&real, &rl) < 0)
        return -1;
    if (real.sin6_family != AF_INET6)
        return sys.getsockname(fd, sa, len);
    in.sin_port = real.sin6_port;
    return give(&in, sa, len);
}
