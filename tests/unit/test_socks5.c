/* Unit tests for common/proto/socks5: recorded good replies for every path, malformed
 * ones, every split of every reply, and the encoders' limits. */
#include "common/proto/socks5.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define TAIL     "SSH-2.0-OpenSSH_9.2\r\n" /* a server-first protocol's first bytes */
#define TAIL_LEN (sizeof TAIL - 1)

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6 sin6(const char *ip, uint16_t port)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

/* Every error line must be one short printable line. */
static void check_why(const struct proto_error *err)
{
    size_t n = strlen(err->why);

    ck_assert_uint_gt(n, 0);
    ck_assert_uint_le(n, PROTO_WHY_MAX);
    for (size_t i = 0; i < n; i++)
        ck_assert(err->why[i] >= 0x20 && err->why[i] < 0x7f);
}

static void check_fail(int r, const struct proto_error *err, int errnum, const char *needle)
{
    ck_assert_int_lt(r, 0);
    ck_assert_int_eq(err->errnum, errnum);
    check_why(err);
    if (needle)
        ck_assert_msg(strstr(err->why, needle), "\"%s\" not in \"%s\"", needle, err->why);
}

/* ---- split harness: one parser shape for all messages ---- */

typedef int (*parser)(const uint8_t *buf, size_t len, size_t *need, struct proto_error *err);

static int p_reply(const uint8_t *buf, size_t len, size_t *need, struct proto_error *err)
{
    struct socks5_reply r;
    int x = socks5_parse_reply(buf, len, &r, err);
    *need = r.need;
    return x;
}

static int p_method_creds(const uint8_t *buf, size_t len, size_t *need, struct proto_error *err)
{
    struct socks5_method_reply r;
    int x = socks5_parse_method(buf, len, true, &r, err);
    *need = r.need;
    return x;
}

static int p_auth(const uint8_t *buf, size_t len, size_t *need, struct proto_error *err)
{
    struct socks5_auth_reply r;
    int x = socks5_parse_auth_reply(buf, len, &r, err);
    *need = r.need;
    return x;
}

static int p_pipe_auth(const uint8_t *buf, size_t len, size_t *need, struct proto_error *err)
{
    struct socks5_pipelined_reply r;
    int x = socks5_parse_pipelined(buf, len, true, &r, err);
    *need = r.need;
    return x;
}

static int p_pipe_none(const uint8_t *buf, size_t len, size_t *need, struct proto_error *err)
{
    struct socks5_pipelined_reply r;
    int x = socks5_parse_pipelined(buf, len, false, &r, err);
    *need = r.need;
    return x;
}

/* The parser sees only a heap copy of exactly len bytes, so an over-read shows under
 * ASan; fn returns 0 with a sane need for every proper prefix, and the exact length for
 * the whole message, with or without tunnel bytes after it. */
static int run_on_copy(parser fn, const uint8_t *msg, size_t len, size_t *need,
                       struct proto_error *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    int r;

    memcpy(copy, msg, len);
    r = fn(copy, len, need, err);
    free(copy);
    return r;
}

static void check_splits(parser fn, const uint8_t *msg, size_t total)
{
    struct proto_error err = {0};
    uint8_t stream[1024];
    size_t need, len = 0;
    int r, reads = 0;

    for (size_t i = 0; i < total; i++) {
        ck_assert_int_eq(run_on_copy(fn, msg, i, &need, &err), 0);
        ck_assert_uint_gt(need, i);
        ck_assert_uint_le(need, total);
    }
    ck_assert_int_eq(run_on_copy(fn, msg, total, &need, &err), (int)total);
    ck_assert_uint_eq(need, total);

    /* A reader that reads need - len bytes each time stops at the message's end. */
    memcpy(stream, msg, total);
    memcpy(stream + total, TAIL, TAIL_LEN);
    while ((r = run_on_copy(fn, stream, len, &need, &err)) == 0) {
        ck_assert_uint_gt(need, len);
        len = need;
        ck_assert_uint_le(len, total);
        reads++;
    }
    ck_assert_int_eq(r, (int)total);
    ck_assert_int_le(reads, 4);
    ck_assert_int_eq(fn(stream, total + TAIL_LEN, &need, &err), (int)total);
}

/* ---- recorded replies ---- */

static const uint8_t reply_v4[] = {0x05, 0x00, 0x00, 0x01, 192, 0, 2, 1, 0x04, 0x38};
static const uint8_t reply_v6[] = {0x05, 0x00, 0x00, 0x04, 0x20, 0x01, 0x0d, 0xb8, 0,    0,   0, 0,
                                   0,    0,    0,    0,    0,    0,    0,    0x01, 0x1f, 0x90};
static const uint8_t reply_dom[] = {0x05, 0x00, 0x00, 0x03, 11,  'e', 'x', 'a',  'm',
                                    'p',  'l',  'e',  '.',  'c', 'o', 'm', 0x00, 0x50};

/* ---- greeting ---- */

START_TEST(greeting_no_auth)
{
    uint8_t b[8];
    ck_assert_int_eq(socks5_encode_greeting(b, sizeof b, false), 3);
    ck_assert_mem_eq(b, "\x05\x01\x00", 3);
}
END_TEST

START_TEST(greeting_userpass)
{
    uint8_t b[8];
    ck_assert_int_eq(socks5_encode_greeting(b, sizeof b, true), 4);
    ck_assert_mem_eq(b, "\x05\x02\x00\x02", 4);
}
END_TEST

START_TEST(greeting_small_cap)
{
    uint8_t b[8] = {0xaa, 0xaa, 0xaa, 0xaa};
    ck_assert_int_eq(socks5_encode_greeting(b, 2, false), -1);
    ck_assert_int_eq(socks5_encode_greeting(b, 3, true), -1);
    ck_assert_int_eq(b[0], 0xaa); /* nothing written on failure */
    ck_assert_int_eq(socks5_encode_greeting(b, 3, false), 3);
}
END_TEST

