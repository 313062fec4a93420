/* http: HTTP CONNECT request and response header. Written from RFC 9110/9112/7617. */
#include "common/proto/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- request ---- */

/* Bounded appends: overflow is remembered and reported once, at the end. */
struct out {
    uint8_t *p;
    size_t cap, len;
    bool full;
};

static void put(struct out *o, const void *s, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* RFC 4648 base64 with padding. out holds 4 * ceil(n / 3) + 1 bytes. */
static size_t base64(char *out, const uint8_t *in, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0, o = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        bool two = n - i == 2;
        uint32_t v = (uint32_t)in[i] << 16 | (two ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = two ? tab[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* A name goes into the request line verbatim: a space or control character in it
 * would let it end the line or forge a header. */
static bool name_ok(const char *name, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] == 0x7f)
            return false;
    return true;
}

/* host:port, with an IPv6 address in brackets (RFC 3986 authority). */
static int authority(char *out, size_t cap, const struct proto_dest *d, uint16_t port)
{
    char ip[INET6_ADDRSTRLEN];
    int n;

    switch (d->kind) {
    case PROTO_ADDR_IPV4:
        inet_ntop(AF_INET, d->ip, ip, sizeof ip);
        n = snprintf(out, cap, "%s:%u", ip, port);
        break;
    case PROTO_ADDR_IPV6:
        inet_ntop(AF_INET6, d->ip, ip, sizeof ip);
        n = snprintf(out, cap, "[%s]:%u", ip, port);
        break;
    default:
        if (!name_ok(d->name, d->name_len))
            return -1;
        n = snprintf(out, cap, "%.*s:%u", (int)d->name_len, d->name, port);
        break;
    }
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* "Proxy-Authorization: Basic base64(user:pass)\r\n". The plain and encoded
 * credentials are wiped from the stack: they must not outlive the call. */
static int put_credentials(struct out *o, const char *user, const char *pass)
{
    uint8_t plain[255 + 1 + 255];
    char coded[4 * ((sizeof plain + 2) / 3) + 1];
    size_t ul = strlen(user), pl;

    if (!pass)
        pass = "";
    pl = strlen(pass);
    if (ul > 255 || pl > 255 || strchr(user, ':'))
        return -1;
    memcpy(plain, user, ul);
    plain[ul] = ':';
    memcpy(plain + ul + 1, pass, pl);
    base64(coded, plain, ul + 1 + pl);
    put_str(o, "Proxy-Authorization: Basic ");
    put_str(o, coded);
    put_str(o, "\r\n");
    explicit_bzero(plain, sizeof plain);
    explicit_bzero(coded, sizeof coded);
    return 0;
}

ssize_t http_encode_connect(uint8_t *buf, size_t cap, const char *host, const struct sockaddr *addr,
                            uint16_t port, const char *user, const char *pass)
{
    struct out o = {.p = buf, .cap = cap};
    struct proto_dest d;
    char auth[262];

    if (proto_dest_from(host, addr, &d) < 0 || authority(auth, sizeof auth, &d, port) < 0)
        return -1;
    put_str(&o, "CONNECT ");
    put_str(&o, auth);
    put_str(&o, " HTTP/1.1\r\nHost: ");
    put_str(&o, auth);
    put_str(&o, "\r\n");
    if (user && put_credentials(&o, user, pass) < 0)
        return -1;
    put_str(&o, "\r\n");
    return o.full ? -1 : (ssize_t)o.len;
}

/* ---- response ---- */

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Reason phrase: HTAB / SP / VCHAR / obs-text (RFC 9112 section 4). */
static bool reason_char(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int garbage(struct proto_error *err, const uint8_t *buf, size_t len)
{
    char q[PROTO_QUOTE_MAX];

    proto_quote(q, buf, len);
    return proto_fail(err, ECONNREFUSED,
                      "http proxy: malformed status line (not an HTTP proxy?%s first bytes "
                      "\"%s\")",
                      proto_guess(buf, len), q);
}

/* Does byte i of a status line fit "HTTP/1.D DDD" then SP or CR? Checked byte by byte
 * so that a SOCKS or TLS answer fails at its first byte, not after 8 KiB. */
static bool status_byte_ok(const uint8_t *buf, size_t i)
{
    static const char pattern[] = "HTTP/1.# ###";

    if (i < sizeof pattern - 1) {
        if (pattern[i] != '#')
            return buf[i] == (uint8_t)pattern[i];
        if (i == 9) /* status class 1..5 */
            return buf[i] >= '1' && buf[i] <= '5';
        return is_digit(buf[i]);
    }
    if (i == sizeof pattern - 1)
        return buf[i] == ' ' || buf[i] == '\r';
    return reason_char(buf[i]) || buf[i] == '\r';
}

/* Copy the reason phrase, cut to fit and made printable. */
static void set_reason(struct http_response *out, const uint8_t *p, size_t n)
{
    size_t i;

    if (n > sizeof out->reason - 1)
        n = sizeof out->reason - 1;
    for (i = 0; i < n; i++)
        out->reason[i] = (char)(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?');
    out->reason[i] = '\0';
}

/* The status line as far as it has arrived: > 0 its length with CRLF (status, minor
 * and reason filled), 0 valid so far, -1 malformed. */
static int status_line(const uint8_t *buf, size_t len, struct http_response *out,
                       struct proto_error *err)
{
    for (size_t i = 0; i < len; i++) {
        if (!status_byte_ok(buf, i))
            return garbage(err, buf, len);
        if (buf[i] != '\r')
            continue;
        if (i + 1 == len)
            return 0;
        if (buf[i + 1] != '\n')
            return garbage(err, buf, len);
        out->minor = buf[7] - '0';
        out->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
        set_reason(out, buf + 13, i > 13 ? i - 13 : 0);
        return (int)(i + 2);
    }
    return 0;
}

/* Past the first CRLFCRLF in buf[0..len), or 0. */
static size_t header_end(const uint8_t *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* Bytes the terminator still lacks at the least, given how buf ends. */
static size_t terminator_missing(const uint8_t *buf, size_t len)
{
    for (size_t k = 3; k > 0; k--)
        if (len >= k && memcmp(buf + len - k, "\r\n\r\n", k) == 0)
            return 4 - k;
    return 4;
}

/* Proxy-Authenticate's scheme, from the header lines between line and end: names are
 * case-insensitive (RFC 9110 section 5.1), so "proxy-authenticate:" counts too. */
static void find_auth_scheme(const uint8_t *buf, size_t start, size_t end,
                             struct http_response *out)
{
    static const char name[] = "proxy-authenticate:";
    const size_t nl = sizeof name - 1;
    size_t i = start, o = 0;

    while (i + nl < end && strncasecmp((const char *)buf + i, name, nl) != 0) {
        const uint8_t *lf = memchr(buf + i, '\n', end - i);
        if (!lf)
            return;
        i = (size_t)(lf - buf) + 1;
    }
    if (i + nl >= end)
        return;
    for (i += nl; i < end && (buf[i] == ' ' || buf[i] == '\t'); i++)
        ;
    while (i < end && o < sizeof out->auth_scheme - 1 && buf[i] > 0x20 && buf[i] < 0x7f &&
           buf[i] != ',')
        out->auth_scheme[o++] = (char)buf[i++];
    out->auth_scheme[o] = '\0';
}

static int too_long(struct proto_error *err)
{
    return proto_fail(err, ECONNREFUSED,
                      "http proxy: response header longer than %d bytes without CRLFCRLF",
                      HTTP_HEADER_MAX);
}

/* One response header within limit bytes: > 0 its length, 0 incomplete (out->need
 * relative to buf), -1 error. */
static int one_response(const uint8_t *buf, size_t len, size_t limit, struct http_response *out,
                        struct proto_error *err)
{
    size_t scan = len < limit ? len : limit;
    size_t end;
    int line;

    out->status = 0;
    out->reason[0] = '\0';
    out->auth_scheme[0] = '\0';
    line = status_line(buf, scan, out, err);
    if (line < 0)
        return -1;
    end = line > 0 ? header_end(buf, scan) : 0;
    if (end == 0) {
        out->need = len + terminator_missing(buf, len);
        if (out->need < HTTP_RESPONSE_MIN)
            out->need = HTTP_RESPONSE_MIN;
        /* Even the shortest ending would not fit: refuse now rather than read more. */
        return out->need > limit ? too_long(err) : 0;
    }
    find_auth_scheme(buf, (size_t)line, end, out);
    out->need = end;
    return (int)end;
}

static int refused(const struct http_response *out, struct proto_error *err)
{
    bool scheme = out->status == 407 && out->auth_scheme[0];

    return proto_fail(err, http_status_errno(out->status), "http proxy: %d %s%s%s%s", out->status,
                      out->reason, scheme ? " (proxy asks for " : "",
                      scheme ? out->auth_scheme : "", scheme ? ")" : "");
}

int http_parse_response(const uint8_t *buf, size_t len, struct http_response *out,
                        struct proto_error *err)
{
    size_t off = 0;
    int r;

    memset(out, 0, sizeof *out);
    for (;;) {
        r = one_response(buf + off, len - off, HTTP_HEADER_MAX - off, out, err);
        if (r <= 0) {
            out->need += off;
            return r;
        }
        off += (size_t)r;
        /* An interim answer (100 Continue, 102, 103): the final one follows. */
        if (out->status >= 200 || out->status == 101)
            break;
    }
    out->need = off;
    if (out->status < 300 && out->status >= 200)
        return (int)off;
    return refused(out, err);
}

int http_status_errno(int status)
{
    if (status >= 200 && status < 300)
        return 0;
    switch (status) {
    case 401:
    case 403:
    case 407:
        return EACCES;
    case 503:
        return EHOSTUNREACH;
    case 504:
        return ETIMEDOUT;
    default: /* 502 and the rest: the connection was not made */
        return ECONNREFUSED;
    }
}
