/* AssociateDialer: a UDP socket routed to a SOCKS5 dialer gets a SOCKS5 UDP
 * ASSOCIATE (RFC 1928 section 7) on a control connection to each proxy of the
 * chain, outermost first; the control connection of p_i reaches it through
 * p0..p_{i-1} (CONNECT), like any detour. What it opens goes to the relay table
 * (common/relay.h), which carries the datagrams. See dialer.h. */
#include "common/bigstack.h"
#include "common/dialer/dialer.h"
#include "common/dialer/group.h"

#include "common/addr.h"
#include "common/applied.h"
#include "common/escape.h"
#include "common/log.h"
#include "common/ownfd.h"
#include "common/proto/socks5.h"
#include "common/reentry.h"
#include "common/relay.h"
#include "common/sockopt.h"
#include "common/sys.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int associate_check(const struct conf *c, int dialer, char *why, size_t whycap)
{
    const struct conf_dialer *cd = &c->dialers[dialer];
    int hops[16], maker = -1, n;

    if (cd->type == DIALER_BLOCK) {
        snprintf(why, whycap, "blocked");
        return EPERM;
    }
    if (cd->type == DIALER_DIRECT) {
        if (conf_udp_mode(cd) != UDP_BLOCK)
            return 0;
        snprintf(why, whycap, "UDP blocked by the direct dialer %s (udp = block)", cd->name);
        return EPERM;
    }
    n = detour_chain(c, dialer, hops, &maker);
    if (n == 0) { /* a group's member that is not a proxy */
        snprintf(why, whycap,
                 "UDP through %s: the member it picks dials directly (a group carries "
                 "datagrams by UDP ASSOCIATE only)",
                 cd->name);
        return EPERM;
    }
    if (n < 0 || n > RELAY_MAX_HOPS) {
        snprintf(why, whycap, "UDP crosses at most %d SOCKS5 proxies", RELAY_MAX_HOPS);
        return EPERM;
    }
    for (int i = 0; i < n; i++) {
        const struct conf_dialer *h = &c->dialers[hops[i]];
        if (h->type != DIALER_SOCKS5) {
            snprintf(why, whycap, "UDP cannot cross %s (%s carries TCP only)", h->name,
                     conf_dialer_type_name(h->type));
            return EPERM;
        }
        if (conf_udp_mode(h) != UDP_ASSOCIATE) {
            snprintf(why, whycap, "UDP blocked by the proxy dialer %s (udp = block)", h->name);
            return EPERM;
        }
    }
    if (c->dialers[maker].type == DIALER_BLOCK) {
        snprintf(why, whycap, "the chain's first hop is a block dialer");
        return EPERM;
    }
    if (c->dialers[maker].type == DIALER_DIRECT && conf_udp_mode(&c->dialers[maker]) == UDP_BLOCK) {
        snprintf(why, whycap, "UDP blocked by the direct dialer %s (udp = block)",
                 c->dialers[maker].name);
        return EPERM;
    }
    return 0;
}

/* ---------------------------------------------------------------- addresses */

/* The program's socket is bound (as a sendto would bind it), so the proxy can be
 * told the port the datagrams come from. Returns the local address in *LOCAL. */
static void bind_local(int fd, int family, struct sockaddr_storage *local)
{
    socklen_t len = sizeof(*local);

    if (sys.getsockname(fd, (struct sockaddr *)local, &len) < 0)
        memset(local, 0, sizeof(*local));
    if (addr_port((struct sockaddr *)local) == 0) {
        struct sockaddr_storage any;
        memset(&any, 0, sizeof(any));
        any.ss_family = (sa_family_t)family;
        /* Fails harmlessly on a socket bound with IP_BIND_ADDRESS_NO_PORT. */
        if (bind(fd, (struct sockaddr *)&any, addr_len(family)) == 0) {
            len = sizeof(*local);
            sys.getsockname(fd, (struct sockaddr *)local, &len);
        }
    }
}

/* RFC 1928: the address and port the datagrams will come from, zeros when unknown.
 * The proxy sees the control connection's family; a wildcard local address says
 * only the port. */
static void client_addr(const struct sockaddr_storage *local, int ctl_family,
                        struct sockaddr_storage *out)
{
    struct sockaddr_storage conv;
    socklen_t len;
    uint16_t port = addr_port((const struct sockaddr *)local);

