/* Value parsers: one string in, one typed value or a short reason out. They know
 * nothing about keys or lines; the callers in keys.c add those to the message. */
#include "conf/internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DIGITS "0123456789"

/* N decimal digits, no sign: 0, -1 (not a number) or -2 (above MAX). */
static int parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return -2;
    }
    *out = v;
    return 0;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int parse_hex(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (hex_digit(*s) < 0)
            return -1;
        v = v * 16 + (uint64_t)hex_digit(*s);
        if (v > max)
            return -2;
    }
    *out = v;
    return 0;
}

char *conf_trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

static uint32_t unit_ms(const char *unit)
{
    if (strcmp(unit, "ms") == 0)
        return 1;
    if (strcmp(unit, "s") == 0)
        return 1000;
    if (strcmp(unit, "m") == 0)
        return 60000;
    return 0;
}

/* A unit is required: a bare "5" could mean seconds (sing-box, curl) or
 * milliseconds (most socket APIs), and guessing wrong is off by 1000. */
int conf_parse_duration_ms(const char *s, uint32_t *out, char *why)
{
    size_t n = strspn(s, DIGITS);
    const char *unit = s + n;
    uint32_t mult;
    uint64_t v;

    if (n == 0) {
        snprintf(why, WHY_MAX, "expected a whole number followed by ms, s or m");
        return -1;
    }
    if (*unit == '\0') {
        snprintf(why, WHY_MAX, "no unit (write '%.20ss' or '%.20sms')", s, s);
        return -1;
    }
    if (*unit == '.') {
        snprintf(why, WHY_MAX, "fractions are not supported (use a smaller unit, e.g. ms)");
        return -1;
    }
    mult = unit_ms(unit);
    if (mult == 0) {
        snprintf(why, WHY_MAX, "unknown unit '%.20s' (use ms, s or m)", unit);
        return -1;
    }
    if (parse_decimal(s, n, UINT32_MAX, &v) < 0 || v * mult > UINT32_MAX) {
        snprintf(why, WHY_MAX, "too large (max 4294967295ms, about 49 days)");
        return -1;
    }
    *out = (uint32_t)(v * mult);
    return 0;
}

int conf_parse_bool(const char *s, bool *out, char *why)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    snprintf(why, WHY_MAX, "expected true, false, yes, no, on, off, 1 or 0");
    return -1;
}

