/* init: the real functions, lazy initialisation, the recursion guard.
 *
 * Promise: shim_enter() returns false (call the real function) while this thread
 * is already inside the shim, and otherwise makes sure the real-symbol table and
 * the configuration are loaded, exactly once per process image, from whichever
 * hook or constructor comes first. shim_leave() undoes shim_enter()'s guard.
 */
#ifndef DIALSHIM_SHIM_INIT_H
#define DIALSHIM_SHIM_INIT_H

#include "common/sys.h"

#include <stdbool.h>

#define HOOK __attribute__((visibility("default")))

extern __thread int shim_depth __attribute__((tls_model("initial-exec")));

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
