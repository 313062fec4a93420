/* DetourDialer: reach the destination through a chain of SOCKS5, SOCKS4a and HTTP
 * CONNECT proxies, on the program's own descriptor, inside connect.
 *
 * The chain is walked from the hop nearest to us: the first proxy is dialed with
 * the DefaultDialer options of the dialer that makes that hop
 * (common/dialer/firsthop.c), each proxy is asked
 * for the next one's server (common/dialer/hop_*.c, one file a protocol), the last
 * for the destination. One deadline (connect_timeout of the dialer the route
 * chose) bounds everything. Failure is final: there is never a direct connection
 * instead. */
#include "common/dialer/dialer.h"

#include "common/addr.h"
#include "common/dialer/firsthop.h"
#include "common/dialer/group.h"
#include "common/dialer/hop.h"
#include "common/dialer/io.h"
#include "common/dialer/learn.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the last hop is asked for when it is not a CONNECT to D's destination. */
struct chain_end {
    const struct target *t; /* the last hop's target (for UDP ASSOCIATE: the client) */
    uint8_t cmd;
    struct proto_addr *bound; /* out: the last reply's BND.ADDR */
};

/* The hop whose proxy is at fault when hop I failed with H's outcome, or -1: the
 * target the last proxy reported on is the destination's business, a target the
 * others reported on is the next proxy. */
static int fault_of(const struct hop_ctx *h, int i, int n, int err)
{
    if (err == EINVAL || err == ENOMEM)
        return -1; /* ours: a request we could not encode */
    if (!h->dest_failed)
        return i;
    return i + 1 < n ? i + 1 : -1;
}

/* CH's proxies one after the other. *FAULT: the hop whose proxy failed, or -1.
 * *SLOT: the watchdog's, when it bounds the blocking calls (run_chain disarms
 * it); *AT: the hop under way (-1: the connection to the first). */
static int run_hops(struct dial *d, const struct chain *ch, long long deadline, bool *retry,
                    const struct chain_end *end, int *fault, int *slot, int *at)
{
    const struct conf *c = d->conf;
    const int *hops = ch->hops, n = ch->n, maker = ch->maker;
    struct hop_ctx h = {.fd = d->fd, .deadline = deadline};
    bool tried_pipelined, proxy_fault = false, in_flight = false;
    int err = firsthop_connect(d, maker, hops[0], deadline, &proxy_fault, &in_flight, slot);

    *retry = false;
    *fault = err && proxy_fault && !dial_abandoned(d) ? 0 : -1;
    learn_load(c);
    if (err)
        return firsthop_failed(d, hops[0], err);
    for (int i = 0; i < n; i++) {
        const struct conf_dialer *next = i + 1 < n ? &c->dialers[hops[i + 1]] : NULL;
        struct target t;

        if (next) {
            /* A server given by name: the proxy before it resolves it. */
            t.host = next->server.addr.len ? NULL : next->server.host;
            t.sa = next->server.addr.len ? &next->server.addr.u.sa : NULL;
            t.port = next->server.port;
        } else if (end) {
            t = *end->t;
        } else {
            t.host = d->host;
            t.sa = d->host ? NULL : d->sa;
            t.port = addr_port(d->sa);
        }
        h.cmd = !next && end ? end->cmd : 0;
        h.bound = !next && end ? end->bound : NULL;
        h.p = &c->dialers[hops[i]];
        h.fd = d->fd;
        h.pipelined = learn_may_pipeline(h.p, hops[i]);
        h.chose_userpass = false;
        h.proven = learn_proven(hops[i]);
        h.dest_failed = false;
        h.wrote = false;
        h.watched = *slot >= 0 && !in_flight;
        *at = i;
        memset(&h.perr, 0, sizeof(h.perr));
        tried_pipelined = h.pipelined && h.p->type == DIALER_SOCKS5;
        err = hop_handshake(&h, &t);
        if (!err && h.pipelined && h.p->type == DIALER_SOCKS5 && !h.proven)
            learn_pipelined(c, hops[i]);
        if (!err && h.chose_userpass)
            learn_userpass(c, hops[i]);
        if (err && i == 0 && in_flight && !h.wrote) {
            /* The connection to the first proxy was never made. */
            *fault = dial_abandoned(d) ? -1 : 0;
            return firsthop_failed(d, hops[0], err);
        }
        if (err) {
            /* Another thread may have learned it meanwhile: this connect still
             * deserves its own lockstep retry. Not a dial the program gave up
             * on: its socket was pulled from under the handshake, which says
             * nothing of what the proxy can do, and nobody waits for a retry. */
            if (tried_pipelined && !h.pipelined && h.p->handshake == HANDSHAKE_AUTO &&
                !dial_abandoned(d)) {
                learn_lockstep(c, hops[i]);
                *retry = true;
            }
            *fault = dial_abandoned(d) ? -1 : fault_of(&h, i, n, err); /* no member to mark down */
            snprintf(d->why, sizeof(d->why), "%s (%s %s:%u): %s", h.p->name,
                     conf_dialer_type_name(h.p->type), h.p->server.host, h.p->server.port,
                     h.perr.why[0] ? h.perr.why : strerror(err));
            return err;
        }
    }
    return 0;
}

