/* The engine's sends with a destination (engine_sendto, engine_sendmsg): how the
 * destination reads on the socket, and UDP datagrams routed one by one; the sends
 * and receives of sockets with an association (engine_send_assoc,
 * engine_recv_assoc), handed to the relay with the routing's answers. */
#include "common/engine.h"

#include "common/addr.h"
#include "common/bigstack.h"
#include "common/applied.h"
#include "common/dialer/dialer.h"
#include "common/dnswire.h"
#include "common/engine_int.h"
#include "common/fakeip.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/other.h"
#include "common/route.h"
#include "common/state.h"
#include "common/sys.h"
#include "common/relay.h"
#include "common/v4mapped.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ---- UDP: every datagram with a destination is routed on its own ---- */

/* The first address NAME resolves to for DIALER (UDP has nothing to race) that a
 * socket of FAMILY can carry (0: any; an IPv6 socket takes IPv4 mapped). Returns 0
 * or an errno. */
static int dgram_resolve(int dialer, const char *name, uint16_t port, int family,
                         struct sockaddr_storage *real, socklen_t *len)
{
    struct dns_addr addrs[4];
    char why[300];
    int n = resolve_name(state.conf, dialer, name, addrs, 4, false, why, sizeof(why)), pick = -1;

    if (n < 0) {
        log_warn("%s[%d] udp %s: %s", state.prog, (int)getpid(), name, why);
        return -n;
    }
    for (int i = 0; i < n && pick < 0; i++)
        if (!family || addrs[i].family == family)
            pick = i;
    for (int i = 0; i < n && pick < 0 && family == AF_INET6; i++)
        if (addrs[i].family == AF_INET) {
            v4mapped_sockaddr((struct sockaddr_in6 *)real, addrs[i].addr, htons(port));
            *len = sizeof(struct sockaddr_in6);
            return 0;
        }
    if (pick < 0) {
        log_warn("%s[%d] udp %s: no address of the socket's family", state.prog, (int)getpid(),
                 name);
        return EAFNOSUPPORT;
    }
    *len = dns_addr_to_sockaddr(&addrs[pick], port, real);
    return 0;
}

/* The family of FD's socket (0 when the kernel will not say). */
static int socket_family(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    return sys.getsockname(fd, (struct sockaddr *)&ss, &len) == 0 ? ss.ss_family : 0;
}

/* A datagram refused with ERR: one warning per socket (a program retrying, into
 * a dead proxy or a block, must not flood the log), debug lines after it. */
static ssize_t dgram_refused(struct dial *d, uint32_t fst, int rule, int err,
                             const struct timespec *t0)
{
    log_decision((fst & FD_BLOCK_LOGGED) ? LOG_LVL_DEBUG : LOG_LVL_WARN, d, rule, err, t0);
    fdtab_or(d->fd, FD_BLOCK_LOGGED);
    errno = err;
    return -1;
}

/* A direct datagram: the dialer's options once per socket, then the real call. */
static ssize_t dgram_direct(struct dial *d, uint32_t fst, int rule, const struct msghdr *msg,
                            int flags, bool is_sendto)
{
    struct sockaddr_storage real;
    struct msghdr m = *msg;
    struct timespec t0 = {0, 0};
    int err;

    if (d->host) {
        if ((err = dgram_resolve(d->dialer, d->host, addr_port(d->sa), socket_family(d->fd), &real,
                                 &m.msg_namelen))) {
            errno = err;
            return -1;
        }
        m.msg_name = &real;
    }
    if (!(fst & FD_APPLIED) || applied_dialer(fst) != d->dialer) {
        int maker;
        if (log_enabled(LOG_LVL_INFO))
            clock_gettime(CLOCK_MONOTONIC, &t0);
        err = options_ready(d, fst, &maker);
        if (!err && !d->applied && !(err = default_prepare(d))) {
            applied_mark(d->fd, maker);
            log_decision(LOG_LVL_INFO, d, rule, 0, &t0);
        }
        if (err)
            return dgram_refused(d, fst, rule, err, &t0);
    }
    if (is_sendto)
        return sys.sendto(d->fd, m.msg_iov[0].iov_base, m.msg_iov[0].iov_len, flags, m.msg_name,
                          m.msg_namelen);
    return sys.sendmsg(d->fd, &m, flags);
}

