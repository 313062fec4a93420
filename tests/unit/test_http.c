/* Unit tests for common/proto/http: the CONNECT request and the response header. */
#include "common/proto/http.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define TAIL "SSH-2.0-OpenSSH_9.2\r\n" /* a server-first protocol's first bytes */

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

/* Encode and compare with the expected text. */
static void check_request(const char *host, const struct sockaddr *addr, uint16_t port,
                          const char *user, const char *pass, const char *want)
{
    uint8_t b[HTTP_REQUEST_MAX];
    ssize_t n = http_encode_connect(b, sizeof b, host, addr, port, user, pass);

    ck_assert_int_eq(n, (ssize_t)strlen(want));
    ck_assert_mem_eq(b, want, strlen(want));
}

/* Parse a text response; returns the parser's result. */
static int parse(const char *text, struct http_response *r, struct proto_error *err)
{
    return http_parse_response((const uint8_t *)text, strlen(text), r, err);
}

/* Every proper prefix is incomplete with a need that never passes the header's end;
 * the whole, and the whole followed by tunnel bytes, give the exact header length;
 * a reader that reads need - len bytes at a time lands exactly on the end. */
static void check_splits(const char *header)
{
    size_t total = strlen(header), need, len = 0;
    char stream[HTTP_HEADER_MAX + 64];
    struct http_response r;
    struct proto_error err = {0};
    int x;

    for (size_t i = 0; i < total; i++) {
        uint8_t *copy = malloc(i ? i : 1); /* exactly i bytes: over-reads show under ASan */
        memcpy(copy, header, i);
        ck_assert_int_eq(http_parse_response(copy, i, &r, &err), 0);
        ck_assert_uint_gt(r.need, i);
        ck_assert_uint_le(r.need, total);
        free(copy);
    }
    memcpy(stream, header, total);
    memcpy(stream + total, TAIL, sizeof TAIL);
    ck_assert_int_eq(parse(stream, &r, &err), (int)total);
    while ((x = http_parse_response((const uint8_t *)stream, len, &r, &err)) == 0) {
        need = r.need;
        ck_assert_uint_gt(need, len);
        ck_assert_uint_le(need, total);
        len = need;
    }
    ck_assert_int_eq(x, (int)total);
}

/* ---- request ---- */

