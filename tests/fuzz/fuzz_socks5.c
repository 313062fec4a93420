/* libFuzzer: the SOCKS5 reply parsers (method, RFC 1929 auth, reply, pipelined) under
 * the shared parser contract (parse_check.h), and the pipelined encoder with names,
 * credentials and buffer sizes from the input.
 *
 * Input: byte 0 selects (mod 7):
 *   0 method reply (no-auth offered)    1 method reply (no-auth + user/pass offered)
 *   2 auth reply                        3 reply
 *   4 pipelined (no auth)               5 pipelined (user/pass)
 *   6 encoder: cap(2 bytes) cmd port(2) user\0pass\0host -> socks5_encode_pipelined
 * the rest is what the proxy sent (or the encoder's arguments). */
#include "common/proto/socks5.h"
#include "tests/fuzz/parse_check.h"

#include <arpa/inet.h>
#include <errno.h>

static const int s5_errnos[] = {ECONNREFUSED, EACCES,      ENETUNREACH,  EHOSTUNREACH,
                                ETIMEDOUT,    EOPNOTSUPP,  EAFNOSUPPORT, 0};

static int p_method(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                    int arg)
{
    struct socks5_method_reply *m = o;
    int r = socks5_parse_method(b, n, arg, m, e);
    *need = m->need;
    return r;
}

static void ok_method(const uint8_t *b, size_t n, int r, const void *o, int arg)
{
    const struct socks5_method_reply *m = o;
    (void)n;
    FUZZ_CHECK(r == 2, "method reply length %d", r);
    FUZZ_CHECK(m->method == b[1], "method %u, byte %u", m->method, b[1]);
    FUZZ_CHECK(m->method == SOCKS5_METHOD_NONE || (arg && m->method == SOCKS5_METHOD_USERPASS),
               "accepted method 0x%02x that was not offered (userpass %d)", m->method, arg);
}

static int p_auth(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e, int arg)
{
    struct socks5_auth_reply *a = o;
    int r = socks5_parse_auth_reply(b, n, a, e);
    (void)arg;
    *need = a->need;
    return r;
}

static void ok_auth(const uint8_t *b, size_t n, int r, const void *o, int arg)
{
    const struct socks5_auth_reply *a = o;
    (void)n, (void)arg;
    FUZZ_CHECK(r == 2 && a->status == 0 && b[1] == 0, "auth reply r=%d status=%u", r, a->status);
}

static void check_bound(const struct proto_addr *a, const uint8_t *p, size_t alen)
{
    /* p: ATYP..PORT of alen bytes */
    uint16_t port = (uint16_t)(p[alen - 2] << 8 | p[alen - 1]);

    FUZZ_CHECK(a->port == port, "bound port %u, bytes say %u", a->port, port);
    switch (a->kind) {
    case PROTO_ADDR_IPV4: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->sa;
        FUZZ_CHECK(p[0] == SOCKS5_ATYP_IPV4 && alen == 7, "ipv4 bound, atyp %u len %zu", p[0], alen);
        FUZZ_CHECK(in->sin_family == AF_INET && ntohs(in->sin_port) == port &&
                       memcmp(&in->sin_addr, p + 1, 4) == 0,
                   "ipv4 sockaddr does not match the bytes");
        break;
    }
    case PROTO_ADDR_IPV6: {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->sa;
        FUZZ_CHECK(p[0] == SOCKS5_ATYP_IPV6 && alen == 19, "ipv6 bound, atyp %u len %zu", p[0],
                   alen);
        FUZZ_CHECK(in6->sin6_family == AF_INET6 && ntohs(in6->sin6_port) == port &&
                       memcmp(&in6->sin6_addr, p + 1, 16) == 0,
                   "ipv6 sockaddr does not match the bytes");
        break;
    }
    case PROTO_ADDR_DOMAIN:
        FUZZ_CHECK(p[0] == SOCKS5_ATYP_DOMAIN && alen == (size_t)p[1] + 4,
                   "domain bound, atyp %u len %zu", p[0], alen);
        FUZZ_CHECK(strnlen(a->host, sizeof a->host) == p[1] &&
                       memcmp(a->host, p + 2, p[1]) == 0,
                   "domain bound host differs from the bytes");
        FUZZ_CHECK(a->sa.ss_family == AF_UNSPEC, "domain with family %d", a->sa.ss_family);
        break;
    default:
        FUZZ_CHECK(0, "bound address of kind %d", (int)a->kind);
    }
}

static int p_reply(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                   int arg)
{
    struct socks5_reply *rep = o;
    int r = socks5_parse_reply(b, n, rep, e);
    (void)arg;
    *need = rep->need;
    return r;
}

static void ok_reply(const uint8_t *b, size_t n, int r, const void *o, int arg)
{
    const struct socks5_reply *rep = o;
    (void)n, (void)arg;
    FUZZ_CHECK(r >= SOCKS5_REPLY_MIN && r <= SOCKS5_REPLY_MAX, "reply length %d", r);
    FUZZ_CHECK(rep->rep == 0 && b[0] == 5 && b[1] == 0, "success with REP %u", rep->rep);
    check_bound(&rep->bound, b + 3, (size_t)r - 3);
}

