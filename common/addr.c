#include "common/addr.h"

#include "common/v4mapped.h"
#include "common/hotpath.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

char *addr_format(const struct sockaddr *sa, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];

    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(buf, cap, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(buf, cap, "?");
    }
    return buf;
}

HOT_PATH uint16_t addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return 0;
}

socklen_t addr_min_len(int family)
{
    if (family == AF_INET)
        return sizeof(struct sockaddr_in);
    if (family == AF_INET6)
        return offsetof(struct sockaddr_in6, sin6_scope_id);
    return 0;
}

bool addr_is_inet(const struct sockaddr *sa, socklen_t len)
{
    socklen_t min;

    if (!sa || len < sizeof(sa_family_t))
        return false;
    min = addr_min_len(sa->sa_family);
    return min && len >= min;
}

HOT_PATH const struct sockaddr *addr_read(const struct sockaddr *sa, socklen_t len, int family,
                                          struct sockaddr_in6 *buf, socklen_t *outlen)
{
    socklen_t min = addr_min_len(family),
              full = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

    if (!sa || !min || len < min)
        return NULL;
    *outlen = len;
    if (sa->sa_family == family && len >= full)
        return sa;
    memset(buf, 0, sizeof(*buf));
    memcpy(buf, sa, len < full ? len : full);
    buf->sin6_family = (sa_family_t)family; /* sin_family sits at the same place */
    *outlen = full;
    return (const struct sockaddr *)buf;
}

socklen_t addr_len(int family)
{
    return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

bool addr_as6(const struct sockaddr *sa, struct in6_addr *a, uint16_t *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        v4mapped(a, &in->sin_addr);
        *port = in->sin_port;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        *a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
        *port = ((const struct sockaddr_in6 *)sa)->sin6_port;
        return true;
    }
    return false;
}

bool addr_same(const struct sockaddr *x, const struct sockaddr *y, bool with_port)
{
    struct in6_addr a, b;
    uint16_t pa, pb;

    return addr_as6(x, &a, &pa) && addr_as6(y, &b, &pb) && !memcmp(&a, &b, sizeof(a)) &&
           (!with_port || pa == pb);
}

bool addr_in_family(const struct sockaddr *sa, int family, struct sockaddr_storage *out,
                    socklen_t *len)
{
    struct in6_addr a;
    uint16_t port;

    if (!addr_as6(sa, &a, &port))
        return false;
    memset(out, 0, sizeof(*out));
    *len = addr_len(family);
    if (family == AF_INET6) {
        struct sockaddr_in6 *o = (struct sockaddr_in6 *)out;
        o->sin6_family = AF_INET6;
        o->sin6_addr = a;
        o->sin6_port = port;
        if (sa->sa_family == AF_INET6)
            o->sin6_scope_id = ((const struct sockaddr_in6 *)sa)->sin6_scope_id;
        return true;
    }
    if (!IN6_IS_ADDR_V4MAPPED(&a))
        return false;
    ((struct sockaddr_in *)out)->sin_family = AF_INET;
    ((struct sockaddr_in *)out)->sin_port = port;
    memcpy(&((struct sockaddr_in *)out)->sin_addr, &a.s6_addr[12], 4);
    return true;
}

void addr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}
