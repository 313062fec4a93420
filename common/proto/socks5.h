/* socks5: the SOCKS5 client side (RFC 1928) with username/password auth (RFC 1929),
 * as pure encoders and parsers over byte buffers. Conventions: common/proto/proto.h.
 *
 * Lockstep handshake: greeting -> parse_method -> [auth -> parse_auth_reply] ->
 * request -> parse_reply. Pipelined: encode_pipelined writes all three client messages
 * for one write(), parse_pipelined consumes the three replies in order. A reply's
 * length depends on its address type (10 IPv4, 22 IPv6, 7+n domain): parse_reply
 * returns exactly that, so the first bytes of a server-first protocol are never eaten.
 *
 * Errno decisions (dialshim(1) ERRORS):
 *   REP 1 general failure      ECONNREFUSED   REP 5 connection refused   ECONNREFUSED
 *   REP 2 not allowed          EACCES         REP 6 TTL expired          ETIMEDOUT
 *   REP 3 network unreachable  ENETUNREACH    REP 7 command unsupported  EOPNOTSUPP
 *   REP 4 host unreachable     EHOSTUNREACH   REP 8 address type unsup.  EAFNOSUPPORT
 *   any other REP              ECONNREFUSED
 *   method 0xFF, RFC 1929 status != 0, proxy demanding user/pass we do not have: EACCES
 *   wrong version, unknown ATYP, a method not offered, malformed: ECONNREFUSED
 * Tolerated: a non-zero RSV byte (RFC 1928 says 0; ignoring it costs nothing), an RFC
 * 1929 reply whose version byte is 5 instead of 1 (some servers echo the SOCKS
 * version), a zero-length domain as a reply's bound address (it is informational).
 */
#ifndef DIALSHIM_PROTO_SOCKS5_H
#define DIALSHIM_PROTO_SOCKS5_H

#include "common/proto/proto.h"

#define SOCKS5_VERSION      0x05
#define SOCKS5_AUTH_VERSION 0x01 /* RFC 1929 sub-negotiation */

#define SOCKS5_METHOD_NONE         0x00
#define SOCKS5_METHOD_GSSAPI       0x01
#define SOCKS5_METHOD_USERPASS     0x02
#define SOCKS5_METHOD_UNACCEPTABLE 0xff

#define SOCKS5_CMD_CONNECT       0x01
#define SOCKS5_CMD_BIND          0x02
#define SOCKS5_CMD_UDP_ASSOCIATE 0x03

#define SOCKS5_ATYP_IPV4   0x01
#define SOCKS5_ATYP_DOMAIN 0x03
#define SOCKS5_ATYP_IPV6   0x04

#define SOCKS5_REP_SUCCEEDED 0x00
#define SOCKS5_REP_GENERAL   0x01 /* microsocks' answer to a pipelined handshake */

/* Sizes of the longest messages, for stack buffers. */
#define SOCKS5_GREETING_MAX   4                 /* VER NMETHODS 00 02 */
#define SOCKS5_AUTH_MAX       (3 + 255 + 255)   /* VER ULEN UNAME PLEN PASSWD */
#define SOCKS5_ADDR_MAX       (1 + 1 + 255 + 2) /* ATYP LEN NAME PORT */
#define SOCKS5_REQUEST_MAX    (3 + SOCKS5_ADDR_MAX)
#define SOCKS5_REPLY_MAX      (3 + SOCKS5_ADDR_MAX)
#define SOCKS5_REPLY_MIN      7 /* zero-length domain; IPv4 is 10 */
#define SOCKS5_PIPELINED_MAX  (3 + SOCKS5_AUTH_MAX + SOCKS5_REQUEST_MAX)
#define SOCKS5_UDP_HEADER_MAX (3 + SOCKS5_ADDR_MAX)

struct socks5_method_reply {
    uint8_t method; /* the method the proxy chose */
    size_t need;
};

struct socks5_auth_reply {
    uint8_t status; /* 0: accepted */
    size_t need;
};

struct socks5_reply {
    uint8_t rep;             /* valid once 2 bytes with a good version were seen, also on
                                error: REP 1 after a pipelined handshake means "retry
                                in lockstep" */
    struct proto_addr bound; /* BND.ADDR/BND.PORT: for UDP ASSOCIATE the relay; when it is
                                0.0.0.0 or :: use the proxy's own address */
    size_t need;
};

/* Where a pipelined parse stopped, or failed. */
enum socks5_stage {
    SOCKS5_STAGE_METHOD = 0,
    SOCKS5_STAGE_AUTH,
    SOCKS5_STAGE_REPLY,
    SOCKS5_STAGE_DONE,
};