    memset(out, 0, sizeof(*out));
    out->ss_family = (sa_family_t)ctl_family;
    if (local->ss_family &&
        addr_in_family((const struct sockaddr *)local, ctl_family, &conv, &len)) {
        struct in6_addr a;
        uint16_t p;
        addr_as6((struct sockaddr *)&conv, &a, &p);
        if (!IN6_IS_ADDR_UNSPECIFIED(&a) &&
            !(IN6_IS_ADDR_V4MAPPED(&a) && !memcmp(&a.s6_addr[12], "\0\0\0\0", 4)))
            *out = conv;
    }
    addr_set_port(out, port);
}

static bool unspecified(const struct proto_addr *p)
{
    static const uint8_t zero[16];

    if (p->kind == PROTO_ADDR_IPV4)
        return ((const struct sockaddr_in *)&p->sa)->sin_addr.s_addr == 0;
    if (p->kind == PROTO_ADDR_IPV6)
        return !memcmp(&((const struct sockaddr_in6 *)&p->sa)->sin6_addr, zero, 16);
    return false;
}

/* Where the datagrams for proxy I of the chain go: its BND.ADDR, or when that is
 * 0.0.0.0 / :: the proxy's own address (for p0: the peer of its control connection;
 * further ones are named by their server address). */
static int relay_of(const struct conf *c, int dialer, int ctl, int i, struct proto_addr *b,
                    char *why, size_t whycap)
{
    if (b->kind == PROTO_ADDR_DOMAIN && i == 0) {
        char name[ESCAPE_SIZE(50)]; /* the proxy's bytes: escaped for the log */
        snprintf(why, whycap, "%s gave its relay as a name (%s)", c->dialers[dialer].name,
                 escape_str(name, sizeof(name), b->host));
        return EPROTO;
    }
    if (b->kind == PROTO_ADDR_NONE || (b->kind != PROTO_ADDR_DOMAIN && b->port == 0)) {
        snprintf(why, whycap, "%s gave no relay port", c->dialers[dialer].name);
        return EPROTO;
    }
    if (!unspecified(b))
        return 0;
    if (i == 0) {
        socklen_t len = sizeof(b->sa);
        if (sys.getpeername(ctl, (struct sockaddr *)&b->sa, &len) < 0)
            return errno;
    } else if (c->dialers[dialer].server.addr.len) {
        const struct conf_server *s = &c->dialers[dialer].server;
        memcpy(&b->sa, &s->addr.u.ss, s->addr.len);
    } else { /* a server given by name: the proxy before it resolves it */
        snprintf(b->host, sizeof(b->host), "%s", c->dialers[dialer].server.host);
        b->kind = PROTO_ADDR_DOMAIN;
        return 0;
    }
    b->kind = b->sa.ss_family == AF_INET ? PROTO_ADDR_IPV4 : PROTO_ADDR_IPV6;
    addr_set_port(&b->sa, b->port);
    return 0;
}

/* ---------------------------------------------------------------- the chain */

/* 2 KiB of answers and the chain itself: on the heap, the program's thread may
 * have a small stack. */
struct opening {
    struct relay_chain *ch;
    struct proto_addr bound[RELAY_MAX_HOPS];
    struct sockaddr_storage local; /* the socket's address, told to the first proxy */
    char why[400];
};

/* Open hop I's control connection and learn its relay; its header joins the prefix
 * that addresses the relays after p0. */
static int open_hop(struct dial *d, struct opening *o, int hop, int i, long long deadline,
                    const struct sockaddr_storage *local)
{
    const struct conf *c = d->conf;
    const struct conf_dialer *p = &c->dialers[hop];
    struct relay_chain *ch = o->ch;
    struct sockaddr_storage cl;
    ssize_t h;
    int err;

    if (i == 0) {
        client_addr(local, p->server.addr.u.sa.sa_family, &cl);
    } else {
        memset(&cl, 0, sizeof(cl));
        cl.ss_family = AF_INET; /* comes from the previous proxy: unknown */
    }
    snprintf(ch->hop[i], sizeof(ch->hop[i]), "%s", p->name);
    o->why[0] = '\0';
    err = detour_associate(c, hop, (struct sockaddr *)&cl, deadline, &ch->ctl[i], &o->bound[i],
                           o->why, sizeof(o->why));
    if (!err)
        ownfd_adopt(&ch->ctl[i]); /* out of the program's way (common/ownfd.h) */
    if (!err)
        err = relay_of(c, hop, ch->ctl[i], i, &o->bound[i], o->why, sizeof(o->why));
    if (err) {
        snprintf(d->why, sizeof(d->why), "UDP ASSOCIATE at %s (socks5 %.64s:%u): %.400s", p->name,
                 p->server.host, p->server.port, o->why[0] ? o->why : strerror(err));
        return err;
    }
    if (i == 0)
        return 0;
    h = socks5_encode_udp_header(ch->prefix + ch->prefix_len, sizeof(ch->prefix) - ch->prefix_len,
                                 o->bound[i].kind == PROTO_ADDR_DOMAIN ? o->bound[i].host : NULL,
                                 (struct sockaddr *)&o->bound[i].sa, o->bound[i].port);
    if (h < 0) {
        snprintf(d->why, sizeof(d->why), "%s: its relay cannot be addressed", p->name);
        return EPROTO;
    }
    ch->prefix_len += (size_t)h;
    return 0;
}

