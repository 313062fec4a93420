#include "common/dnsaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

socklen_t dns_addr_to_sockaddr(const struct dns_addr *a, uint16_t port, void *sa)
{
    if (a->family == AF_INET) {
        struct sockaddr_in *in = sa;
        memset(in, 0, sizeof(*in));
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        memcpy(&in->sin_addr, a->addr, 4);
        return sizeof(*in);
    }
    struct sockaddr_in6 *in6 = sa;
    memset(in6, 0, sizeof(*in6));
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_scope_id = a->scope_id;
    memcpy(&in6->sin6_addr, a->addr, 16);
    return sizeof(*in6);
}