struct socks5_pipelined_reply {
    enum socks5_stage stage;
    uint8_t method;
    uint8_t auth_status;
    struct socks5_reply reply;
    size_t need; /* for the whole sequence, from buf[0] */
};

struct socks5_udp_header {
    struct proto_addr src; /* the datagram's peer (DST.ADDR/DST.PORT of the header) */
    size_t payload_off;    /* = the return value */
    size_t payload_len;
};

/* Greeting: offers no-auth, and username/password too when with_userpass. 3 or 4 bytes. */
ssize_t socks5_encode_greeting(uint8_t *buf, size_t cap, bool with_userpass);

/* Method selection (2 bytes). with_userpass: as given to the greeting. The chosen
 * method is in out->method: SOCKS5_METHOD_USERPASS means send the auth request next. */
int socks5_parse_method(const uint8_t *buf, size_t len, bool with_userpass,
                        struct socks5_method_reply *out, struct proto_error *err);

/* RFC 1929 request. user: 1..255 bytes; pass: 0..255 bytes (NULL is ""): servers accept
 * an empty password although the RFC asks for 1..255. */
ssize_t socks5_encode_auth(uint8_t *buf, size_t cap, const char *user, const char *pass);

/* RFC 1929 reply (2 bytes); status != 0 -> EACCES. */
int socks5_parse_auth_reply(const uint8_t *buf, size_t len, struct socks5_auth_reply *out,
                            struct proto_error *err);

/* Request: cmd is SOCKS5_CMD_CONNECT, _BIND or _UDP_ASSOCIATE. For UDP ASSOCIATE pass the
 * address the datagrams will come from, or 0.0.0.0:0 when unknown. */
ssize_t socks5_encode_request(uint8_t *buf, size_t cap, uint8_t cmd, const char *host,
                              const struct sockaddr *addr, uint16_t port);

/* Reply: returns its exact length (10, 22 or 7+n); REP != 0 fails as soon as byte 2 is
 * there, with the errno of the table above. */
int socks5_parse_reply(const uint8_t *buf, size_t len, struct socks5_reply *out,
                       struct proto_error *err);

/* Greeting + auth + request back to back, for one write. The greeting offers exactly
 * one method (username/password when user is given, else no-auth): offering both would
 * let the proxy pick no-auth and read our auth request as the connect request. */
ssize_t socks5_encode_pipelined(uint8_t *buf, size_t cap, const char *user, const char *pass,
                                uint8_t cmd, const char *host, const struct sockaddr *addr,
                                uint16_t port);

/* Method reply + [auth reply] + reply from one buffer; with_userpass as user != NULL
 * was for encode_pipelined. Returns the total consumed; out->stage says which message
 * is incomplete or failed. */
int socks5_parse_pipelined(const uint8_t *buf, size_t len, bool with_userpass,
                           struct socks5_pipelined_reply *out, struct proto_error *err);

/* RFC 1928 section 7 UDP header (RSV 0, FRAG 0, address, port) for a datagram to the
 * given destination; the payload follows it (e.g. a second iovec). */
ssize_t socks5_encode_udp_header(uint8_t *buf, size_t cap, const char *host,
                                 const struct sockaddr *addr, uint16_t port);

/* Header followed by payload_len bytes of payload. payload may point into buf itself
 * (it is moved, not copied), so a caller can build in place. */
ssize_t socks5_encode_udp(uint8_t *buf, size_t cap, const char *host, const struct sockaddr *addr,
                          uint16_t port, const void *payload, size_t payload_len);

/* A datagram received from the relay: returns the payload offset (> 0) or < 0. A
 * datagram is complete, so there is no "0: need more": truncated is malformed.
 * Errors: FRAG != 0 -> EMSGSIZE "fragment dropped" (we do not reassemble); anything
 * malformed -> EPROTO. The caller drops the datagram either way. */
int socks5_parse_udp_header(const uint8_t *dgram, size_t len, struct socks5_udp_header *out,
                            struct proto_error *err);

/* A datagram that crossed NHOPS (>= 1) proxies nested by their UDP ASSOCIATE
 * relays: strips the NHOPS headers from BUF (LEN bytes) and returns the payload
 * offset with the innermost header's source in *SRC, or -1 (malformed, fragment). */
int socks5_unwrap_udp(const uint8_t *buf, size_t len, int nhops, struct proto_addr *src);

/* The errno for a REP code, and its RFC 1928 text. */
int socks5_rep_errno(uint8_t rep);
const char *socks5_rep_text(uint8_t rep);

#endif