/* Open every control connection of the chain, outermost first. *FAILED: the
 * hop that failed. */
static int open_chain(struct dial *d, struct opening *o, const int *hops, int n,
                      const struct sockaddr_storage *local, long long deadline, int *failed)
{
    struct relay_chain *ch = o->ch;
    int err;

    ch->n = n;
    for (int i = 0; i < n; i++)
        if ((*failed = i, err = open_hop(d, o, hops[i], i, deadline, local)))
            return err;
    if (!addr_in_family((struct sockaddr *)&o->bound[0].sa, ch->family, &ch->relay,
                        &ch->relay_len)) {
        snprintf(d->why, sizeof(d->why), "the relay of %s is IPv6 and the socket IPv4",
                 d->conf->dialers[hops[0]].name);
        return EAFNOSUPPORT;
    }
    return 0;
}

/* The first hop's options on D->fd, unless it carries them (D->applied). */
static int apply_options(struct dial *d, int maker, int family)
{
    const char *opt = NULL;
    int err;

    if (d->applied)
        return 0;
    if ((err = sockopt_apply(&d->conf->dialers[maker], d->fd, family, SOCK_DGRAM, &opt))) {
        dial_refuse(d, opt);
        return err;
    }
    d->applied = true;
    return 0;
}

/* Open the chain of O->ch (new, or recorded by a connect) for D->fd; the socket's
 * address in O->local. Its control connections stay in O->ch for the caller to
 * add or close. */
static int open_new(struct dial *d, struct opening *o)
{
    const struct conf *c = d->conf;
    socklen_t len = sizeof(o->local);
    long long deadline = dial_now_ms() + conf_connect_timeout(c, d->dialer);
    struct tried tried = {0};
    struct chain chn;
    int n, maker, err, failed = 0;

    n = chain_resolve(c, d->dialer, &chn, &tried);
    if (n <= 0)
        return EPERM; /* associate_check said otherwise a moment ago */
    maker = chn.maker;
    o->ch->dialer = d->dialer;
    snprintf(o->ch->name, sizeof(o->ch->name), "%s", c->dialers[d->dialer].name);
    if (sys.getsockname(d->fd, (struct sockaddr *)&o->local, &len) < 0)
        return errno;
    o->ch->family = o->local.ss_family;
    /* The datagrams leave the program's socket for the first relay: it gets the
     * options of the dialer that makes the first hop. */
    if ((err = apply_options(d, maker, o->ch->family)))
        return err;
    bind_local(d->fd, o->ch->family, &o->local);
    /* A member of a group whose proxy failed: the next one, on fresh connections. */
    while ((err = open_chain(d, o, chn.hops, n, &o->local, deadline, &failed)) && err != ENOMEM &&
           group_blame(c, &chn, failed, &tried) && dial_now_ms() < deadline &&
           (n = chain_resolve(c, d->dialer, &chn, &tried)) > 0 && n <= RELAY_MAX_HOPS &&
           (chn.maker == maker || applied_same(c, chn.maker, maker))) {
        relay_chain_reset(o->ch);
        log_info("%s; trying the next member", d->why);
    }
    return err;
}

struct open_call {
    struct dial *d;
    struct opening *o;
};

static int open_on_bigstack(void *arg)
{
    struct open_call *c = arg;

    return open_new(c->d, c->o);
}

/* The control connection's chain, handshakes and log lines run on a stack of
 * their own (common/bigstack.h): a program's thread with a small stack pays only
 * for the send. */
static int open_deep(struct dial *d, struct opening *o)
{
    struct open_call c = {.d = d, .o = o};
    int err = bigstack_call(open_on_bigstack, &c);

    return err < 0 ? ENOMEM : err;
}

/* One try at D->fd's association: a new one added to the table, or the one a
 * connect recorded (RECORDED) opened in place. EEXIST: another thread's won,
 * ENOENT: the recorded one went (look again). */
