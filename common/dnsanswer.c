#include "common/dnsanswer.h"

#include <netinet/in.h>
#include <string.h>
#include <strings.h>

/* Length without one trailing dot: "a.example." and "a.example" are one name. */
static size_t bare_len(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

bool dns_name_eq(const char *a, const char *b)
{
    size_t la = bare_len(a), lb = bare_len(b);
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Worth a lookup: 1-253 characters besides a trailing dot, labels of 1-63, no
 * blanks or control characters (they could never be in a reply). */
bool dns_name_valid(const char *s)
{
    size_t n = s ? bare_len(s) : 0, label = 0;

    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch == 0x7f)
            return false;
        if (ch != '.')
            label++;
        else if (label == 0)
            return false;
        else
            label = 0;
        if (label > 63)
            return false;
    }
    return label > 0;
}

void dns_answer_reset(struct dns_answer *out)
{
    out->n = 0;
    out->canonname[0] = '\0';
    out->ttl = 0;
    out->source = DNS_SRC_DNS;
}

void dns_answer_set_canon(struct dns_answer *out, const char *name)
{
    size_t n = bare_len(name);
    if (n >= sizeof(out->canonname))
        n = sizeof(out->canonname) - 1;
    memcpy(out->canonname, name, n);
    out->canonname[n] = '\0';
}

/* Appends unless already there or full; false only when full. */
bool dns_answer_add(struct dns_answer *out, int family, const void *addr, uint32_t scope,
                    uint32_t ttl)
{
    size_t alen = family == AF_INET ? 4 : 16;

    for (size_t i = 0; i < out->n; i++)
        if (out->addrs[i].family == family && out->addrs[i].scope_id == scope &&
            memcmp(out->addrs[i].addr, addr, alen) == 0)
            return true;
    if (out->n >= DNS_MAX_ADDRS)
        return false;
    struct dns_addr *a = &out->addrs[out->n++];
    memset(a, 0, sizeof(*a));
    a->family = family;
    memcpy(a->addr, addr, alen);
    a->scope_id = scope;
    a->ttl = ttl;
    return true;
}
