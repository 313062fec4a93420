#include "common/fakerange.h"
#include "common/hotpath.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Read without a lock by fakeip_is_fake(): written only by fakeip_init()/free(). */
static struct {
    bool on4, on6;
    uint32_t net4, mask4; /* host order */
    uint8_t net6[16];
    uint8_t prefix6;
} range;

void fakerange_set(const uint8_t *b4, int p4, const uint8_t *b6, int p6)
{
    uint32_t net4 = 0;

    range.on4 = b4 != NULL;
    range.mask4 = p4 == 0 ? 0 : 0xffffffffu << (32 - p4);
    if (b4)
        memcpy(&net4, b4, 4);
    range.net4 = ntohl(net4);
    range.on6 = b6 != NULL;
    memset(range.net6, 0, 16);
    if (b6)
        memcpy(range.net6, b6, 16);
    range.prefix6 = (uint8_t)p6;
}

static bool in_range4(const void *addr)
{
    uint32_t a;
    memcpy(&a, addr, 4);
    return range.on4 && (ntohl(a) & range.mask4) == range.net4;
}

static bool in_range6(const uint8_t *a)
{
    int p = range.prefix6, whole = p / 8, rest = p % 8;

    if (!range.on6 || memcmp(a, range.net6, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & m) == range.net6[whole];
}

HOT_PATH bool fakeip_is_fake_addr(int family, const void *addr)
{
    if (family == AF_INET)
        return in_range4(addr);
    if (family != AF_INET6)
        return false;
    /* A program that asked for AI_V4MAPPED connects to ::ffff:198.18.x.y. */
    if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr))
        return in_range4((const uint8_t *)addr + 12);
    return in_range6(addr);
}

/* The family and address bytes of SA, or false when it is too short or not IP. */
HOT_PATH bool fakerange_sockaddr(const struct sockaddr *sa, socklen_t len, int *family,
                                 const void **addr)
{
    if (!sa || len < (socklen_t)sizeof(sa_family_t))
        return false;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        *family = AF_INET;
        *addr = &((const struct sockaddr_in *)sa)->sin_addr;
        return true;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        *family = AF_INET6;
        *addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return true;
    }
    return false;
}

HOT_PATH bool fakeip_is_fake(const struct sockaddr *sa, socklen_t len)
{
    int family;
    const void *addr;
    return fakerange_sockaddr(sa, len, &family, &addr) && fakeip_is_fake_addr(family, addr);
}
