/* init: the real functions (the sys table's and the rare others), lazy
 * initialisation, the recursion guard.
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

#include <errno.h>
#include <stdbool.h>

#define HOOK __attribute__((visibility("default")))

/* Resolve the real functions (idempotent, cheap after the first call). */
void shim_resolve(void);

bool shim_enter(void);

/* The real function MEMBER (common/sys.h), the table filled first when this is the
 * process's first hook; NULL when libc has none (the hook fails with ENOSYS). */
#define SYS_REAL(member) (sys.member ? sys.member : (shim_resolve(), sys.member))

/* A hook's fallback to the real MEMBER with the hook's arguments: its result, or
 * FAIL with ENOSYS when libc has none. */
#define RETURN_REAL(member, fail, ...)                                                             \
    do {                                                                                           \
        if (!SYS_REAL(member)) {                                                                   \
            errno = ENOSYS;                                                                        \
            return fail;                                                                           \
        }                                                                                          \
        return sys.member(__VA_ARGS__);                                                            \
    } while (0)

/* A real function the sys table does not hold (rare calls the engine never
 * makes): NAME, else ALT (NULL: none), found by the table's own lookup and kept
 * in *SLOT. NULL when libc has neither. */
void *shim_real(void **slot, const char *name, const char *alt);

static inline void shim_leave(void)
{
    shim_depth--;
}

#endif
