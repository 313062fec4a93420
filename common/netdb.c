#include "common/netdb.h"

#include "common/state.h"
#include "common/fakeip.h"
#include "common/gairules.h"
#include "common/log.h"
#include "common/lookup.h"
#include "common/numeric.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* A name that takes the route, checked the way glibc checks the same call. */
static int routed_getaddrinfo(const char *node, const char *service, const struct addrinfo *h,
                              struct addrinfo **res)
{
    struct gai_tuple t[GAI_MAX_TUPLES];
    struct answer a;
    int nt, rc, family;

    if ((rc = gai_rules(service, h, &family, t, &nt)) != 0)
        return rc;
    if (!*node)
        return EAI_NONAME;
    struct query q = {
        .call = "getaddrinfo",
        .name = node,
        .family = family,
        .v4mapped = family == AF_INET6 && (h->ai_flags & AI_V4MAPPED),
        .all = (h->ai_flags & AI_ALL) != 0,
        .port = ntohs(t[0].port),
        .net = t[0].socktype == SOCK_DGRAM ? NET_UDP : NET_TCP,
    };
    if ((rc = lookup_resolve(&q, &a)) != 0)
        return rc;
    return addrinfo_build(a.addrs, a.n, a.canon, t, nt, h->ai_flags, res);
}

int netdb_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res)
{
    /* glibc's hints when the program gives none. */
    static const struct addrinfo dflt = {.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG};
    const struct addrinfo *h = hints ? hints : &dflt;
    int saved = errno, rc;

    switch (state_gate(AF_INET)) {
    case GATE_PASS:
        return sys.getaddrinfo(node, service, hints, res);
    case GATE_DENY:
        errno = EACCES;
        return EAI_SYSTEM;
    default:
        break;
    }
    if (numeric_node(node, h->ai_flags))
        return sys.getaddrinfo(node, service, hints, res);
    if (!res) {
        errno = EINVAL;
        return EAI_SYSTEM;
    }
    rc = routed_getaddrinfo(node, service, h, res);
    if (rc != EAI_SYSTEM)
        errno = saved;
    return rc;
}

/* A fake address gives its name back; it is never asked of DNS (its PTR, if
 * any, would name nobody). Everything else is the real getnameinfo's. */
int netdb_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
                      char *serv, socklen_t servlen, int flags)
{
    char name[FAKEIP_NAME_MAX];
    int rc;

    switch (state_gate(AF_INET)) {
    case GATE_PASS:
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    case GATE_DENY:
        errno = EACCES;
        return EAI_SYSTEM;
    default:
        break;
    }
    if (!host || !hostlen || (flags & NI_NUMERICHOST))
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    if (!fakeip_is_fake(sa, salen)) {
        if (!lookup_no_ptr("getnameinfo", sa, salen))
            return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
        /* A PTR query would tell the local resolver what the proxy hides. */
        if (flags & NI_NAMEREQD)
            return EAI_NONAME;
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST);
    }
    if (!fakeip_lookup(sa, salen, name, sizeof(name))) {
        if (flags & NI_NAMEREQD)
            return EAI_NONAME;
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST);
    }
    if (serv && servlen && (rc = sys.getnameinfo(sa, salen, NULL, 0, serv, servlen, flags)) != 0)
        return rc;
    if (strlen(name) >= hostlen)
        return EAI_OVERFLOW;
    memcpy(host, name, strlen(name) + 1);
    log_debug("%s[%d] getnameinfo: fake address stands for %s", state.prog, (int)getpid(), name);
    return 0;
}
