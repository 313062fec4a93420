#include "common/engine.h"
#include "common/dnswire.h"

#include "common/addr.h"
#include "common/applied.h"
#include "common/bigstack.h"
#include "common/dialer/dialer.h"
#include "common/engine_int.h"
#include "common/fakeip.h"
#include "common/fakepin.h"
#include "common/family.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/other.h"
#include "common/owner.h"
#include "common/pending.h"
#include "common/reentry.h"
#include "common/route.h"
#include "common/state.h"
#include "common/sys.h"
#include "common/watchdog.h"
#include "common/relay.h"
#include "common/hotpath.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_SMC
#define AF_SMC 43
#endif
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static uint32_t kind_of(int sotype, int protocol)
{
    int base = sotype & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (base == SOCK_STREAM &&
        (protocol == 0 || protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP))
        return FD_TCP;
    if (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        return FD_UDP;
    return FD_OTHER;
}

/* The socket's kind: from the table when our socket() made it, else from the
 * kernel (a socket made before the shim was loaded, a socketpair: not inet, FD_FOREIGN;
 * AF_SMC: FD_OTHER). */
HOT_PATH uint32_t fd_state(int fd)
{
    uint32_t v = fdtab_get(fd);
    int type, proto, domain;
    socklen_t len = sizeof(int);

    if (v & FD_KIND_MASK)
        return v;
    if (sys.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
        return FD_OTHER | FD_FOREIGN;
    len = sizeof(int);
    if (sys.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return FD_OTHER | FD_FOREIGN;
    len = sizeof(int);
    if (sys.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
        proto = 0;
    /* AF_SMC (shared-memory communications) connects to inet addresses and falls
     * back to TCP when the peer has no SMC: routed like the other inet kinds. */
    v = domain == AF_INET || domain == AF_INET6 ? kind_of(type, proto)
        : domain == AF_SMC                      ? FD_OTHER
                                                : FD_OTHER | FD_FOREIGN;
    fdtab_or(fd, v);
    return fdtab_get(fd);
}

HOT_PATH int engine_socket(int domain, int type, int protocol)
{
    const struct conf_dialer *d = &state.conf->dialers[state.app_dialer];
    uint32_t kind = kind_of(type, protocol);
    int fd = -1;
    bool mptcp = protocol == IPPROTO_MPTCP;

    /* MPTCP is chosen when the socket is made, before the destination is known:
     * the app's default dialer decides. Kernels without it get plain TCP. */
    if (kind == FD_TCP && d->tcp_multi_path && protocol != IPPROTO_MPTCP) {
        fd = sys.socket(domain, type, IPPROTO_MPTCP);
        if (fd < 0 && errno != EPROTONOSUPPORT && errno != ENOPROTOOPT && errno != EINVAL)
            return -1;
        if (fd < 0)
            log_debug("%s: MPTCP unavailable (%s), plain TCP", state.prog, strerror(errno));
        mptcp = fd >= 0;
    }
    if (fd < 0)
        fd = kind == FD_OTHER ? other_socket(domain, type, protocol, &kind)
                              : sys.socket(domain, type, protocol);
    if (fd < 0)
        return -1;
    if (fdtab_get(fd) & FD_STATE) {
        /* A vfork child's socket on a number it closed: the word, and what the
         * shim keeps for it, are its parent's socket's (common/owner.h). */
        if (owner_foreign())
            return fd;
        engine_drop(fd, fdtab_get(fd)); /* its last socket was closed behind our back */
    }
    /* MPTCP is not taken for blocking: the watchdog's shutdown is proven on TCP. */
    fdtab_set(fd, kind != FD_TCP                    ? kind
                  : (type & SOCK_NONBLOCK) || mptcp ? kind | FD_NO_SNDTIMEO
                                                    : kind | FD_NO_SNDTIMEO | FD_BLOCKING);
    return fd;
}

HOT_PATH int engine_close(int fd)
{
    uint32_t v = fdtab_get(fd);

    if ((v & FD_STATE) && owner_foreign())
        return sys.close(fd); /* a vfork child: the table is its parent's */
    if (v & FD_WATCHED) {
        watch_forget(fd, true); /* a thread's dial still blocks on the socket */
        v &= ~(uint32_t)FD_WATCHED;
    }
    if (v & FD_STATE)
        engine_drop(fd, v);
    else
        fdtab_set(fd, FD_UNKNOWN);
    return sys.close(fd);
}

/* Before dialer D->dialer takes D->fd: D->applied as the socket's options stand,
 * *MAKER the dialer whose options it will carry (-1: none, a block). Returns 0,
 * or an errno (EACCES for TCP, EPERM for datagrams) with D->why set when the
 * socket carries another dialer's options that the new one's cannot replace. */
HOT_PATH int options_ready(struct dial *d, uint32_t fst, int *maker)
{
    const struct conf *c = d->conf;
    int had = applied_dialer(fst);

    *maker = applied_maker(c, d->dialer);
    if (*maker < 0)
        return 0;
    switch (applied_need(c, fst, *maker)) {
    case APPLIED_READY:
        d->applied = true;
        return 0;
    case APPLIED_SET:
        d->applied = false;
        return 0;
    default:
        snprintf(d->why, sizeof(d->why),
                 "the socket carries dialer %s's options (set for an earlier destination), "
                 "which %s's cannot replace",
                 had >= 0 && had < c->n_dialers ? c->dialers[had].name : "?",
                 c->dialers[*maker].name);
        return d->type == SOCK_DGRAM ? EPERM : EACCES;
    }
}

/* Route a dial: D's dialer (by the name the fake address in DST stands for,
 * into NAME; DST NULL: not a fake address) and options. Returns 0, or an errno
 * with the decision logged. */
HOT_PATH static int dial_prepare(struct dial *d, struct dest *dst, char *name, uint32_t fst,
                                 int *rule, int *maker, const struct timespec *t0)
{
    int err;

    if (dst) {
        /* A fake address stands for a name: route by the name, never the address. */
        if (!fakeip_lookup(d->sa, d->len, name, FAKEIP_NAME_MAX)) {
            d->dialer = route_pick(state.conf, state.app, dst, rule);
            snprintf(d->why, sizeof(d->why), "fake address with no name (recycled or never given)");
            log_decision(LOG_LVL_WARN, d, *rule, EHOSTUNREACH, t0);
            return EHOSTUNREACH;
        }
        dst->sa = NULL;
        dst->name = d->host = name;
        d->dialer = route_pick(state.conf, state.app, dst, rule);
    }
    if ((err = options_ready(d, fst, maker)))
        log_decision(LOG_LVL_WARN, d, *rule, err, t0);
    return err;
}

HOT_PATH void dial_finish(int fd, uint32_t fst, struct dial *d, const struct sockaddr *sa,
                          socklen_t len, int rule, int err, bool had_options, int maker,
                          const struct timespec *t0)
{
    const char *host = d->host;

    d->sa = sa; /* the resolve dialer may have pointed it at its own stack */
    if (host && (!err || err == EINPROGRESS))
        fakepin_connect(fd, sa, len); /* the address keeps its name while connected */
    if (host || state.conf->dialers[d->dialer].type != DIALER_DIRECT)
        fst |= FD_ENGINE;
    if (d->applied && !had_options)
        applied_mark(fd, maker);
    /* associate_dial may have associated, another thread may have marked: add, never overwrite */
    fst = fdtab_or(fd, fst & FD_ENGINE);
    if (!err && (fst & FD_ASSOC))
        relay_set_view(fd, sa, len); /* replies come "from" what the program connected to */
    /* An IPv4 socket the dialers replaced with an IPv6 one keeps answering in IPv4. */
    if ((!err || err == EINPROGRESS) && d->type == SOCK_STREAM && d->swapped_family == AF_INET6 &&
        sa->sa_family == AF_INET && !family_keep(fd, sa))
        log_warn("%s[%d]: fd %d is now IPv6; out of memory to keep its IPv4 view", state.prog,
                 (int)getpid(), fd);
    if (err && err != EINPROGRESS) {
        bool quiet = state.conf->dialers[d->dialer].type == DIALER_BLOCK &&
                     (fdtab_get(fd) & FD_BLOCK_LOGGED);
        log_decision(quiet     ? LOG_LVL_DEBUG
                     : d->warn ? LOG_LVL_WARN
                               : LOG_LVL_INFO,
                     d, rule, err, t0);
        if (d->type == SOCK_DGRAM && state.conf->dialers[d->dialer].type == DIALER_BLOCK)
            fdtab_or(fd, FD_BLOCK_LOGGED);
    } else if (!had_options) {
        log_decision(LOG_LVL_INFO, d, rule, err, t0);
    }
}

/* One connect of the program, as decide_and_dial routed it. */
struct routed_call {
    int fd, dialer, rule, fl;
    uint32_t fst;
    const struct sockaddr *sa;
    socklen_t len;
    long wait_ms;
    bool fake;       /* SA is a fake address: routed again here, by its name */
    struct dest dst; /* SA's route key */
};

/* Route and dial one socket; returns 0 or an errno, logs the decision. C->dialer
 * and C->rule: the route of C->sa, already picked (a fake address is routed here,
 * by its name). C->wait_ms < 0: the dial runs here; else (unless refused on the
 * spot) in the background, and the program waits for it that long (0: a
 * non-blocking socket, EINPROGRESS at once; > 0: a blocking one's SO_SNDTIMEO). */
HOT_PATH static int dial_routed(struct routed_call *c)
{
    struct timespec t0 = {0, 0};
    const struct sockaddr *sa = c->sa;
    int fd = c->fd, rule = c->rule, fl = c->fl, err, maker;
    uint32_t fst = c->fst;
    socklen_t len = c->len;
    long wait_ms = c->wait_ms;
    struct dial d;
    char name[FAKEIP_NAME_MAX];
    bool had_options;

    /* Every field but the explanation's buffer, which only needs its first byte:
     * zeroing all of it was most of the work of a direct connect here. */
    memset(&d, 0, offsetof(struct dial, why));
    d.why[0] = '\0';
    d.conf = state.conf;
    d.fd = fd;
    d.sa = sa;
    d.len = len;
    d.type = c->dst.net == NET_UDP ? SOCK_DGRAM : SOCK_STREAM;
    d.applied = fst & FD_APPLIED;
    d.dialer = c->dialer;
    d.fl = fl;
    d.fl_known = fl >= 0;

    if (log_enabled(LOG_LVL_INFO) || wait_ms >= 0)
        clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((err = dial_prepare(&d, c->fake ? &c->dst : NULL, name, fst, &rule, &maker, &t0)))
        return err;
    if (wait_ms >= 0 && state.conf->dialers[d.dialer].type != DIALER_BLOCK) {
        err = dial_async(&d, fst, rule, maker, &t0);
        /* as the kernel bounds a blocking connect by SO_SNDTIMEO: EINPROGRESS
         * after it, the dial going on */
        return err == EINPROGRESS && wait_ms > 0 ? pending_wait(fd, wait_ms) : err;
    }
    had_options = d.applied;
    err = d.host ? resolve_dial(&d) : dialer_dial(&d);
    /* A direct dialer's netns put its namespace's socket under the number here,
     * in the program's thread: the registrations the program made follow it. */
    if ((fdtab_get(fd) & FD_EPOLL) && (!err || err == EINPROGRESS) &&
        state.conf->dialers[d.dialer].netns[0])
        pending_epoll_swapped(fd);
    d.host = c->dst.name;
    dial_finish(fd, fst, &d, sa, len, rule, err, had_options, maker, &t0);
    if (!err && d.type == SOCK_STREAM && (fdtab_get(fd) & FD_ENGINE))
        pending_record_peer(fd, sa, len); /* getpeername: the destination, not the proxy */
    return err;
}

static int routed_on_bigstack(void *arg)
{
    return dial_routed(arg);
}

/* A direct dial to an address runs here; every other dial (a name, a proxy chain,
 * a race across addresses or interfaces, a refusal and its log line) runs on a
 * stack of its own, so that a program's thread with a small stack pays only for
 * the hook (common/bigstack.h), or in the background for a non-blocking socket
 * (common/pending.h). */
HOT_PATH static int decide_and_dial(int fd, uint32_t fst, const struct sockaddr *sa, socklen_t len)
{
    struct routed_call c = {
        .fd = fd,
        .fst = fst,
        .sa = sa,
        .len = len,
        .fl = -1,
        .wait_ms = -1,
        .fake = fakeip_is_fake(sa, len),
        .dst = {.sa = sa,
                .port = addr_port(sa),
                .net = (fst & FD_KIND_MASK) == FD_UDP ? NET_UDP : NET_TCP},
    };
    const struct conf_dialer *cd;
    int r;

    c.dialer = route_pick(state.conf, state.app, &c.dst, &c.rule);
    cd = &state.conf->dialers[c.dialer];
    if (!c.fake && cd->type == DIALER_DIRECT && !parallel_wanted(cd))
        return dial_routed(&c);
    c.wait_ms = cd->type != DIALER_BLOCK || c.fake ? async_wait_ms(fd, fst, &c.fl) : -1;
    /* A send timeout no shorter than the dial's own bound can never expire first:
     * the dial then runs here, with the same outcome and no thread. */
    if (c.wait_ms > 0 && (uint32_t)c.wait_ms >= conf_connect_timeout(state.conf, c.dialer))
        c.wait_ms = -1;
    r = bigstack_call(routed_on_bigstack, &c);
    return r < 0 ? ENOMEM : r; /* no stack to dial on: fail closed */
}

/* The kernel's state of TCP socket FD is not CLOSE: a connect can only be answered
 * (EALREADY, EISCONN), it sends nothing to a new destination. */
static bool tcp_busy(int fd)
{
    uint8_t st = TCP_CLOSE;
    socklen_t len = sizeof(st); /* tcpi_state is the first byte of struct tcp_info */

    return sys.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &st, &len) == 0 && len == 1 && st != TCP_CLOSE;
}

/* A connect (or a MSG_FASTOPEN send) on a TCP socket that already has a dialer's
 * options that the kernel may answer as it is: SA routes to the direct dialer
 * whose options the socket carries (a program polling its non-blocking connect),
 * or the socket is not closed (nothing can leave for a new destination). Anything
 * else is routed again. */
HOT_PATH static bool tcp_again(int fd, uint32_t fst, const struct sockaddr *sa, socklen_t len)
{
    int rule, dialer;

    if (!(fst & FD_APPLIED))
        return false;
    if (!(fst & FD_ENGINE) && !fakeip_is_fake(sa, len)) {
        struct dest dst = {.sa = sa, .port = addr_port(sa), .net = NET_TCP};
        dialer = route_pick(state.conf, state.app, &dst, &rule);
        if (dialer == applied_dialer(fst) && state.conf->dialers[dialer].type == DIALER_DIRECT)
            return true;
    }
    return tcp_busy(fd);
}

/* A destination the kernel would refuse as too short: refused here the same way,
 * never handed on unread. */
int refuse_short(const char *call, int fd, const struct sockaddr *sa, socklen_t len)
{
    log_warn("%s[%d] %s fd %d: a destination of family %d and %u bytes is too short: EINVAL",
             state.prog, (int)getpid(), call, fd, sa->sa_family, (unsigned)len);
    errno = EINVAL;
    return -1;
}

HOT_PATH int engine_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    const struct sockaddr *orig = sa;
    struct sockaddr_in6 buf;
    uint32_t fst;
    int err;

    if (!state.active) {
        errno = EACCES; /* a broken configuration, fail_closed */
        return -1;
    }
    if (!(sa = addr_read(orig, len, orig->sa_family, &buf, &len)))
        return refuse_short("connect", fd, orig, len);
    fst = fd_state(fd);
    if (fst & FD_FOREIGN)
        return sys.connect(fd, orig, len);
    if ((fst & FD_KIND_MASK) == FD_OTHER) {
        if ((err = other_route(fd, fst, sa, len, false))) {
            errno = err;
            return -1;
        }
        return sys.connect(fd, sa, len);
    }
    /* Every connect is routed by its own destination (a retry after ECONNREFUSED
     * or connect(AF_UNSPEC) may name another); only the kernel's own answer to a
     * program polling its connect skips the dial. A socket that went through a
     * proxy or a name never does: a retry after a failed detour must not become a
     * direct connection. */
    if ((fst & (FD_PENDING | FD_DIALED)) && (err = pending_connect_again(fd))) {
        errno = err; /* EALREADY, EISCONN, or a background dial's errno once */
        return -1;
    }
    /* DNS over TCP to port 53 under fake_ip: answered here, never connected out */
    if ((fst & FD_KIND_MASK) == FD_TCP && dnswire_connect(fd, sa, len, true, &err)) {
        errno = err;
        return err ? -1 : 0;
    }
    if ((fst & FD_KIND_MASK) == FD_TCP && tcp_again(fd, fst, sa, len))
        return sys.connect(fd, sa, len);
    if (fst & FD_ASSOC)
        relay_forget_peer(fd); /* a new peer: through the relay again only if routed there */
    if ((fst & FD_KIND_MASK) == FD_UDP && dnswire_connect(fd, sa, len, false, &err)) {
        errno = err;
        return err ? -1 : 0;
    }
    if (fst & FD_DNS) {
        dnswire_forget(fd);
        fdtab_and(fd, ~FD_DNS);
    }
    err = decide_and_dial(fd, fst, sa, len);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

/* A TCP Fast Open SYN to TO: route it like a connect, set options, send. Every
 * MSG_FASTOPEN send is routed: on a closed socket it is a connect. (Datagrams take
 * dgram_out.) */
int before_send(int fd, uint32_t fst, int flags, const struct sockaddr *to, socklen_t tolen)
{
    struct dest dst = {.sa = to, .port = addr_port(to), .net = NET_TCP};
    struct dial d = {.conf = state.conf, .fd = fd, .sa = to, .len = tolen, .type = SOCK_STREAM};
    const struct conf_dialer *cd;
    struct timespec t0 = {0, 0};
    int rule, err, maker;

    if ((fst & FD_KIND_MASK) != FD_TCP || !(flags & MSG_FASTOPEN) || tcp_again(fd, fst, to, tolen))
        return 0;
    d.dialer = route_pick(state.conf, state.app, &dst, &rule);
    cd = &state.conf->dialers[d.dialer];
    if (fakeip_is_fake(to, tolen)) {
        err = EACCES;
        dial_refuse(&d, "MSG_FASTOPEN to a name's fake address is not built yet");
    } else if (cd->type != DIALER_DIRECT) {
        err = cd->type == DIALER_BLOCK ? ECONNREFUSED : EACCES;
        dial_refuse(&d, cd->type == DIALER_BLOCK ? "blocked"
                                                 : "MSG_FASTOPEN through a proxy is not built yet");
    } else if (!(err = options_ready(&d, fst, &maker))) {
        if (d.applied)
            return 0; /* this dialer's options are on already */
        if (!(err = default_prepare(&d)))
            applied_mark(fd, maker);
    }
    log_decision(err ? LOG_LVL_WARN : LOG_LVL_INFO, &d, rule, err, &t0);
    return err;
}

int engine_unseen(const char *call, int err)
{
    return other_unseen(call, err);
}
