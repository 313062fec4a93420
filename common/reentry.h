/* reentry: a hook called while its thread is already inside another hook.
 *
 * The shim's own calls never reach a hook (common/sys.h, `make layercheck`), so
 * such a call is the program's: a signal handler that interrupted a hook, or a
 * library the shim called into (an NSS module under the system's getaddrinfo).
 * It is routed like any other, but it may not wait for a lock or allocate: the
 * call it interrupted may hold that lock (or malloc's), and would never get to
 * release it.
 *
 * Promise: a nested call is served when the lock-free route lookup and a direct
 * dial of a literal address (or the block dialer) suffice; everything that needs
 * the locked machinery (fake addresses, names, proxies, UDP associations) is
 * refused with an errno the call allows and a log line, never passed through.
 */
#ifndef DIALSHIM_REENTRY_H
#define DIALSHIM_REENTRY_H

#include <stdbool.h>

/* How many hooks this thread is inside (the shim's guard, counted by shim_enter). */
extern __thread int shim_depth __attribute__((tls_model("initial-exec")));

/* True inside a hook entered while its thread was inside another one. */
static inline bool reentry_nested(void)
{
    return shim_depth > 1;
}

/* The name lookups, nested: literal addresses and numeric answers only (libc's,
 * with AI_NUMERICHOST / NI_NUMERICHOST: no query leaves); a name is refused with
 * EAI_AGAIN (TRY_AGAIN for the gethostby* family) and a log line. */
struct addrinfo;
struct hostent;
int reentry_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                        struct addrinfo **res);
int reentry_getnameinfo(const void *sa, unsigned salen, char *host, unsigned hostlen, char *serv,
                        unsigned servlen, int flags);
/* A gethostby* call refused: logs, sets *H_ERRNOP (when given) to TRY_AGAIN, returns EAGAIN. */
int reentry_refuse_hostent(const char *call, int *h_errnop);

/* A res_* query (or getaddrinfo_a) refused: logs, sets h_errno to TRY_AGAIN,
 * returns -1. */
int reentry_refuse_res(const char *call);

#endif
