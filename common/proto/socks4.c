/* socks4: SOCKS4 / SOCKS4a client messages. */
#include "common/proto/socks4.h"

#include <errno.h>
#include <string.h>

/* SOCKS4a marks "the name follows" with 0.0.0.x, x != 0. */
static const uint8_t socks4a_ip[4] = {0, 0, 0, 1};

ssize_t socks4_encode_request(uint8_t *buf, size_t cap, const char *host,
                              const struct sockaddr *addr, uint16_t port, const char *userid)
{
    struct proto_dest d;
    size_t ul = userid ? strlen(userid) : 0;
    size_t nl, n;

    if (ul > 255 || proto_dest_from(host, addr, &d) < 0 || d.kind == PROTO_ADDR_IPV6)
        return -1;
    nl = d.kind == PROTO_ADDR_DOMAIN ? d.name_len + 1 : 0;
    n = 8 + ul + 1 + nl;
    if (cap < n)
        return -1;
    buf[0] = SOCKS4_VERSION;
    buf[1] = SOCKS4_CMD_CONNECT;
    buf[2] = (uint8_t)(port >> 8);
    buf[3] = (uint8_t)port;
    memcpy(buf + 4, d.kind == PROTO_ADDR_DOMAIN ? socks4a_ip : d.ip, 4);
    memcpy(buf + 8, userid ? userid : "", ul);
    buf[8 + ul] = '\0';
    if (nl) {
        memcpy(buf + 9 + ul, d.name, d.name_len);
        buf[n - 1] = '\0';
    }
    return (ssize_t)n;
}

static const char *cd_text(uint8_t cd)
{
    switch (cd) {
    case SOCKS4_CD_GRANTED:
        return "granted";
    case SOCKS4_CD_REJECTED:
        return "rejected or failed";
    case SOCKS4_CD_NO_IDENTD:
        return "rejected: the proxy cannot reach our identd";
    case SOCKS4_CD_IDENTD_MISMATCH:
        return "rejected: identd and userid differ";
    default:
        return "unknown code";
    }
}

int socks4_cd_errno(uint8_t cd)
{
    switch (cd) {
    case SOCKS4_CD_GRANTED:
        return 0;
    case SOCKS4_CD_NO_IDENTD:
    case SOCKS4_CD_IDENTD_MISMATCH:
        return EACCES;
    default:
        return ECONNREFUSED;
    }
}

int socks4_parse_reply(const uint8_t *buf, size_t len, struct socks4_reply *out,
                       struct proto_error *err)
{
    char q[PROTO_QUOTE_MAX];

    memset(out, 0, sizeof *out);
    out->need = SOCKS4_REPLY_LEN;
    if (len >= 1 && buf[0] != 0 && buf[0] != SOCKS4_VERSION) {
        proto_quote(q, buf, len);
        return proto_fail(err, ECONNREFUSED,
                          "socks4 reply: version 0x%02x (not a SOCKS4 server?%s first bytes "
                          "\"%s\")",
                          buf[0], proto_guess(buf, len), q);
    }
    if (len < 2)
        return 0;
    out->cd = buf[1];
    if (buf[1] != SOCKS4_CD_GRANTED)
        return proto_fail(err, socks4_cd_errno(buf[1]), "socks4 reply: CD %u (%s)", buf[1],
                          cd_text(buf[1]));
    if (len < SOCKS4_REPLY_LEN)
        return 0;
    proto_addr_set_ip(&out->bound, buf + 4, 4, (uint16_t)(buf[2] << 8 | buf[3]));
    return SOCKS4_REPLY_LEN;
}
