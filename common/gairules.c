#include "common/gairules.h"

#include "common/sys.h"

#include <netinet/in.h>

/* A numeric host of every family a call can end up with: it is IPv6, and glibc
 * gives an IPv4-mapped literal to an AF_INET call as IPv4. */
#define PLACEHOLDER "::ffff:0.0.0.0"

/* The family glibc looked up for H, whose placeholder list starts with a node of
 * FOUND's family. AI_ADDRCONFIG narrows AF_UNSPEC to the only family the host
 * has: IPv4 shows in FOUND; IPv6 only where an IPv4 literal is refused. */
static int looked_up(const char *service, const struct addrinfo *h, int found)
{
    struct addrinfo *list = NULL;
    int rc;

    if (h->ai_family != AF_UNSPEC || !(h->ai_flags & AI_ADDRCONFIG))
        return h->ai_family;
    if (found == AF_INET)
        return AF_INET;
    rc = sys.getaddrinfo("0.0.0.0", service, h, &list);
    if (list)
        sys.freeaddrinfo(list);
    return rc == EAI_ADDRFAMILY ? AF_INET6 : AF_UNSPEC;
}

static uint16_t port_of(const struct addrinfo *ai)
{
    if (ai->ai_family == AF_INET6)
        return ((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_port;
    return ((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_port;
}

int gai_rules(const char *service, const struct addrinfo *h, int *family, struct gai_tuple *t,
              int *nt)
{
    struct addrinfo *list = NULL;
    int rc = sys.getaddrinfo(PLACEHOLDER, service, h, &list);

    *nt = 0;
    if (rc != 0)
        return rc;
    for (const struct addrinfo *ai = list; ai && *nt < GAI_MAX_TUPLES; ai = ai->ai_next)
        t[(*nt)++] = (struct gai_tuple){ai->ai_socktype, ai->ai_protocol, port_of(ai)};
    *family = looked_up(service, h, list->ai_family);
    sys.freeaddrinfo(list);
    return 0;
}