/* run_hops, and the end of the watchdog's watch: a dial it shut down at the
 * deadline timed out, whatever the call it ended said; the program's socket
 * starts afresh (as after any failed connect). */
static int run_chain(struct dial *d, const struct chain *ch, long long deadline, bool *retry,
                     const struct chain_end *end, int *fault)
{
    int slot = -1, at = -1, err = run_hops(d, ch, deadline, retry, end, fault, &slot, &at);
    const struct conf_dialer *p;

    if (slot < 0 || !io_unwatch(d->fd, slot))
        return err;
    *retry = false;
    *fault = at < 0 ? 0 : at;
    d->why[0] = '\0';
    if (at < 0)
        return firsthop_failed(d, ch->hops[0], ETIMEDOUT);
    p = &d->conf->dialers[ch->hops[at]];
    snprintf(d->why, sizeof(d->why), "%s (%s %s:%u): the proxy did not answer in time", p->name,
             conf_dialer_type_name(p->type), p->server.host, p->server.port);
    return ETIMEDOUT;
}

/* The shortest connect_timeout set along CH (what explain shows), or DFLT. */
static uint32_t chain_timeout(const struct conf *c, const struct chain *ch, uint32_t dflt)
{
    uint32_t t = 0;

    for (int i = 0; i <= ch->n; i++) {
        int k = i < ch->n ? ch->hops[i] : ch->maker;
        uint32_t v = k >= 0 ? c->dialers[k].connect_timeout_ms : 0;
        if (v && (!t || v < t))
            t = v;
    }
    return t ? t : dflt;
}

/* One try of CH on D's socket, with the lockstep retries `handshake = auto` may
 * ask for (one per hop at most). The deadline: the chosen dialer's connect_timeout bounds the whole
 * connect (DEADLINE); when it sets none, the shortest one along this chain. */
static int try_chain(struct dial *d, const struct chain *ch, long long deadline, int *fault)
{
    long long until = deadline;
    bool retry;
    int err;

    if (!d->conf->dialers[d->dialer].connect_timeout_ms ||
        d->conf->dialers[d->dialer].type == DIALER_GROUP) {
        uint32_t t = chain_timeout(d->conf, ch, 0);
        if (t && monotime_ms() + t < until)
            until = monotime_ms() + t;
    }
    err = run_chain(d, ch, until, &retry, NULL, fault);
    /* Each retry teaches one hop: the next proxy that cannot pipeline is only
     * reached once the ones before it talk lockstep. */
    for (int i = 0; err && retry && i < ch->n; i++) {
        log_info("%s: pipelined handshake failed (%s); lockstep from now on", d->why,
                 strerror(err));
        d->why[0] = '\0';
        if ((err = firsthop_renew(d)))
            break;
        err = run_chain(d, ch, until, &retry, NULL, fault);
    }
    return err;
}

/* The chain leads to a direct or block dialer only (a group's direct member). */
static int dial_maker(struct dial *d, int maker, uint32_t timeout_ms)
{
    int saved = d->dialer, err;

    d->dialer = maker;
    if (d->conf->dialers[maker].type == DIALER_BLOCK) {
        dial_refuse(d, "blocked");
        err = ECONNREFUSED;
    } else {
        err = default_dial(d, timeout_ms);
    }
    d->dialer = saved;
    return err;
}

/* Before the next member: a fresh start on the program's socket, and a fresh
 * socket when the next member's first connection takes other options. */
static int next_member(struct dial *d, int old_maker, const struct chain *ch)
{
    int err = firsthop_renew(d);

    if (!err && d->applied && ch->maker != old_maker) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int family =
            sys.getsockname(d->fd, (struct sockaddr *)&ss, &len) == 0 ? ss.ss_family : AF_INET;
        if (!(err = firsthop_swap(d, family, family)))
            d->applied = false;
    }
    d->why[0] = '\0';
    d->warn = false;
    return err;
}

