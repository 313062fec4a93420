/* DetourDialer: reach the destination through a chain of SOCKS5, SOCKS4a and HTTP
 * CONNECT proxies, on the program's own descriptor, inside connect.
 *
 * The chain is walked from the hop nearest to us: the first proxy is dialed with
 * the DefaultDialer options of the dialer that makes that hop, each proxy is asked
 * for the next one's server (common/dialer/hop_*.c, one file a protocol), the last
 * for the destination. One deadline (connect_timeout of the dialer the route
 * chose) bounds everything. Failure is final: there is never a direct connection
 * instead. */
#include "common/dialer/dialer.h"

#include "common/addr.h"
#include "common/dialer/group.h"
#include "common/dialer/hop.h"
#include "common/dialer/io.h"
#include "common/dialer/learn.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/sockopt.h"
#include "common/sys.h"
#include "common/v4mapped.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first proxy's address as a sockaddr the program's socket family can use:
 * an IPv4 proxy from an IPv6 socket goes by its IPv4-mapped form. */
static bool server_addr_for(int family, const struct conf_server *s, struct sockaddr_storage *out,
                            socklen_t *len)
{
    const struct sockaddr *sa = &s->addr.u.sa;

    if (sa->sa_family == family) {
        memcpy(out, sa, s->addr.len);
        *len = s->addr.len;
        return true;
    }
    if (family == AF_INET6 && sa->sa_family == AF_INET) {
        v4mapped_sockaddr((struct sockaddr_in6 *)out, &s->addr.u.in4.sin_addr,
                          s->addr.u.in4.sin_port);
        *len = sizeof(struct sockaddr_in6);
        return true;
    }
    return false;
}

/* A new non-blocking TCP socket of FAMILY, of the program's protocol, takes D's
 * descriptor (a socket of OLD_FAMILY). 0 or errno. */
static int swap_fresh(struct dial *d, int family, int old_family)
{
    int proto = 0, scratch, err;
    socklen_t pl = sizeof(proto);

    sys.getsockopt(d->fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl);
    scratch = sys.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (scratch < 0)
        return errno;
    if ((err = dial_swap(d->fd, scratch, old_family)))
        return err;
    sys.fcntl(d->fd, F_SETFL, sys.fcntl(d->fd, F_GETFL) | O_NONBLOCK);
    d->fl_known = false; /* another socket now */
    return 0;
}

/* The first proxy given by name: its addresses from its own domain_resolver
 * (real ones, never fake; the resolver's TTL cache), raced Happy Eyeballs style
 * with MAKER's options. A name that does not resolve is the proxy's failure. */
static int connect_by_name(struct dial *d, int maker, int first, long long deadline,
                           bool *proxy_fault)
{
    const struct conf_dialer *p = &d->conf->dialers[first];
    struct dns_addr *addrs = malloc(CHAIN_MAX * sizeof(*addrs));
    long long left = deadline - monotime_ms();
    int n, saved = d->dialer, err;
    char why[160];

    if (!addrs) {
        dial_refuse(d, "no memory for the proxy's addresses");
        return ENOMEM;
    }
    *proxy_fault = true;
    n = resolve_name(d->conf, first, p->server.host, addrs, CHAIN_MAX, true, why, sizeof(why));
    if (n < 0) {
        snprintf(d->why, sizeof(d->why), "%s", why);
        free(addrs);
        return -n;
    }
    d->dialer = maker;
    err = happy_dial(d, addrs, n, p->server.port, left > 0 ? (uint32_t)left : 1);
    d->dialer = saved;
    free(addrs);
    return err;
}

/* TCP-connect FD (non-blocking by now) to the first proxy, FIRST, with MAKER's
 * options. An IPv4 socket cannot reach an IPv6 proxy: a scratch socket takes its
 * place. *PROXY_FAULT: the failure is the proxy's (refused, unreachable, no answer). */