/* ---- method selection ---- */

START_TEST(method_none)
{
    struct socks5_method_reply m;
    struct proto_error err = {0};
    ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x05\x00", 2, false, &m, &err), 2);
    ck_assert_int_eq(m.method, SOCKS5_METHOD_NONE);
}
END_TEST

START_TEST(method_userpass_and_none_with_creds)
{
    struct socks5_method_reply m;
    struct proto_error err = {0};
    ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x05\x02", 2, true, &m, &err), 2);
    ck_assert_int_eq(m.method, SOCKS5_METHOD_USERPASS);
    /* Offered both: the proxy may skip authentication. */
    ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x05\x00", 2, true, &m, &err), 2);
    ck_assert_int_eq(m.method, SOCKS5_METHOD_NONE);
}
END_TEST

START_TEST(method_unacceptable)
{
    struct socks5_method_reply m;
    struct proto_error err = {0};
    int r = socks5_parse_method((const uint8_t *)"\x05\xff", 2, true, &m, &err);
    check_fail(r, &err, EACCES, "no acceptable method");
    ck_assert_int_eq(m.method, 0xff);
}
END_TEST

START_TEST(method_userpass_not_offered)
{
    struct socks5_method_reply m;
    struct proto_error err = {0};
    int r = socks5_parse_method((const uint8_t *)"\x05\x02", 2, false, &m, &err);
    check_fail(r, &err, EACCES, "requires username/password");
}
END_TEST

START_TEST(method_gssapi_not_offered)
{
    struct socks5_method_reply m;
    struct proto_error err = {0};
    int r = socks5_parse_method((const uint8_t *)"\x05\x01", 2, true, &m, &err);
    check_fail(r, &err, ECONNREFUSED, "GSSAPI");
    r = socks5_parse_method((const uint8_t *)"\x05\x80", 2, true, &m, &err);
    check_fail(r, &err, ECONNREFUSED, "not offered");
}
END_TEST

START_TEST(method_wrong_version_http)
{
    struct socks5_method_reply m;
    struct proto_error err = {0};
    int r = socks5_parse_method((const uint8_t *)"HT", 2, false, &m, &err);
    check_fail(r, &err, ECONNREFUSED, "version 0x48");
    ck_assert_ptr_nonnull(strstr(err.why, "looks like HTTP"));
    ck_assert_ptr_nonnull(strstr(err.why, "\"HT\""));
    /* The first byte alone is enough to know. */
    r = socks5_parse_method((const uint8_t *)"\x04", 1, false, &m, &err);
    check_fail(r, &err, ECONNREFUSED, "version 0x04");
}
END_TEST

START_TEST(method_short_and_trailing)
{
    struct socks5_method_reply m;
    struct proto_error err = {0};
    ck_assert_int_eq(socks5_parse_method((const uint8_t *)"", 0, false, &m, &err), 0);
    ck_assert_uint_eq(m.need, 2);
    ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x05", 1, false, &m, &err), 0);
    ck_assert_uint_eq(m.need, 2);
    ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x05\x00\x05\x00", 4, false, &m, &err),
                     2);
    check_splits(p_method_creds, (const uint8_t *)"\x05\x02", 2);
}
END_TEST

/* ---- RFC 1929 ---- */

START_TEST(auth_encode)
{
    uint8_t b[64];
    ck_assert_int_eq(socks5_encode_auth(b, sizeof b, "lab", "secret"), 12);
    ck_assert_mem_eq(b, "\x01\x03lab\x06secret", 12);
    ck_assert_int_eq(socks5_encode_auth(b, sizeof b, "lab", NULL), 6);
    ck_assert_mem_eq(b, "\x01\x03lab\x00", 6);
}
END_TEST

START_TEST(auth_encode_limits)
{
    uint8_t b[SOCKS5_AUTH_MAX + 8];
    char big[257];

    memset(big, 'u', 256);
    big[256] = '\0';
    ck_assert_int_eq(socks5_encode_auth(b, sizeof b, big, "p"), -1);
    ck_assert_int_eq(socks5_encode_auth(b, sizeof b, "u", big), -1);
    big[255] = '\0';
    ck_assert_int_eq(socks5_encode_auth(b, sizeof b, big, big), SOCKS5_AUTH_MAX);
    ck_assert_int_eq(socks5_encode_auth(b, SOCKS5_AUTH_MAX - 1, big, big), -1);
    ck_assert_int_eq(socks5_encode_auth(b, sizeof b, "", "p"), -1);
    ck_assert_int_eq(socks5_encode_auth(b, sizeof b, NULL, "p"), -1);
}
END_TEST

START_TEST(auth_reply_ok)
{
    struct socks5_auth_reply a;
    struct proto_error err = {0};
    ck_assert_int_eq(socks5_parse_auth_reply((const uint8_t *)"\x01\x00", 2, &a, &err), 2);
    ck_assert_int_eq(a.status, 0);
    /* Tolerated quirk: the SOCKS version echoed as the sub-negotiation version. */
    ck_assert_int_eq(socks5_parse_auth_reply((const uint8_t *)"\x05\x00", 2, &a, &err), 2);
    check_splits(p_auth, (const uint8_t *)"\x01\x00", 2);
}
END_TEST

START_TEST(auth_reply_rejected)
{
    struct socks5_auth_reply a;
    struct proto_error err = {0};
    int r = socks5_parse_auth_reply((const uint8_t *)"\x01\x01", 2, &a, &err);
    check_fail(r, &err, EACCES, "rejected");
    ck_assert_int_eq(a.status, 1);
    r = socks5_parse_auth_reply((const uint8_t *)"\x01\xff", 2, &a, &err);
    check_fail(r, &err, EACCES, "0xff");
}
END_TEST