static int open_once(struct dial *d, bool recorded)
{
    struct opening *o = calloc(1, sizeof(*o));
    int err;

    if (!o)
        return ENOMEM;
    if (recorded) {
        if ((err = relay_open_begin(d->fd, d->dialer, &o->ch))) {
            free(o);
            return err;
        }
        err = relay_open_end(d->fd, o->ch, open_deep(d, o), &o->local);
    } else if (!(o->ch = relay_chain_new())) {
        err = ENOMEM;
    } else {
        /* o->ch: the table's now, or freed */
        if (!(err = open_deep(d, o)))
            err = relay_add(d->fd, o->ch, &o->local);
        if (err)
            relay_chain_free(o->ch);
    }
    free(o);
    return err;
}

/* The socket may take D's association: it relays through no other dialer
 * (HAVE: the one it relays through, or -1) and D's chain can associate. */
static int relay_usable(struct dial *d, int have)
{
    char why[300];
    int err;

    if (have >= 0 && have != d->dialer) {
        snprintf(d->why, sizeof(d->why), "the socket already relays through %s",
                 d->conf->dialers[have].name);
        return EPERM;
    }
    if ((err = associate_check(d->conf, d->dialer, why, sizeof(why))))
        snprintf(d->why, sizeof(d->why), "%s", why);
    return err;
}

int associate_open(struct dial *d, bool *created)
{
    bool opened;
    int err, have;

    *created = false;
    if (reentry_nested()) {
        snprintf(d->why, sizeof(d->why),
                 "a UDP association cannot be used inside another call of the thread (a signal "
                 "handler): its locks may be held by the call it interrupted");
        return EACCES;
    }
    for (;;) {
        if ((have = relay_state(d->fd, &opened)) == d->dialer && opened)
            return 0;
        if ((err = relay_usable(d, have)))
            return err;
        err = open_once(d, have == d->dialer);
        /* EEXIST: another thread's first datagram won: use its association */
        if (err != EEXIST && err != ENOENT)
            break;
    }
    *created = !err;
    return err;
}

/* ---------------------------------------------------------------- connect */

/* A connected socket whose association is not opened yet must hear nothing and
 * answer getsockname as the kernel would after a connect. It gets the first hop's
 * options and is connected to the first proxy's server address (no datagram
 * leaves on connect; one sent by mistake would reach the proxy, never the
 * destination; the proxy's TCP port sends no UDP), which also picks the source
 * address the relay's datagrams will leave from. A proxy named by a name (no
 * address before a lookup): bound to the wildcard address and a port instead. */
static int hold(struct dial *d)
{
    const struct conf *c = d->conf;
    struct sockaddr_storage local, to;
    socklen_t len = sizeof(local), tolen;
    struct tried tried = {0};
    struct chain chn;
    const struct conf_server *s;
    int err;

    if (chain_resolve(c, d->dialer, &chn, &tried) <= 0)
        return EPERM; /* associate_check said otherwise a moment ago */
    if (sys.getsockname(d->fd, (struct sockaddr *)&local, &len) < 0)
        return errno;
    if ((err = apply_options(d, chn.maker, local.ss_family)))
        return err;
    s = &c->dialers[chn.hops[0]].server;
    if (s->addr.len && addr_in_family(&s->addr.u.sa, local.ss_family, &to, &tolen) &&
        sys.connect(d->fd, (struct sockaddr *)&to, tolen) == 0)
        return 0;
    bind_local(d->fd, local.ss_family, &local);
    return 0;
}

int associate_dial(struct dial *d)
{
    struct relay_target t = {
        .host = d->host, .sa = d->sa, .port = addr_port(d->sa), .view = d->sa, .view_len = d->len};
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    bool opened;
    int err, have = relay_state(d->fd, &opened);

    if ((err = relay_usable(d, have)))
        return err;
    /* The association opens with the first datagram: a connect alone (a source
     * address probe) costs the proxy nothing. */
    if (!opened && (err = hold(d)))
        return err;
    if (have < 0 && sys.getsockname(d->fd, (struct sockaddr *)&local, &len) < 0)
        err = errno;
    else if (have < 0)
        err = relay_attach(d->fd, d->dialer, local.ss_family, d->conf->dialers[d->dialer].name);
    if (err == EEXIST) /* another thread's connect recorded one meanwhile */
        err = relay_state(d->fd, &opened) == d->dialer ? 0 : EPERM;
    if (err) {
        snprintf(d->why, sizeof(d->why), "recording the socket's association: %s", strerror(err));
        return err;
    }
    if ((err = relay_connect(d->fd, &t)))
        snprintf(d->why, sizeof(d->why), "connecting the socket to the relay: %s", strerror(err));
    else if (opened)
        snprintf(d->why, sizeof(d->why), "via UDP ASSOCIATE");
    else
        snprintf(d->why, sizeof(d->why), "via UDP ASSOCIATE, opened by the first datagram");
    return err;
}