static int connect_first(struct dial *d, int maker, int first_i, long long deadline,
                         bool *proxy_fault, bool *in_flight)
{
    const struct conf *c = d->conf;
    const struct conf_dialer *first = &c->dialers[first_i];
    struct sockaddr_storage ss;
    socklen_t len;
    int family = d->sa->sa_family, err;

    if (c->dialers[maker].type == DIALER_BLOCK) {
        dial_refuse(d, "the chain's first hop is a block dialer");
        return ECONNREFUSED;
    }
    if (!first->server.addr.len)
        return connect_by_name(d, maker, first_i, deadline, proxy_fault);
    if (!server_addr_for(family, &first->server, &ss, &len)) {
        if ((err = swap_fresh(d, first->server.addr.u.sa.sa_family, family)))
            return err;
        if (first->server.addr.u.sa.sa_family != family)
            d->swapped_family = first->server.addr.u.sa.sa_family;
        family = first->server.addr.u.sa.sa_family;
        server_addr_for(family, &first->server, &ss, &len);
    }
    if (!d->applied) {
        const char *opt = NULL;

        if ((err = sockopt_apply(&c->dialers[maker], d->fd, family, SOCK_STREAM, &opt))) {
            dial_refuse(d, opt);
            return err;
        }
        d->applied = true;
    }
    *proxy_fault = true;
    if (sys.connect(d->fd, (struct sockaddr *)&ss, len) == 0)
        return 0; /* loopback, or TCP Fast Open deferring the SYN to our first write */
    if (errno != EINPROGRESS)
        return errno;
    /* The first hop's first message waits for the connection (its send gets
     * EAGAIN until then, or the connect's error): a poll saved on a proxy on
     * loopback, whose connection is made before connect returns. */
    *in_flight = true;
    return 0;
}

/* A fresh socket like the program's, swapped in, for a lockstep retry. */
static int renew_socket(struct dial *d)
{
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    int family = AF_INET, err;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    /* Disconnecting keeps the program's socket: its bound address and port, its
     * options and its epoll registration. Only if the kernel refuses does a
     * fresh socket take its place. */
    if (sys.connect(d->fd, &unspec, sizeof(unspec)) == 0)
        return 0;
    if (sys.getsockname(d->fd, (struct sockaddr *)&ss, &len) == 0)
        family = ss.ss_family;
    if ((err = swap_fresh(d, family, family)))
        return err;
    d->applied = false;
    return 0;
}

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

/* The connection to the chain's first proxy (dialer FIRST) failed with ERR: D's
 * reason says so. Returns ERR. */
static int connect_failed(struct dial *d, int first, int err)
{
    const struct conf_dialer *p = &d->conf->dialers[first];
    char was[200];

    snprintf(was, sizeof(was), "%.190s", d->why[0] ? d->why : strerror(err));
    snprintf(d->why, sizeof(d->why), "connecting to %s (%s:%u): %s", p->name, p->server.host,
             p->server.port, was);
    return err;
}

/* CH's proxies one after the other. *FAULT: the hop whose proxy failed, or -1. */
static int run_chain(struct dial *d, const struct chain *ch, long long deadline, bool *retry,
                     const struct chain_end *end, int *fault)
{
    const struct conf *c = d->conf;
    const int *hops = ch->hops, n = ch->n, maker = ch->maker;
    struct hop_ctx h = {.fd = d->fd, .deadline = deadline};
    bool tried_pipelined, proxy_fault = false, in_flight = false;
    int err = connect_first(d, maker, hops[0], deadline, &proxy_fault, &in_flight);

    *retry = false;
    *fault = err && proxy_fault && !dial_abandoned(d) ? 0 : -1;
    learn_load(c);
    if (err)
        return connect_failed(d, hops[0], err);
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
            return connect_failed(d, hops[0], err);
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
        if ((err = renew_socket(d)))
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
    int err = renew_socket(d);

    if (!err && d->applied && ch->maker != old_maker) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int family =
            sys.getsockname(d->fd, (struct sockaddr *)&ss, &len) == 0 ? ss.ss_family : AF_INET;
        if (!(err = swap_fresh(d, family, family)))
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
    int flags, err = ECONNREFUSED, fault, n, maker = -1;

    n = chain_resolve(d->conf, d->dialer, &ch, &tried);
    if (n == 0)
        return dial_maker(d, ch.maker, timeout_ms);
    if (n < 0) {
        dial_refuse(d, n == -1 ? "detour chain too long" : "no member of the group to try");
        return ECONNREFUSED;
    }
    if (!d->conf->dialers[d->dialer].connect_timeout_ms && !ch.n_picks)
        deadline = monotime_ms() + chain_timeout(d->conf, &ch, timeout_ms);
    flags = dial_flags(d);
    if (flags < 0)
        return errno;
    if (!(flags & O_NONBLOCK) && sys.fcntl(d->fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return errno;
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
    sys.fcntl(d->fd, F_SETFL, flags);
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
                         .len = s->addr.len ? s->addr.len : sizeof(by_name)};
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
