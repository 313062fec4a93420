#include "common/numeric.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

int numeric_host(const char *name, uint8_t addr[16], const char **scope)
{
    char buf[INET6_ADDRSTRLEN];
    struct in_addr a4;
    const char *pct = strchr(name, '%');
    size_t len = pct ? (size_t)(pct - name) : strlen(name);

    *scope = NULL;
    if (inet_aton(name, &a4)) {
        memcpy(addr, &a4, 4);
        return AF_INET;
    }
    if (len >= sizeof(buf))
        return 0;
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, addr) != 1)
        return 0;
    *scope = pct ? pct + 1 : NULL;
    return AF_INET6;
}

bool numeric_node(const char *node, int flags)
{
    uint8_t addr[16];
    const char *scope;

    return !node || (flags & AI_NUMERICHOST) || numeric_host(node, addr, &scope) != 0;
}
