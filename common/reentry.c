/* Name lookups inside another call of the thread. See reentry.h. */
#include "common/reentry.h"

#include "common/log.h"
#include "common/state.h"
#include "common/sys.h"

#include <errno.h>
#include <netdb.h>
#include <unistd.h>

static void refused(const char *call, const char *name)
{
    log_warn("%s[%d] %s%s%s refused: a name lookup inside another call of the thread (a signal "
             "handler) cannot use the resolver, whose locks the interrupted call may hold",
             state.prog, (int)getpid(), call, name ? " " : "", name ? name : "");
}

int reentry_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                        struct addrinfo **res)
{
    struct addrinfo h = {.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG};
    int rc;

    if (hints)
        h = *hints;
    h.ai_flags |= AI_NUMERICHOST;
    rc = sys.getaddrinfo(node, service, &h, res);
    if (rc != EAI_NONAME || !node || (hints && (hints->ai_flags & AI_NUMERICHOST)))
        return rc;
    refused("getaddrinfo", node);
    return EAI_AGAIN;
}

int reentry_getnameinfo(const void *sa, unsigned salen, char *host, unsigned hostlen, char *serv,
                        unsigned servlen, int flags)
{
    return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST);
}

int reentry_refuse_hostent(const char *call, int *h_errnop)
{
    refused(call, NULL);
    if (h_errnop)
        *h_errnop = TRY_AGAIN;
    return EAGAIN;
}

int reentry_refuse_res(const char *call)
{
    refused(call, NULL);
    h_errno = TRY_AGAIN;
    return -1;
}
