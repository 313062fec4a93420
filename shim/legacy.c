/* rcmd(3), rexec(3), ruserok(3), getnetbyname(3), getnetbyaddr(3): old libc calls
 * that connect and look names up inside libc (its internal connect and
 * getaddrinfo, its NSS "networks" lookup), where no hook sees them. They go ahead
 * only when nothing the shim would do is lost (shim/unseen.h); otherwise they
 * fail as when the host or network is unknown, with a log line. The
 * io_uring_setup refusal (shim/syscall.c) shares the decision. */
#include "common/engine.h"
#include "common/state.h"
#include "shim/init.h"
#include "shim/unseen.h"

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>

bool shim_unseen_refused(const char *call, int err)
{
    int r = 0;

    if (!shim_enter())
        return false;
    switch (state_gate(AF_INET)) {
    case GATE_HANDLE:
        r = engine_unseen(call, err);
        break;
    case GATE_DENY:
        r = err;
        break;
    default:
        break;
    }
    shim_leave();
    if (r)
        errno = r;
    return r != 0;
}

/* Refuse with ERR, or call the real NAME with the hook's arguments (ENOSYS when
 * libc has none). */
#define PASS_OR(type, name, refused_value, ...)                                                    \
    do {                                                                                           \
        static void *slot;                                                                         \
        type fn;                                                                                   \
        if (shim_unseen_refused(#name, EACCES))                                                    \
            return refused_value;                                                                  \
        if (!(fn = (type)shim_real(&slot, #name, NULL))) {                                         \
            errno = ENOSYS;                                                                        \
            return refused_value;                                                                  \
        }                                                                                          \
        return fn(__VA_ARGS__);                                                                    \
    } while (0)

typedef int (*rcmd_af_fn)(char **, unsigned short, const char *, const char *, const char *, int *,
                          sa_family_t);
typedef int (*rexec_af_fn)(char **, int, const char *, const char *, const char *, int *,
                           sa_family_t);
typedef int (*ruserok_af_fn)(const char *, int, const char *, const char *, sa_family_t);
typedef int (*iruserok_af_fn)(const void *, int, const char *, const char *, sa_family_t);
typedef struct netent *(*getnetbyname_fn)(const char *);
typedef struct netent *(*getnetbyaddr_fn)(uint32_t, int);
typedef int (*getnetbyname_r_fn)(const char *, struct netent *, char *, size_t, struct netent **,
                                 int *);
typedef int (*getnetbyaddr_r_fn)(uint32_t, int, struct netent *, char *, size_t, struct netent **,
                                 int *);

HOOK int rcmd_af(char **host, unsigned short port, const char *locuser, const char *remuser,
                 const char *cmd, int *fd2p, sa_family_t af)
{
    PASS_OR(rcmd_af_fn, rcmd_af, -1, host, port, locuser, remuser, cmd, fd2p, af);
}

HOOK int rcmd(char **host, unsigned short port, const char *locuser, const char *remuser,
              const char *cmd, int *fd2p)
{
    return rcmd_af(host, port, locuser, remuser, cmd, fd2p, AF_INET);
}

HOOK int rexec_af(char **host, int port, const char *user, const char *passwd, const char *cmd,
                  int *fd2p, sa_family_t af)
{
    PASS_OR(rexec_af_fn, rexec_af, -1, host, port, user, passwd, cmd, fd2p, af);
}

HOOK int rexec(char **host, int port, const char *user, const char *passwd, const char *cmd,
               int *fd2p)
{
    return rexec_af(host, port, user, passwd, cmd, fd2p, AF_INET);
}

HOOK int ruserok_af(const char *rhost, int superuser, const char *ruser, const char *luser,
                    sa_family_t af)
{
    PASS_OR(ruserok_af_fn, ruserok_af, -1, rhost, superuser, ruser, luser, af);
}

HOOK int ruserok(const char *rhost, int superuser, const char *ruser, const char *luser)
{
    return ruserok_af(rhost, superuser, ruser, luser, AF_INET);
}

HOOK int iruserok_af(const void *raddr, int superuser, const char *ruser, const char *luser,
                     sa_family_t af)
{
    PASS_OR(iruserok_af_fn, iruserok_af, -1, raddr, superuser, ruser, luser, af);
}

HOOK int iruserok(uint32_t raddr, int superuser, const char *ruser, const char *luser)
{
    return iruserok_af(&raddr, superuser, ruser, luser, AF_INET);
}

HOOK struct netent *getnetbyname(const char *name)
{
    PASS_OR(getnetbyname_fn, getnetbyname, NULL, name);
}

HOOK struct netent *getnetbyaddr(uint32_t net, int type)
{
    PASS_OR(getnetbyaddr_fn, getnetbyaddr, NULL, net, type);
}

/* The _r forms report through their result pointers: no network, as NSS says it. */
static int net_r_refused(struct netent **result, int *h_errnop)
{
    *result = NULL;
    *h_errnop = HOST_NOT_FOUND;
    return ENOENT;
}

HOOK int getnetbyname_r(const char *name, struct netent *ret, char *buf, size_t buflen,
                        struct netent **result, int *h_errnop)
{
    static void *slot;
    getnetbyname_r_fn fn;

    if (shim_unseen_refused("getnetbyname_r", EACCES) ||
        !(fn = (getnetbyname_r_fn)shim_real(&slot, "getnetbyname_r", NULL)))
        return net_r_refused(result, h_errnop);
    return fn(name, ret, buf, buflen, result, h_errnop);
}

HOOK int getnetbyaddr_r(uint32_t net, int type, struct netent *ret, char *buf, size_t buflen,
                        struct netent **result, int *h_errnop)
{
    static void *slot;
    getnetbyaddr_r_fn fn;

    if (shim_unseen_refused("getnetbyaddr_r", EACCES) ||
        !(fn = (getnetbyaddr_r_fn)shim_real(&slot, "getnetbyaddr_r", NULL)))
        return net_r_refused(result, h_errnop);
    return fn(net, type, ret, buf, buflen, result, h_errnop);
}