static int p_pipe(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                  int arg)
{
    struct socks5_pipelined_reply *p = o;
    int r = socks5_parse_pipelined(b, n, arg, p, e);
    *need = p->need;
    return r;
}

static void ok_pipe(const uint8_t *b, size_t n, int r, const void *o, int arg)
{
    const struct socks5_pipelined_reply *p = o;
    size_t off = 2 + (arg ? 2 : 0);
    (void)n;
    FUZZ_CHECK(p->stage == SOCKS5_STAGE_DONE, "complete in stage %d", (int)p->stage);
    FUZZ_CHECK(p->method == (arg ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NONE),
               "pipelined method 0x%02x (userpass %d)", p->method, arg);
    FUZZ_CHECK((size_t)r > off && (size_t)r - off >= SOCKS5_REPLY_MIN, "pipelined length %d", r);
    FUZZ_CHECK(p->reply.rep == 0, "pipelined success with REP %u", p->reply.rep);
    check_bound(&p->reply.bound, b + off + 3, (size_t)r - off - 3);
}

static void encoder(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t cap = fuzz_u16(&in) % (SOCKS5_PIPELINED_MAX + 16);
    uint8_t cmd = fuzz_u8(&in) % 5; /* 0 and 4 are invalid */
    uint16_t port = fuzz_u16(&in);
    char *user = fuzz_take_str(&in), *pass = fuzz_take_str(&in), *host = fuzz_take_str(&in);
    uint8_t *buf = malloc(cap ? cap : 1);
    bool with_user = user[0] != '\0';
    ssize_t r;

    r = socks5_encode_pipelined(buf, cap, with_user ? user : NULL, pass, cmd, host, NULL, port);
    FUZZ_CHECK(r <= (ssize_t)cap, "encode_pipelined wrote %zd into %zu", r, cap);
    if (r > 0) {
        size_t ul = strlen(user), pl = strlen(pass), off;
        FUZZ_CHECK(cmd >= 1 && cmd <= 3, "encoded cmd %u", cmd);
        FUZZ_CHECK(buf[0] == 5 && buf[1] == 1 &&
                       buf[2] == (with_user ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NONE),
                   "greeting %02x %02x %02x", buf[0], buf[1], buf[2]);
        off = 3;
        if (with_user) {
            FUZZ_CHECK(ul <= 255 && pl <= 255 && buf[3] == 1 && buf[4] == ul &&
                           memcmp(buf + 5, user, ul) == 0 && buf[5 + ul] == pl &&
                           memcmp(buf + 6 + ul, pass, pl) == 0,
                       "auth part");
            off += 3 + ul + pl;
        }
        FUZZ_CHECK(buf[off] == 5 && buf[off + 1] == cmd && buf[off + 2] == 0, "request header");
        switch (buf[off + 3]) {
        case SOCKS5_ATYP_IPV4:
            FUZZ_CHECK((size_t)r == off + 10, "ipv4 request of %zd bytes", r);
            break;
        case SOCKS5_ATYP_IPV6:
            FUZZ_CHECK((size_t)r == off + 22, "ipv6 request of %zd bytes", r);
            break;
        case SOCKS5_ATYP_DOMAIN:
            FUZZ_CHECK(buf[off + 4] == strlen(host) && memcmp(buf + off + 5, host, strlen(host)) == 0 &&
                           (size_t)r == off + 7 + strlen(host),
                       "domain request: len byte %u for \"%s\"", buf[off + 4], host);
            break;
        default:
            FUZZ_CHECK(0, "request ATYP %u", buf[off + 3]);
        }
        FUZZ_CHECK(buf[r - 2] == port >> 8 && buf[r - 1] == (port & 0xff), "request port");
    }
    free(buf);
    free(user);
    free(pass);
    free(host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pc_spec specs[] = {
        {"socks5_parse_method", p_method, ok_method, 0, sizeof(struct socks5_method_reply), 2,
         s5_errnos},
        {"socks5_parse_method(userpass)", p_method, ok_method, 1,
         sizeof(struct socks5_method_reply), 2, s5_errnos},
        {"socks5_parse_auth_reply", p_auth, ok_auth, 0, sizeof(struct socks5_auth_reply), 2,
         s5_errnos},
        {"socks5_parse_reply", p_reply, ok_reply, 0, sizeof(struct socks5_reply),
         SOCKS5_REPLY_MAX, s5_errnos},
        {"socks5_parse_pipelined", p_pipe, ok_pipe, 0, sizeof(struct socks5_pipelined_reply),
         2 + SOCKS5_REPLY_MAX, s5_errnos},
        {"socks5_parse_pipelined(userpass)", p_pipe, ok_pipe, 1,
         sizeof(struct socks5_pipelined_reply), 4 + SOCKS5_REPLY_MAX, s5_errnos},
    };
    uint8_t sel;

    if (size < 1 || size > 1024)
        return 0;
    sel = data[0] % 7;
    if (sel == 6)
        encoder(data + 1, size - 1);
    else
        pc_check(&specs[sel], data + 1, size - 1, true);
    return 0;
}
