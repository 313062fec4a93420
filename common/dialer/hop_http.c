/* HTTP CONNECT (RFC 9110 9.3.6) as one hop, with Basic credentials when the
 * proxy has some. */
#include "common/dialer/hop.h"

#include "common/dialer/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The request and the response header (up to HTTP_HEADER_MAX) live on the heap:
 * the hook runs on the program's thread, whose stack may be 16 KiB. */
int hop_http(struct hop_ctx *h, const struct target *t)
{
    uint8_t *buf = malloc(HTTP_HEADER_MAX);
    struct hop_reply r = {.kind = HOP_HTTP_RESPONSE};
    ssize_t n;
    int err;

    if (!buf) {
        snprintf(h->perr.why, sizeof(h->perr.why), "no memory for the HTTP exchange");
        return ENOMEM;
    }
    n = http_encode_connect(buf, HTTP_HEADER_MAX, t->host, t->sa, t->port,
                            h->p->has_auth ? h->p->username : NULL,
                            h->p->has_auth ? h->p->password : NULL);
    if (n < 0)
        err = EINVAL;
    else if (!(err = hop_write(h, buf, n)))
        err = hop_exchange(h, buf, HTTP_HEADER_MAX, &r);
    explicit_bzero(buf, HTTP_HEADER_MAX); /* the request may carry a password */
    free(buf);
    return err;
}
