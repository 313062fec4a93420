/* DetourDialer: reach the destination through a chain of SOCKS5, SOCKS4a and HTTP
 * CONNECT proxies, on the program's own descriptor, inside connect.
 *
 * The chain is walked from the hop nearest to us: the first proxy is dialed with
 * the DefaultDialer options of the dialer that makes that hop, each proxy is asked
 * for the next one's server, the last for the destination. One deadline
 * (connect_timeout of the dialer the route chose) bounds everything. Failure is
 * final: there is never a direct connection instead. */
#include "common/dialer/dialer.h"

#include "common/addr.h"
#include "common/log.h"
#include "common/nobss.h"
#include "common/proto/http.h"
#include "common/proto/socks4.h"
#include "common/proto/socks5.h"
#include "common/sockopt.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HOPS 16

/* What `handshake = auto` learned of each proxy, for the life of the process:
 * LEARN_LOCKSTEP after a failed pipelined handshake, LEARN_PIPELINED after a
 * good one; LEARN_USERPASS (a flag beside either) once it chose username/password
 * in a method reply, the only proxy that may get credentials before it chose.
 * Indexed by dialer; read without a lock. */
enum { LEARN_NOTHING, LEARN_LOCKSTEP, LEARN_PIPELINED, LEARN_MODE = 3, LEARN_USERPASS = 4 };
static uint8_t learned_mode[DETOUR_LEARN_MAX] NOBSS;

static int learned_bits(int dialer)
{
    return dialer < DETOUR_LEARN_MAX ? __atomic_load_n(&learned_mode[dialer], __ATOMIC_RELAXED)
                                     : LEARN_NOTHING;
}

static int learned_of(int dialer)
{
    return learned_bits(dialer) & LEARN_MODE;
}

static bool learned(int dialer)
{
    return learned_of(dialer) == LEARN_LOCKSTEP;
}

static void learn_as(int dialer, int mode)
{
    uint8_t old;

    if (dialer >= DETOUR_LEARN_MAX)
        return;
    old = __atomic_load_n(&learned_mode[dialer], __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&learned_mode[dialer], &old,
                                        (uint8_t)((old & LEARN_USERPASS) | mode), true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void learn_userpass(int dialer)
{
    if (dialer < DETOUR_LEARN_MAX)
        __atomic_fetch_or(&learned_mode[dialer], LEARN_USERPASS, __ATOMIC_RELAXED);
}

/* Under `handshake = auto`, credentials wait for the method reply until this
 * proxy has chosen username/password once: a proxy that picks "no auth" or none
 * of our methods never sees them. */
static bool may_pipeline(const struct conf_dialer *p, int dialer)
{
    if (p->handshake == HANDSHAKE_PIPELINED)
        return true;
    if (p->handshake != HANDSHAKE_AUTO || learned(dialer))
        return false;
    return !(p->type == DIALER_SOCKS5 && p->has_auth) || (learned_bits(dialer) & LEARN_USERPASS);
}

/* Wait for EVENTS on FD until DEADLINE; 0, ETIMEDOUT or an errno. */
static int wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        long long left = deadline - dial_now_ms();
        int r;
        if (left <= 0)
            return ETIMEDOUT;
        r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r == 0)
            return ETIMEDOUT;
        if (errno != EINTR)
            return errno;
    }
}

