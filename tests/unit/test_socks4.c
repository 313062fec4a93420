/* Unit tests for common/proto/socks4: SOCKS4 and 4a requests, the 8-byte reply. */
#include "common/proto/socks4.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

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

static void check_fail(int r, const struct proto_error *err, int errnum, const char *needle)
{
    size_t n = strlen(err->why);

    ck_assert_int_lt(r, 0);
    ck_assert_int_eq(err->errnum, errnum);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_le(n, PROTO_WHY_MAX);
    for (size_t i = 0; i < n; i++)
        ck_assert(err->why[i] >= 0x20 && err->why[i] < 0x7f);
    if (needle)
        ck_assert_msg(strstr(err->why, needle), "\"%s\" not in \"%s\"", needle, err->why);
}

static const uint8_t granted[] = {0x00, 90, 0x04, 0x38, 192, 0, 2, 1};

/* ---- request ---- */

START_TEST(request_ipv4_userid)
{
    uint8_t b[64];
    struct sockaddr_in a = sin4("192.0.2.1", 80);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, NULL, (struct sockaddr *)&a, 80, "lab"),
                     12);
    ck_assert_mem_eq(b, "\x04\x01\x00\x50\xc0\x00\x02\x01lab\x00", 12);
}
END_TEST

START_TEST(request_ipv4_no_userid)
{
    uint8_t b[64];
    struct sockaddr_in a = sin4("198.51.100.7", 443);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, NULL, (struct sockaddr *)&a, 443, NULL), 9);
    ck_assert_mem_eq(b, "\x04\x01\x01\xbb\xc6\x33\x64\x07\x00", 9);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, NULL, (struct sockaddr *)&a, 443, ""), 9);
}
END_TEST

START_TEST(request_4a_domain)
{
    uint8_t b[64];
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, "example.com", NULL, 8080, "u"), 22);
    ck_assert_mem_eq(b,
                     "\x04\x01\x1f\x90\x00\x00\x00\x01u\x00"
                     "example.com\x00",
                     22);
}
END_TEST

START_TEST(request_literal_host_is_socks4)
{
    uint8_t b[64];
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, "192.0.2.3", NULL, 21, NULL), 9);
    ck_assert_mem_eq(b + 4, "\xc0\x00\x02\x03", 4);
}
END_TEST

START_TEST(request_ipv6_refused)
{
    uint8_t b[64];
    struct sockaddr_in6 a6 = sin6("2001:db8::1", 80);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, NULL, (struct sockaddr *)&a6, 80, NULL),
                     -1);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, "2001:db8::1", NULL, 80, NULL), -1);
}
END_TEST

START_TEST(request_ipv4_mapped)
{
    uint8_t b[64];
    struct sockaddr_in6 m = sin6("::ffff:192.0.2.9", 80);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, NULL, (struct sockaddr *)&m, 80, NULL), 9);
    ck_assert_mem_eq(b + 4, "\xc0\x00\x02\x09", 4);
}
END_TEST

START_TEST(request_limits)
{
    uint8_t b[SOCKS4_REQUEST_MAX + 8];
    char big[257];

    memset(big, 'z', 256);
    big[256] = '\0';
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, big, NULL, 1, NULL), -1);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, "h", NULL, 1, big), -1);
    big[255] = '\0';
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, big, NULL, 1, big), SOCKS4_REQUEST_MAX);
    ck_assert_int_eq(b[SOCKS4_REQUEST_MAX - 1], 0);
    ck_assert_int_eq(socks4_encode_request(b, SOCKS4_REQUEST_MAX - 1, big, NULL, 1, big), -1);
}
END_TEST

START_TEST(request_invalid)
{
    uint8_t b[64];
    struct sockaddr un = {.sa_family = AF_UNIX};
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, NULL, NULL, 1, NULL), -1);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, "", NULL, 1, NULL), -1);
    ck_assert_int_eq(socks4_encode_request(b, sizeof b, NULL, &un, 1, NULL), -1);
}
END_TEST

START_TEST(request_small_cap)
{
    uint8_t b[64];
    struct sockaddr_in a = sin4("192.0.2.1", 80);

    memset(b, 0xaa, sizeof b);
    ck_assert_int_eq(socks4_encode_request(b, 11, NULL, (struct sockaddr *)&a, 80, "lab"), -1);
    ck_assert_int_eq(socks4_encode_request(b, 21, "example.com", NULL, 80, "u"), -1);
    for (size_t i = 0; i < sizeof b; i++)
        ck_assert_int_eq(b[i], 0xaa);
    ck_assert_int_eq(socks4_encode_request(b, 12, NULL, (struct sockaddr *)&a, 80, "lab"), 12);
}
END_TEST

/* ---- reply ---- */

START_TEST(reply_granted)
{
    struct socks4_reply r;
    struct proto_error err = {0};
    const struct sockaddr_in *in = (const struct sockaddr_in *)&r.bound.sa;
    ck_assert_int_eq(socks4_parse_reply(granted, sizeof granted, &r, &err), 8);
    ck_assert_int_eq(r.cd, SOCKS4_CD_GRANTED);
    ck_assert_uint_eq(r.bound.port, 1080);
    ck_assert_uint_eq(ntohl(in->sin_addr.s_addr), 0xc0000201);
}
END_TEST