/* D->fd's association through D->dialer, opened when it is not (a new one, or
 * the one its connect recorded): 0, or -1 with errno, refused and logged. */
static int dgram_associate(struct dial *d, uint32_t fst, int rule)
{
    struct timespec t0 = {0, 0};
    bool created = false, had_options;
    int err, maker;

    if (log_enabled(LOG_LVL_INFO))
        clock_gettime(CLOCK_MONOTONIC, &t0);
    err = options_ready(d, fst, &maker);
    had_options = d->applied;
    if (!err)
        err = associate_open(d, &created);
    if (d->applied && !had_options)
        applied_mark(d->fd, maker);
    if (err)
        return (int)dgram_refused(d, fst, rule, err, &t0);
    if (created) {
        snprintf(d->why, sizeof(d->why), "via UDP ASSOCIATE");
        log_decision(LOG_LVL_INFO, d, rule, 0, &t0);
    }
    return 0;
}

/* A datagram through SOCKS5 UDP ASSOCIATE: the socket's association (opened by
 * its first such datagram), then the datagram wrapped for the relay. */
static ssize_t dgram_relayed(struct dial *d, uint32_t fst, int rule, const struct msghdr *msg,
                             int flags)
{
    const struct conf_dialer *cd = &state.conf->dialers[d->dialer];
    struct relay_target t = {
        .sa = d->sa, .port = addr_port(d->sa), .view = d->sa, .view_len = msg->msg_namelen};
    struct sockaddr_storage real;
    socklen_t rlen;
    int err;

    if (dgram_associate(d, fst, rule) < 0)
        return -1;
    if (d->host && conf_remote_dns(cd)) {
        t.host = d->host; /* the proxy resolves it: no query leaves here */
    } else if (d->host) {
        if ((err = dgram_resolve(d->dialer, d->host, t.port, 0, &real, &rlen))) {
            errno = err;
            return -1;
        }
        t.sa = (struct sockaddr *)&real;
    }
    return relay_send(d->fd, msg, flags, &t);
}

/* The first datagram of a socket to a direct destination, one to a name, one
 * through a proxy, or one refused: everything but the common case. Kept out of
 * line: its struct dial (with room for a failure's explanation) is no cost to the
 * datagrams that do not need it. */
static __attribute__((noinline)) ssize_t dgram_route(int fd, uint32_t fst, const struct msghdr *msg,
                                                     int flags, bool is_sendto,
                                                     const struct dest *dst, int dialer, int rule)
{
    struct dial d = {.conf = state.conf,
                     .dialer = dialer,
                     .fd = fd,
                     .sa = msg->msg_name,
                     .len = msg->msg_namelen,
                     .host = dst->name,
                     .type = SOCK_DGRAM};
    struct timespec t0 = {0, 0};
    int err = associate_check(state.conf, dialer, d.why, sizeof(d.why));

    if (err)
        return dgram_refused(&d, fst, rule, err, &t0);
    if (state.conf->dialers[dialer].type == DIALER_DIRECT)
        return dgram_direct(&d, fst, rule, msg, flags, is_sendto);
    return dgram_relayed(&d, fst, rule, msg, flags);
}

struct route_call {
    int fd, flags, dialer, rule;
    uint32_t fst;
    bool is_sendto;
    const struct msghdr *msg;
    const struct dest *dst;
    ssize_t r;
    int err;
};