START_TEST(auth_reply_bad_version)
{
    struct socks5_auth_reply a;
    struct proto_error err = {0};
    int r = socks5_parse_auth_reply((const uint8_t *)"\x00\x00", 2, &a, &err);
    check_fail(r, &err, ECONNREFUSED, "version 0x00");
}
END_TEST

/* ---- request ---- */

START_TEST(request_ipv4)
{
    uint8_t b[64];
    struct sockaddr_in a = sin4("192.0.2.1", 80);
    ck_assert_int_eq(
        socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, NULL, (struct sockaddr *)&a, 80),
        10);
    ck_assert_mem_eq(b, "\x05\x01\x00\x01\xc0\x00\x02\x01\x00\x50", 10);
}
END_TEST

START_TEST(request_ipv6)
{
    uint8_t b[64];
    struct sockaddr_in6 a = sin6("2001:db8::1", 443);
    static const uint8_t want[] = {5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0,    0,
                                   0, 0, 0, 0, 0,    0,    0,    0,    1, 0x01, 0xbb};
    ck_assert_int_eq(
        socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, NULL, (struct sockaddr *)&a, 443),
        22);
    ck_assert_mem_eq(b, want, 22);
}
END_TEST

START_TEST(request_domain)
{
    uint8_t b[64];
    ck_assert_int_eq(
        socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, "example.com", NULL, 8080), 18);
    ck_assert_mem_eq(b,
                     "\x05\x01\x00\x03\x0b"
                     "example.com\x1f\x90",
                     18);
}
END_TEST

START_TEST(request_domain_limits)
{
    uint8_t b[SOCKS5_REQUEST_MAX + 8];
    char name[257];

    memset(name, 'a', 256);
    name[256] = '\0';
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, name, NULL, 1), -1);
    name[255] = '\0';
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, name, NULL, 1),
                     SOCKS5_REQUEST_MAX);
    ck_assert_int_eq(b[4], 255);
    ck_assert_int_eq(
        socks5_encode_request(b, SOCKS5_REQUEST_MAX - 1, SOCKS5_CMD_CONNECT, name, NULL, 1), -1);
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, "", NULL, 1), -1);
}
END_TEST

START_TEST(request_literals_and_mapped)
{
    uint8_t b[64];
    struct sockaddr_in6 m = sin6("::ffff:192.0.2.7", 22);

    /* An address written as a host goes out as an address. */
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, "192.0.2.1", NULL, 80),
                     10);
    ck_assert_int_eq(b[3], SOCKS5_ATYP_IPV4);
    ck_assert_int_eq(
        socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, "2001:db8::2", NULL, 80), 22);
    ck_assert_int_eq(b[3], SOCKS5_ATYP_IPV6);
    /* IPv4-mapped goes out as IPv4. */
    ck_assert_int_eq(
        socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, NULL, (struct sockaddr *)&m, 22),
        10);
    ck_assert_mem_eq(b + 3, "\x01\xc0\x00\x02\x07\x00\x16", 7);
}
END_TEST

START_TEST(request_udp_associate)
{
    uint8_t b[64];
    struct sockaddr_in any = sin4("0.0.0.0", 0);
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, SOCKS5_CMD_UDP_ASSOCIATE, NULL,
                                           (struct sockaddr *)&any, 0),
                     10);
    ck_assert_mem_eq(b, "\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00", 10);
}
END_TEST

START_TEST(request_invalid)
{
    uint8_t b[64];
    struct sockaddr_in a = sin4("192.0.2.1", 80);
    struct sockaddr un = {.sa_family = AF_UNIX};
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, 0, NULL, (struct sockaddr *)&a, 80), -1);
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, 4, NULL, (struct sockaddr *)&a, 80), -1);
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, NULL, NULL, 80), -1);
    ck_assert_int_eq(socks5_encode_request(b, sizeof b, SOCKS5_CMD_CONNECT, NULL, &un, 80), -1);
}
END_TEST

START_TEST(request_small_cap_writes_nothing_past)
{
    uint8_t b[64];
    struct sockaddr_in a = sin4("192.0.2.1", 80);
    struct sockaddr_in6 a6 = sin6("2001:db8::1", 80);

    memset(b, 0xaa, sizeof b);
    ck_assert_int_eq(
        socks5_encode_request(b, 9, SOCKS5_CMD_CONNECT, NULL, (struct sockaddr *)&a, 80), -1);
    ck_assert_int_eq(
        socks5_encode_request(b, 21, SOCKS5_CMD_CONNECT, NULL, (struct sockaddr *)&a6, 80), -1);
    ck_assert_int_eq(socks5_encode_request(b, 17, SOCKS5_CMD_CONNECT, "example.com", NULL, 80), -1);
    for (size_t i = 0; i < sizeof b; i++)
        ck_assert_int_eq(b[i], 0xaa);
}
END_TEST

/* ---- reply ---- */

START_TEST(reply_ipv4)
{
    struct socks5_reply r;
    struct proto_error err = {0};
    const struct sockaddr_in *in = (const struct sockaddr_in *)&r.bound.sa;

    ck_assert_int_eq(socks5_parse_reply(reply_v4, sizeof reply_v4, &r, &err), 10);
    ck_assert_int_eq(r.rep, 0);
    ck_assert_int_eq(r.bound.kind, PROTO_ADDR_IPV4);
    ck_assert_int_eq(in->sin_family, AF_INET);
    ck_assert_uint_eq(ntohl(in->sin_addr.s_addr), 0xc0000201);
    ck_assert_uint_eq(ntohs(in->sin_port), 1080);
    ck_assert_uint_eq(r.bound.port, 1080);
    check_splits(p_reply, reply_v4, sizeof reply_v4);
}
END_TEST

