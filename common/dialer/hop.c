#include "common/dialer/hop.h"

#include "common/dialer/io.h"

#include <errno.h>
#include <stdio.h>

/* R's parser over the LEN bytes at BUF: > 0 done, 0 more wanted (*NEED), < 0
 * refused (in E). */
static int parse(struct hop_reply *r, const uint8_t *buf, size_t len, size_t *need,
                 struct proto_error *e)
{
    int n;

    switch (r->kind) {
    case HOP_SOCKS5_METHOD:
        n = socks5_parse_method(buf, len, r->userpass, &r->u.method, e);
        *need = r->u.method.need;
        return n;
    case HOP_SOCKS5_AUTH:
        n = socks5_parse_auth_reply(buf, len, &r->u.auth, e);
        *need = r->u.auth.need;
        return n;
    case HOP_SOCKS5_REPLY:
        n = socks5_parse_reply(buf, len, &r->u.socks5, e);
        *need = r->u.socks5.need;
        return n;
    case HOP_SOCKS4_REPLY:
        n = socks4_parse_reply(buf, len, &r->u.socks4, e);
        *need = r->u.socks4.need;
        return n;
    case HOP_HTTP_RESPONSE:
        break;
    }
    n = http_parse_response(buf, len, &r->u.http, e);
    *need = r->u.http.need;
    return n;
}

/* What the proxy says about the target (SOCKS5 REP 2-8, SOCKS4 "rejected or
 * failed", HTTP 502/504) is not the proxy's own failure: a group does not fail
 * over on it (common/dialer/group.h). */
static bool target_failed(const struct hop_reply *r)
{
    switch (r->kind) {
    case HOP_SOCKS5_REPLY:
        return r->u.socks5.rep >= 2 && r->u.socks5.rep <= 8;
    case HOP_SOCKS4_REPLY:
        return r->u.socks4.cd == SOCKS4_CD_REJECTED;
    case HOP_HTTP_RESPONSE:
        return r->u.http.status == 502 || r->u.http.status == 504;
    default:
        return false;
    }
}

int hop_exchange(struct hop_ctx *h, uint8_t *buf, size_t cap, struct hop_reply *r)
{
    size_t have = 0, need = 1;

    for (;;) {
        int n = parse(r, buf, have, &need, &h->perr);
        if (n > 0)
            return 0;
        if (n < 0) {
            h->dest_failed = target_failed(r);
            return h->perr.errnum ? h->perr.errnum : ECONNREFUSED;
        }
        if (need <= have)
            need = have + 1;
        if (need > cap) {
            snprintf(h->perr.why, sizeof(h->perr.why), "reply longer than %zu bytes", cap);
            return ECONNREFUSED;
        }
        int err = io_read_to(h->fd, buf, &have, need, h->deadline, h->watched);
        if (err == ECONNRESET && have == 0)
            snprintf(h->perr.why, sizeof(h->perr.why), "the proxy closed the connection");
        else if (err == ECONNRESET)
            snprintf(h->perr.why, sizeof(h->perr.why),
                     "the proxy closed the connection after %zu bytes of its reply", have);
        else if (err == ETIMEDOUT)
            snprintf(h->perr.why, sizeof(h->perr.why), "the proxy did not answer in time");
        if (err)
            return err;
    }
}

int hop_handshake(struct hop_ctx *h, const struct target *t)
{
    switch (h->p->type) {
    case DIALER_SOCKS5:
        return hop_socks5(h, t);
    case DIALER_SOCKS4:
        return hop_socks4(h, t);
    case DIALER_HTTP:
        return hop_http(h, t);
    default:
        return EINVAL;
    }
}

int hop_write(struct hop_ctx *h, const uint8_t *buf, size_t n)
{
    int err = io_write_all(h->fd, buf, n, h->deadline);

    if (!err)
        h->wrote = true;
    return err;
}
