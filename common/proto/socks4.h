/* socks4: the SOCKS4 and SOCKS4a client side, as pure encoders and parsers over byte
 * buffers. Conventions: common/proto/proto.h. Written from the SOCKS4 protocol text
 * (Ying-Da Lee) and its 4A extension.
 *
 * A name (host != NULL and not an address literal) goes out as SOCKS4a: DSTIP
 * 0.0.0.1, then the name after the userid. SOCKS4 has no IPv6: an IPv6 destination
 * cannot be encoded (-1), except an IPv4-mapped one, which is sent as its IPv4.
 *
 * Errno decisions: CD 90 granted; 91 rejected or failed -> ECONNREFUSED; 92 (identd
 * unreachable) and 93 (identd and userid differ) -> EACCES, as an authentication
 * failure; any other CD, a wrong VN -> ECONNREFUSED.
 * Tolerated: VN 4 in the reply instead of 0 (several servers echo the version).
 */
#ifndef DIALSHIM_PROTO_SOCKS4_H
#define DIALSHIM_PROTO_SOCKS4_H

#include "common/proto/proto.h"

#define SOCKS4_VERSION     0x04
#define SOCKS4_CMD_CONNECT 0x01

#define SOCKS4_CD_GRANTED         90
#define SOCKS4_CD_REJECTED        91
#define SOCKS4_CD_NO_IDENTD       92
#define SOCKS4_CD_IDENTD_MISMATCH 93

#define SOCKS4_REPLY_LEN   8
#define SOCKS4_REQUEST_MAX (8 + 255 + 1 + 255 + 1) /* header, userid, NUL, name, NUL */

struct socks4_reply {
    uint8_t cd;              /* valid once 2 bytes with a good VN were seen, also on error */
    struct proto_addr bound; /* DSTPORT/DSTIP of the reply (servers often send zeros) */
    size_t need;
};

/* CONNECT request. userid: NULL or up to 255 bytes; a name: 1..255 bytes. */
ssize_t socks4_encode_request(uint8_t *buf, size_t cap, const char *host,
                              const struct sockaddr *addr, uint16_t port, const char *userid);

/* The 8-byte reply. */
int socks4_parse_reply(const uint8_t *buf, size_t len, struct socks4_reply *out,
                       struct proto_error *err);

/* The errno for a CD code (0 for 90). */
int socks4_cd_errno(uint8_t cd);

#endif
