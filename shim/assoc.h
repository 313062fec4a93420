/* assoc: what the send and receive hooks (shim/send.c, shim/recv.c) share about
 * sockets with a SOCKS5 UDP association (fdtab FD_ASSOC), whose datagrams without
 * a destination the engine wraps and unwraps.
 *
 * A TCP socket whose dial runs in the background (fdtab FD_PENDING,
 * common/pending.h) takes the same way: the engine answers EAGAIN.
 *
 * Promise: assoc() is one fdtab_get(), no lock, no system call: the cost every
 * read(2) and write(2) on a file or pipe pays.
 */
#ifndef DIALSHIM_SHIM_ASSOC_H
#define DIALSHIM_SHIM_ASSOC_H

#include "common/engine.h"
#include "common/fdtab.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>

static inline bool assoc(int fd)
{
    return __builtin_expect((fdtab_get(fd) & (FD_ASSOC | FD_DNS | FD_PENDING)) != 0, 0);
}

/* The number was reused for something that is no socket (the engine's call
 * returned R, ENOTSOCK): forget it, and the hook asks the kernel. */
static inline bool not_ours(int fd, ssize_t r)
{
    if (r >= 0 || errno != ENOTSOCK)
        return false;
    engine_forget(fd);
    return true;
}

#endif