static int write_all(int fd, const uint8_t *buf, size_t n, long long deadline)
{
    while (n > 0) {
        ssize_t w = sys.sendto(fd, buf, n, MSG_NOSIGNAL, NULL, 0);
        if (w > 0) {
            buf += w;
            n -= w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return errno;
        int err = wait_fd(fd, POLLOUT, deadline);
        if (err)
            return err;
    }
    return 0;
}

/* Read until the buffer holds WANT bytes, never more: bytes after a reply belong
 * to the program. Returns 0, ETIMEDOUT, an errno, or ECONNRESET on EOF. */
static int read_to(int fd, uint8_t *buf, size_t *have, size_t want, long long deadline)
{
    while (*have < want) {
        ssize_t r = sys.recv(fd, buf + *have, want - *have, 0);
        if (r > 0) {
            *have += r;
            continue;
        }
        if (r == 0)
            return ECONNRESET;
        if (errno != EAGAIN && errno != EINTR)
            return errno;
        int err = wait_fd(fd, POLLIN, deadline);
        if (err)
            return err;
    }
    return 0;
}

/* Where one hop must take us: the next proxy's server, or the destination. */
struct target {
    const char *host; /* a name for the proxy to resolve, or NULL */
    const struct sockaddr *sa;
    uint16_t port;
};

struct hop_ctx {
    struct dial *d;
    const struct conf_dialer *p; /* the proxy we are talking to */
    int fd;
    long long deadline;
    struct proto_error perr;
    bool pipelined;
    bool proven;              /* this proxy completed a pipelined handshake before */
    bool chose_userpass;      /* lockstep: its method reply chose username/password */
    uint8_t cmd;              /* SOCKS5 command for this hop; 0 is CONNECT */
    struct proto_addr *bound; /* SOCKS5: where the reply's BND.ADDR goes, or NULL */
};

/* Parse-and-read loop: PARSE returns > 0 (done, its length), 0 (need more:
 * *need set), < 0 (error in perr). Reads exactly what is needed. */
typedef int (*parse_fn)(const uint8_t *buf, size_t len, void *out, size_t *need,
                        struct proto_error *err, const void *arg);

static int exchange(struct hop_ctx *h, uint8_t *buf, size_t cap, parse_fn parse, void *out,
                    const void *arg)
{
    size_t have = 0, need = 1;

    for (;;) {
        int r = parse(buf, have, out, &need, &h->perr, arg);
        if (r > 0)
            return 0;
        if (r < 0)
            return h->perr.errnum ? h->perr.errnum : ECONNREFUSED;
        if (need <= have)
            need = have + 1;
        if (need > cap) {
            snprintf(h->perr.why, sizeof(h->perr.why), "reply longer than %zu bytes", cap);
            return ECONNREFUSED;
        }
        int err = read_to(h->fd, buf, &have, need, h->deadline);
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

static int p5_method(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                     const void *arg)
{
    struct socks5_method_reply *m = o;
    int r = socks5_parse_method(b, n, *(const bool *)arg, m, e);
    *need = m->need;
    return r;
}

static int p5_auth(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                   const void *arg)
{
    struct socks5_auth_reply *a = o;
    int r = socks5_parse_auth_reply(b, n, a, e);
    (void)arg;
    *need = a->need;
    return r;
}

static int p5_reply(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                    const void *arg)
{
    struct socks5_reply *rep = o;
    int r = socks5_parse_reply(b, n, rep, e);
    (void)arg;
    *need = rep->need;
    return r;
}

static int p4_reply(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                    const void *arg)
{
    struct socks4_reply *rep = o;
    int r = socks4_parse_reply(b, n, rep, e);
    (void)arg;
    *need = rep->need;
    return r;
}

static int ph_response(const uint8_t *b, size_t n, void *o, size_t *need, struct proto_error *e,
                       const void *arg)
{
    struct http_response *rep = o;
    int r = http_parse_response(b, n, rep, e);
    (void)arg;
    *need = rep->need;
    return r;
}

static int socks5_lockstep(struct hop_ctx *h, const struct target *t)
{
    uint8_t buf[SOCKS5_PIPELINED_MAX];
    bool auth = h->p->has_auth;
    struct socks5_method_reply m;
    struct socks5_auth_reply a;
    struct socks5_reply rep;
    ssize_t n = socks5_encode_greeting(buf, sizeof(buf), auth);
    int err;

    if ((err = write_all(h->fd, buf, n, h->deadline)) ||
        (err = exchange(h, buf, sizeof(buf), p5_method, &m, &auth)))
        return err;
    if (m.method == SOCKS5_METHOD_USERPASS) {
        h->chose_userpass = true;
        n = socks5_encode_auth(buf, sizeof(buf), h->p->username, h->p->password);
        if (n < 0)
            return EINVAL;
        if ((err = write_all(h->fd, buf, n, h->deadline)) ||
            (err = exchange(h, buf, sizeof(buf), p5_auth, &a, NULL)))
            return err;
    }
    n = socks5_encode_request(buf, sizeof(buf), h->cmd ? h->cmd : SOCKS5_CMD_CONNECT, t->host,
                              t->sa, t->port);
    if (n < 0)
        return EINVAL;
    if ((err = write_all(h->fd, buf, n, h->deadline)) ||
        (err = exchange(h, buf, sizeof(buf), p5_reply, &rep, NULL)))
        return err;
    if (h->bound)
        *h->bound = rep.bound;
    return 0;
}

/* Under `handshake = auto`, a proxy that has never completed a pipelined
 * handshake gets this long for its CONNECT reply once the method reply is in:
 * microsocks 1.0.3 answers the greeting and silently drops the request that
 * came in the same segment, so waiting the whole connect_timeout would be a hang. */
static long long probe_deadline(const struct hop_ctx *h, long long sent)
{
    long long now = dial_now_ms(), probe = now + 1000 + 4 * (now - sent);

    return probe < h->deadline ? probe : h->deadline;
}

static int socks5_pipelined(struct hop_ctx *h, const struct target *t)
{
    uint8_t buf[SOCKS5_PIPELINED_MAX];
    bool auth = h->p->has_auth, probing = h->p->handshake == HANDSHAKE_AUTO && !h->proven;
    struct socks5_pipelined_reply rep;
    ssize_t n = socks5_encode_pipelined(
        buf, sizeof(buf), auth ? h->p->username : NULL, auth ? h->p->password : NULL,
        h->cmd ? h->cmd : SOCKS5_CMD_CONNECT, t->host, t->sa, t->port);
    size_t have = 0;
    long long sent = dial_now_ms(), until = 0;
    int err, r;

    if (n < 0)
        return EINVAL;
    memset(&rep, 0, sizeof(rep));
    if ((err = write_all(h->fd, buf, n, h->deadline)))
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
            return h->perr.errnum ? h->perr.errnum : ECONNREFUSED;
        }
        if (probing && !until && rep.stage >= SOCKS5_STAGE_AUTH)
            until = probe_deadline(h, sent);
        err = read_to(h->fd, buf, &have, rep.need > have ? rep.need : have + 1,
                      until ? until : h->deadline);
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

static int socks4_hop(struct hop_ctx *h, const struct target *t)
{
    uint8_t buf[SOCKS4_REQUEST_MAX];
    struct socks4_reply rep;
    ssize_t n = socks4_encode_request(buf, sizeof(buf), t->host, t->sa, t->port,
                                      h->p->username[0] ? h->p->username : NULL);
    int err;

    if (n < 0) {
        snprintf(h->perr.why, sizeof(h->perr.why), "SOCKS4 cannot carry an IPv6 destination");
        return EAFNOSUPPORT;
    }
    if ((err = write_all(h->fd, buf, n, h->deadline)))
        return err;
    return exchange(h, buf, sizeof(buf), p4_reply, &rep, NULL);
}

/* The request and the response header (up to HTTP_HEADER_MAX) live on the heap:
 * the hook runs on the program's thread, whose stack may be 16 KiB. */
static int http_hop(struct hop_ctx *h, const struct target *t)
{
    uint8_t *buf = malloc(HTTP_HEADER_MAX);
    struct http_response rep;
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
    else if (!(err = write_all(h->fd, buf, n, h->deadline)))
        err = exchange(h, buf, HTTP_HEADER_MAX, ph_response, &rep, NULL);
    explicit_bzero(buf, HTTP_HEADER_MAX); /* the request may carry a password */
    free(buf);
    return err;
}

/* One proxy's handshake on an open connection to it. */
static int handshake(struct hop_ctx *h, int pi, const struct target *t)
{
    switch (h->p->type) {
    case DIALER_SOCKS5:
        if (h->pipelined)
            return socks5_pipelined(h, t);
        return socks5_lockstep(h, t);
    case DIALER_SOCKS4:
        return socks4_hop(h, t);
    case DIALER_HTTP:
        return http_hop(h, t);
    default:
        (void)pi;
        return EINVAL;
    }
}

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
        struct sockaddr_in6 *m = (struct sockaddr_in6 *)out;
        memset(m, 0, sizeof(*m));
        m->sin6_family = AF_INET6;
        m->sin6_port = s->addr.u.in4.sin_port;
        m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&m->sin6_addr.s6_addr[12], &s->addr.u.in4.sin_addr, 4);
        *len = sizeof(*m);
        return true;
    }
    return false;
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
        d->failed = "the chain's first hop is a block dialer";
        return ECONNREFUSED;
    }
    if (!server_addr_for(family, &first->server, &ss, &len)) {
        int proto = 0, scratch;
        socklen_t pl = sizeof(proto);
        getsockopt(d->fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl);
        scratch = sys.socket(first->server.addr.u.sa.sa_family,
                             SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
        if (scratch < 0)
            return errno;
        if ((err = dial_swap(d->fd, scratch, family)))
            return err;
        sys.fcntl(d->fd, F_SETFL, sys.fcntl(d->fd, F_GETFL) | O_NONBLOCK);
        if (first->server.addr.u.sa.sa_family != family)
            d->swapped_family = first->server.addr.u.sa.sa_family;
        family = first->server.addr.u.sa.sa_family;
        server_addr_for(family, &first->server, &ss, &len);
    }
    if (!d->applied) {
        err = sockopt_apply(&c->dialers[maker], d->fd, family, SOCK_STREAM, &d->failed);
        if (err)
            return err;
        d->applied = true;
    }
    if (sys.connect(d->fd, (struct sockaddr *)&ss, len) == 0)
        return 0; /* loopback, or TCP Fast Open deferring the SYN to our first write */
    if (errno != EINPROGRESS)
        return errno;
    err = wait_fd(d->fd, POLLOUT, deadline);
    if (!err) {
        socklen_t el = sizeof(err);
        if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
    }
    return err;
}

