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
#include <string.h>

#define MAX_HOPS 16

/* The proxies from the nearest to the one the route chose; *MAKER gets the dialer
 * whose DefaultDialer options shape the TCP connection to the first proxy. */
static int chain_of(const struct conf *c, int last, int *hops, int *maker)
{
    int n = 0, rev[MAX_HOPS];

    for (int i = last; i >= 0; i = c->dialers[i].detour) {
        if (c->dialers[i].type == DIALER_DIRECT || c->dialers[i].type == DIALER_BLOCK) {
            *maker = i;
            goto done;
        }
        if (n == MAX_HOPS)
            return -1;
        rev[n++] = i;
    }
    *maker = rev[n - 1]; /* the first proxy dials its own server */
done:
    for (int k = 0; k < n; k++)
        hops[k] = rev[n - 1 - k];
    return n;
}

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

    getsockopt(d->fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl);
    scratch = sys.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (scratch < 0)
        return errno;
    if ((err = dial_swap(d->fd, scratch, old_family)))
        return err;
    sys.fcntl(d->fd, F_SETFL, sys.fcntl(d->fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* TCP-connect FD (non-blocking by now) to the first proxy, with MAKER's options.
 * An IPv4 socket cannot reach an IPv6 proxy: a scratch socket takes its place. */
static int connect_first(struct dial *d, int maker, const struct conf_dialer *first,
                         long long deadline)
{
    const struct conf *c = d->conf;
    struct sockaddr_storage ss;
    socklen_t len;
    int family = d->sa->sa_family, err;

    if (c->dialers[maker].type == DIALER_BLOCK) {
        dial_refuse(d, "the chain's first hop is a block dialer");
        return ECONNREFUSED;
    }
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
    if (sys.connect(d->fd, (struct sockaddr *)&ss, len) == 0)
        return 0; /* loopback, or TCP Fast Open deferring the SYN to our first write */
    if (errno != EINPROGRESS)
        return errno;
    return io_wait_connected(d->fd, deadline);
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

static int run_chain(struct dial *d, const int *hops, int n, int maker, long long deadline,
                     bool *retry, const struct chain_end *end)
{
    const struct conf *c = d->conf;
    struct hop_ctx h = {.fd = d->fd, .deadline = deadline};
    bool tried_pipelined;
    int err = connect_first(d, maker, &c->dialers[hops[0]], deadline);

    *retry = false;
    if (err) {
        snprintf(d->why, sizeof(d->why), "connecting to %s (%s:%u): %s", c->dialers[hops[0]].name,
                 c->dialers[hops[0]].server.host, c->dialers[hops[0]].server.port, strerror(err));
        return err;
    }
    for (int i = 0; i < n; i++) {
        const struct conf_dialer *next = i + 1 < n ? &c->dialers[hops[i + 1]] : NULL;
        struct target t;

        if (next) {
            t.host = NULL; /* a server is an address (common/support.c refuses names) */
            t.sa = &next->server.addr.u.sa;
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
        memset(&h.perr, 0, sizeof(h.perr));
        tried_pipelined = h.pipelined && h.p->type == DIALER_SOCKS5;
        err = hop_handshake(&h, &t);
        if (!err && h.pipelined && h.p->type == DIALER_SOCKS5 && !h.proven)
            learn_pipelined(hops[i]);
        if (!err && h.chose_userpass)
            learn_userpass(hops[i]);
        if (err) {
            /* Another thread may have learned it meanwhile: this connect still
             * deserves its own lockstep retry. */
            if (tried_pipelined && !h.pipelined && h.p->handshake == HANDSHAKE_AUTO) {
                learn_lockstep(hops[i]);
                *retry = true;
            }
            snprintf(d->why, sizeof(d->why), "%s (%s %s:%u): %s", h.p->name,
                     conf_dialer_type_name(h.p->type), h.p->server.host, h.p->server.port,
                     h.perr.why[0] ? h.perr.why : strerror(err));
            return err;
        }
    }
    return 0;
}

/* One deadline for the whole chain: the chosen dialer's connect_timeout, or,
 * when it sets none, the shortest one set along the chain (what explain shows). */
static uint32_t chain_timeout(const struct conf *c, const int *hops, int n, int maker,
                              uint32_t dflt)
{
    uint32_t t = 0;

    for (int i = 0; i <= n; i++) {
        int k = i < n ? hops[i] : maker;
        uint32_t v = k >= 0 ? c->dialers[k].connect_timeout_ms : 0;
        if (v && (!t || v < t))
            t = v;
    }
    return t ? t : dflt;
}

int detour_dial(struct dial *d, uint32_t timeout_ms)
{
    int hops[MAX_HOPS], maker = -1, flags, err, n;
    long long deadline;
    bool retry;

    n = chain_of(d->conf, d->dialer, hops, &maker);
    if (n > 0 && !d->conf->dialers[d->dialer].connect_timeout_ms)
        timeout_ms = chain_timeout(d->conf, hops, n, maker, timeout_ms);
    deadline = monotime_ms() + timeout_ms;
    if (n <= 0) {
        dial_refuse(d, "detour chain too long");
        return ECONNREFUSED;
    }
    flags = sys.fcntl(d->fd, F_GETFL);
    if (flags < 0)
        return errno;
    if (!(flags & O_NONBLOCK) && sys.fcntl(d->fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return errno;
    err = run_chain(d, hops, n, maker, deadline, &retry, NULL);
    if (err && retry) {
        log_info("%s: pipelined handshake failed (%s); lockstep from now on", d->why,
                 strerror(err));
        d->why[0] = '\0';
        err = renew_socket(d);
        if (!err)
            err = run_chain(d, hops, n, maker, deadline, &retry, NULL);
    }
    sys.fcntl(d->fd, F_SETFL, flags);
    if (err && d->why[0])
        d->warn = true; /* the chain explained its failure: a proxy's error, worth a warning */
    return err;
}

int detour_chain(const struct conf *c, int last, int *hops, int *maker)
{
    return chain_of(c, last, hops, maker);
}

/* The control connection of a SOCKS5 UDP association: a socket of our own (the
 * program's stays a UDP socket), through DIALER's chain, ending in UDP ASSOCIATE. */
int detour_associate(const struct conf *c, int dialer, const struct sockaddr *client,
                     long long deadline, int *ctl, struct proto_addr *bound, char *why,
                     size_t whycap)
{
    int hops[MAX_HOPS], maker = -1, n, err = ECONNREFUSED;
    struct target t = {.sa = client, .port = addr_port(client)};
    struct chain_end end = {.t = &t, .cmd = SOCKS5_CMD_UDP_ASSOCIATE, .bound = bound};
    const struct conf_server *s;

    n = chain_of(c, dialer, hops, &maker);
    if (n <= 0) {
        snprintf(why, whycap, "detour chain too long");
        return ECONNREFUSED;
    }
    s = &c->dialers[hops[0]].server;
    /* Twice at most: `handshake = auto` may learn lockstep on the first try. */
    for (int attempt = 0; attempt < 2; attempt++) {
        struct dial d = {.conf = c,
                         .dialer = dialer,
                         .type = SOCK_STREAM,
                         .sa = &s->addr.u.sa,
                         .len = s->addr.len};
        bool retry = false;

        d.fd = sys.socket(s->addr.u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (d.fd < 0) {
            snprintf(why, whycap, "control socket: %s", strerror(errno));
            return errno;
        }
        err = run_chain(&d, hops, n, maker, deadline, &retry, &end);
        if (!err) {
            *ctl = d.fd;
            return 0;
        }
        sys.close(d.fd);
        snprintf(why, whycap, "%s", dial_why(&d) ? dial_why(&d) : strerror(err));
        if (!retry)
            break;
        log_info("%s: pipelined handshake failed (%s); lockstep from now on", why, strerror(err));
    }
    return err;
}