int detour_dial(struct dial *d, uint32_t timeout_ms)
{
    long long deadline = monotime_ms() + timeout_ms;
    struct tried tried = {0};
    struct chain ch;
    int err = ECONNREFUSED, fault, n, maker = -1;

    n = chain_resolve(d->conf, d->dialer, &ch, &tried);
    if (n == 0)
        return dial_maker(d, ch.maker, timeout_ms);
    if (n < 0) {
        dial_refuse(d, n == -1 ? "detour chain too long" : "no member of the group to try");
        return ECONNREFUSED;
    }
    if (!d->conf->dialers[d->dialer].connect_timeout_ms && !ch.n_picks)
        deadline = monotime_ms() + chain_timeout(d->conf, &ch, timeout_ms);
    /* The socket is made non-blocking only where the dial needs it to be (a
     * connect without the watchdog, a race, a new socket): the handshakes' reads
     * and writes never wait in the kernel (common/dialer/io.h). */
    for (int attempt = 0; attempt < CHAIN_MAX && n > 0; attempt++) {
        if (attempt && (err = next_member(d, maker, &ch)))
            break;
        maker = ch.maker;
        err = try_chain(d, &ch, deadline, &fault);
        if (!err || !group_blame(d->conf, &ch, fault, &tried) || monotime_ms() >= deadline)
            break;
        log_info("%s; trying the next member", dial_why(d));
        n = chain_resolve(d->conf, d->dialer, &ch, &tried);
    }
    if (d->fl_changed && sys.fcntl(d->fd, F_SETFL, d->fl) == 0)
        d->fl_changed = false;
    if (err && d->why[0])
        d->warn = true; /* the chain explained its failure: a proxy's error, worth a warning */
    return err;
}

int detour_chain(const struct conf *c, int last, int *hops, int *maker)
{
    struct chain ch;
    int n = chain_resolve(c, last, &ch, NULL);

    if (n < 0)
        return -1;
    memcpy(hops, ch.hops, sizeof(int) * (size_t)n);
    *maker = ch.maker;
    return n;
}

/* The control connection of a SOCKS5 UDP association: a socket of our own (the
 * program's stays a UDP socket), through DIALER's chain, ending in UDP ASSOCIATE.
 * A group on the way fails over as for a connect. */
int detour_associate(const struct conf *c, int dialer, const struct sockaddr *client,
                     long long deadline, int *ctl, struct proto_addr *bound, char *why,
                     size_t whycap)
{
    struct target t = {.sa = client, .port = addr_port(client)};
    struct chain_end end = {.t = &t, .cmd = SOCKS5_CMD_UDP_ASSOCIATE, .bound = bound};
    struct tried tried = {0};
    struct chain ch;
    int n = chain_resolve(c, dialer, &ch, &tried), err = ECONNREFUSED, fault;

    if (n <= 0) {
        snprintf(why, whycap, n == -2 ? "no member of the group to try" : "detour chain too long");
        return ECONNREFUSED;
    }
    /* A lockstep retry (`handshake = auto`) or the next member of a group. */
    for (int attempt = 0; attempt < CHAIN_MAX && n > 0; attempt++) {
        const struct conf_server *s = &c->dialers[ch.hops[0]].server;
        /* A server given by name: an IPv4 socket, swapped when an IPv6 address wins. */
        static const struct sockaddr_in by_name = {.sin_family = AF_INET};
        struct dial d = {.conf = c,
                         .dialer = dialer,
                         .type = SOCK_STREAM,
                         .sa = s->addr.len ? &s->addr.u.sa : (const struct sockaddr *)&by_name,
                         .len = s->addr.len ? s->addr.len : sizeof(by_name),
                         .fl_known = true,
                         .fl = O_RDWR | O_NONBLOCK};
        bool retry = false;

        d.fd = sys.socket(d.sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (d.fd < 0) {
            snprintf(why, whycap, "control socket: %s", strerror(errno));
            return errno;
        }
        err = run_chain(&d, &ch, deadline, &retry, &end, &fault);
        if (!err) {
            *ctl = d.fd;
            return 0;
        }
        sys.close(d.fd);
        snprintf(why, whycap, "%s", dial_why(&d) ? dial_why(&d) : strerror(err));
        if (retry) {
            log_info("%s: pipelined handshake failed (%s); lockstep from now on", why,
                     strerror(err));
            continue;
        }
        if (!group_blame(c, &ch, fault, &tried) || monotime_ms() >= deadline)
            break;
        log_info("%s; trying the next member", why);
        n = chain_resolve(c, dialer, &ch, &tried);
    }
    return err;
}
