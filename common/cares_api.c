#include "common/cares_api.h"

#ifdef DIALSHIM_CARES_SHARED
#include "common/log.h"

#include <dlfcn.h>

#ifndef DIALSHIM_CARES_SONAME
#define DIALSHIM_CARES_SONAME "libcares.so.2"
#endif

struct cares_api cares_api;

/* RTLD_DEEPBIND: the copy loaded here resolves its own undefined names (socket,
 * connect, close, ...) in its dependencies, libc, before the global scope where
 * the shim's hooks come first. If the program already has libcares loaded, the
 * handle is the program's copy, bound as the program's; our channels still reach
 * the network only through the socket functions (common/cares.c), and anything
 * else that copy calls is a nested call of the hooks (common/reentry.h).
 * RTLD_NODELETE: the pointers stay valid for the life of the process. */
int cares_api_load(void)
{
    void *h = dlopen(DIALSHIM_CARES_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND | RTLD_NODELETE);

    if (!h) {
        log_error("dns: cannot load %s: %s", DIALSHIM_CARES_SONAME, dlerror());
        return -1;
    }
#define CARES_LOAD(f)                                                                              \
    if (!(cares_api.f = (__typeof__(cares_api.f))dlsym(h, #f))) {                                  \
        log_error("dns: %s has no %s", DIALSHIM_CARES_SONAME, #f);                                 \
        return -1;                                                                                 \
    }
    CARES_FUNCTIONS(CARES_LOAD)
#undef CARES_LOAD
    return 0;
}
#endif
