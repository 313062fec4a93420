/* cares_api: how the engine reaches c-ares, linked in or loaded at run time.
 *
 * The default build links a copy of libcares.a whose calls of hooked names are
 * renamed (Makefile, tools/layer.sh): CA(f) is f. The package build
 * (`make CARES=shared`, defining DIALSHIM_CARES_SHARED) uses the system's
 * libcares.so, so that its security updates reach the shim, and CA(f) is a
 * pointer filled by cares_api_load() (docs/architecture.md "c-ares, static or
 * shared").
 *
 * Promise: cares_api_load() runs once, from cares_ready()'s pthread_once, on the
 * first lookup through a c-ares resolver (never at start-up: a program that
 * never asks pays nothing for it). It opens the library with RTLD_DEEPBIND, so
 * the copy it loads binds its own libc calls to libc, never to the shim's hooks;
 * returns 0, or -1 with a log line when the library or one of its functions is
 * missing (lookups then fail as with an uninitialised c-ares: EAI_FAIL).
 */
#ifndef DIALSHIM_CARES_API_H
#define DIALSHIM_CARES_API_H

#include <ares.h>

#ifdef DIALSHIM_CARES_SHARED
#define CARES_FUNCTIONS(X)                                                                         \
    X(ares_library_init)                                                                           \
    X(ares_init_options)                                                                           \
    X(ares_set_socket_functions)                                                                   \
    X(ares_set_servers_ports)                                                                      \
    X(ares_get_servers_ports)                                                                      \
    X(ares_free_data)                                                                              \
    X(ares_getsock)                                                                                \
    X(ares_timeout)                                                                                \
    X(ares_process_fd)                                                                             \
    X(ares_cancel)                                                                                 \
    X(ares_destroy)                                                                                \
    X(ares_getaddrinfo)                                                                            \
    X(ares_freeaddrinfo)

#define CARES_MEMBER(f) __typeof__(f) *f;
struct cares_api {
    CARES_FUNCTIONS(CARES_MEMBER)
};
#undef CARES_MEMBER

extern struct cares_api cares_api;
#define CA(f) (cares_api.f)
int cares_api_load(void);
#else
#define CA(f) f
static inline int cares_api_load(void)
{
    return 0;
}
#endif

#endif
