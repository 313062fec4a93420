/* hop: one proxy's handshake on an open connection to it, asking it for the
 * next hop of a detour chain (common/dialer/detour.c walks the chain).
 *
 * Promise: a hop reads exactly its reply, never a byte of what follows (that is
 * the program's); every wait ends by the context's deadline; a failure returns
 * an errno with the reason in perr.why (never a secret); the hop's buffers are
 * on the stack (under 4 KiB) or, for HTTP, on the heap and wiped after use.
 */
#ifndef DIALSHIM_DIALER_HOP_H
#define DIALSHIM_DIALER_HOP_H

#include "common/dialer/dialer.h"
#include "common/proto/http.h"
#include "common/proto/socks4.h"
#include "common/proto/socks5.h"

/* Where one hop must take us: the next proxy's server, or the destination. */
struct target {
    const char *host; /* a name for the proxy to resolve, or NULL */
    const struct sockaddr *sa;
    uint16_t port;
};

struct hop_ctx {
    const struct conf_dialer *p; /* the proxy we are talking to */
    int fd;
    long long deadline;
    struct proto_error perr;
    bool pipelined;
    bool proven;              /* this proxy completed a pipelined handshake before */
    bool chose_userpass;      /* lockstep: its method reply chose username/password */
    bool dest_failed;         /* out: the proxy reported a failure of the target, not its own */
    uint8_t cmd;              /* SOCKS5 command for this hop; 0 is CONNECT */
    struct proto_addr *bound; /* SOCKS5: where the reply's BND.ADDR goes, or NULL */
    bool wrote;               /* out: a message of this hop went out (hop_write) */
    /* The socket is blocking and the watchdog ends its calls at the deadline
     * (common/watchdog.h): replies are read with blocking reads, no poll first. */
    bool watched;
};

/* The reply a hop waits for, and what its parser makes of it. */
struct hop_reply {
    enum {
        HOP_SOCKS5_METHOD,
        HOP_SOCKS5_AUTH,
        HOP_SOCKS5_REPLY,
        HOP_SOCKS4_REPLY,
        HOP_HTTP_RESPONSE,
    } kind;
    bool userpass; /* HOP_SOCKS5_METHOD: we offered username/password */
    union {
        struct socks5_method_reply method;
        struct socks5_auth_reply auth;
        struct socks5_reply socks5;
        struct socks4_reply socks4;
        struct http_response http;
    } u;
};

/* Read R's reply into BUF (CAP bytes) and parse it: 0, or an errno with the
 * reason in H->perr. */
int hop_exchange(struct hop_ctx *h, uint8_t *buf, size_t cap, struct hop_reply *r);

/* The handshake of H->p's protocol, ending in a tunnel to T. */
int hop_handshake(struct hop_ctx *h, const struct target *t);

/* Send one of H's messages whole (io_write_all to H's deadline); 0 or an errno.
 * The first hop's first message may also be what waits for the connection to
 * the proxy to be made (common/dialer/detour.c): h->wrote tells them apart. */
int hop_write(struct hop_ctx *h, const uint8_t *buf, size_t n);

int hop_socks5(struct hop_ctx *h, const struct target *t); /* hop_socks5.c */
int hop_socks4(struct hop_ctx *h, const struct target *t); /* hop_socks4.c */
int hop_http(struct hop_ctx *h, const struct target *t);   /* hop_http.c */

#endif