START_TEST(reply_ipv6)
{
    struct socks5_reply r;
    struct proto_error err = {0};
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&r.bound.sa;
    struct sockaddr_in6 want = sin6("2001:db8::1", 8080);

    ck_assert_int_eq(socks5_parse_reply(reply_v6, sizeof reply_v6, &r, &err), 22);
    ck_assert_int_eq(r.bound.kind, PROTO_ADDR_IPV6);
    ck_assert_int_eq(in6->sin6_family, AF_INET6);
    ck_assert_mem_eq(&in6->sin6_addr, &want.sin6_addr, 16);
    ck_assert_uint_eq(ntohs(in6->sin6_port), 8080);
    check_splits(p_reply, reply_v6, sizeof reply_v6);
}
END_TEST

START_TEST(reply_domain)
{
    struct socks5_reply r;
    struct proto_error err = {0};

    ck_assert_int_eq(socks5_parse_reply(reply_dom, sizeof reply_dom, &r, &err), 7 + 11);
    ck_assert_int_eq(r.bound.kind, PROTO_ADDR_DOMAIN);
    ck_assert_str_eq(r.bound.host, "example.com");
    ck_assert_uint_eq(r.bound.port, 80);
    ck_assert_int_eq(r.bound.sa.ss_family, AF_UNSPEC);
    check_splits(p_reply, reply_dom, sizeof reply_dom);
}
END_TEST

START_TEST(reply_empty_domain_tolerated)
{
    static const uint8_t msg[] = {5, 0, 0, 3, 0, 0, 0};
    struct socks5_reply r;
    struct proto_error err = {0};
    ck_assert_int_eq(socks5_parse_reply(msg, sizeof msg, &r, &err), 7);
    ck_assert_str_eq(r.bound.host, "");
    check_splits(p_reply, msg, sizeof msg);
}
END_TEST

START_TEST(reply_rep_errno)
{
    static const int want[] = {
        0,         ECONNREFUSED, EACCES,       ENETUNREACH, EHOSTUNREACH, ECONNREFUSED,
        ETIMEDOUT, EOPNOTSUPP,   EAFNOSUPPORT, ECONNREFUSED};
    uint8_t msg[10];
    struct socks5_reply r;
    struct proto_error err;

    memcpy(msg, reply_v4, sizeof msg);
    for (unsigned rep = 1; rep < 256; rep++) {
        int e = rep < sizeof want / sizeof want[0] ? want[rep] : ECONNREFUSED;
        msg[1] = (uint8_t)rep;
        memset(&err, 0, sizeof err);
        /* Fails on the REP byte already: two bytes suffice. */
        check_fail(socks5_parse_reply(msg, 2, &r, &err), &err, e, "REP");
        ck_assert_int_eq(r.rep, rep);
        ck_assert_int_eq(socks5_rep_errno((uint8_t)rep), e);
        check_fail(socks5_parse_reply(msg, sizeof msg, &r, &err), &err, e, "REP");
    }
    ck_assert_int_eq(socks5_rep_errno(0), 0);
    msg[1] = 5;
    socks5_parse_reply(msg, 2, &r, &err);
    ck_assert_str_eq(err.why, "socks5 reply: REP 5 (connection refused)");
}
END_TEST

START_TEST(reply_wrong_version_http)
{
    static const char http[] = "HTTP/1.1 400 Bad Request\r\n";
    struct socks5_reply r;
    struct proto_error err = {0};
    int x = socks5_parse_reply((const uint8_t *)http, 10, &r, &err);
    check_fail(x, &err, ECONNREFUSED, "version 0x48");
    ck_assert_ptr_nonnull(strstr(err.why, "not a SOCKS5 server?"));
    ck_assert_ptr_nonnull(strstr(err.why, "first bytes \"HTTP/1.1\""));
}
END_TEST

START_TEST(reply_wrong_version_socks4_and_binary)
{
    static const uint8_t s4[] = {0x00, 0x5a, 0, 0, 0, 0, 0, 0};
    static const uint8_t bin[] = {0xff, 0x00, 0x7f, 0x22, 0x5c, 0x0a, 0x0d, 0x80, 0x01, 0x02};
    struct socks5_reply r;
    struct proto_error err = {0};
    check_fail(socks5_parse_reply(s4, sizeof s4, &r, &err), &err, ECONNREFUSED, "SOCKS4");
    check_fail(socks5_parse_reply(bin, 1, &r, &err), &err, ECONNREFUSED, "0xff");
    check_fail(socks5_parse_reply(bin, sizeof bin, &r, &err), &err, ECONNREFUSED,
               "\\xff\\x00\\x7f\\x22\\x5c\\x0a\\x0d\\x80\"");
}
END_TEST

START_TEST(reply_bad_atyp)
{
    static const uint8_t atyps[] = {0x00, 0x02, 0x05, 0xff};
    uint8_t msg[10];
    struct socks5_reply r;
    struct proto_error err;

    memcpy(msg, reply_v4, sizeof msg);
    for (size_t i = 0; i < sizeof atyps; i++) {
        msg[3] = atyps[i];
        memset(&err, 0, sizeof err);
        check_fail(socks5_parse_reply(msg, 4, &r, &err), &err, ECONNREFUSED,
                   "unknown address type");
    }
}
END_TEST

START_TEST(reply_rsv_nonzero_tolerated)
{
    uint8_t msg[10];
    struct socks5_reply r;
    struct proto_error err = {0};
    memcpy(msg, reply_v4, sizeof msg);
    msg[2] = 0x7f;
    ck_assert_int_eq(socks5_parse_reply(msg, sizeof msg, &r, &err), 10);
}
END_TEST

