#include "common/dnsresp.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#define HDR 12

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* The labels at M+OFF as text into NAME; the offset after the root label, or 0. */
static size_t read_name(const uint8_t *m, size_t len, size_t off, char *name)
{
    size_t n = 0;

    while (off < len && m[off]) {
        size_t l = m[off];
        if (l > 63 || off + 1 + l >= len || n + (n ? 1 : 0) + l > DNSRESP_NAME_MAX)
            return 0;
        if (n)
            name[n++] = '.';
        for (size_t i = 0; i < l; i++) {
            uint8_t c = m[off + 1 + i];
            /* printable, no '.': the text names exactly one wire name */
            if (c <= ' ' || c >= 0x7f || c == '.')
                return 0;
            name[n++] = (char)c;
        }
        off += 1 + l;
    }
    if (off >= len)
        return 0;
    name[n] = '\0';
    return off + 1;
}

bool dnsresp_parse(const uint8_t *m, size_t len, struct dnsresp_query *out)
{
    size_t end;

    if (len < HDR || (m[2] & 0x80) || (m[2] & 0x78) != 0 || get16(m + 4) != 1 ||
        get16(m + 6) != 0 || get16(m + 8) != 0)
        return false;
    end = read_name(m, len, HDR, out->name);
    if (end == 0 || end + 4 > len)
        return false;
    out->id = (uint16_t)get16(m);
    out->rd = (m[2] & 1) != 0;
    out->type = (uint16_t)get16(m + end);
    out->class = (uint16_t)get16(m + end + 2);
    out->q = m + HDR;
    out->qlen = end + 4 - HDR;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

static bool arpa4(const char *s, size_t n, struct dns_addr *out)
{
    size_t at = 0;

    for (int i = 3; i >= 0; i--) {
        unsigned v = 0, digits = 0;
        while (at < n && s[at] >= '0' && s[at] <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(s[at++] - '0');
            digits++;
        }
        /* no leading zeros: one spelling per address */
        if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[at - digits] == '0'))
            return false;
        if (at >= n || s[at++] != '.')
            return false;
        out->addr[i] = (uint8_t)v;
    }
    return at == n;
}

static bool arpa6(const char *s, size_t n, struct dns_addr *out)
{
    if (n != 64)
        return false;
    for (int i = 0; i < 32; i++) {
        int v = hexval(s[2 * i]);
        if (v < 0 || s[2 * i + 1] != '.')
            return false;
        /* the first label is the lowest nibble of the last byte */
        uint8_t *b = &out->addr[15 - i / 2];
        *b = (uint8_t)(i % 2 ? (*b | v << 4) : v);
    }
    return true;
}

bool dnsresp_arpa_addr(const char *name, struct dns_addr *out)
{
    size_t n = strlen(name);

    memset(out, 0, sizeof(*out));
    if (ends_with_ci(name, n, ".in-addr.arpa")) {
        out->family = AF_INET;
        return arpa4(name, n - strlen("in-addr.arpa"), out);
    }
    if (ends_with_ci(name, n, ".ip6.arpa")) {
        out->family = AF_INET6;
        return arpa6(name, n - strlen("ip6.arpa"), out);
    }
    return false;
}

/* Header and echoed question; the offset after them, or 0 when they do not fit. */
static size_t start(const struct dnsresp_query *q, int rcode, uint8_t *out, size_t cap)
{
    if (cap < HDR + q->qlen)
        return 0;
    put16(out, q->id);
    out[2] = (uint8_t)(0x80 | (q->rd ? 1 : 0)); /* QR, opcode QUERY, RD echoed */
    out[3] = (uint8_t)(0x80 | rcode);           /* RA */
    put16(out + 4, 1);
    memset(out + 6, 0, 6);
    memmove(out + HDR, q->q, q->qlen);
    return HDR + q->qlen;
}

/* One answer record for the question's name; false (and TC) when it does not fit. */
static bool add_rr(uint8_t *out, size_t cap, size_t *off, unsigned type, const uint8_t *rdata,
                   size_t rdlen)
{
    if (*off + 12 + rdlen > cap) {
        out[2] |= 0x02;
        return false;
    }
    put16(out + *off, 0xc000 | HDR); /* the question's name */
    put16(out + *off + 2, type);
    put16(out + *off + 4, DNSRESP_C_IN);
    put16(out + *off + 6, 0);
    put16(out + *off + 8, DNSRESP_TTL);
    put16(out + *off + 10, (unsigned)rdlen);
    memcpy(out + *off + 12, rdata, rdlen);
    *off += 12 + rdlen;
    put16(out + 6, get16(out + 6) + 1);
    return true;
}

