#include "common/v4mapped.h"

#include <string.h>

void v4mapped(void *out, const void *v4)
{
    uint8_t a[4], *o = out;

    memcpy(a, v4, 4);
    memset(o, 0, 10);
    o[10] = o[11] = 0xff;
    memcpy(o + 12, a, 4);
}

void v4mapped_sockaddr(struct sockaddr_in6 *out, const void *v4, uint16_t port)
{
    memset(out, 0, sizeof(*out));
    out->sin6_family = AF_INET6;
    out->sin6_port = port;
    v4mapped(&out->sin6_addr, v4);
}
