/* http: the HTTP CONNECT client side (RFC 9110 section 9.3.6, RFC 9112 message syntax,
 * RFC 7617 Basic credentials), as pure encoders and parsers over byte buffers.
 * Conventions: common/proto/proto.h.
 *
 * The response header ends at the first CRLFCRLF and the tunnel starts right after
 * it: http_parse_response returns exactly the header's length. Its need is the
 * shortest total that could complete the terminator (len+1 after "\r\n\r", len+4
 * after a plain byte), so a caller reading need - len bytes never reads tunnel data.
 * A 2xx response to CONNECT has no body whatever its headers say (Content-Length is
 * ignored). Interim 1xx responses (not 101) are consumed and the final one follows.
 * Only CRLF line ends are recognised; a header longer than HTTP_HEADER_MAX is refused.
 *
 * Errno decisions:
 *   2xx                          success
 *   407, 401, 403                EACCES (credentials rejected or access forbidden)
 *   502 Bad Gateway              ECONNREFUSED (the proxy's upstream connect failed)
 *   503 Service Unavailable      EHOSTUNREACH (squid's answer to DNS and route failures)
 *   504 Gateway Timeout          ETIMEDOUT
 *   any other status, 101        ECONNREFUSED
 *   not HTTP/1.x, malformed status line, header over 8 KiB: ECONNREFUSED
 */
#ifndef DIALSHIM_PROTO_HTTP_H
#define DIALSHIM_PROTO_HTTP_H

#include "common/proto/proto.h"

#define HTTP_HEADER_MAX   8192
#define HTTP_RESPONSE_MIN 16 /* "HTTP/1.1 200\r\n\r\n" */

/* "CONNECT " + authority + " HTTP/1.1\r\n" + "Host: " + authority + "\r\n" +
 * "Proxy-Authorization: Basic " + base64(255 + 1 + 255 bytes) + "\r\n" + "\r\n",
 * with the longest authority a 255-byte name + ":65535". */
#define HTTP_REQUEST_MAX (8 + 261 + 11 + 6 + 261 + 2 + 27 + 684 + 2 + 2)

struct http_response {
    int minor;            /* x of HTTP/1.x */
    int status;           /* set as soon as a status line is complete, also on error */
    char reason[128];     /* reason phrase, printable, cut to fit */
    char auth_scheme[32]; /* first token of Proxy-Authenticate ("Basic", "Digest"), or "" */
    size_t need;
};

/* CONNECT request to host:port (an IPv6 address in brackets). user NULL: no
 * Proxy-Authorization. user: 0..255 bytes without ':' (RFC 7617); pass: 0..255 bytes,
 * NULL is "". A name holding spaces or control characters is refused (-1): it would
 * break the request line. */
ssize_t http_encode_connect(uint8_t *buf, size_t cap, const char *host, const struct sockaddr *addr,
                            uint16_t port, const char *user, const char *pass);

/* Response header: > 0 its exact length (2xx), 0 incomplete, < 0 error; a non-2xx
 * status fails once its header is complete, with out->status and out->reason set. */
int http_parse_response(const uint8_t *buf, size_t len, struct http_response *out,
                        struct proto_error *err);

/* The errno for a final status code (0 for 2xx). */
int http_status_errno(int status);

#endif
