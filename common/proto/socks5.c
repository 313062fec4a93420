/* socks5: RFC 1928 / RFC 1929 client messages. Written from the RFCs. */
#include "common/proto/socks5.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Bytes ATYP..PORT take for d. */
static size_t addr_len(const struct proto_dest *d)
{
    switch (d->kind) {
    case PROTO_ADDR_IPV4:
        return 1 + 4 + 2;
    case PROTO_ADDR_IPV6:
        return 1 + 16 + 2;
    default:
        return 1 + 1 + d->name_len + 2;
    }
}

/* Write ATYP, address and port; the caller checked the room with addr_len(). */
static void put_addr(uint8_t *p, const struct proto_dest *d, uint16_t port)
{
    size_t o = 0;

    switch (d->kind) {
    case PROTO_ADDR_IPV4:
        p[o++] = SOCKS5_ATYP_IPV4;
        memcpy(p + o, d->ip, 4);
        o += 4;
        break;
    case PROTO_ADDR_IPV6:
        p[o++] = SOCKS5_ATYP_IPV6;
        memcpy(p + o, d->ip, 16);
        o += 16;
        break;
    default:
        p[o++] = SOCKS5_ATYP_DOMAIN;
        p[o++] = (uint8_t)d->name_len;
        memcpy(p + o, d->name, d->name_len);
        o += d->name_len;
        break;
    }
    put16(p + o, port);
}

/* ATYP, address and port at p, n bytes there. > 0: bytes used; 0: incomplete, *need the
 * smallest length from p; -1: unknown ATYP or a name holding a NUL. */
static int parse_addr(const uint8_t *p, size_t n, struct proto_addr *a, size_t *need,
                      const char *what, int errnum, struct proto_error *err)
{
    size_t total;

    *need = 1 + 1 + 2; /* the shortest: a zero-length name */
    if (n < 1)
        return 0;
    switch (p[0]) {
    case SOCKS5_ATYP_IPV4:
        total = 1 + 4 + 2;
        break;
    case SOCKS5_ATYP_IPV6:
        total = 1 + 16 + 2;
        break;
    case SOCKS5_ATYP_DOMAIN:
        if (n < 2)
            return 0;
        total = 1 + 1 + (size_t)p[1] + 2;
        break;
    default:
        return proto_fail(err, errnum, "%s: unknown address type 0x%02x", what, p[0]);
    }
    *need = total;
    if (n < total)
        return 0;
    if (p[0] != SOCKS5_ATYP_DOMAIN)
        proto_addr_set_ip(a, p + 1, total - 3, get16(p + total - 2));
    else if (proto_addr_set_name(a, p + 2, p[1], get16(p + total - 2)) < 0)
        return proto_fail(err, errnum, "%s: domain name holds a NUL byte", what);
    return (int)total;
}

/* Something other than a SOCKS5 server answered: say what it looks like. */
static int bad_version(struct proto_error *err, const char *what, uint8_t expected,
                       const uint8_t *buf, size_t len)
{
    char q[PROTO_QUOTE_MAX];

    proto_quote(q, buf, len);
    return proto_fail(err, ECONNREFUSED,
                      "%s: version 0x%02x, expected 0x%02x (not a SOCKS5 server?%s first "
                      "bytes \"%s\")",
                      what, buf[0], expected, proto_guess(buf, len), q);
}

static const char *method_name(uint8_t m)
{
    switch (m) {
    case SOCKS5_METHOD_NONE:
        return "no authentication";
    case SOCKS5_METHOD_GSSAPI:
        return "GSSAPI";
    case SOCKS5_METHOD_USERPASS:
        return "username/password";
    case SOCKS5_METHOD_UNACCEPTABLE:
        return "no acceptable method";
    default:
        return m < 0x80 ? "IANA-assigned" : "private";
    }
}

static ssize_t encode_methods(uint8_t *buf, size_t cap, const uint8_t *methods, size_t n)
{
    if (cap < 2 + n)
        return -1;
    buf[0] = SOCKS5_VERSION;
    buf[1] = (uint8_t)n;
    memcpy(buf + 2, methods, n);
    return (ssize_t)(2 + n);
}

ssize_t socks5_encode_greeting(uint8_t *buf, size_t cap, bool with_userpass)
{
    static const uint8_t methods[] = {SOCKS5_METHOD_NONE, SOCKS5_METHOD_USERPASS};

    return encode_methods(buf, cap, methods, with_userpass ? 2 : 1);
}

/* The proxy chose a method outside what we offered. Choosing username/password when
 * we have none means "authentication required": that is the user's problem (EACCES),
 * not a broken server. */
static int unoffered(struct proto_error *err, uint8_t m)
{
    if (m == SOCKS5_METHOD_USERPASS)
        return proto_fail(err, EACCES,
                          "socks5 method reply: proxy requires username/password, none "
                          "configured");
    return proto_fail(err, ECONNREFUSED,
                      "socks5 method reply: proxy chose method 0x%02x (%s), which was not "
                      "offered",
                      m, method_name(m));
}