int conf_parse_mark(const char *s, uint32_t *out, char *why)
{
    uint64_t v;
    int r;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        r = parse_hex(s + 2, UINT32_MAX, &v);
    else
        r = parse_decimal(s, strlen(s), UINT32_MAX, &v);
    if (r == -2) {
        snprintf(why, WHY_MAX, "out of range (max 0xffffffff)");
        return -1;
    }
    if (r < 0) {
        snprintf(why, WHY_MAX, "expected a decimal or 0x hex number");
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *out)
{
    uint64_t v;

    if (parse_decimal(s, n, 65535, &v) < 0 || v == 0)
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

    if (parse_decimal(s, strlen(s), (uint64_t)max, &v) < 0) {
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
    return *s && strspn(s, DIGITS ".") == strlen(s);
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

int conf_check_ifname(const char *s, char *why)
{
    size_t n = strlen(s);

    if (n == 0) {
        snprintf(why, WHY_MAX, "empty");
        return -1;
    }
    if (n >= IF_NAMESIZE) {
        snprintf(why, WHY_MAX, "longer than %d characters", IF_NAMESIZE - 1);
        return -1;
    }
    /* The kernel's own rule (dev_valid_name). */
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strpbrk(s, "/: \t")) {
        snprintf(why, WHY_MAX, "not a valid interface name");
        return -1;
    }
    return 0;
}

int conf_check_name(const char *s, char *why)
{
    size_t n = strlen(s);

    if (n >= CONF_NAME_MAX) {
        snprintf(why, WHY_MAX, "longer than %d characters", CONF_NAME_MAX - 1);
        return -1;
    }
    if (n == 0 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS "_-.") != n) {
        snprintf(why, WHY_MAX, "use letters, digits, '_', '-' and '.'");
        return -1;
    }
    return 0;
}

int conf_parse_enum(const char *s, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++) {
        if (names[i] && strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* "a, b or c": the accepted values, for messages. NULL entries are skipped. */
void conf_join_names(char *buf, size_t size, const char *const *names, int n)
{
    int total = 0, k = 0;
    size_t len = 0;

    for (int i = 0; i < n; i++)
        total += names[i] != NULL;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++) {
        if (!names[i])
            continue;
        k++;
        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                k == 1 ? "" : (k == total ? " or " : ", "), names[i]);
    }
}

/* "MATCHER -> DIALER" helpers. */

static int parse_domain_matcher(const char *v, struct conf_rule *out, char *why)
{
    memset(&out->m, 0, sizeof(out->m));
    out->kind = MATCH_DOMAIN;
    out->m.domain.suffix = strncmp(v, "*.", 2) == 0;
    return conf_parse_hostname(v, true, out->m.domain.name, sizeof(out->m.domain.name), why);
}

static int parse_port_matcher(const char *v, struct conf_rule *out, char *why)
{
    memset(&out->m, 0, sizeof(out->m));
    out->kind = MATCH_PORT;
    return conf_parse_port_range(v, &out->m.port.lo, &out->m.port.hi, why);
}

static int parse_network_matcher(const char *v, struct conf_rule *out, char *why)
{
    memset(&out->m, 0, sizeof(out->m));
    out->kind = MATCH_NETWORK;
    if (strcmp(v, "tcp") == 0)
        out->m.network = NET_TCP;
    else if (strcmp(v, "udp") == 0)
        out->m.network = NET_UDP;
    else {
        snprintf(why, WHY_MAX, "expected network:tcp or network:udp");
        return -1;
    }
    return 0;
}

static int parse_matcher(char *m, struct conf_rule *out, char *why)
{
    char *colon = strchr(m, ':');
    char *v;

    if (!colon) {
        snprintf(why, WHY_MAX, "matcher '%.40s' has no type (cidr:, domain:, port: or network:)",
                 m);
        return -1;
    }
    *colon = '\0';
    v = conf_trim(colon + 1);
    if (*v == '\0') {
        snprintf(why, WHY_MAX, "empty %.20s matcher", m);
        return -1;
    }
    if (strcmp(m, "cidr") == 0)
        return conf_parse_cidr(v, out, why);
    if (strcmp(m, "domain") == 0)
        return parse_domain_matcher(v, out, why);
    if (strcmp(m, "port") == 0)
        return parse_port_matcher(v, out, why);
    if (strcmp(m, "network") == 0)
        return parse_network_matcher(v, out, why);
    snprintf(why, WHY_MAX, "unknown matcher '%.20s' (expected cidr, domain, port or network)", m);
    return -1;
}

int conf_parse_route(const char *s, struct conf_rule *out, char *dialer_name, char *why)
{
    char buf[512], inner[WHY_MAX], *matcher, *target, *arrow;

    if (strlen(s) >= sizeof(buf)) {
        snprintf(why, WHY_MAX, "too long");
        return -1;
    }
    strcpy(buf, s);
    arrow = strstr(buf, "->");
    if (!arrow) {
        snprintf(why, WHY_MAX, "expected 'MATCHER -> DIALER'");
        return -1;
    }
    *arrow = '\0';
    matcher = conf_trim(buf);
    target = conf_trim(arrow + 2);
    if (*matcher == '\0' || *target == '\0') {
        snprintf(why, WHY_MAX, "missing %s (expected 'MATCHER -> DIALER')",
                 *matcher ? "dialer after '->'" : "matcher before '->'");
        return -1;
    }
    if (strstr(target, "->")) {
        snprintf(why, WHY_MAX, "more than one '->'");
        return -1;
    }
    if (conf_check_name(target, inner) < 0) {
        snprintf(why, WHY_MAX, "bad dialer name '%.40s': %.60s", target, inner);
        return -1;
    }
    strcpy(dialer_name, target);
    /* The text is for logs and explain: a very long domain is shortened there. */
    snprintf(out->text, sizeof(out->text), "%s", matcher);
    return parse_matcher(matcher, out, why);
}
