/* libFuzzer: the HTTP CONNECT response parser under the shared parser contract
 * (parse_check.h): a complete response ends at CRLFCRLF with a 2xx status, never
 * longer than HTTP_HEADER_MAX; and the CONNECT encoder.
 * Input: byte 0 even: the rest is the proxy's response; odd: cap(2) port(2)
 * host\0user\0pass (user "" means none) -> http_encode_connect. */
#include "common/proto/http.h"
#include "tests/fuzz/parse_check.h"

#include <errno.h>

static const int http_errnos[] = {ECONNREFUSED, EACCES, EHOSTUNREACH, ETIMEDOUT, 0};

static int p_resp(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                  int arg)
{
    struct http_response *rep = o;
    int r = http_parse_response(b, n, rep, e);
    (void)arg;
    *need = rep->need;
    return r;
}

static void ok_resp(const uint8_t *b, size_t n, int r, const void *o, int arg)
{
    const struct http_response *rep = o;
    (void)n, (void)arg;
    FUZZ_CHECK(r >= HTTP_RESPONSE_MIN && r <= HTTP_HEADER_MAX, "response length %d", r);
    FUZZ_CHECK(memcmp(b + r - 4, "\r\n\r\n", 4) == 0, "response does not end at CRLFCRLF");
    FUZZ_CHECK(rep->status >= 200 && rep->status < 300, "success with status %d", rep->status);
    FUZZ_CHECK(rep->minor >= 0 && rep->minor <= 9, "minor %d", rep->minor);
    FUZZ_CHECK(fuzz_printable(rep->reason, sizeof rep->reason), "reason not printable");
    FUZZ_CHECK(fuzz_printable(rep->auth_scheme, sizeof rep->auth_scheme), "scheme not printable");
}

static void encoder(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t cap = fuzz_u16(&in) % (HTTP_REQUEST_MAX + 16);
    uint16_t port = fuzz_u16(&in);
    char *host = fuzz_take_str(&in), *user = fuzz_take_str(&in), *pass = fuzz_take_str(&in);
    uint8_t *buf = malloc(cap ? cap : 1);
    ssize_t r;

    r = http_encode_connect(buf, cap, host, NULL, port, user[0] ? user : NULL, pass);
    FUZZ_CHECK(r <= (ssize_t)cap, "encode_connect wrote %zd into %zu", r, cap);
    if (r > 0) {
        char *req = fuzz_str(buf, (size_t)r);
        char *eol = strstr(req, "\r\n");
        FUZZ_CHECK(strncmp(req, "CONNECT ", 8) == 0, "request line");
        FUZZ_CHECK(r >= 4 && memcmp(buf + r - 4, "\r\n\r\n", 4) == 0, "request end");
        FUZZ_CHECK(strlen(req) == (size_t)r, "NUL inside the request");
        FUZZ_CHECK(strstr(req, "\r\n\r\n") == req + r - 4, "header ends early (injected CRLF)");
        /* the request line holds exactly two spaces: CONNECT authority HTTP/1.1 */
        int spaces = 0;
        for (char *p = req; p < eol; p++) {
            spaces += *p == ' ';
            FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "control byte in request line");
        }
        FUZZ_CHECK(spaces == 2, "request line with %d spaces", spaces);
        for (size_t i = 0; i < (size_t)r; i++) {
            FUZZ_CHECK(req[i] != '\r' || (i + 1 < (size_t)r && req[i + 1] == '\n'),
                       "bare CR at %zu in the request", i);
            FUZZ_CHECK(req[i] != '\n' || (i > 0 && req[i - 1] == '\r'),
                       "bare LF at %zu in the request", i);
        }
        free(req);
    }
    free(buf);
    free(host);
    free(user);
    free(pass);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pc_spec spec = {"http_parse_response", p_resp, ok_resp, 0,
                                        sizeof(struct http_response), HTTP_HEADER_MAX,
                                        http_errnos};

    if (size < 1 || size > HTTP_HEADER_MAX + 512)
        return 0;
    if (data[0] & 1)
        encoder(data + 1, size - 1);
    else
        pc_check(&spec, data + 1, size - 1, size <= 600);
    return 0;
}
