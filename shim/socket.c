/* socket(2) and close(2): the descriptor table's birth and death, and MPTCP,
 * which can only be chosen when the socket is made. */
#include "common/engine.h"
#include "common/sys.h"
#include "shim/init.h"

#include <errno.h>
#include <unistd.h>

HOOK int socket(int domain, int type, int protocol)
{
    int r;

    if (!shim_enter())
        return sys.socket(domain, type, protocol);
    switch (engine_gate(domain)) {
    case GATE_HANDLE:
        r = engine_socket(domain, type, protocol);
        break;
    default:
        /* A broken configuration denies at connect/send, where the errno means
         * something to the program; creating the socket is harmless. */
        r = sys.socket(domain, type, protocol);
    }
    shim_leave();
    return r;
}

HOOK int close(int fd)
{
    int r;

    if (!shim_enter())
        return sys.close(fd);
    r = engine_close(fd);
    shim_leave();
    return r;
}
