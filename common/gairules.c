#include "common/gairules.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

/* glibc 2.36 accepts these and nothing else (0x300: the old AI_IDN flags). */
#define KNOWN_FLAGS                                                                                \
    (AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL |           \
     AI_NUMERICSERV | AI_IDN | AI_CANONIDN | 0x300)

/* glibc's gaih_inet_typeproto table: which socket types a lookup yields. */
struct typeproto {
    int socktype;
    int protocol;
    bool any_proto; /* raw: takes the hints' protocol */
    bool no_serv;   /* raw: has no ports */
    bool dflt;      /* returned when the hints name neither type nor protocol */
    const char *name;
};

static const struct typeproto protos[] = {
    {SOCK_STREAM, IPPROTO_TCP, false, false, true, "tcp"},
    {SOCK_DGRAM, IPPROTO_UDP, false, false, true, "udp"},
    {SOCK_DCCP, IPPROTO_DCCP, false, false, false, "dccp"},
    {SOCK_DGRAM, IPPROTO_UDPLITE, false, false, false, "udplite"},
    {SOCK_STREAM, IPPROTO_SCTP, false, false, false, "sctp"},
    {SOCK_SEQPACKET, IPPROTO_SCTP, false, false, false, "sctp"},
    {SOCK_RAW, 0, true, true, true, "raw"},
};

#define NPROTOS ((int)(sizeof(protos) / sizeof(protos[0])))

static bool tp_matches(const struct typeproto *tp, const struct addrinfo *h)
{
    return (h->ai_socktype == 0 || h->ai_socktype == tp->socktype) &&
           (h->ai_protocol == 0 || tp->any_proto || h->ai_protocol == tp->protocol);
}

static struct gai_tuple tuple_of(const struct typeproto *tp, const struct addrinfo *h,
                                 uint16_t port)
{
    return (struct gai_tuple){tp->socktype, tp->any_proto ? h->ai_protocol : tp->protocol, port};
}

/* /etc/services through NSS (files only: no network). The reentrant form: the
 * plain one shares a static buffer with every other thread. */
static bool service_port(const char *service, const char *proto, uint16_t *port)
{
    struct servent se, *r = NULL;
    char buf[1024];

    if (getservbyname_r(service, proto, &se, buf, sizeof(buf), &r) != 0 || !r)
        return false;
    *port = (uint16_t)r->s_port;
    return true;
}

static bool numeric_service(const char *service)
{
    char *end;

    strtoul(service, &end, 10);
    return *end == '\0';
}

/* A service name for every type the hints allow (FIRST: the one they name). */
static int named_tuples(const char *service, const struct typeproto *first,
                        const struct addrinfo *h, struct gai_tuple *out, int *n)
{
    uint16_t port;

    if (first) {
        if (!service_port(service, first->name, &port))
            return EAI_SERVICE;
        out[(*n)++] = tuple_of(first, h, port);
        return 0;
    }
    for (int i = 0; i < NPROTOS && *n < GAI_MAX_TUPLES; i++)
        if (!protos[i].no_serv && tp_matches(&protos[i], h) &&
            service_port(service, protos[i].name, &port))
            out[(*n)++] = tuple_of(&protos[i], h, port);
    return *n ? 0 : EAI_SERVICE;
}

/* The (socktype, protocol, port) list glibc would make for SERVICE and the
 * hints: one entry per type the hints allow, in glibc's order. */
static int service_tuples(const char *service, const struct addrinfo *h, struct gai_tuple *out,
                          int *n)
{
    const struct typeproto *first = NULL;
    uint16_t port = 0;

    *n = 0;
    if (h->ai_socktype || h->ai_protocol) {
        for (int i = 0; i < NPROTOS && !first; i++)
            if (tp_matches(&protos[i], h))
                first = &protos[i];
        if (!first)
            return h->ai_socktype ? EAI_SOCKTYPE : EAI_SERVICE;
    }
    if (service && *service) {
        char *end;
        /* As glibc: an int, so "-1" and 2^32-1 count as names, 65536 as port 0. */
        int num = (int)strtoul(service, &end, 10);

        if (first && first->no_serv)
            return EAI_SERVICE;
        if (*end || num < 0)
            return named_tuples(service, first, h, out, n);
        port = htons((uint16_t)num);
    }
    if (first) {
        out[(*n)++] = tuple_of(first, h, port);
        return 0;
    }
    for (int i = 0; i < NPROTOS; i++)
        if (protos[i].dflt)
            out[(*n)++] = tuple_of(&protos[i], h, port);
    return 0;
}

/* Which families have an address other than loopback, as glibc's __check_pf.
 * Unknown (getifaddrs failed): both, so nothing is narrowed by mistake. */
static void configured_families(bool *v4, bool *v6)
{
    struct ifaddrs *list, *p;

    *v4 = *v6 = false;
    if (getifaddrs(&list) != 0) {
        *v4 = *v6 = true;
        return;
    }
    for (p = list; p; p = p->ifa_next) {
        if (!p->ifa_addr)
            continue;
        if (p->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *s = (const void *)p->ifa_addr;
            if ((ntohl(s->sin_addr.s_addr) >> 24) != 127)
                *v4 = true;
        } else if (p->ifa_addr->sa_family == AF_INET6) {
            const struct sockaddr_in6 *s = (const void *)p->ifa_addr;
            if (!IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
                *v6 = true;
        }
    }
    freeifaddrs(list);
}

/* glibc's rule: AF_UNSPEC narrows to the only family present (none present:
 * unchanged); a family that is absent can have no answer. */
static int addrconfig(int *family)
{
    bool v4, v6;

    configured_families(&v4, &v6);
    if (*family == AF_UNSPEC) {
        if (v4 != v6)
            *family = v4 ? AF_INET : AF_INET6;
        return 0;
    }
    if ((*family == AF_INET && !v4) || (*family == AF_INET6 && !v6))
        return EAI_NONAME;
    return 0;
}

int gai_rules(const char *service, const struct addrinfo *h, int *family, struct gai_tuple *t,
              int *nt)
{
    int rc;

    *family = h->ai_family;
    /* glibc's order of checks, so a call with two faults gets glibc's code */
    if (h->ai_flags & ~KNOWN_FLAGS)
        return EAI_BADFLAGS;
    if ((h->ai_flags & AI_NUMERICSERV) && service && *service && !numeric_service(service))
        return EAI_NONAME;
    if ((h->ai_flags & AI_ADDRCONFIG) && (rc = addrconfig(family)) != 0)
        return rc;
    if (*family != AF_UNSPEC && *family != AF_INET && *family != AF_INET6)
        return EAI_FAMILY;
    return service_tuples(service, h, t, nt);
}