START_TEST(reply_vn4_tolerated)
{
    uint8_t msg[8];
    struct socks4_reply r;
    struct proto_error err = {0};
    memcpy(msg, granted, 8);
    msg[0] = 4;
    ck_assert_int_eq(socks4_parse_reply(msg, 8, &r, &err), 8);
}
END_TEST

START_TEST(reply_every_prefix)
{
    uint8_t *copy;
    struct socks4_reply r;
    struct proto_error err = {0};

    for (size_t i = 0; i < 8; i++) {
        copy = malloc(i ? i : 1); /* exactly i bytes: an over-read shows under ASan */
        memcpy(copy, granted, i);
        ck_assert_int_eq(socks4_parse_reply(copy, i, &r, &err), 0);
        ck_assert_uint_eq(r.need, 8);
        free(copy);
    }
}
END_TEST

START_TEST(reply_trailing_not_consumed)
{
    uint8_t b[32];
    struct socks4_reply r;
    struct proto_error err = {0};
    memcpy(b, granted, 8);
    memcpy(b + 8, "220 smtp ready\r\n", 16);
    ck_assert_int_eq(socks4_parse_reply(b, 24, &r, &err), 8);
}
END_TEST

START_TEST(reply_rejected_91)
{
    uint8_t msg[8];
    struct socks4_reply r;
    struct proto_error err = {0};
    memcpy(msg, granted, 8);
    msg[1] = 91;
    check_fail(socks4_parse_reply(msg, 8, &r, &err), &err, ECONNREFUSED, "CD 91");
    ck_assert_int_eq(r.cd, 91);
    /* Two bytes are enough to know. */
    check_fail(socks4_parse_reply(msg, 2, &r, &err), &err, ECONNREFUSED, "rejected or failed");
}
END_TEST

START_TEST(reply_identd_92)
{
    uint8_t msg[8];
    struct socks4_reply r;
    struct proto_error err = {0};
    memcpy(msg, granted, 8);
    msg[1] = 92;
    check_fail(socks4_parse_reply(msg, 8, &r, &err), &err, EACCES, "identd");
}
END_TEST

START_TEST(reply_identd_93)
{
    uint8_t msg[8];
    struct socks4_reply r;
    struct proto_error err = {0};
    memcpy(msg, granted, 8);
    msg[1] = 93;
    check_fail(socks4_parse_reply(msg, 8, &r, &err), &err, EACCES, "userid differ");
}
END_TEST

START_TEST(reply_unknown_cd)
{
    static const uint8_t cds[] = {0, 1, 89, 94, 191, 255};
    uint8_t msg[8];
    struct socks4_reply r;
    struct proto_error err = {0};
    memcpy(msg, granted, 8);
    for (size_t i = 0; i < sizeof cds; i++) {
        msg[1] = cds[i];
        check_fail(socks4_parse_reply(msg, 8, &r, &err), &err, ECONNREFUSED, "unknown code");
    }
}
END_TEST

START_TEST(reply_wrong_version)
{
    static const uint8_t s5[] = {0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
    struct socks4_reply r;
    struct proto_error err = {0};
    check_fail(socks4_parse_reply(s5, 8, &r, &err), &err, ECONNREFUSED, "looks like SOCKS5");
    check_fail(socks4_parse_reply((const uint8_t *)"HTTP/1.0", 8, &r, &err), &err, ECONNREFUSED,
               "first bytes \"HTTP/1.0\"");
    /* One byte decides. */
    check_fail(socks4_parse_reply((const uint8_t *)"\x01", 1, &r, &err), &err, ECONNREFUSED,
               "version 0x01");
}
END_TEST

START_TEST(cd_errno_table)
{
    ck_assert_int_eq(socks4_cd_errno(90), 0);
    ck_assert_int_eq(socks4_cd_errno(91), ECONNREFUSED);
    ck_assert_int_eq(socks4_cd_errno(92), EACCES);
    ck_assert_int_eq(socks4_cd_errno(93), EACCES);
    ck_assert_int_eq(socks4_cd_errno(42), ECONNREFUSED);
}
END_TEST

START_TEST(reply_null_err)
{
    struct socks4_reply r;
    ck_assert_int_eq(socks4_parse_reply((const uint8_t *)"\x00\x5b", 2, &r, NULL), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("socks4");
    TCase *enc = tcase_create("encode");
    TCase *par = tcase_create("parse");

    tcase_add_test(enc, request_ipv4_userid);
    tcase_add_test(enc, request_ipv4_no_userid);
    tcase_add_test(enc, request_4a_domain);
    tcase_add_test(enc, request_literal_host_is_socks4);
    tcase_add_test(enc, request_ipv6_refused);
    tcase_add_test(enc, request_ipv4_mapped);
    tcase_add_test(enc, request_limits);
    tcase_add_test(enc, request_invalid);
    tcase_add_test(enc, request_small_cap);

    tcase_add_test(par, reply_granted);
    tcase_add_test(par, reply_vn4_tolerated);
    tcase_add_test(par, reply_every_prefix);
    tcase_add_test(par, reply_trailing_not_consumed);
    tcase_add_test(par, reply_rejected_91);
    tcase_add_test(par, reply_identd_92);
    tcase_add_test(par, reply_identd_93);
    tcase_add_test(par, reply_unknown_cd);
    tcase_add_test(par, reply_wrong_version);
    tcase_add_test(par, cd_errno_table);
    tcase_add_test(par, reply_null_err);

    suite_add_tcase(s, enc);
    suite_add_tcase(s, par);
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