START_TEST(reply_domain_length_beyond_data)
{
    /* The length byte says 200: 20 bytes are not a reply yet, and need says 207. */
    uint8_t msg[20] = {5, 0, 0, 3, 200, 'a', 'b'};
    struct socks5_reply r;
    struct proto_error err = {0};
    ck_assert_int_eq(socks5_parse_reply(msg, sizeof msg, &r, &err), 0);
    ck_assert_uint_eq(r.need, 207);
}
END_TEST

START_TEST(reply_domain_nul)
{
    static const uint8_t msg[] = {5, 0, 0, 3, 3, 'a', 0, 'b', 0, 80};
    struct socks5_reply r;
    struct proto_error err = {0};
    check_fail(socks5_parse_reply(msg, sizeof msg, &r, &err), &err, ECONNREFUSED, "NUL");
}
END_TEST

START_TEST(reply_need_progression)
{
    struct socks5_reply r;
    struct proto_error err = {0};
    /* Before ATYP: the shortest reply; then the length by ATYP. */
    ck_assert_int_eq(socks5_parse_reply(reply_v4, 0, &r, &err), 0);
    ck_assert_uint_eq(r.need, SOCKS5_REPLY_MIN);
    ck_assert_int_eq(socks5_parse_reply(reply_v4, 7, &r, &err), 0);
    ck_assert_uint_eq(r.need, 10);
    ck_assert_int_eq(socks5_parse_reply(reply_v6, 7, &r, &err), 0);
    ck_assert_uint_eq(r.need, 22);
    ck_assert_int_eq(socks5_parse_reply(reply_dom, 4, &r, &err), 0);
    ck_assert_uint_eq(r.need, 7);
    ck_assert_int_eq(socks5_parse_reply(reply_dom, 5, &r, &err), 0);
    ck_assert_uint_eq(r.need, 18);
}
END_TEST

START_TEST(reply_trailing_not_consumed)
{
    uint8_t b[64];
    struct socks5_reply r;
    struct proto_error err = {0};
    memcpy(b, reply_dom, sizeof reply_dom);
    memcpy(b + sizeof reply_dom, TAIL, TAIL_LEN);
    ck_assert_int_eq(socks5_parse_reply(b, sizeof reply_dom + TAIL_LEN, &r, &err), 18);
}
END_TEST

START_TEST(reply_udp_associate_relay)
{
    /* Dante-style: relay on the proxy's address, some port. */
    static const uint8_t msg[] = {5, 0, 0, 1, 203, 0, 113, 5, 0xc3, 0x50};
    struct socks5_reply r;
    struct proto_error err = {0};
    const struct sockaddr_in *in = (const struct sockaddr_in *)&r.bound.sa;
    ck_assert_int_eq(socks5_parse_reply(msg, sizeof msg, &r, &err), 10);
    ck_assert_uint_eq(ntohl(in->sin_addr.s_addr), 0xcb007105);
    ck_assert_uint_eq(ntohs(in->sin_port), 50000);
}
END_TEST

START_TEST(reply_null_err)
{
    struct socks5_reply r;
    ck_assert_int_eq(socks5_parse_reply((const uint8_t *)"\x05\x01", 2, &r, NULL), -1);
}
END_TEST

/* ---- pipelined ---- */

START_TEST(pipelined_encode_no_auth)
{
    uint8_t b[SOCKS5_PIPELINED_MAX];
    ck_assert_int_eq(socks5_encode_pipelined(b, sizeof b, NULL, NULL, SOCKS5_CMD_CONNECT,
                                             "example.com", NULL, 443),
                     3 + 18);
    ck_assert_mem_eq(b,
                     "\x05\x01\x00"
                     "\x05\x01\x00\x03\x0b"
                     "example.com\x01\xbb",
                     21);
}
END_TEST

START_TEST(pipelined_encode_auth)
{
    uint8_t b[SOCKS5_PIPELINED_MAX];
    struct sockaddr_in a = sin4("192.0.2.9", 25);
    ck_assert_int_eq(socks5_encode_pipelined(b, sizeof b, "lab", "pw", SOCKS5_CMD_CONNECT, NULL,
                                             (struct sockaddr *)&a, 25),
                     3 + 8 + 10);
    /* Only username/password is offered, so the auth bytes cannot be misread. */
    ck_assert_mem_eq(b,
                     "\x05\x01\x02"
                     "\x01\x03lab\x02pw"
                     "\x05\x01\x00\x01\xc0\x00\x02\x09\x00\x19",
                     21);
}
END_TEST

START_TEST(pipelined_encode_limits)
{
    uint8_t b[SOCKS5_PIPELINED_MAX];
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(
        socks5_encode_pipelined(b, sizeof b, big, "p", SOCKS5_CMD_CONNECT, "h", NULL, 1), -1);
    ck_assert_int_eq(
        socks5_encode_pipelined(b, sizeof b, "u", "p", SOCKS5_CMD_CONNECT, big, NULL, 1), -1);
    ck_assert_int_eq(
        socks5_encode_pipelined(b, 3 + 5 + 7, "u", "p", SOCKS5_CMD_CONNECT, "h", NULL, 1), -1);
    ck_assert_int_eq(
        socks5_encode_pipelined(b, 3 + 5 + 8, "u", "p", SOCKS5_CMD_CONNECT, "h", NULL, 1), 16);
    big[255] = '\0';
    ck_assert_int_eq(
        socks5_encode_pipelined(b, sizeof b, big, big, SOCKS5_CMD_CONNECT, big, NULL, 1),
        SOCKS5_PIPELINED_MAX);
}
END_TEST

