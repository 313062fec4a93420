/* getaddrinfo(3) and friends: the name lookups. Thin: the policy is in
 * common/netdb.c, and for a lookup made inside another call of the thread (a
 * signal handler) in common/reentry.c. */
#include "common/netdb.h"
#include "common/sys.h"
#include "shim/init.h"

#include <netdb.h>

HOOK int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                     struct addrinfo **res)
{
    int r;

    if (!shim_enter())
        return sys.getaddrinfo(node, service, hints, res);
    r = reentry_nested() ? reentry_getaddrinfo(node, service, hints, res)
                         : netdb_getaddrinfo(node, service, hints, res);
    shim_leave();
    return r;
}

HOOK void freeaddrinfo(struct addrinfo *res)
{
    if (!shim_enter()) {
        sys.freeaddrinfo(res);
        return;
    }
    if (!reentry_nested()) /* nested: whose list it is needs a lock; leave it */
        netdb_freeaddrinfo(res);
    shim_leave();
}

HOOK int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
                     char *serv, socklen_t servlen, int flags)
{
    int r;

    if (!shim_enter())
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    r = reentry_nested() ? reentry_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags)
                         : netdb_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    shim_leave();
    return r;
}

HOOK struct hostent *gethostbyname(const char *name)
{
    struct hostent *r;

    if (!shim_enter())
        return sys.gethostbyname(name);
    if (reentry_nested()) {
        h_errno = TRY_AGAIN;
        r = NULL;
        reentry_refuse_hostent("gethostbyname", NULL);
    } else {
        r = netdb_gethostbyname(name);
    }
    shim_leave();
    return r;
}

HOOK struct hostent *gethostbyname2(const char *name, int af)
{
    struct hostent *r;

    if (!shim_enter())
        return sys.gethostbyname2(name, af);
    if (reentry_nested()) {
        h_errno = TRY_AGAIN;
        r = NULL;
        reentry_refuse_hostent("gethostbyname2", NULL);
    } else {
        r = netdb_gethostbyname2(name, af);
    }
    shim_leave();
    return r;
}

HOOK int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                         struct hostent **result, int *h_errnop)
{
    int r;

    if (!shim_enter())
        return sys.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
    if (reentry_nested()) {
        *result = NULL;
        r = reentry_refuse_hostent("gethostbyname_r", h_errnop);
    } else {
        r = netdb_gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
    }
    shim_leave();
    return r;
}

HOOK int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                          struct hostent **result, int *h_errnop)
{
    int r;

    if (!shim_enter())
        return sys.gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
    if (reentry_nested()) {
        *result = NULL;
        r = reentry_refuse_hostent("gethostbyname2_r", h_errnop);
    } else {
        r = netdb_gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
    }
    shim_leave();
    return r;
}

HOOK struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
    struct hostent *r;

    if (!shim_enter())
        return sys.gethostbyaddr(addr, len, type);
    if (reentry_nested()) {
        h_errno = TRY_AGAIN;
        r = NULL;
        reentry_refuse_hostent("gethostbyaddr", NULL);
    } else {
        r = netdb_gethostbyaddr(addr, len, type);
    }
    shim_leave();
    return r;
}

HOOK int gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret, char *buf,
                         size_t buflen, struct hostent **result, int *h_errnop)
{
    int r;

    if (!shim_enter())
        return sys.gethostbyaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop);
    if (reentry_nested()) {
        *result = NULL;
        r = reentry_refuse_hostent("gethostbyaddr_r", h_errnop);
    } else {
        r = netdb_gethostbyaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop);
    }
    shim_leave();
    return r;
}
