/* SOCKS5 (RFC 1928, RFC 1929) as one hop: lockstep (a message, its reply, the
 * next), or pipelined (greeting, credentials and request in one write; one round
 * trip), as `handshake` and what common/dialer/learn.c learned choose. */
#include "common/dialer/hop.h"

#include "common/dialer/io.h"
#include "common/isolate.h"
#include "common/monotime.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int lockstep(struct hop_ctx *h, const struct target *t)
{
    uint8_t buf[SOCKS5_PIPELINED_MAX];
    struct hop_reply r = {.kind = HOP_SOCKS5_METHOD, .userpass = h->p->has_auth};
    ssize_t n = socks5_encode_greeting(buf, sizeof(buf), r.userpass);
    int err;

    if ((err = hop_write(h, buf, n)) || (err = hop_exchange(h, buf, sizeof(buf), &r)))
        return err;
    if (r.u.method.method == SOCKS5_METHOD_USERPASS) {
        char ubuf[CONF_CRED_MAX];
        const char *user, *pass;
        isolate_credentials(h->p, ubuf, sizeof(ubuf), &user, &pass);
        h->chose_userpass = true;
        n = socks5_encode_auth(buf, sizeof(buf), user ? user : "", pass ? pass : "");
        if (n < 0)
            return EINVAL;
        r.kind = HOP_SOCKS5_AUTH;
        if ((err = hop_write(h, buf, n)) || (err = hop_exchange(h, buf, sizeof(buf), &r)))
            return err;
    }
    n = socks5_encode_request(buf, sizeof(buf), h->cmd ? h->cmd : SOCKS5_CMD_CONNECT, t->host,
                              t->sa, t->port);
    if (n < 0)
        return EINVAL;
    r.kind = HOP_SOCKS5_REPLY;
    if ((err = hop_write(h, buf, n)) || (err = hop_exchange(h, buf, sizeof(buf), &r)))
        return err;
    if (h->bound)
        *h->bound = r.u.socks5.bound;
    return 0;
}

/* Under `handshake = auto`, a proxy that has never completed a pipelined
 * handshake gets this long for its CONNECT reply once the method reply is in:
 * microsocks 1.0.3 answers the greeting and silently drops the request that
 * came in the same segment, so waiting the whole connect_timeout would be a hang. */
static long long probe_deadline(const struct hop_ctx *h, long long sent)
{
    long long now = monotime_ms(), probe = now + 1000 + 4 * (now - sent);

    return probe < h->deadline ? probe : h->deadline;
}

static int pipelined(struct hop_ctx *h, const struct target *t)
{
    uint8_t buf[SOCKS5_PIPELINED_MAX];
    bool auth = h->p->has_auth, probing = h->p->handshake == HANDSHAKE_AUTO && !h->proven;
    struct socks5_pipelined_reply rep;
    char ubuf[CONF_CRED_MAX];
    const char *user, *pass;
    ssize_t n;

    isolate_credentials(h->p, ubuf, sizeof(ubuf), &user, &pass);
    n = socks5_encode_pipelined(buf, sizeof(buf), auth ? user : NULL, auth ? pass : NULL,
                                h->cmd ? h->cmd : SOCKS5_CMD_CONNECT, t->host, t->sa, t->port);
    size_t have = 0;
    long long sent = monotime_ms(), until = 0;
    int err, r;

    if (n < 0)
        return EINVAL;
    memset(&rep, 0, sizeof(rep));
    if ((err = hop_write(h, buf, n)))
        return err;
    for (;;) {
        r = socks5_parse_pipelined(buf, have, auth, &rep, &h->perr);
        if (r > 0) {
            if (h->bound)
                *h->bound = rep.reply.bound;
            return 0;
        }
        if (r < 0) {
            /* microsocks and kin: one message per read, the rest lost. */
            if (rep.stage == SOCKS5_STAGE_REPLY && rep.reply.rep == SOCKS5_REP_GENERAL)
                h->pipelined = false;
            h->dest_failed =
                rep.stage == SOCKS5_STAGE_REPLY && rep.reply.rep >= 2 && rep.reply.rep <= 8;
            return h->perr.errnum ? h->perr.errnum : ECONNREFUSED;
        }
        if (probing && !until && rep.stage >= SOCKS5_STAGE_AUTH)
            until = probe_deadline(h, sent);
        /* the probe's shorter wait is a poll's: the watchdog knows only the deadline */
        err = io_read_to(h->fd, buf, &have, rep.need > have ? rep.need : have + 1,
                         until ? until : h->deadline, !until && h->watched);
        if (err == ETIMEDOUT && until && until < h->deadline) {
            snprintf(h->perr.why, sizeof(h->perr.why),
                     "no reply to a pipelined CONNECT after the method reply");
            h->pipelined = false;
            return err;
        }
        if (err == ECONNRESET || err == EPIPE)
            h->pipelined = false;
        if (err) {
            snprintf(h->perr.why, sizeof(h->perr.why), "%s during the handshake",
                     err == ECONNRESET  ? "the proxy closed the connection"
                     : err == ETIMEDOUT ? "no answer in time"
                                        : strerror(err));
            return err;
        }
    }
}

int hop_socks5(struct hop_ctx *h, const struct target *t)
{
    return h->pipelined ? pipelined(h, t) : lockstep(h, t);
}