START_TEST(request_domain)
{
    check_request("example.com", NULL, 443, NULL, NULL,
                  "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
}
END_TEST

START_TEST(request_ipv4)
{
    struct sockaddr_in a = sin4("192.0.2.1", 22);
    check_request(NULL, (struct sockaddr *)&a, 22, NULL, NULL,
                  "CONNECT 192.0.2.1:22 HTTP/1.1\r\nHost: 192.0.2.1:22\r\n\r\n");
}
END_TEST

START_TEST(request_ipv6_brackets)
{
    struct sockaddr_in6 a = sin6("2001:db8::1", 8443);
    const char *want = "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n";
    check_request(NULL, (struct sockaddr *)&a, 8443, NULL, NULL, want);
    check_request("2001:db8::1", NULL, 8443, NULL, NULL, want);
}
END_TEST

START_TEST(request_ipv4_mapped)
{
    struct sockaddr_in6 a = sin6("::ffff:198.51.100.2", 80);
    check_request(NULL, (struct sockaddr *)&a, 80, NULL, NULL,
                  "CONNECT 198.51.100.2:80 HTTP/1.1\r\nHost: 198.51.100.2:80\r\n\r\n");
}
END_TEST

START_TEST(request_basic_rfc7617)
{
    check_request("example.com", NULL, 443, "Aladdin", "open sesame",
                  "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                  "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}
END_TEST

START_TEST(request_base64_padding)
{
    const char *pre = "CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nProxy-Authorization: Basic ";
    char want[256];
    static const char *const cases[][3] = {
        {"a", "", "YTo="}, {"a", "b", "YTpi"},       {"a", "bc", "YTpiYw=="},
        {"", "", "Og=="},  {"ab", "cd", "YWI6Y2Q="}, {"user", "p\xc3\xa4ss", "dXNlcjpww6Rzcw=="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strcpy(want, pre);
        strcat(want, cases[i][2]);
        strcat(want, "\r\n\r\n");
        check_request("h", NULL, 1, cases[i][0], cases[i][1], want);
    }
    /* A NULL password is an empty one. */
    strcpy(want, pre);
    strcat(want, "YTo=\r\n\r\n");
    check_request("h", NULL, 1, "a", NULL, want);
}
END_TEST

START_TEST(request_credential_limits)
{
    uint8_t b[HTTP_REQUEST_MAX + 8];
    char big[257], name[256];

    memset(big, 'c', 256);
    big[256] = '\0';
    memset(name, 'n', 255);
    name[255] = '\0';
    ck_assert_int_eq(http_encode_connect(b, sizeof b, "h", NULL, 1, big, "p"), -1);
    ck_assert_int_eq(http_encode_connect(b, sizeof b, "h", NULL, 1, "u", big), -1);
    ck_assert_int_eq(http_encode_connect(b, sizeof b, "h", NULL, 1, "us:er", "p"), -1);
    big[255] = '\0';
    /* The longest request fits HTTP_REQUEST_MAX exactly. */
    ck_assert_int_eq(http_encode_connect(b, sizeof b, name, NULL, 65535, big, big),
                     HTTP_REQUEST_MAX);
    ck_assert_int_eq(http_encode_connect(b, HTTP_REQUEST_MAX - 1, name, NULL, 65535, big, big), -1);
}
END_TEST

START_TEST(request_bad_names)
{
    uint8_t b[512];
    char big[257];
    static const char *const bad[] = {"ex ample.com", "example.com\r\nX-Evil: 1", "a\tb", "a\x7f",
                                      ""};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(http_encode_connect(b, sizeof b, bad[i], NULL, 80, NULL, NULL), -1);
    memset(big, 'a', 256);
    big[256] = '\0';
    ck_assert_int_eq(http_encode_connect(b, sizeof b, big, NULL, 80, NULL, NULL), -1);
    ck_assert_int_eq(http_encode_connect(b, sizeof b, NULL, NULL, 80, NULL, NULL), -1);
}
END_TEST

START_TEST(request_small_cap)
{
    uint8_t b[128];
    const size_t n = strlen("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");

    memset(b, 0xaa, sizeof b);
    ck_assert_int_eq(http_encode_connect(b, n - 1, "example.com", NULL, 443, NULL, NULL), -1);
    for (size_t i = n - 1; i < sizeof b; i++)
        ck_assert_int_eq(b[i], 0xaa);
    ck_assert_int_eq(http_encode_connect(b, n, "example.com", NULL, 443, NULL, NULL), (ssize_t)n);
    ck_assert_int_eq(http_encode_connect(b, 0, "example.com", NULL, 443, NULL, NULL), -1);
}
END_TEST

/* ---- response: success ---- */

START_TEST(response_200)
{
    const char *h = "HTTP/1.1 200 Connection established\r\n\r\n";
    struct http_response r;
    struct proto_error err = {0};
    ck_assert_int_eq(parse(h, &r, &err), (int)strlen(h));
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.minor, 1);
    ck_assert_str_eq(r.reason, "Connection established");
    check_splits(h);
}
END_TEST

START_TEST(response_http10_accepted)
{
    const char *h = "HTTP/1.0 200 OK\r\n\r\n";
    struct http_response r;
    struct proto_error err = {0};
    ck_assert_int_eq(parse(h, &r, &err), (int)strlen(h));
    ck_assert_int_eq(r.minor, 0);
    check_splits(h);
}
END_TEST

START_TEST(response_no_reason)
{
    struct http_response r;
    struct proto_error err = {0};
    ck_assert_int_eq(parse("HTTP/1.1 200\r\n\r\n", &r, &err), 16);
    ck_assert_str_eq(r.reason, "");
    ck_assert_int_eq(parse("HTTP/1.1 200 \r\n\r\n", &r, &err), 17);
    check_splits("HTTP/1.1 200\r\n\r\n");
}
END_TEST

START_TEST(response_headers_lowercase_and_body_ignored)
{
    /* tinyproxy-like, with headers a 2xx CONNECT answer may carry and must not act on. */
    const char *h = "HTTP/1.0 200 Connection established\r\n"
                    "proxy-agent: tinyproxy/1.11.1\r\n"
                    "content-length: 10\r\n"
                    "Content-Type: text/plain\r\n\r\n";
    char stream[512];
    struct http_response r;
    struct proto_error err = {0};

    strcpy(stream, h);
    strcat(stream, "0123456789" TAIL);
    ck_assert_int_eq(parse(stream, &r, &err), (int)strlen(h));
    check_splits(h);
}
END_TEST

START_TEST(response_tail_not_consumed)
{
    const char *h = "HTTP/1.1 200 OK\r\nVia: 1.1 squid\r\n\r\n";
    char stream[256];
    struct http_response r;
    struct proto_error err = {0};
    strcpy(stream, h);
    strcat(stream, "\r\n\r\n" TAIL); /* even a CRLFCRLF in the tunnel stays there */
    ck_assert_int_eq(parse(stream, &r, &err), (int)strlen(h));
}
END_TEST

START_TEST(response_other_2xx)
{
    struct http_response r;
    struct proto_error err = {0};
    ck_assert_int_eq(parse("HTTP/1.1 201 Created\r\n\r\n", &r, &err), 24);
    ck_assert_int_eq(parse("HTTP/1.1 299 X\r\n\r\n", &r, &err), 18);
}
END_TEST

START_TEST(response_interim_100)
{
    const char *h = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
    struct http_response r;
    struct proto_error err = {0};
    ck_assert_int_eq(parse(h, &r, &err), (int)strlen(h));
    ck_assert_int_eq(r.status, 200);
    check_splits(h);
}
END_TEST

START_TEST(response_need_values)
{
    struct http_response r;
    struct proto_error err = {0};
    ck_assert_int_eq(parse("", &r, &err), 0);
    ck_assert_uint_eq(r.need, HTTP_RESPONSE_MIN);
    ck_assert_int_eq(parse("HTTP/1.1 200 Connection established", &r, &err), 0);
    ck_assert_uint_eq(r.need, 35 + 4);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r", &r, &err), 0);
    ck_assert_uint_eq(r.need, 16 + 3);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\n", &r, &err), 0);
    ck_assert_uint_eq(r.need, 17 + 2);
    ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nA: b\r\n\r", &r, &err), 0);
    ck_assert_uint_eq(r.need, 24 + 1);
}
END_TEST

START_TEST(response_status_known_early)
{
    struct http_response r;
    struct proto_error err = {0};
    /* Incomplete, but a caller that meets EOF here can still log the status. */
    ck_assert_int_eq(parse("HTTP/1.1 407 Proxy Authentication Required\r\nX", &r, &err), 0);
    ck_assert_int_eq(r.status, 407);
}
END_TEST

/* ---- response: refusals ---- */

START_TEST(response_407_basic)
{
    const char *h = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                    "Proxy-Authenticate: Basic realm=\"lab\"\r\n"
                    "Content-Length: 0\r\n\r\n";
    struct http_response r;
    struct proto_error err = {0};
    check_fail(parse(h, &r, &err), &err, EACCES,
               "407 Proxy Authentication Required (proxy asks for Basic)");
    ck_assert_int_eq(r.status, 407);
    ck_assert_str_eq(r.auth_scheme, "Basic");
}
END_TEST

START_TEST(response_407_lowercase_digest)
{
    const char *h = "HTTP/1.1 407 Auth\r\nvia: x\r\nproxy-authenticate:  Digest realm=\"x\", "
                    "nonce=\"1\"\r\n\r\n";
    struct http_response r;
    struct proto_error err = {0};
    check_fail(parse(h, &r, &err), &err, EACCES, "asks for Digest");
    ck_assert_str_eq(r.auth_scheme, "Digest");
}
END_TEST

START_TEST(response_403)
{
    struct http_response r;
    struct proto_error err = {0};
    check_fail(parse("HTTP/1.1 403 Forbidden\r\n\r\n", &r, &err), &err, EACCES,
               "http proxy: 403 Forbidden");
}
END_TEST

START_TEST(response_5xx)
{
    struct http_response r;
    struct proto_error err = {0};
    check_fail(parse("HTTP/1.1 502 Bad Gateway\r\n\r\n", &r, &err), &err, ECONNREFUSED, "502");
    check_fail(parse("HTTP/1.1 503 Service Unavailable\r\n\r\n", &r, &err), &err, EHOSTUNREACH,
               "503");
    check_fail(parse("HTTP/1.1 504 Gateway Timeout\r\n\r\n", &r, &err), &err, ETIMEDOUT, "504");
    check_fail(parse("HTTP/1.0 500 Unable to connect\r\n\r\n", &r, &err), &err, ECONNREFUSED,
               "Unable to connect");
}
END_TEST

START_TEST(response_other_non2xx)
{
    struct http_response r;
    struct proto_error err = {0};
    check_fail(parse("HTTP/1.1 405 Method Not Allowed\r\n\r\n", &r, &err), &err, ECONNREFUSED,
               "405");
    check_fail(parse("HTTP/1.1 301 Moved\r\nLocation: /\r\n\r\n", &r, &err), &err, ECONNREFUSED,
               "301");
    check_fail(parse("HTTP/1.1 101 Switching Protocols\r\n\r\n", &r, &err), &err, ECONNREFUSED,
               "101");
    check_fail(parse("HTTP/1.1 401 Unauthorized\r\n\r\n", &r, &err), &err, EACCES, "401");
}
END_TEST

START_TEST(status_errno_table)
{
    ck_assert_int_eq(http_status_errno(200), 0);
    ck_assert_int_eq(http_status_errno(204), 0);
    ck_assert_int_eq(http_status_errno(407), EACCES);
    ck_assert_int_eq(http_status_errno(403), EACCES);
    ck_assert_int_eq(http_status_errno(502), ECONNREFUSED);
    ck_assert_int_eq(http_status_errno(503), EHOSTUNREACH);
    ck_assert_int_eq(http_status_errno(504), ETIMEDOUT);
    ck_assert_int_eq(http_status_errno(418), ECONNREFUSED);
}
END_TEST

/* ---- response: malformed ---- */

START_TEST(response_garbage_early)
{
    struct http_response r;
    struct proto_error err = {0};
    /* A SOCKS5 server's answer fails at the first byte. */
    check_fail(http_parse_response((const uint8_t *)"\x05", 1, &r, &err), &err, ECONNREFUSED,
               "looks like SOCKS5");
    check_fail(parse("SSH-2.0-OpenSSH", &r, &err), &err, ECONNREFUSED, "looks like SSH");
    check_fail(parse("<html>", &r, &err), &err, ECONNREFUSED, "first bytes \"<html>\"");
    /* A valid prefix is only incomplete. */
    ck_assert_int_eq(parse("HTTP/1.1 2", &r, &err), 0);
}
END_TEST

START_TEST(response_malformed_status_lines)
{
    static const char *const bad[] = {
        "HTTP/2 200 OK\r\n\r\n",       "HTTP/2.0 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000\r\n\r\n",       "HTTP/1.1 200OK\r\n\r\n",  "HTTP/1.1 700 Odd\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",    "HTTP/1.1 200 OK\n\n",     "HTTP/1.1 200 OK\rX\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n", "http/1.1 200 OK\r\n\r\n", "HTTP/1.1\r\n\r\n",
        " HTTP/1.1 200 OK\r\n\r\n",    "HTTP/1.x 200 OK\r\n\r\n",
    };
    struct http_response r;
    struct proto_error err;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        check_fail(parse(bad[i], &r, &err), &err, ECONNREFUSED, "malformed status line");
    }
}
END_TEST

START_TEST(response_no_terminator_8k)
{
    static char big[HTTP_HEADER_MAX + 100];
    struct http_response r;
    struct proto_error err = {0};
    size_t n;

    strcpy(big, "HTTP/1.1 200 OK\r\n");
    n = strlen(big);
    while (n < HTTP_HEADER_MAX + 50) {
        memcpy(big + n, "X-Pad: yyyyyyyy\r\n", 17);
        n += 17;
    }
    check_fail(http_parse_response((uint8_t *)big, n, &r, &err), &err, ECONNREFUSED,
               "longer than 8192");
    /* Refused as soon as even the shortest ending cannot fit, not one read later. */
    memset(big + 17, 'a', HTTP_HEADER_MAX);
    check_fail(http_parse_response((uint8_t *)big, HTTP_HEADER_MAX - 3, &r, &err), &err,
               ECONNREFUSED, "longer than 8192");
    ck_assert_int_eq(http_parse_response((uint8_t *)big, HTTP_HEADER_MAX - 4, &r, &err), 0);
    ck_assert_uint_eq(r.need, HTTP_HEADER_MAX);
}
END_TEST

START_TEST(response_exactly_8k)
{
    static char big[HTTP_HEADER_MAX + 1];
    struct http_response r;
    struct proto_error err = {0};

    memset(big, 'a', HTTP_HEADER_MAX);
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    memcpy(big + HTTP_HEADER_MAX - 4, "\r\n\r\n", 4);
    ck_assert_int_eq(http_parse_response((uint8_t *)big, HTTP_HEADER_MAX, &r, &err),
                     HTTP_HEADER_MAX);
}
END_TEST

START_TEST(response_status_line_too_long)
{
    static char big[HTTP_HEADER_MAX + 10];
    struct http_response r;
    struct proto_error err = {0};

    memset(big, 'r', sizeof big);
    memcpy(big, "HTTP/1.1 200 ", 13);
    check_fail(http_parse_response((uint8_t *)big, sizeof big, &r, &err), &err, ECONNREFUSED,
               "longer than 8192");
}
END_TEST

START_TEST(response_reason_sanitized)
{
    /* obs-text is legal in a reason phrase; it must still reach the log as printable. */
    const char *h = "HTTP/1.1 403 Verboten \xc3\xbc\tnope\r\n\r\n";
    struct http_response r;
    struct proto_error err = {0};
    check_fail(parse(h, &r, &err), &err, EACCES, "403 Verboten ???nope");
    ck_assert_str_eq(r.reason, "Verboten ???nope");
}
END_TEST

START_TEST(response_long_reason_cut)
{
    char h[600];
    struct http_response r;
    struct proto_error err = {0};

    strcpy(h, "HTTP/1.1 502 ");
    memset(h + 13, 'R', 500);
    strcpy(h + 513, "\r\n\r\n");
    check_fail(parse(h, &r, &err), &err, ECONNREFUSED, "502 RRRR");
    ck_assert_uint_eq(strlen(r.reason), sizeof r.reason - 1);
    ck_assert_uint_le(strlen(err.why), PROTO_WHY_MAX);
}
END_TEST

START_TEST(response_null_err)
{
    struct http_response r;
    ck_assert_int_eq(http_parse_response((const uint8_t *)"junk", 4, &r, NULL), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http");
    TCase *enc = tcase_create("encode");
    TCase *ok = tcase_create("response_ok");
    TCase *no = tcase_create("response_refused");
    TCase *bad = tcase_create("response_malformed");

    tcase_add_test(enc, request_domain);
    tcase_add_test(enc, request_ipv4);
    tcase_add_test(enc, request_ipv6_brackets);
    tcase_add_test(enc, request_ipv4_mapped);
    tcase_add_test(enc, request_basic_rfc7617);
    tcase_add_test(enc, request_base64_padding);
    tcase_add_test(enc, request_credential_limits);
    tcase_add_test(enc, request_bad_names);
    tcase_add_test(enc, request_small_cap);

    tcase_add_test(ok, response_200);
    tcase_add_test(ok, response_http10_accepted);
    tcase_add_test(ok, response_no_reason);
    tcase_add_test(ok, response_headers_lowercase_and_body_ignored);
    tcase_add_test(ok, response_tail_not_consumed);
    tcase_add_test(ok, response_other_2xx);
    tcase_add_test(ok, response_interim_100);
    tcase_add_test(ok, response_need_values);
    tcase_add_test(ok, response_status_known_early);

    tcase_add_test(no, response_407_basic);
    tcase_add_test(no, response_407_lowercase_digest);
    tcase_add_test(no, response_403);
    tcase_add_test(no, response_5xx);
    tcase_add_test(no, response_other_non2xx);
    tcase_add_test(no, status_errno_table);

    tcase_add_test(bad, response_garbage_early);
    tcase_add_test(bad, response_malformed_status_lines);
    tcase_add_test(bad, response_no_terminator_8k);
    tcase_add_test(bad, response_exactly_8k);
    tcase_add_test(bad, response_status_line_too_long);
    tcase_add_test(bad, response_reason_sanitized);
    tcase_add_test(bad, response_long_reason_cut);
    tcase_add_test(bad, response_null_err);

    suite_add_tcase(s, enc);
    suite_add_tcase(s, ok);
    suite_add_tcase(s, no);
    suite_add_tcase(s, bad);
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
