/* libFuzzer: the SOCKS4 reply parser under the shared parser contract
 * (parse_check.h), and the SOCKS4/4a request encoder.
 * Input: byte 0 even: the rest is the proxy's reply; odd: cap(2) port(2) ip(4)
 * userid\0host -> socks4_encode_request (host "" means the ip). */
#include "common/proto/socks4.h"
#include "tests/fuzz/parse_check.h"

#include <arpa/inet.h>
#include <errno.h>

static const int s4_errnos[] = {ECONNREFUSED, EACCES, 0};

static int p_reply(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                   int arg)
{
    struct socks4_reply *rep = o;
    int r = socks4_parse_reply(b, n, rep, e);
    (void)arg;
    *need = rep->need;
    return r;
}

static void ok_reply(const uint8_t *b, size_t n, int r, const void *o, int arg)
{
    const struct socks4_reply *rep = o;
    const struct sockaddr_in *in = (const struct sockaddr_in *)&rep->bound.sa;
    (void)n, (void)arg;
    FUZZ_CHECK(r == SOCKS4_REPLY_LEN, "reply length %d", r);
    FUZZ_CHECK(rep->cd == SOCKS4_CD_GRANTED && (b[0] == 0 || b[0] == 4), "granted with CD %u VN %u",
               rep->cd, b[0]);
    FUZZ_CHECK(rep->bound.kind == PROTO_ADDR_IPV4 && in->sin_family == AF_INET &&
                   memcmp(&in->sin_addr, b + 4, 4) == 0 && rep->bound.port == (b[2] << 8 | b[3]),
               "bound address does not match the bytes");
}

static void encoder(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t cap = fuzz_u16(&in) % (SOCKS4_REQUEST_MAX + 16);
    uint16_t port = fuzz_u16(&in);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    char *userid, *host;
    uint8_t *buf;
    ssize_t r;

    for (int i = 0; i < 4; i++)
        ((uint8_t *)&sin.sin_addr)[i] = fuzz_u8(&in);
    userid = fuzz_take_str(&in);
    host = fuzz_take_str(&in);
    buf = malloc(cap ? cap : 1);
    r = socks4_encode_request(buf, cap, host[0] ? host : NULL, (struct sockaddr *)&sin, port,
                              userid[0] ? userid : NULL);
    FUZZ_CHECK(r <= (ssize_t)cap, "encode_request wrote %zd into %zu", r, cap);
    if (r > 0) {
        size_t ul = strlen(userid);
        FUZZ_CHECK(r >= 9 && buf[0] == 4 && buf[1] == 1 && buf[2] == port >> 8 &&
                       buf[3] == (port & 0xff),
                   "request header");
        FUZZ_CHECK(memcmp(buf + 8, userid, ul) == 0 && buf[8 + ul] == 0, "userid field");
        FUZZ_CHECK(buf[r - 1] == 0, "request not NUL-terminated");
        /* 4a: DSTIP 0.0.0.x (x != 0) and the name after the userid. (An address
         * 0.0.0.x given as such is ambiguous on the wire; nobody dials 0.0.0.0/8.) */
        if (host[0] && buf[4] == 0 && buf[5] == 0 && buf[6] == 0 && buf[7] != 0)
            FUZZ_CHECK((size_t)r == 8 + ul + 1 + strlen(host) + 1 &&
                           memcmp(buf + 9 + ul, host, strlen(host)) == 0,
                       "socks4a name field for \"%s\"", host);
        else
            FUZZ_CHECK((size_t)r == 8 + ul + 1, "socks4 request of %zd bytes", r);
    }
    free(buf);
    free(userid);
    free(host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pc_spec spec = {"socks4_parse_reply", p_reply, ok_reply, 0,
                                        sizeof(struct socks4_reply), SOCKS4_REPLY_LEN, s4_errnos};

    if (size < 1 || size > 1024)
        return 0;
    if (data[0] & 1)
        encoder(data + 1, size - 1);
    else
        pc_check(&spec, data + 1, size - 1, true);
    return 0;
}
