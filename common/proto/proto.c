/* proto: helpers the codecs share. Pure: no I/O, no allocation, no mutable state. */
#include "common/proto/proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An IPv4-mapped IPv6 address goes out as IPv4: a dual-stack program reaching an IPv4
 * peer through an AF_INET6 socket must not need an IPv6-capable proxy. */
static void dest_from_ip6(const uint8_t ip6[16], struct proto_dest *d)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(ip6, mapped, sizeof mapped) == 0) {
        d->kind = PROTO_ADDR_IPV4;
        memcpy(d->ip, ip6 + 12, 4);
    } else {
        d->kind = PROTO_ADDR_IPV6;
        memcpy(d->ip, ip6, 16);
    }
}

static int dest_from_host(const char *host, struct proto_dest *d)
{
    uint8_t ip6[16];
    size_t n = strlen(host);

    /* A literal sent as a name would make the proxy "resolve" it, and some refuse. */
    if (inet_pton(AF_INET, host, d->ip) == 1) {
        d->kind = PROTO_ADDR_IPV4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, ip6) == 1) {
        dest_from_ip6(ip6, d);
        return 0;
    }
    if (n == 0 || n > 255)
        return -1;
    d->kind = PROTO_ADDR_DOMAIN;
    d->name = host;
    d->name_len = n;
    return 0;
}

int proto_dest_from(const char *host, const struct sockaddr *addr, struct proto_dest *d)
{
    memset(d, 0, sizeof *d);
    if (host)
        return dest_from_host(host, d);
    if (!addr)
        return -1;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        d->kind = PROTO_ADDR_IPV4;
        memcpy(d->ip, &in->sin_addr, 4);
        return 0;
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        dest_from_ip6(in6->sin6_addr.s6_addr, d);
        return 0;
    }
    return -1;
}

/* Log lines must stay one printable line whatever a proxy sent. */
static void make_printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

int proto_fail(struct proto_error *err, int errnum, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->why, sizeof err->why, fmt, ap);
    va_end(ap);
    make_printable(err->why);
    err->errnum = errnum;
    return -1;
}

void proto_quote(char *out, const uint8_t *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (len > PROTO_QUOTE_BYTES)
        len = PROTO_QUOTE_BYTES;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out[o++] = (char)c;
            continue;
        }
        out[o++] = '\\';
        out[o++] = 'x';
        out[o++] = hex[c >> 4];
        out[o++] = hex[c & 15];
    }
    out[o] = '\0';
}

/* True when buf and prefix agree on their common length: two bytes "HT" already
 * look like HTTP, since a caller that reads exactly a reply's length may hold only 2. */
static bool looks_like(const uint8_t *buf, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return memcmp(buf, prefix, len < n ? len : n) == 0;
}

const char *proto_guess(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return "";
    if (len >= 2 && looks_like(buf, len, "HTTP/"))
        return " looks like HTTP;";
    if (len >= 2 && looks_like(buf, len, "SSH-"))
        return " looks like SSH;";
    if (len >= 2 && buf[0] == 0x16 && buf[1] == 0x03)
        return " looks like TLS;";
    if (len >= 2 && buf[0] == 0x15 && buf[1] == 0x03)
        return " looks like a TLS alert;";
    if (buf[0] == 0x05)
        return " looks like SOCKS5;";
    if (len >= 2 && (buf[0] == 0x00 || buf[0] == 0x04) && buf[1] >= 90 && buf[1] <= 93)
        return " looks like SOCKS4;";
    return "";
}

int proto_addr_set_name(struct proto_addr *a, const uint8_t *name, size_t n, uint16_t port)
{
    if (n >= sizeof a->host || memchr(name, '\0', n))
        return -1;
    memset(a, 0, sizeof *a);
    a->kind = PROTO_ADDR_DOMAIN;
    a->sa.ss_family = AF_UNSPEC;
    memcpy(a->host, name, n);
    a->host[n] = '\0';
    a->port = port;
    return 0;
}

void proto_addr_set_ip(struct proto_addr *a, const uint8_t *ip, size_t n, uint16_t port)
{
    memset(a, 0, sizeof *a);
    a->port = port;
    if (n == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;
        a->kind = PROTO_ADDR_IPV4;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        memcpy(&in->sin_addr, ip, 4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;
        a->kind = PROTO_ADDR_IPV6;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        memcpy(&in6->sin6_addr, ip, 16);
    }
}
