/* Value parsers for the network: addresses with or without a port, CIDR
 * prefixes, port ranges, host names and resolver servers. Same contract as
 * values.c: a string in, a value or a short reason out. */
#include "conf/internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int parse_port(const char *s, size_t n, uint16_t *out)
{
    uint64_t v;

    if (conf_parse_decimal(s, n, 65535, &v) < 0 || v == 0)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static size_t count_char(const char *s, char ch)
{
    size_t n = 0;

    for (; *s; s++)
        n += *s == ch;
    return n;
}

static void fill_addr(struct conf_addr *out, int family, const void *ip, uint16_t port)
{
    memset(out, 0, sizeof(*out));
    if (family == AF_INET) {
        out->u.in4.sin_family = AF_INET;
        out->u.in4.sin_port = htons(port);
        memcpy(&out->u.in4.sin_addr, ip, 4);
        out->len = sizeof(out->u.in4);
    } else {
        out->u.in6.sin6_family = AF_INET6;
        out->u.in6.sin6_port = htons(port);
        memcpy(&out->u.in6.sin6_addr, ip, 16);
        out->len = sizeof(out->u.in6);
    }
}

/* Splits S into the address text (HOST, brackets removed) and the port text
 * (PORT, NULL when none). 0, or -1 with WHY. */
static int split_addr(const char *s, int default_port, char *host, size_t size, const char **port,
                      char *why)
{
    const char *end;
    size_t n;

    *port = NULL;
    if (s[0] == '[') {
        end = strchr(s, ']');
        if (!end) {
            snprintf(why, WHY_MAX, "missing ']'");
            return -1;
        }
        if (end[1] != '\0' && end[1] != ':') {
            snprintf(why, WHY_MAX, "unexpected text after ']'");
            return -1;
        }
        if (end[1] == ':')
            *port = end + 2;
        s++;
        n = (size_t)(end - s);
    } else if (count_char(s, ':') > 1) {
        /* A bare IPv6 address: its colons leave no room for a port. */
        if (default_port == -1) {
            snprintf(why, WHY_MAX, "write an IPv6 address with a port as '[ADDR]:PORT'");
            return -1;
        }
        n = strlen(s);
    } else {
        end = strchr(s, ':');
        n = end ? (size_t)(end - s) : strlen(s);
        if (end)
            *port = end + 1;
    }
    if (n == 0 || n >= size) {
        snprintf(why, WHY_MAX, "not an IP address");
        return -1;
    }
    memcpy(host, s, n);
    host[n] = '\0';
    return 0;
}

static int addr_port(const char *port, int default_port, uint16_t *out, char *why)
{
    *out = default_port > 0 ? (uint16_t)default_port : 0;
    if (!port) {
        if (default_port == -1) {
            snprintf(why, WHY_MAX, "missing port (write ADDR:PORT)");
            return -1;
        }
        return 0;
    }
    if (default_port == -2) {
        snprintf(why, WHY_MAX, "a port is not allowed here");
        return -1;
    }
    if (parse_port(port, strlen(port), out) < 0) {
        snprintf(why, WHY_MAX, "bad port '%.20s' (1-65535)", port);
        return -1;
    }
    return 0;
}

int conf_parse_addr(const char *s, int default_port, struct conf_addr *out, char *why)
{
    char host[INET6_ADDRSTRLEN + 1];
    unsigned char ip[16];
    const char *port;
    uint16_t portnum;
    int family;

    if (split_addr(s, default_port, host, sizeof(host), &port, why) < 0)
        return -1;
    family = strchr(host, ':') ? AF_INET6 : AF_INET;
    if (s[0] == '[' && family != AF_INET6) {
        snprintf(why, WHY_MAX, "not an IPv6 address (brackets are for IPv6)");
        return -1;
    }
    if (inet_pton(family, host, ip) != 1) {
        snprintf(why, WHY_MAX, "not an IP address");
        return -1;
    }
    if (addr_port(port, default_port, &portnum, why) < 0)
        return -1;
    fill_addr(out, family, ip, portnum);
    return 0;
}

static void clear_host_bits(uint8_t *a, int bytes, int prefix)
{
    for (int i = 0; i < bytes; i++) {
        int keep = prefix - i * 8;
        if (keep <= 0)
            a[i] = 0;
        else if (keep < 8)
            a[i] &= (uint8_t)(0xff << (8 - keep));
    }
}

static int parse_prefix(const char *s, int max, int *out, char *why)
{
    uint64_t v;

    if (conf_parse_decimal(s, strlen(s), (uint64_t)max, &v) < 0) {
        snprintf(why, WHY_MAX, "bad prefix length '%.20s' (0-%d)", s, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int conf_parse_cidr(const char *s, struct conf_rule *out, char *why)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    char host[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
    uint8_t ip[16] = {0}, masked[16];
    int family, bytes, prefix;

    if (n == 0 || n >= sizeof(host)) {
        snprintf(why, WHY_MAX, "not an IP address");
        return -1;
    }
    memcpy(host, s, n);
    host[n] = '\0';
    family = strchr(host, ':') ? AF_INET6 : AF_INET;
    bytes = family == AF_INET ? 4 : 16;
    if (inet_pton(family, host, ip) != 1) {
        snprintf(why, WHY_MAX, "not an IP address");
        return -1;
    }
    prefix = bytes * 8;
    if (slash && parse_prefix(slash + 1, bytes * 8, &prefix, why) < 0)
        return -1;
    memcpy(masked, ip, sizeof(masked));
    clear_host_bits(masked, bytes, prefix);
    if (memcmp(masked, ip, (size_t)bytes) != 0) {
        /* Almost always a typo for the network address: name it. */
        inet_ntop(family, masked, net, sizeof(net));
        snprintf(why, WHY_MAX, "host bits set (did you mean %s/%d?)", net, prefix);
        return -1;
    }
    out->kind = MATCH_CIDR;
    memset(&out->m, 0, sizeof(out->m));
    out->m.cidr.family = (sa_family_t)family;
    out->m.cidr.prefix = (uint8_t)prefix;
    memcpy(out->m.cidr.addr, ip, (size_t)bytes);
    return 0;
}

int conf_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi, char *why)
{
    const char *dash = strchr(s, '-');
    size_t n = dash ? (size_t)(dash - s) : strlen(s);

    if (parse_port(s, n, lo) < 0 || (dash && parse_port(dash + 1, strlen(dash + 1), hi) < 0)) {
        snprintf(why, WHY_MAX, "expected a port (1-65535) or a range LO-HI");
        return -1;
    }
    if (!dash)
        *hi = *lo;
    if (*lo > *hi) {
        snprintf(why, WHY_MAX, "range starts above its end");
        return -1;
    }
    return 0;
}

static bool label_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

/* Lower-case labels of letters, digits, '-' and '_', 1-63 characters each. */
static int check_labels(const char *name, char *why)
{
    const char *label = name;

    for (const char *q = name;; q++) {
        if (*q != '.' && *q != '\0') {
            if (!label_char(*q)) {
                snprintf(why, WHY_MAX, "character '%c' is not allowed in a host name", *q);
                return -1;
            }
            continue;
        }
        if (q == label || q - label > 63) {
            snprintf(why, WHY_MAX, "labels must be 1-63 characters");
            return -1;
        }
        if (*label == '-' || q[-1] == '-') {
            snprintf(why, WHY_MAX, "a label must not start or end with '-'");
            return -1;
        }
        if (*q == '\0')
            return 0;
        label = q + 1;
    }
}

/* Host names compare case-insensitively: store them lower-cased, without the
 * root's trailing dot, so matching is a plain compare. */
int conf_parse_hostname(const char *s, bool allow_wildcard, char *out, size_t size, char *why)
{
    size_t n;

    if (allow_wildcard && strncmp(s, "*.", 2) == 0)
        s += 2;
    n = strlen(s);
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0) {
        snprintf(why, WHY_MAX, "empty host name");
        return -1;
    }
    if (n > 253 || n >= size) {
        snprintf(why, WHY_MAX, "host name longer than 253 characters");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[n] = '\0';
    if (strchr(out, '*')) {
        snprintf(why, WHY_MAX, "'*' is only allowed as a leading '*.'");
        return -1;
    }
    return check_labels(out, why);
}

static bool all_digits_dots(const char *s)
{
    return *s && strspn(s, "0123456789.") == strlen(s);
}

/* "HOST:PORT", "1.2.3.4:PORT" or "[v6]:PORT"; the port is required because
 * proxies have no single well-known one. */
int conf_parse_server(const char *s, struct conf_server *out, char *why)
{
    const char *colon = strrchr(s, ':');
    char name[CONF_HOST_MAX];
    size_t n;

    memset(out, 0, sizeof(*out));
    if (s[0] == '[' || count_char(s, ':') > 1) {
        if (conf_parse_addr(s, -1, &out->addr, why) < 0)
            return -1;
        n = (size_t)(strchr(s, ']') - s - 1);
        memcpy(out->host, s + 1, n);
        out->port = ntohs(out->addr.u.in6.sin6_port);
        return 0;
    }
    if (!colon) {
        snprintf(why, WHY_MAX, "missing port (write HOST:PORT)");
        return -1;
    }
    n = (size_t)(colon - s);
    if (n == 0 || n >= sizeof(out->host)) {
        snprintf(why, WHY_MAX, n ? "host name longer than 253 characters" : "missing host");
        return -1;
    }
    memcpy(out->host, s, n);
    if (parse_port(colon + 1, strlen(colon + 1), &out->port) < 0) {
        snprintf(why, WHY_MAX, "bad port '%.20s' (1-65535)", colon + 1);
        return -1;
    }
    if (all_digits_dots(out->host))
        return conf_parse_addr(s, -1, &out->addr, why);
    /* Checked in a lower-cased copy; the host itself stays as written. */
    return conf_parse_hostname(out->host, false, name, sizeof(name), why);
}