static int parse_method(const uint8_t *buf, size_t len, const uint8_t *offered, size_t n,
                        struct socks5_method_reply *out, struct proto_error *err)
{
    memset(out, 0, sizeof *out);
    out->need = 2;
    if (len >= 1 && buf[0] != SOCKS5_VERSION)
        return bad_version(err, "socks5 method reply", SOCKS5_VERSION, buf, len);
    if (len < 2)
        return 0;
    out->method = buf[1];
    if (buf[1] == SOCKS5_METHOD_UNACCEPTABLE)
        return proto_fail(err, EACCES, "socks5 method reply: no acceptable method (offered %s%s%s)",
                          method_name(offered[0]), n > 1 ? ", " : "",
                          n > 1 ? method_name(offered[1]) : "");
    if (!memchr(offered, buf[1], n))
        return unoffered(err, buf[1]);
    return 2;
}

int socks5_parse_method(const uint8_t *buf, size_t len, bool with_userpass,
                        struct socks5_method_reply *out, struct proto_error *err)
{
    static const uint8_t methods[] = {SOCKS5_METHOD_NONE, SOCKS5_METHOD_USERPASS};

    return parse_method(buf, len, methods, with_userpass ? 2 : 1, out, err);
}

ssize_t socks5_encode_auth(uint8_t *buf, size_t cap, const char *user, const char *pass)
{
    size_t ul, pl;

    if (!user)
        return -1;
    if (!pass)
        pass = "";
    ul = strlen(user);
    pl = strlen(pass);
    if (ul == 0 || ul > 255 || pl > 255 || cap < 3 + ul + pl)
        return -1;
    buf[0] = SOCKS5_AUTH_VERSION;
    buf[1] = (uint8_t)ul;
    memcpy(buf + 2, user, ul);
    buf[2 + ul] = (uint8_t)pl;
    memcpy(buf + 3 + ul, pass, pl);
    return (ssize_t)(3 + ul + pl);
}

int socks5_parse_auth_reply(const uint8_t *buf, size_t len, struct socks5_auth_reply *out,
                            struct proto_error *err)
{
    memset(out, 0, sizeof *out);
    out->need = 2;
    /* Version 5 here is a known server quirk (echoing the SOCKS version): harmless. */
    if (len >= 1 && buf[0] != SOCKS5_AUTH_VERSION && buf[0] != SOCKS5_VERSION)
        return bad_version(err, "socks5 auth reply", SOCKS5_AUTH_VERSION, buf, len);
    if (len < 2)
        return 0;
    out->status = buf[1];
    if (buf[1] != 0)
        return proto_fail(err, EACCES,
                          "socks5 auth reply: username/password rejected (status 0x%02x)", buf[1]);
    return 2;
}

ssize_t socks5_encode_request(uint8_t *buf, size_t cap, uint8_t cmd, const char *host,
                              const struct sockaddr *addr, uint16_t port)
{
    struct proto_dest d;
    size_t n;

    if (cmd < SOCKS5_CMD_CONNECT || cmd > SOCKS5_CMD_UDP_ASSOCIATE)
        return -1;
    if (proto_dest_from(host, addr, &d) < 0)
        return -1;
    n = 3 + addr_len(&d);
    if (cap < n)
        return -1;
    buf[0] = SOCKS5_VERSION;
    buf[1] = cmd;
    buf[2] = 0;
    put_addr(buf + 3, &d, port);
    return (ssize_t)n;
}

int socks5_parse_reply(const uint8_t *buf, size_t len, struct socks5_reply *out,
                       struct proto_error *err)
{
    size_t need;
    int r;

    memset(out, 0, sizeof *out);
    out->need = SOCKS5_REPLY_MIN;
    if (len >= 1 && buf[0] != SOCKS5_VERSION)
        return bad_version(err, "socks5 reply", SOCKS5_VERSION, buf, len);
    if (len < 2)
        return 0;
    out->rep = buf[1];
    /* A failure ends the connection: no need to wait for its address part. */
    if (buf[1] != SOCKS5_REP_SUCCEEDED)
        return proto_fail(err, socks5_rep_errno(buf[1]), "socks5 reply: REP %u (%s)", buf[1],
                          socks5_rep_text(buf[1]));
    /* buf[2] is RSV: tolerated whatever its value. */
    if (len < 3)
        return 0;
    r = parse_addr(buf + 3, len - 3, &out->bound, &need, "socks5 reply", ECONNREFUSED, err);
    if (r < 0)
        return -1;
    out->need = 3 + need;
    return r == 0 ? 0 : 3 + r;
}

ssize_t socks5_encode_pipelined(uint8_t *buf, size_t cap, const char *user, const char *pass,
                                uint8_t cmd, const char *host, const struct sockaddr *addr,
                                uint16_t port)
{
    uint8_t method = user ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NONE;
    ssize_t g, a = 0, r;

    g = encode_methods(buf, cap, &method, 1);
    if (g < 0)
        return -1;
    if (user) {
        a = socks5_encode_auth(buf + g, cap - (size_t)g, user, pass);
        if (a < 0)
            return -1;
    }
    r = socks5_encode_request(buf + g + a, cap - (size_t)(g + a), cmd, host, addr, port);
    if (r < 0)
        return -1;
    return g + a + r;
}