START_TEST(pipelined_parse_no_auth_every_split)
{
    uint8_t seq[2 + sizeof reply_v4];
    struct socks5_pipelined_reply p;
    struct proto_error err = {0};

    memcpy(seq, "\x05\x00", 2);
    memcpy(seq + 2, reply_v4, sizeof reply_v4);
    ck_assert_int_eq(socks5_parse_pipelined(seq, sizeof seq, false, &p, &err), 12);
    ck_assert_int_eq(p.stage, SOCKS5_STAGE_DONE);
    ck_assert_int_eq(p.reply.bound.kind, PROTO_ADDR_IPV4);
    check_splits(p_pipe_none, seq, sizeof seq);
}
END_TEST

START_TEST(pipelined_parse_auth_every_split)
{
    uint8_t seq[4 + sizeof reply_v6];
    struct socks5_pipelined_reply p;
    struct proto_error err = {0};

    memcpy(seq, "\x05\x02\x01\x00", 4);
    memcpy(seq + 4, reply_v6, sizeof reply_v6);
    ck_assert_int_eq(socks5_parse_pipelined(seq, sizeof seq, true, &p, &err), 26);
    ck_assert_int_eq(p.method, SOCKS5_METHOD_USERPASS);
    ck_assert_int_eq(p.reply.bound.kind, PROTO_ADDR_IPV6);
    check_splits(p_pipe_auth, seq, sizeof seq);
}
END_TEST

START_TEST(pipelined_parse_auth_domain_every_split)
{
    uint8_t seq[4 + sizeof reply_dom];
    memcpy(seq, "\x05\x02\x01\x00", 4);
    memcpy(seq + 4, reply_dom, sizeof reply_dom);
    check_splits(p_pipe_auth, seq, sizeof seq);
}
END_TEST

START_TEST(pipelined_stage_progress)
{
    uint8_t seq[4 + sizeof reply_v4];
    struct socks5_pipelined_reply p;
    struct proto_error err = {0};

    memcpy(seq, "\x05\x02\x01\x00", 4);
    memcpy(seq + 4, reply_v4, sizeof reply_v4);
    ck_assert_int_eq(socks5_parse_pipelined(seq, 1, true, &p, &err), 0);
    ck_assert_int_eq(p.stage, SOCKS5_STAGE_METHOD);
    ck_assert_uint_eq(p.need, 2);
    ck_assert_int_eq(socks5_parse_pipelined(seq, 3, true, &p, &err), 0);
    ck_assert_int_eq(p.stage, SOCKS5_STAGE_AUTH);
    ck_assert_uint_eq(p.need, 4);
    ck_assert_int_eq(socks5_parse_pipelined(seq, 4, true, &p, &err), 0);
    ck_assert_int_eq(p.stage, SOCKS5_STAGE_REPLY);
    ck_assert_uint_eq(p.need, 4 + SOCKS5_REPLY_MIN);
    ck_assert_int_eq(socks5_parse_pipelined(seq, 8, true, &p, &err), 0);
    ck_assert_uint_eq(p.need, 14);
}
END_TEST