static int route_on_bigstack(void *arg)
{
    struct route_call *c = arg;

    c->r = dgram_route(c->fd, c->fst, c->msg, c->flags, c->is_sendto, c->dst, c->dialer, c->rule);
    c->err = errno;
    return 0;
}

/* A socket's first datagram, or one through a proxy or refused: the association,
 * its chain and the log lines run on a stack of their own (common/bigstack.h). */
static ssize_t dgram_route_deep(int fd, uint32_t fst, const struct msghdr *msg, int flags,
                                bool is_sendto, const struct dest *dst, int dialer, int rule)
{
    struct route_call c = {.fd = fd,
                           .flags = flags,
                           .dialer = dialer,
                           .rule = rule,
                           .fst = fst,
                           .is_sendto = is_sendto,
                           .msg = msg,
                           .dst = dst};

    if (bigstack_call(route_on_bigstack, &c) < 0) {
        errno = ENOBUFS; /* no stack to route on: nothing is sent */
        return -1;
    }
    errno = c.err;
    return c.r;
}

/* A datagram of a UDP socket to msg_name: route it (a fake address by its name)
 * and send it directly, through the proxy, or not at all (EPERM, nothing sent).
 * Once a socket has its options, a datagram to a literal address routed direct
 * costs the route lookup and the real call, nothing more. */
static ssize_t dgram_out(int fd, uint32_t fst, const struct msghdr *msg, int flags, bool is_sendto)
{
    const struct sockaddr *to = msg->msg_name;
    struct dest dst = {.sa = to, .port = addr_port(to), .net = NET_UDP};
    char name[FAKEIP_NAME_MAX];
    const struct conf_dialer *cd;
    int rule, dialer;

    if (fakeip_is_fake(to, msg->msg_namelen)) {
        if (!fakeip_lookup(to, msg->msg_namelen, name, sizeof(name))) {
            errno = EHOSTUNREACH; /* a name recycled away: never its old address */
            return -1;
        }
        dst.sa = NULL;
        dst.name = name;
    }
    dialer = route_pick(state.conf, state.app, &dst, &rule);
    cd = &state.conf->dialers[dialer];
    if (cd->type == DIALER_DIRECT && (fst & FD_APPLIED) && applied_dialer(fst) == dialer &&
        !dst.name && conf_udp_mode(cd) != UDP_BLOCK)
        return is_sendto ? sys.sendto(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags,
                                      to, msg->msg_namelen)
                         : sys.sendmsg(fd, msg, flags); /* every later direct datagram */
    if (!dst.name && (fst & FD_ASSOC) && relay_dialer(fd) == dialer) {
        /* every later datagram to an address through the socket's association:
         * what dgram_relayed would do once the association is open, without its
         * struct dial on the program's stack */
        struct relay_target t = {
            .sa = to, .port = addr_port(to), .view = to, .view_len = msg->msg_namelen};
        return relay_send(fd, msg, flags, &t);
    }
    if (cd->type == DIALER_DIRECT && (fst & FD_APPLIED))
        return dgram_route(fd, fst, msg, flags, is_sendto, &dst, dialer, rule);
    return dgram_route_deep(fd, fst, msg, flags, is_sendto, &dst, dialer, rule);
}

/* A datagram that did not come from the relay reaches the program only from a
 * peer the route sends to directly (a socket may mix both). */
static bool dgram_direct_peer(const struct sockaddr *from)
{
    struct dest dst = {.sa = from, .port = addr_port(from), .net = NET_UDP};
    int rule, di;

    if (!state.conf)
        return false;
    di = route_pick(state.conf, state.app, &dst, &rule);
    return state.conf->dialers[di].type == DIALER_DIRECT &&
           conf_udp_mode(&state.conf->dialers[di]) != UDP_BLOCK;
}

struct waiting_call {
    int fd, dialer, r, err;
};

/* The association a connect recorded for WC->fd, opened for its first datagram:
 * the dial is rebuilt from the peer the program connected to. */
