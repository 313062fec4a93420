/* SOCKS4 and SOCKS4a as one hop: one request, one 8-byte reply. */
#include "common/dialer/hop.h"

#include "common/dialer/io.h"

#include <errno.h>
#include <stdio.h>

int hop_socks4(struct hop_ctx *h, const struct target *t)
{
    uint8_t buf[SOCKS4_REQUEST_MAX];
    struct hop_reply r = {.kind = HOP_SOCKS4_REPLY};
    ssize_t n = socks4_encode_request(buf, sizeof(buf), t->host, t->sa, t->port,
                                      h->p->username[0] ? h->p->username : NULL);
    int err;

    if (n < 0) {
        snprintf(h->perr.why, sizeof(h->perr.why), "SOCKS4 cannot carry an IPv6 destination");
        return EAFNOSUPPORT;
    }
    if ((err = hop_write(h, buf, n)))
        return err;
    return hop_exchange(h, buf, sizeof(buf), &r);
}