/* A fresh socket like the program's, swapped in, for a lockstep retry. */
static int renew_socket(struct dial *d)
{
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    int family = AF_INET, proto = 0, scratch, err;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss), pl = sizeof(proto);

    /* Disconnecting keeps the program's socket: its bound address and port, its
     * options and its epoll registration. Only if the kernel refuses does a
     * fresh socket take its place. */
    if (sys.connect(d->fd, &unspec, sizeof(unspec)) == 0)
        return 0;
    if (sys.getsockname(d->fd, (struct sockaddr *)&ss, &len) == 0)
        family = ss.ss_family;
    getsockopt(d->fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl);
    scratch = sys.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (scratch < 0)
        return errno;
    if ((err = dial_swap(d->fd, scratch, family)))
        return err;
    sys.fcntl(d->fd, F_SETFL, sys.fcntl(d->fd, F_GETFL) | O_NONBLOCK);
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
    struct hop_ctx h = {.d = d, .fd = d->fd, .deadline = deadline};
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
        h.pipelined = may_pipeline(h.p, hops[i]);
        h.chose_userpass = false;
        h.proven = learned_of(hops[i]) == LEARN_PIPELINED;
        memset(&h.perr, 0, sizeof(h.perr));
        tried_pipelined = h.pipelined && h.p->type == DIALER_SOCKS5;
        err = handshake(&h, hops[i], &t);
        if (!err && h.pipelined && h.p->type == DIALER_SOCKS5 && !h.proven)
            learn_as(hops[i], LEARN_PIPELINED);
        if (!err && h.chose_userpass)
            learn_userpass(hops[i]);
        if (err) {
            /* Another thread may have learned it meanwhile: this connect still
             * deserves its own lockstep retry. */
            if (tried_pipelined && !h.pipelined && h.p->handshake == HANDSHAKE_AUTO) {
                learn_as(hops[i], LEARN_LOCKSTEP);
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
    deadline = dial_now_ms() + timeout_ms;
    if (n <= 0) {
        d->failed = "detour chain too long";
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
    if (err)
        d->failed = d->why[0] ? d->why : NULL;
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
    if (!s->addr.len) {
        snprintf(why, whycap, "%s: server %s is a name, not an address", c->dialers[hops[0]].name,
                 s->host);
        return EHOSTUNREACH;
    }
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
        if (d.why[0])
            snprintf(why, whycap, "%s", d.why);
        else
            snprintf(why, whycap, "%s%s%s", d.failed ? d.failed : "", d.failed ? ": " : "",
                     strerror(err));
        if (!retry)
            break;
        log_info("%s: pipelined handshake failed (%s); lockstep from now on", why, strerror(err));
    }
    return err;
}