static int open_waiting(void *arg)
{
    struct waiting_call *wc = arg;
    struct sockaddr_storage view;
    char name[FAKEIP_NAME_MAX];
    struct dial d = {.conf = state.conf,
                     .dialer = wc->dialer,
                     .fd = wc->fd,
                     .sa = (struct sockaddr *)&view,
                     .len = sizeof(view),
                     .type = SOCK_DGRAM};
    struct dest dst = {.sa = d.sa, .net = NET_UDP};
    int rule;

    if (!relay_peer(wc->fd, (struct sockaddr *)&view, &d.len)) {
        wc->r = -1;
        wc->err = ENOTCONN; /* reconnected meanwhile: the kernel's answer is the next send's */
        return 0;
    }
    dst.port = addr_port(d.sa);
    if (fakeip_is_fake(d.sa, d.len) && fakeip_lookup(d.sa, d.len, name, sizeof(name))) {
        d.host = dst.name = name;
        dst.sa = NULL;
    }
    route_pick(state.conf, state.app, &dst, &rule); /* the rule, for the log line */
    wc->r = dgram_associate(&d, fd_state(wc->fd), rule);
    wc->err = errno;
    return 0;
}

ssize_t engine_send_assoc(int fd, const struct msghdr *msg, int flags)
{
    struct waiting_call wc = {.fd = fd};

    if (fdtab_get(fd) & FD_PENDING) {
        errno = EAGAIN; /* its dial runs in the background: not connected yet */
        return -1;
    }
    if (fdtab_get(fd) & FD_DNS)
        return dnswire_send(fd, msg, flags);
    /* Connected through a proxy, nothing sent yet: the association opens now, in
     * this call (within the dialer's connect_timeout), as the connect used to. */
    if (state.conf && (wc.dialer = relay_waiting(fd)) >= 0 && wc.dialer < state.conf->n_dialers) {
        if (bigstack_call(open_waiting, &wc) < 0) {
            errno = ENOBUFS; /* no stack to open it on: nothing is sent */
            return -1;
        }
        if (wc.r < 0) {
            errno = wc.err;
            return -1;
        }
    }
    return relay_send(fd, msg, flags, NULL);
}

ssize_t engine_recv_assoc(int fd, struct msghdr *msg, int flags)
{
    const struct relay_rx rx = {.prog = state.prog, .direct = dgram_direct_peer};

    if (fdtab_get(fd) & FD_PENDING) {
        errno = EAGAIN; /* the proxy's replies are the driver's, never the program's */
        return -1;
    }
    if (fdtab_get(fd) & FD_DNS)
        return dnswire_recv(fd, msg, flags);

    return relay_recv(fd, msg, flags, &rx);
}

/* The socket takes datagrams like UDP (UDP or UDP-Lite): an IPv6 one reads an
 * AF_UNSPEC destination as none at all. */
static bool dgram_like(int fd, uint32_t fst)
{
    int proto = 0;
    socklen_t len = sizeof(proto);

    if ((fst & FD_KIND_MASK) == FD_UDP)
        return true;
    return (fst & FD_KIND_MASK) == FD_OTHER &&
           sys.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
           proto == IPPROTO_UDPLITE;
}

/* How a send's destination reads on the socket. */
enum dest_read {
    DEST_PASS,  /* the kernel's business: hand the call on as it came */
    DEST_NONE,  /* no destination: the connected peer */
    DEST_INET,  /* an inet destination to route */
    DEST_SHORT, /* too short for the kernel: EINVAL */
};

/* TO (TOLEN bytes, sa_family AF_INET, AF_INET6 or AF_UNSPEC) as the kernel will
 * read it on FD's socket; for DEST_INET, *OUT and *OUTLEN: the destination to
 * route (a copy in BUF when it was short of a full sockaddr or AF_UNSPEC). */