START_TEST(pipelined_method_none_after_auth_sent)
{
    static const uint8_t seq[] = {5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    struct socks5_pipelined_reply p;
    struct proto_error err = {0};
    check_fail(socks5_parse_pipelined(seq, sizeof seq, true, &p, &err), &err, ECONNREFUSED,
               "not offered");
    ck_assert_int_eq(p.stage, SOCKS5_STAGE_METHOD);
}
END_TEST

START_TEST(pipelined_method_unacceptable)
{
    struct socks5_pipelined_reply p;
    struct proto_error err = {0};
    check_fail(socks5_parse_pipelined((const uint8_t *)"\x05\xff", 2, true, &p, &err), &err, EACCES,
               "no acceptable method (offered username/password)");
    check_fail(socks5_parse_pipelined((const uint8_t *)"\x05\xff", 2, false, &p, &err), &err,
               EACCES, "offered no authentication)");
}
END_TEST

START_TEST(pipelined_auth_rejected)
{
    static const uint8_t seq[] = {5, 2, 1, 1};
    struct socks5_pipelined_reply p;
    struct proto_error err = {0};
    check_fail(socks5_parse_pipelined(seq, sizeof seq, true, &p, &err), &err, EACCES, "rejected");
    ck_assert_int_eq(p.stage, SOCKS5_STAGE_AUTH);
    ck_assert_int_eq(p.auth_status, 1);
}
END_TEST

START_TEST(pipelined_general_failure)
{
    /* microsocks' answer: the caller retries in lockstep on stage REPLY + REP 1. */
    static const uint8_t seq[] = {5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0};
    struct socks5_pipelined_reply p;
    struct proto_error err = {0};
    check_fail(socks5_parse_pipelined(seq, 4, false, &p, &err), &err, ECONNREFUSED,
               "general SOCKS server failure");
    ck_assert_int_eq(p.stage, SOCKS5_STAGE_REPLY);
    ck_assert_int_eq(p.reply.rep, SOCKS5_REP_GENERAL);
}
END_TEST

START_TEST(pipelined_roundtrip_encode_sizes)
{
    /* Encoded sizes and what parse expects line up for every destination type. */
    uint8_t b[SOCKS5_PIPELINED_MAX];
    struct sockaddr_in6 a6 = sin6("2001:db8::5", 1);
    ck_assert_int_eq(socks5_encode_pipelined(b, sizeof b, "u", "", SOCKS5_CMD_CONNECT, NULL,
                                             (struct sockaddr *)&a6, 1),
                     3 + 4 + 22);
    ck_assert_int_eq(b[2], SOCKS5_METHOD_USERPASS);
    ck_assert_int_eq(b[3 + 4 + 3], SOCKS5_ATYP_IPV6);
}
END_TEST

/* ---- UDP header (RFC 1928 section 7) ---- */

static void udp_roundtrip(const char *host, const struct sockaddr *addr, uint16_t port,
                          size_t want_hdr, enum proto_addr_kind kind)
{
    uint8_t b[600];
    struct socks5_udp_header h;
    struct proto_error err = {0};
    ssize_t n = socks5_encode_udp(b, sizeof b, host, addr, port, "payload", 7);

    ck_assert_int_eq(n, (ssize_t)want_hdr + 7);
    ck_assert_mem_eq(b, "\x00\x00\x00", 3);
    ck_assert_int_eq(socks5_parse_udp_header(b, (size_t)n, &h, &err), (int)want_hdr);
    ck_assert_uint_eq(h.payload_off, want_hdr);
    ck_assert_uint_eq(h.payload_len, 7);
    ck_assert_mem_eq(b + h.payload_off, "payload", 7);
    ck_assert_int_eq(h.src.kind, kind);
    ck_assert_uint_eq(h.src.port, port);
    /* Truncated anywhere inside the header: malformed, never "need more". */
    for (size_t i = 0; i < want_hdr; i++) {
        memset(&err, 0, sizeof err);
        check_fail(socks5_parse_udp_header(b, i, &h, &err), &err, EPROTO, "truncated");
    }
}

START_TEST(udp_roundtrip_ipv4)
{
    struct sockaddr_in a = sin4("192.0.2.53", 53);
    struct socks5_udp_header h;
    struct proto_error err = {0};
    uint8_t b[64];
    udp_roundtrip(NULL, (struct sockaddr *)&a, 53, 10, PROTO_ADDR_IPV4);
    socks5_encode_udp(b, sizeof b, NULL, (struct sockaddr *)&a, 53, "x", 1);
    socks5_parse_udp_header(b, 11, &h, &err);
    ck_assert_mem_eq(&h.src.sa, &a, sizeof a);
}
END_TEST

START_TEST(udp_roundtrip_ipv6)
{
    struct sockaddr_in6 a = sin6("2001:db8::53", 5353);
    struct socks5_udp_header h;
    struct proto_error err = {0};
    uint8_t b[64];
    udp_roundtrip(NULL, (struct sockaddr *)&a, 5353, 22, PROTO_ADDR_IPV6);
    socks5_encode_udp(b, sizeof b, NULL, (struct sockaddr *)&a, 5353, "x", 1);
    socks5_parse_udp_header(b, 23, &h, &err);
    ck_assert_mem_eq(&h.src.sa, &a, sizeof a);
}
END_TEST

START_TEST(udp_roundtrip_domain)
{
    char name[256];
    uint8_t b[600];
    struct socks5_udp_header h;
    struct proto_error err = {0};

    udp_roundtrip("dns.example", NULL, 53, 3 + 1 + 1 + 11 + 2, PROTO_ADDR_DOMAIN);
    memset(name, 'n', 255);
    name[255] = '\0';
    udp_roundtrip(name, NULL, 7, SOCKS5_UDP_HEADER_MAX, PROTO_ADDR_DOMAIN);
    socks5_encode_udp(b, sizeof b, name, NULL, 7, "", 0);
    ck_assert_int_eq(socks5_parse_udp_header(b, SOCKS5_UDP_HEADER_MAX, &h, &err),
                     SOCKS5_UDP_HEADER_MAX);
    ck_assert_str_eq(h.src.host, name);
    ck_assert_uint_eq(h.payload_len, 0);
}
END_TEST

START_TEST(udp_header_only)
{
    uint8_t b[64];
    struct sockaddr_in a = sin4("198.51.100.1", 9);
    ck_assert_int_eq(socks5_encode_udp_header(b, sizeof b, NULL, (struct sockaddr *)&a, 9), 10);
    ck_assert_mem_eq(b, "\x00\x00\x00\x01\xc6\x33\x64\x01\x00\x09", 10);
    ck_assert_int_eq(socks5_encode_udp_header(b, 9, NULL, (struct sockaddr *)&a, 9), -1);
}
END_TEST

START_TEST(udp_encode_in_place)
{
    /* The payload already sits at the start of buf: it must survive the header. */
    uint8_t b[64] = "hello";
    struct sockaddr_in a = sin4("192.0.2.1", 7);
    ck_assert_int_eq(socks5_encode_udp(b, sizeof b, NULL, (struct sockaddr *)&a, 7, b, 5), 15);
    ck_assert_mem_eq(b + 10, "hello", 5);
    ck_assert_int_eq(b[3], SOCKS5_ATYP_IPV4);
}
END_TEST

START_TEST(udp_encode_limits)
{
    uint8_t b[64];
    struct sockaddr_in a = sin4("192.0.2.1", 7);
    ck_assert_int_eq(socks5_encode_udp(b, 14, NULL, (struct sockaddr *)&a, 7, "hello", 5), -1);
    ck_assert_int_eq(socks5_encode_udp(b, 15, NULL, (struct sockaddr *)&a, 7, "hello", 5), 15);
    ck_assert_int_eq(socks5_encode_udp(b, sizeof b, NULL, (struct sockaddr *)&a, 7, NULL, 5), -1);
    ck_assert_int_eq(socks5_encode_udp(b, sizeof b, NULL, NULL, 7, "x", 1), -1);
    ck_assert_int_eq(socks5_encode_udp(b, sizeof b, NULL, (struct sockaddr *)&a, 7, "x", SIZE_MAX),
                     -1);
}
END_TEST

START_TEST(udp_fragment_dropped)
{
    static const uint8_t d[] = {0, 0, 1, 1, 192, 0, 2, 1, 0, 53, 'x'};
    struct socks5_udp_header h;
    struct proto_error err = {0};
    check_fail(socks5_parse_udp_header(d, sizeof d, &h, &err), &err, EMSGSIZE, "fragment dropped");
}
END_TEST

START_TEST(udp_malformed)
{
    static const uint8_t bad_atyp[] = {0, 0, 0, 2, 192, 0, 2, 1, 0, 53};
    static const uint8_t empty_name[] = {0, 0, 0, 3, 0, 0, 53, 'x'};
    static const uint8_t long_name[] = {0, 0, 0, 3, 50, 'a', 'b', 0, 53};
    struct socks5_udp_header h;
    struct proto_error err = {0};
    check_fail(socks5_parse_udp_header(bad_atyp, sizeof bad_atyp, &h, &err), &err, EPROTO,
               "unknown address type 0x02");
    check_fail(socks5_parse_udp_header(empty_name, sizeof empty_name, &h, &err), &err, EPROTO,
               "empty domain");
    check_fail(socks5_parse_udp_header(long_name, sizeof long_name, &h, &err), &err, EPROTO,
               "needs 57");
}
END_TEST

START_TEST(udp_rsv_tolerated)
{
    static const uint8_t d[] = {0xff, 0xff, 0, 1, 192, 0, 2, 1, 0, 53};
    struct socks5_udp_header h;
    struct proto_error err = {0};
    ck_assert_int_eq(socks5_parse_udp_header(d, sizeof d, &h, &err), 10);
    ck_assert_uint_eq(h.payload_len, 0);
}
END_TEST

START_TEST(rep_text)
{
    ck_assert_str_eq(socks5_rep_text(0), "succeeded");
    ck_assert_str_eq(socks5_rep_text(8), "address type not supported");
    ck_assert_str_eq(socks5_rep_text(9), "unassigned code");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("socks5");
    TCase *enc = tcase_create("encode");
    TCase *par = tcase_create("parse");
    TCase *pip = tcase_create("pipelined");
    TCase *udp = tcase_create("udp");

    tcase_add_test(enc, greeting_no_auth);
    tcase_add_test(enc, greeting_userpass);
    tcase_add_test(enc, greeting_small_cap);
    tcase_add_test(enc, auth_encode);
    tcase_add_test(enc, auth_encode_limits);
    tcase_add_test(enc, request_ipv4);
    tcase_add_test(enc, request_ipv6);
    tcase_add_test(enc, request_domain);
    tcase_add_test(enc, request_domain_limits);
    tcase_add_test(enc, request_literals_and_mapped);
    tcase_add_test(enc, request_udp_associate);
    tcase_add_test(enc, request_invalid);
    tcase_add_test(enc, request_small_cap_writes_nothing_past);

    tcase_add_test(par, method_none);
    tcase_add_test(par, method_userpass_and_none_with_creds);
    tcase_add_test(par, method_unacceptable);
    tcase_add_test(par, method_userpass_not_offered);
    tcase_add_test(par, method_gssapi_not_offered);
    tcase_add_test(par, method_wrong_version_http);
    tcase_add_test(par, method_short_and_trailing);
    tcase_add_test(par, auth_reply_ok);
    tcase_add_test(par, auth_reply_rejected);
    tcase_add_test(par, auth_reply_bad_version);
    tcase_add_test(par, reply_ipv4);
    tcase_add_test(par, reply_ipv6);
    tcase_add_test(par, reply_domain);
    tcase_add_test(par, reply_empty_domain_tolerated);
    tcase_add_test(par, reply_rep_errno);
    tcase_add_test(par, reply_wrong_version_http);
    tcase_add_test(par, reply_wrong_version_socks4_and_binary);
    tcase_add_test(par, reply_bad_atyp);
    tcase_add_test(par, reply_rsv_nonzero_tolerated);
    tcase_add_test(par, reply_domain_length_beyond_data);
    tcase_add_test(par, reply_domain_nul);
    tcase_add_test(par, reply_need_progression);
    tcase_add_test(par, reply_trailing_not_consumed);
    tcase_add_test(par, reply_udp_associate_relay);
    tcase_add_test(par, reply_null_err);
    tcase_add_test(par, rep_text);

    tcase_add_test(pip, pipelined_encode_no_auth);
    tcase_add_test(pip, pipelined_encode_auth);
    tcase_add_test(pip, pipelined_encode_limits);
    tcase_add_test(pip, pipelined_parse_no_auth_every_split);
    tcase_add_test(pip, pipelined_parse_auth_every_split);
    tcase_add_test(pip, pipelined_parse_auth_domain_every_split);
    tcase_add_test(pip, pipelined_stage_progress);
    tcase_add_test(pip, pipelined_method_none_after_auth_sent);
    tcase_add_test(pip, pipelined_method_unacceptable);
    tcase_add_test(pip, pipelined_auth_rejected);
    tcase_add_test(pip, pipelined_general_failure);
    tcase_add_test(pip, pipelined_roundtrip_encode_sizes);

    tcase_add_test(udp, udp_roundtrip_ipv4);
    tcase_add_test(udp, udp_roundtrip_ipv6);
    tcase_add_test(udp, udp_roundtrip_domain);
    tcase_add_test(udp, udp_header_only);
    tcase_add_test(udp, udp_encode_in_place);
    tcase_add_test(udp, udp_encode_limits);
    tcase_add_test(udp, udp_fragment_dropped);
    tcase_add_test(udp, udp_malformed);
    tcase_add_test(udp, udp_rsv_tolerated);

    suite_add_tcase(s, enc);
    suite_add_tcase(s, par);
    suite_add_tcase(s, pip);
    suite_add_tcase(s, udp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
