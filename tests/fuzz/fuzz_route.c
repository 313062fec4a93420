/* libFuzzer: route rules. A rule is parsed from the input with conf_parse_route();
 * when it parses, it is matched against destinations built from the rest of the input
 * and route_rule_matches() is compared with a plain reference matcher written here
 * from dialshim.ini(5) and conf.h (bit-by-bit CIDR, an IPv4 rule also matching an IPv4-mapped
 * IPv6 destination; exact names or strictly-below for "*.", case-insensitive, one
 * trailing dot ignored; port ranges; tcp/udp). A rule always matches its own network
 * address / its own name.
 *
 * Input: RULE TEXT \0 then destinations, each: kind(1) addr(16) port(2) net(1) name\0
 * (kind % 4: 0 none, 1 IPv4, 2 IPv6, 3 IPv4-mapped IPv6). */
#include "common/route.h"
#include "conf/conf.h"
#include "conf/values.h"
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>

static bool bit(const uint8_t *a, int i)
{
    return (a[i / 8] >> (7 - i % 8)) & 1;
}

static bool ref_cidr(const struct conf_rule *r, const struct dest *d)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const uint8_t *a;

    if (!d->sa)
        return false;
    if (d->sa->sa_family == AF_INET) {
        if (r->m.cidr.family != AF_INET)
            return false;
        a = (const uint8_t *)&((const struct sockaddr_in *)d->sa)->sin_addr;
    } else if (d->sa->sa_family == AF_INET6) {
        a = ((const struct sockaddr_in6 *)d->sa)->sin6_addr.s6_addr;
        if (r->m.cidr.family == AF_INET) {
            if (memcmp(a, v4mapped, 12) != 0)
                return false;
            a += 12;
        }
    } else {
        return false;
    }
    for (int i = 0; i < r->m.cidr.prefix; i++)
        if (bit(a, i) != bit(r->m.cidr.addr, i))
            return false;
    return true;
}