static int answer_addrs(const struct dnsresp_query *q, const struct dnsresp_ops *ops, uint8_t *out,
                        size_t cap)
{
    struct dns_addr a[DNSRESP_MAX_ADDRS];
    int family = q->type == DNSRESP_T_A ? AF_INET : AF_INET6;
    size_t n = 0, off;
    int rc = ops->lookup(ops->ctx, q->name, family, a, DNSRESP_MAX_ADDRS, &n);
    int rcode = DNSRESP_NOERROR;

    if (rc == EAI_NONAME)
        rcode = DNSRESP_NXDOMAIN;
    else if (rc && rc != EAI_ADDRFAMILY && rc != EAI_NODATA && rc != EAI_FAMILY)
        rcode = DNSRESP_SERVFAIL;
    off = start(q, rcode, out, cap);
    if (off == 0)
        return -1;
    for (size_t i = 0; !rc && i < n && i < DNSRESP_MAX_ADDRS; i++) {
        if (a[i].family != family)
            continue;
        if (!add_rr(out, cap, &off, q->type, a[i].addr, family == AF_INET ? 4 : 16))
            break;
    }
    return (int)off;
}

/* NAME (text) as wire labels into W; its length, or 0. */
static size_t encode_name(const char *name, uint8_t *w, size_t cap)
{
    size_t len = strlen(name), off = 0;

    for (size_t i = 0; i < len;) {
        size_t l = strcspn(name + i, ".");
        if (l == 0 || l > 63 || off + 1 + l + 1 > cap)
            return 0;
        w[off++] = (uint8_t)l;
        memcpy(w + off, name + i, l);
        off += l;
        i += l + 1;
    }
    if (off + 1 > cap)
        return 0;
    w[off++] = 0;
    return off;
}

static int answer_ptr(const struct dnsresp_query *q, const struct dnsresp_ops *ops, uint8_t *out,
                      size_t cap)
{
    struct dns_addr a;
    char name[DNSRESP_NAME_MAX + 2];
    uint8_t wire[DNSRESP_NAME_MAX + 2];
    size_t off = start(q, DNSRESP_NOERROR, out, cap), wl = 0;

    if (off == 0)
        return -1;
    if (dnsresp_arpa_addr(q->name, &a) && ops->name_of(ops->ctx, &a, name, sizeof(name))) {
        name[sizeof(name) - 1] = '\0';
        wl = encode_name(name, wire, sizeof(wire));
    }
    if (wl)
        add_rr(out, cap, &off, DNSRESP_T_PTR, wire, wl);
    return (int)off;
}

int dnsresp_respond(const uint8_t *msg, size_t len, const struct dnsresp_ops *ops, uint8_t *out,
                    size_t cap)
{
    struct dnsresp_query q;
    size_t off;

    if (!dnsresp_parse(msg, len, &q))
        return -1;
    switch (ops->way(ops->ctx, q.name)) {
    case DNSRESP_PASS:
        return 0;
    case DNSRESP_REFUSE:
        off = start(&q, DNSRESP_REFUSED, out, cap);
        return off ? (int)off : -1;
    default:
        break;
    }
    if (q.class == DNSRESP_C_IN && (q.type == DNSRESP_T_A || q.type == DNSRESP_T_AAAA))
        return answer_addrs(&q, ops, out, cap);
    if (q.class == DNSRESP_C_IN && q.type == DNSRESP_T_PTR)
        return answer_ptr(&q, ops, out, cap);
    off = start(&q, DNSRESP_NOERROR, out, cap);
    return off ? (int)off : -1;
}

int dnsresp_rcode(const uint8_t *msg, size_t len, int rcode, uint8_t *out, size_t cap)
{
    if (len < HDR || cap < HDR)
        return -1;
    put16(out, get16(msg));
    out[2] = (uint8_t)(0x80 | (msg[2] & 0x79)); /* QR, the opcode and RD echoed */
    out[3] = (uint8_t)(0x80 | (rcode & 0x0f));
    memset(out + 4, 0, 8);
    return HDR;
}