/* Each stage parses from its own offset; need is carried back relative to buf[0]. */
int socks5_parse_pipelined(const uint8_t *buf, size_t len, bool with_userpass,
                           struct socks5_pipelined_reply *out, struct proto_error *err)
{
    uint8_t method = with_userpass ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NONE;
    struct socks5_method_reply m;
    struct socks5_auth_reply a;
    size_t off = 0;
    int r;

    memset(out, 0, sizeof *out);
    out->stage = SOCKS5_STAGE_METHOD;
    r = parse_method(buf, len, &method, 1, &m, err);
    out->method = m.method;
    out->need = m.need;
    if (r <= 0)
        return r;
    off = (size_t)r;
    if (with_userpass) {
        out->stage = SOCKS5_STAGE_AUTH;
        r = socks5_parse_auth_reply(buf + off, len - off, &a, err);
        out->auth_status = a.status;
        out->need = off + a.need;
        if (r <= 0)
            return r;
        off += (size_t)r;
    }
    out->stage = SOCKS5_STAGE_REPLY;
    r = socks5_parse_reply(buf + off, len - off, &out->reply, err);
    out->need = off + out->reply.need;
    if (r <= 0)
        return r;
    off += (size_t)r;
    out->stage = SOCKS5_STAGE_DONE;
    return (int)off;
}

ssize_t socks5_encode_udp_header(uint8_t *buf, size_t cap, const char *host,
                                 const struct sockaddr *addr, uint16_t port)
{
    struct proto_dest d;
    size_t n;

    if (proto_dest_from(host, addr, &d) < 0)
        return -1;
    n = 3 + addr_len(&d);
    if (cap < n)
        return -1;
    buf[0] = 0; /* RSV */
    buf[1] = 0;
    buf[2] = 0; /* FRAG: standalone datagram */
    put_addr(buf + 3, &d, port);
    return (ssize_t)n;
}

ssize_t socks5_encode_udp(uint8_t *buf, size_t cap, const char *host, const struct sockaddr *addr,
                          uint16_t port, const void *payload, size_t payload_len)
{
    uint8_t hdr[SOCKS5_UDP_HEADER_MAX];
    ssize_t h;

    if (!payload && payload_len)
        return -1;
    h = socks5_encode_udp_header(hdr, sizeof hdr, host, addr, port);
    if (h < 0 || cap < (size_t)h || payload_len > cap - (size_t)h)
        return -1;
    /* Payload first: it may sit in buf, where the header is about to go. */
    if (payload_len)
        memmove(buf + h, payload, payload_len);
    memcpy(buf, hdr, (size_t)h);
    return h + (ssize_t)payload_len;
}

int socks5_parse_udp_header(const uint8_t *dgram, size_t len, struct socks5_udp_header *out,
                            struct proto_error *err)
{
    size_t need;
    int r;

    memset(out, 0, sizeof *out);
    if (len < 4)
        return proto_fail(err, EPROTO, "socks5 udp: truncated header (%zu bytes)", len);
    /* dgram[0..1] is RSV: tolerated, as in replies. */
    if (dgram[2] != 0)
        return proto_fail(err, EMSGSIZE,
                          "socks5 udp: fragment dropped (FRAG 0x%02x, no reassembly)", dgram[2]);
    r = parse_addr(dgram + 3, len - 3, &out->src, &need, "socks5 udp", EPROTO, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return proto_fail(err, EPROTO,
                          "socks5 udp: truncated header (%zu bytes, its address needs %zu)", len,
                          3 + need);
    /* Unlike a bound address, a source must name something the program can be given. */
    if (out->src.kind == PROTO_ADDR_DOMAIN && out->src.host[0] == '\0')
        return proto_fail(err, EPROTO, "socks5 udp: empty domain name as source");
    out->payload_off = 3 + (size_t)r;
    out->payload_len = len - out->payload_off;
    return (int)out->payload_off;
}

int socks5_unwrap_udp(const uint8_t *buf, size_t len, int nhops, struct proto_addr *src)
{
    struct socks5_udp_header h;
    size_t off = 0;

    for (int i = 0; i < nhops; i++) {
        int r = socks5_parse_udp_header(buf + off, len - off, &h, NULL);
        if (r < 0)
            return -1;
        off += (size_t)r;
    }
    *src = h.src;
    return (int)off;
}

int socks5_rep_errno(uint8_t rep)
{
    switch (rep) {
    case 0x00:
        return 0;
    case 0x02:
        return EACCES;
    case 0x03:
        return ENETUNREACH;
    case 0x04:
        return EHOSTUNREACH;
    case 0x06:
        return ETIMEDOUT;
    case 0x07:
        return EOPNOTSUPP;
    case 0x08:
        return EAFNOSUPPORT;
    default: /* 1 general failure, 5 refused, unassigned codes */
        return ECONNREFUSED;
    }
}

const char *socks5_rep_text(uint8_t rep)
{
    static const char *const text[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };

    return rep < sizeof text / sizeof text[0] ? text[rep] : "unassigned code";
}
