#include "common/addr.h"

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

uint16_t addr_port(const struct sockaddr *sa)
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

const struct sockaddr *addr_read(const struct sockaddr *sa, socklen_t len, int family,
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
