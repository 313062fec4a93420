/* init: the real functions, lazy initialisation, the recursion guard.
 *
 * Promise: shim_enter() makes sure the real-symbol table and the configuration
 * are loaded, exactly once per process image, from whichever hook or constructor
 * comes first, and returns true: the call is the program's and goes to the
 * engine. A call from inside another hook of the same thread (a signal handler,
 * an NSS module under the real getaddrinfo) is the program's too: the engine
 * serves it without locks or refuses it (common/reentry.h). shim_enter() returns
 * false (call the real function) only for a hook reached from the loading itself.
 * shim_leave() undoes shim_enter()'s count.
 */
#ifndef DIALSHIM_SHIM_INIT_H
#define DIALSHIM_SHIM_INIT_H

#include "common/reentry.h"
#include "common/sys.h"

#include <stdbool.h>

#define HOOK __attribute__((visibility("default")))

/* Resolve the real functions (idempotent, cheap after the first call). */
void shim_resolve(void);

bool shim_enter(void);

/* The real function MEMBER (common/sys.h), the table filled first when this is the
 * process's first hook; NULL when libc has none (the hook fails with ENOSYS). */
#define SYS_REAL(member) (sys.member ? sys.member : (shim_resolve(), sys.member))

static inline void shim_leave(void)
{
    shim_depth--;
}

#endif
