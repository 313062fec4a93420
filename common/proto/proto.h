/* proto: what the SOCKS5, SOCKS4a and HTTP CONNECT codecs share.
 *
 * Promise: every codec is a pure function over caller-owned byte buffers. No I/O, no
 * allocation, no mutable global state, no printing: the dialer may call them from any
 * thread, inside any hook, and the tests can feed them recorded bytes in any split.
 *
 * Conventions, the same in every codec:
 *   encoders  ssize_t xxx_encode_...(uint8_t *buf, size_t cap, ...)
 *             bytes written, or -1 when cap is too small or an argument is invalid.
 *             Nothing is written past cap, even on failure.
 *   parsers   int xxx_parse_...(const uint8_t *buf, size_t len, out, struct proto_error *err)
 *             > 0  the exact length of the message: the bytes after it are not ours
 *                  (tunnel data, the next message), the caller must leave them alone;
 *             0    incomplete: out->need is the smallest total length the message can
 *                  have given what is known, so reading need - len more bytes never
 *                  reads past its end;
 *             < 0  error: err->errnum is the errno the intercepted call should return,
 *                  err->why one printable line saying what the proxy sent.
 *             err may be NULL. A parser decides as early as the bytes allow: a wrong
 *             version byte fails at once, without waiting for the rest (so parse
 *             after every read, not only once need bytes are in).
 *   destinations  const char *host (a name, or NULL) and, when host is NULL,
 *             const struct sockaddr *addr (AF_INET or AF_INET6), port in host order.
 *             A host that is an address literal is sent as that address, and an
 *             IPv4-mapped IPv6 address (::ffff:a.b.c.d) as plain IPv4, so a proxy
 *             without IPv6 still reaches IPv4 peers of dual-stack programs.
 */
#ifndef DIALSHIM_PROTO_H
#define DIALSHIM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Longest err->why, without the NUL. */
#define PROTO_WHY_MAX 160

struct proto_error {
    int errnum;                  /* errno for the intercepted call */
    char why[PROTO_WHY_MAX + 1]; /* printable ASCII, for the log line; never a secret */
};

enum proto_addr_kind {
    PROTO_ADDR_NONE = 0,
    PROTO_ADDR_IPV4,
    PROTO_ADDR_IPV6,
    PROTO_ADDR_DOMAIN,
};

/* An address a proxy sent us (a bound address, a datagram's source). */
struct proto_addr {
    enum proto_addr_kind kind;
    struct sockaddr_storage sa; /* IPv4/IPv6: address and port, ready for connect/sendto;
                                   ss_family is AF_UNSPEC for a domain */
    char host[256];             /* domain: the name, NUL-terminated; "" otherwise */
    uint16_t port;              /* host order */
};

/* ---- Internal to common/proto: shared by the codecs, not meant for callers. ---- */

/* A destination after the host/addr rules above. */
struct proto_dest {
    enum proto_addr_kind kind;
    uint8_t ip[16];   /* IPv4 in ip[0..3], IPv6 in ip[0..15], network order */
    const char *name; /* domain, not NUL-terminated inside the codecs' view */
    size_t name_len;  /* 1..255 */
};

/* Fill d from host/addr; -1 when neither is usable (both NULL, unknown family, a name
 * that is empty or longer than 255 bytes). */
int proto_dest_from(const char *host, const struct sockaddr *addr, struct proto_dest *d);

/* Record an error: sets err->errnum and err->why (printf-style, cut at PROTO_WHY_MAX and
 * made printable). Returns -1 so parsers can `return proto_fail(...)`. */
int proto_fail(struct proto_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Up to PROTO_QUOTE_BYTES of buf rendered printable (\xNN for the rest), for "first
 * bytes" in error lines. out holds at least PROTO_QUOTE_MAX bytes. */
#define PROTO_QUOTE_BYTES 8
#define PROTO_QUOTE_MAX   (PROTO_QUOTE_BYTES * 4 + 1)
void proto_quote(char *out, const uint8_t *buf, size_t len);

/* A guess at what answered instead of the expected protocol, from its first bytes:
 * " looks like HTTP;", " looks like SOCKS4;", ... or "" when nothing is recognised. */
const char *proto_guess(const uint8_t *buf, size_t len);

/* Copy a name of n bytes into a proto_addr (NUL-terminated). -1 when it holds a NUL. */
int proto_addr_set_name(struct proto_addr *a, const uint8_t *name, size_t n, uint16_t port);

/* Fill a proto_addr with an IPv4 (4 bytes) or IPv6 (16 bytes) address and a port. */
void proto_addr_set_ip(struct proto_addr *a, const uint8_t *ip, size_t n, uint16_t port);

#endif
