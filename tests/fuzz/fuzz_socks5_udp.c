/* libFuzzer: the SOCKS5 UDP header parser (RFC 1928 section 7) over whole datagrams.
 * A datagram is complete, so the parser returns > 0 (payload offset) or < 0
 * (EPROTO malformed, EMSGSIZE fragment), never 0. A header it accepts is encoded
 * again by socks5_encode_udp_header and must parse back to the same source. */
#include "common/proto/socks5.h"
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <errno.h>

static void same_source(const struct proto_addr *a, const struct proto_addr *b, const char *hex)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    uint8_t ip[16];

    FUZZ_CHECK(a->port == b->port, "round trip port %u -> %u [%s]", a->port, b->port, hex);
    switch (a->kind) {
    case PROTO_ADDR_IPV4:
        FUZZ_CHECK(b->kind == PROTO_ADDR_IPV4 &&
                       memcmp(&((const struct sockaddr_in *)&a->sa)->sin_addr,
                              &((const struct sockaddr_in *)&b->sa)->sin_addr, 4) == 0,
                   "round trip of an IPv4 source [%s]", hex);
        break;
    case PROTO_ADDR_IPV6: {
        const uint8_t *x = ((const struct sockaddr_in6 *)&a->sa)->sin6_addr.s6_addr;
        if (memcmp(x, mapped, 12) == 0)
            FUZZ_CHECK(b->kind == PROTO_ADDR_IPV4 &&
                           memcmp(&((const struct sockaddr_in *)&b->sa)->sin_addr, x + 12, 4) == 0,
                       "round trip of a v4-mapped IPv6 source [%s]", hex);
        else
            FUZZ_CHECK(b->kind == PROTO_ADDR_IPV6 &&
                           memcmp(((const struct sockaddr_in6 *)&b->sa)->sin6_addr.s6_addr, x,
                                  16) == 0,
                       "round trip of an IPv6 source [%s]", hex);
        break;
    }
    case PROTO_ADDR_DOMAIN:
        /* a name that is an address literal is sent as that address */
        if (inet_pton(AF_INET, a->host, ip) == 1 || inet_pton(AF_INET6, a->host, ip) == 1)
            FUZZ_CHECK(b->kind == PROTO_ADDR_IPV4 || b->kind == PROTO_ADDR_IPV6,
                       "literal name \"%s\" not encoded as an address [%s]", a->host, hex);
        else
            FUZZ_CHECK(b->kind == PROTO_ADDR_DOMAIN && strcmp(a->host, b->host) == 0,
                       "round trip of name \"%s\" [%s]", a->host, hex);
        break;
    default:
        FUZZ_CHECK(0, "source of kind %d [%s]", (int)a->kind, hex);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct socks5_udp_header h, h2;
    struct proto_error err;
    uint8_t *dgram, enc[SOCKS5_UDP_HEADER_MAX];
    char hex[140];
    size_t o = 0;
    int r;

    if (size > 2048)
        return 0;
    for (size_t i = 0; i < size && i < 64; i++)
        o += (size_t)snprintf(hex + o, sizeof hex - o, "%02x", data[i]);
    hex[o] = '\0';

    dgram = fuzz_copy(data, size);
    socks5_parse_udp_header(dgram, size, &h, NULL); /* err may be NULL */
    memset(&err, 'A', sizeof err);
    err.errnum = 0;
    r = socks5_parse_udp_header(dgram, size, &h, &err);
    FUZZ_CHECK(r != 0, "a datagram is complete: 0 returned [%s]", hex);
    if (r < 0) {
        FUZZ_CHECK(err.errnum == EPROTO || err.errnum == EMSGSIZE, "errno %d [%s]", err.errnum,
                   hex);
        FUZZ_CHECK(fuzz_printable(err.why, sizeof err.why), "why not printable [%s]", hex);
        FUZZ_CHECK(err.errnum != EMSGSIZE || (size >= 3 && data[2] != 0),
                   "EMSGSIZE without FRAG [%s]", hex);
        free(dgram);
        return 0;
    }
    FUZZ_CHECK((size_t)r <= size && (size_t)r == h.payload_off &&
                   h.payload_off + h.payload_len == size,
               "r %d, payload %zu+%zu of %zu [%s]", r, h.payload_off, h.payload_len, size, hex);
    FUZZ_CHECK(data[2] == 0, "FRAG %u accepted [%s]", data[2], hex);
    FUZZ_CHECK(h.src.kind != PROTO_ADDR_NONE, "no source [%s]", hex);
    FUZZ_CHECK(h.src.kind != PROTO_ADDR_DOMAIN ||
                   (h.src.host[0] && strnlen(h.src.host, sizeof h.src.host) < sizeof h.src.host),
               "empty or unterminated source name [%s]", hex);

    /* round trip */
    ssize_t n = socks5_encode_udp_header(enc, sizeof enc,
                                         h.src.kind == PROTO_ADDR_DOMAIN ? h.src.host : NULL,
                                         (const struct sockaddr *)&h.src.sa, h.src.port);
    FUZZ_CHECK(n > 0, "cannot encode the source just parsed [%s]", hex);
    r = socks5_parse_udp_header(enc, (size_t)n, &h2, &err);
    FUZZ_CHECK(r == n, "re-encoded header parses to %d of %zd [%s]", r, n, hex);
    same_source(&h.src, &h2.src, hex);
    free(dgram);
    return 0;
}