static bool ref_domain(const struct conf_rule *r, const char *name)
{
    size_t len, m;
    char *n, want[sizeof r->m.domain.name];
    bool res;

    if (!name)
        return false;
    len = strlen(name);
    n = fuzz_str((const uint8_t *)name, len);
    for (size_t i = 0; i < len; i++)
        n[i] = (char)tolower((unsigned char)n[i]);
    if (len && n[len - 1] == '.')
        n[--len] = '\0';
    snprintf(want, sizeof want, "%s", r->m.domain.name);
    for (char *p = want; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    m = strlen(want);
    if (!r->m.domain.suffix)
        res = strcmp(n, want) == 0;
    else /* strictly below: "x.NAME" */
        res = len > m && n[len - m - 1] == '.' && strcmp(n + len - m, want) == 0;
    free(n);
    return res;
}

static bool ref_matches(const struct conf_rule *r, const struct dest *d)
{
    switch (r->kind) {
    case MATCH_CIDR:
        return ref_cidr(r, d);
    case MATCH_DOMAIN:
        return ref_domain(r, d->name);
    case MATCH_PORT:
        return d->port >= r->m.port.lo && d->port <= r->m.port.hi;
    case MATCH_NETWORK:
        return d->net == r->m.network;
    }
    FUZZ_CHECK(0, "rule kind %d", (int)r->kind);
    return false;
}

static void check_rule(const struct conf_rule *r)
{
    FUZZ_CHECK(strnlen(r->text, sizeof r->text) < sizeof r->text, "rule text unterminated");
    switch (r->kind) {
    case MATCH_CIDR: {
        int bits = r->m.cidr.family == AF_INET ? 32 : 128;
        FUZZ_CHECK(r->m.cidr.family == AF_INET || r->m.cidr.family == AF_INET6, "cidr family %d",
                   r->m.cidr.family);
        FUZZ_CHECK(r->m.cidr.prefix <= bits, "cidr prefix %u", r->m.cidr.prefix);
        for (int i = r->m.cidr.prefix; i < bits; i++)
            FUZZ_CHECK(!bit(r->m.cidr.addr, i), "cidr host bit %d set (\"%s\")", i, r->text);
        break;
    }
    case MATCH_DOMAIN: {
        size_t n = strnlen(r->m.domain.name, sizeof r->m.domain.name);
        FUZZ_CHECK(n > 0 && n < sizeof r->m.domain.name, "domain name length %zu", n);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(!isupper((unsigned char)r->m.domain.name[i]),
                       "domain name not lower case: %s", r->m.domain.name);
        FUZZ_CHECK(r->m.domain.name[n - 1] != '.', "domain name with a trailing dot: %s",
                   r->m.domain.name);
        break;
    }
    case MATCH_PORT:
        FUZZ_CHECK(r->m.port.lo <= r->m.port.hi, "ports %u-%u", r->m.port.lo, r->m.port.hi);
        break;
    case MATCH_NETWORK:
        FUZZ_CHECK(r->m.network == NET_TCP || r->m.network == NET_UDP, "network %d",
                   (int)r->m.network);
        break;
    default:
        FUZZ_CHECK(0, "rule kind %d", (int)r->kind);
    }
}

static void compare(const struct conf_rule *r, const struct dest *d)
{
    bool got = route_rule_matches(r, d), want = ref_matches(r, d);
    char a[INET6_ADDRSTRLEN] = "-";

    if (d->sa)
        inet_ntop(d->sa->sa_family,
                  d->sa->sa_family == AF_INET
                      ? (const void *)&((const struct sockaddr_in *)d->sa)->sin_addr
                      : (const void *)&((const struct sockaddr_in6 *)d->sa)->sin6_addr,
                  a, sizeof a);
    FUZZ_CHECK(got == want, "rule \"%s\" vs addr %s name \"%s\" port %u net %d: %d, reference %d",
               r->text, a, d->name ? d->name : "(null)", d->port, (int)d->net, got, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct conf_rule *rule;
    char *text, *dialer, why[256];
    int r;

    if (size > 4096)
        return 0;
    text = fuzz_take_str(&in);
    rule = malloc(sizeof *rule);
    dialer = malloc(CONF_NAME_MAX); /* conf.h: a dialer name fits CONF_NAME_MAX */
    memset(why, 0, sizeof why);
    memset(why + 128, 'W', 128); /* conf.h: WHY holds at least 128 bytes: write no more */
    r = conf_parse_route(text, rule, dialer, why);
    FUZZ_CHECK(strnlen(why + 128, 128) == 128 && why[127 + 128] == 'W' && memchr(why, 0, 128),
               "why overflows 128 bytes or is unterminated for \"%.100s\"", text);
    if (r < 0) {
        FUZZ_CHECK(why[0], "refused \"%.100s\" without a reason", text);
        goto out;
    }
    FUZZ_CHECK(r == 0, "conf_parse_route returned %d", r);
    FUZZ_CHECK(dialer[0] && strnlen(dialer, CONF_NAME_MAX) < CONF_NAME_MAX, "dialer name");
    check_rule(rule);

    /* its own network address / name */
    {
        struct sockaddr_storage ss = {0};
        struct dest d = {.port = 1, .net = NET_TCP};
        char below[300];
        if (rule->kind == MATCH_CIDR) {
            if (rule->m.cidr.family == AF_INET) {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
                s4->sin_family = AF_INET;
                memcpy(&s4->sin_addr, rule->m.cidr.addr, 4);
            } else {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
                s6->sin6_family = AF_INET6;
                memcpy(&s6->sin6_addr, rule->m.cidr.addr, 16);
            }
            d.sa = (struct sockaddr *)&ss;
            FUZZ_CHECK(route_rule_matches(rule, &d), "\"%s\" misses its own network", rule->text);
        } else if (rule->kind == MATCH_DOMAIN) {
            snprintf(below, sizeof below, "x.%s", rule->m.domain.name);
            d.name = rule->m.domain.suffix ? below : rule->m.domain.name;
            FUZZ_CHECK(route_rule_matches(rule, &d), "\"%s\" misses %s", rule->text, d.name);
        }
    }

    for (int k = 0; k < 16 && in.n; k++) {
        struct sockaddr_storage ss = {0};
        struct dest d;
        uint8_t kind = fuzz_u8(&in) % 4, ip[16];
        for (int i = 0; i < 16; i++)
            ip[i] = fuzz_u8(&in);
        d.port = fuzz_u16(&in);
        d.net = (fuzz_u8(&in) & 1) ? NET_UDP : NET_TCP;
        char *name = fuzz_take_str(&in);
        d.name = name[0] ? name : NULL;
        d.sa = NULL;
        if (kind == 1) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            s4->sin_family = AF_INET;
            s4->sin_port = htons(d.port);
            memcpy(&s4->sin_addr, ip, 4);
            d.sa = (struct sockaddr *)&ss;
        } else if (kind >= 2) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(d.port);
            memcpy(&s6->sin6_addr, ip, 16);
            if (kind == 3) {
                memset(&s6->sin6_addr, 0, 10);
                s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
            }
            d.sa = (struct sockaddr *)&ss;
        }
        compare(rule, &d);
        /* the same destination near the rule's own network: the interesting bits */
        if (rule->kind == MATCH_CIDR && d.sa) {
            uint8_t *a = d.sa->sa_family == AF_INET
                             ? (uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr
                             : ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
            size_t alen = d.sa->sa_family == AF_INET ? 4 : 16, off = 0;
            if (rule->m.cidr.family == AF_INET && alen == 16)
                off = 12;
            size_t keep = ip[0] % ((rule->m.cidr.family == AF_INET ? 4 : 16) + 1);
            if (!(rule->m.cidr.family == AF_INET6 && alen == 4))
                memcpy(a + off, rule->m.cidr.addr, keep);
            compare(rule, &d);
        }
        if (rule->kind == MATCH_DOMAIN && d.name) {
            char mixed[600];
            snprintf(mixed, sizeof mixed, "%.250s%s%s%s", d.name, ip[1] & 1 ? "." : "",
                     rule->m.domain.name, ip[1] & 2 ? "." : "");
            for (char *p = mixed; *p; p++)
                if (ip[2] & 1 && (p - mixed) % 3 == 0)
                    *p = (char)toupper((unsigned char)*p);
            d.name = mixed;
            compare(rule, &d);
        }
        free(name);
    }
out:
    free(text);
    free(rule);
    free(dialer);
    return 0;
}