static enum dest_read read_dest(int fd, uint32_t fst, const struct sockaddr *to, socklen_t tolen,
                                struct sockaddr_in6 *buf, const struct sockaddr **out,
                                socklen_t *outlen)
{
    int family = to->sa_family;

    if (fst & FD_FOREIGN)
        return DEST_PASS;
    if (family == AF_UNSPEC) {
        /* TCP refuses it with MSG_FASTOPEN (EOPNOTSUPP) and ignores it otherwise. An
         * IPv4 socket reads it as AF_INET (udp_sendmsg, raw_sendmsg); an IPv6 UDP
         * socket as no destination (udpv6_sendmsg); other IPv6 sockets as AF_INET6
         * (raw) or refuse it (ping: EAFNOSUPPORT; routed all the same). */
        if ((fst & FD_KIND_MASK) == FD_TCP)
            return DEST_PASS;
        family = socket_family(fd);
        if (family == AF_INET6 && dgram_like(fd, fst))
            return DEST_NONE;
        if (family != AF_INET && family != AF_INET6)
            return DEST_PASS;
    }
    *out = addr_read(to, tolen, family, buf, outlen);
    return *out ? DEST_INET : DEST_SHORT;
}

static ssize_t real_send(int fd, const struct msghdr *m, int flags, bool is_sendto)
{
    if (is_sendto)
        return sys.sendto(fd, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len, flags, m->msg_name,
                          m->msg_namelen);
    return sys.sendmsg(fd, m, flags);
}

/* One send with a destination (msg_name of at least a family): datagrams of UDP
 * sockets take dgram_out, TCP's MSG_FASTOPEN before_send, other inet protocols
 * other_route; a destination the engine cannot read is refused, never passed. */
static ssize_t send_one(int fd, const struct msghdr *msg, int flags, bool is_sendto)
{
    uint32_t fst = fd_state(fd);
    struct sockaddr_in6 buf;
    struct msghdr m = *msg;
    const struct sockaddr *to = NULL;
    int err;

    switch (read_dest(fd, fst, msg->msg_name, msg->msg_namelen, &buf, &to, &m.msg_namelen)) {
    case DEST_PASS:
        return real_send(fd, msg, flags, is_sendto);
    case DEST_NONE:
        if (!(fst & FD_ASSOC))
            return real_send(fd, msg, flags, is_sendto);
        m.msg_name = NULL;
        m.msg_namelen = 0;
        return engine_send_assoc(fd, &m, flags);
    case DEST_SHORT:
        return refuse_short(is_sendto ? "sendto" : "sendmsg", fd, msg->msg_name, msg->msg_namelen);
    case DEST_INET:
        break;
    }
    if (!state.active) {
        errno = EACCES; /* an AF_UNSPEC read as inet under a broken configuration */
        return -1;
    }
    m.msg_name = (void *)to;
    switch (fst & FD_KIND_MASK) {
    case FD_UDP: {
        ssize_t n = dnswire_sendto(fd, &m, flags);
        if (n != -2)
            return n;
    }
        return dgram_out(fd, fst, &m, flags, is_sendto);
    case FD_OTHER:
        /* routed by what the kernel reads; the kernel gets the call as it came */
        err = other_route(fd, fst, to, m.msg_namelen, true);
        if (!err)
            return real_send(fd, msg, flags, is_sendto);
        break;
    default:
        if (!(err = before_send(fd, fst, flags, to, m.msg_namelen)))
            return real_send(fd, &m, flags, is_sendto);
    }
    errno = err;
    return -1;
}

ssize_t engine_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                      socklen_t tolen)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = n};
    struct msghdr m = {
        .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1};

    return send_one(fd, &m, flags, true);
}

ssize_t engine_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (!msg || !msg->msg_name || msg->msg_namelen < sizeof(sa_family_t))
        return sys.sendmsg(fd, msg, flags);
    return send_one(fd, msg, flags, false);
}
