#include "common/engine.h"

#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/fakeip.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/route.h"
#include "common/state.h"
#include "common/sys.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* Extra fdtab bit: a UDP socket's block was logged (one line per socket, not per datagram). */
#define FD_BLOCK_LOGGED 8u

enum gate engine_gate(int family)
{
    if (family != AF_INET && family != AF_INET6)
        return GATE_PASS;
    if (state.active)
        return GATE_HANDLE;
    return state.broken ? GATE_DENY : GATE_PASS;
}

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

/* The socket's kind: from the table when our socket() made it, else from the kernel. */
static uint32_t fd_state(int fd)
{
    uint32_t v = fdtab_get(fd);
    int type, proto;
    socklen_t len = sizeof(int);

    if (v & FD_KIND_MASK)
        return v;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return FD_OTHER;
    len = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
        proto = 0;
    v = kind_of(type, proto);
    fdtab_set(fd, v);
    return v;
}

int engine_socket(int domain, int type, int protocol)
{
    const struct conf_dialer *d = &state.conf->dialers[state.app_dialer];
    uint32_t kind = kind_of(type, protocol);
    int fd = -1;

    /* MPTCP is chosen when the socket is made, before the destination is known:
     * the app's default dialer decides. Kernels without it get plain TCP. */
    if (kind == FD_TCP && d->tcp_multi_path && protocol != IPPROTO_MPTCP) {
        fd = sys.socket(domain, type, IPPROTO_MPTCP);
        if (fd < 0 && errno != EPROTONOSUPPORT && errno != ENOPROTOOPT && errno != EINVAL)
            return -1;
        if (fd < 0)
            log_debug("%s: MPTCP unavailable (%s), plain TCP", state.prog, strerror(errno));
    }
    if (fd < 0)
        fd = sys.socket(domain, type, protocol);
    if (fd >= 0)
        fdtab_set(fd, kind);
    return fd;
}

int engine_close(int fd)
{
    fdtab_set(fd, FD_UNKNOWN);
    return sys.close(fd);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static const char *app_name(void)
{
    return state.app >= 0 ? state.conf->apps[state.app].name : "(built-in)";
}

/* "p1>p2": the dialers from the first hop to the one the route chose. */
static char *format_chain(const struct conf *c, int dialer, char *buf, size_t cap)
{
    int hops[16], n = 0;
    size_t off = 0;

    for (int i = dialer; i >= 0 && n < 16; i = c->dialers[i].detour)
        hops[n++] = i;
    buf[0] = '\0';
    for (int k = n - 1; k >= 0 && off < cap; k--)
        off += snprintf(buf + off, cap - off, "%s%s", c->dialers[hops[k]].name, k ? ">" : "");
    return buf;
}

/* One line per decision: program, pid, destination, app, rule, chain, result, time. */
static void log_decision(enum log_level l, const struct dial *d, int rule, int err,
                         const struct timespec *t0)
{
    const struct conf *c = state.conf;
    char dst[ADDR_STRLEN], rbuf[160], chain[256];
    const char *why = d->why[0] ? d->why : d->failed;

    if (!log_enabled(l))
        return;
    if (rule >= 0)
        snprintf(rbuf, sizeof(rbuf), "#%d %s", rule + 1, c->apps[state.app].rules[rule].text);
    else
        snprintf(rbuf, sizeof(rbuf), "default");
    log_msg(l, "%s[%d] %s %s%s%s app=%s rule=%s chain=%s result=%s%s%s %.3fms", state.prog,
            (int)getpid(), d->type == SOCK_DGRAM ? "udp" : "tcp",
            addr_format(d->sa, dst, sizeof(dst)), d->host ? " name=" : "", d->host ? d->host : "",
            app_name(), rbuf, format_chain(c, d->dialer, chain, sizeof(chain)),
            err ? strerrorname_np(err) : "ok", why ? " " : "", why ? why : "",
            t0->tv_sec || t0->tv_nsec ? ms_since(t0) : 0.0);
}

/* Route and dial one socket; returns 0 or an errno, logs the decision. */
static int decide_and_dial(int fd, uint32_t fst, const struct sockaddr *sa, socklen_t len)
{
    struct timespec t0 = {0, 0};
    struct dest dst = {
        .sa = sa, .port = addr_port(sa), .net = (fst & FD_KIND_MASK) == FD_UDP ? NET_UDP : NET_TCP};
    struct dial d = {.conf = state.conf,
                     .fd = fd,
                     .sa = sa,
                     .len = len,
                     .type = dst.net == NET_UDP ? SOCK_DGRAM : SOCK_STREAM,
                     .applied = fst & FD_APPLIED};
    char name[FAKEIP_NAME_MAX];
    int rule, err;

    if (log_enabled(LOG_LVL_INFO))
        clock_gettime(CLOCK_MONOTONIC, &t0);
    if (fakeip_is_fake(sa, len)) {
        /* A fake address stands for a name: route by the name, never the address. */
        if (!fakeip_lookup(sa, len, name, sizeof(name))) {
            d.dialer = route_pick(state.conf, state.app, &dst, &rule);
            snprintf(d.why, sizeof(d.why), "fake address with no name (recycled or never given)");
            log_decision(LOG_LVL_WARN, &d, rule, EHOSTUNREACH, &t0);
            return EHOSTUNREACH;
        }
        dst.sa = NULL;
        dst.name = d.host = name;
    }
    d.dialer = route_pick(state.conf, state.app, &dst, &rule);
    err = d.host ? resolve_dial(&d) : dialer_dial(&d);
    d.sa = sa; /* the resolve dialer may have pointed it at its own stack */
    d.host = dst.name;
    if (d.host || state.conf->dialers[d.dialer].type != DIALER_DIRECT)
        fst |= FD_ENGINE;
    fdtab_set(fd, fst | (d.applied ? FD_APPLIED : 0));
    if (err && err != EINPROGRESS) {
        bool quiet =
            state.conf->dialers[d.dialer].type == DIALER_BLOCK && (fdtab_get(fd) & FD_BLOCK_LOGGED);
        log_decision(quiet      ? LOG_LVL_DEBUG
                     : d.failed ? LOG_LVL_WARN
                                : LOG_LVL_INFO,
                     &d, rule, err, &t0);
        if (d.type == SOCK_DGRAM && state.conf->dialers[d.dialer].type == DIALER_BLOCK)
            fdtab_set(fd, fdtab_get(fd) | FD_BLOCK_LOGGED);
    } else if (!(fst & FD_APPLIED)) {
        log_decision(LOG_LVL_INFO, &d, rule, err, &t0);
    }
    return err;
}

int engine_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    uint32_t fst = fd_state(fd);
    int err;

    if ((fst & FD_KIND_MASK) == FD_OTHER)
        return sys.connect(fd, sa, len);
    /* A second connect on a directly dialed TCP socket (polling a non-blocking
     * connect) must reach the kernel as it is: options are already set. A socket
     * that went through a proxy or a name never does: a retry after a failed
     * detour must not become a direct connection. */
    if ((fst & FD_KIND_MASK) == FD_TCP && (fst & FD_APPLIED) && !(fst & FD_ENGINE))
        return sys.connect(fd, sa, len);
    err = decide_and_dial(fd, fst, sa, len);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

/* A datagram (or a TCP Fast Open SYN) to TO: route it, set options once, send. */
static int before_send(int fd, int flags, const struct sockaddr *to, socklen_t tolen)
{
    uint32_t fst = fd_state(fd), kind = fst & FD_KIND_MASK;
    struct timespec t0 = {0, 0};
    int rule, err;

    if (kind == FD_TCP && (flags & MSG_FASTOPEN) && !(fst & FD_APPLIED)) {
        struct dest dst = {.sa = to, .port = addr_port(to), .net = NET_TCP};
        struct dial d = {.conf = state.conf, .fd = fd, .sa = to, .len = tolen, .type = SOCK_STREAM};
        const struct conf_dialer *cd;

        d.dialer = route_pick(state.conf, state.app, &dst, &rule);
        cd = &state.conf->dialers[d.dialer];
        if (cd->type == DIALER_DIRECT) {
            err = default_prepare(&d);
        } else {
            err = cd->type == DIALER_BLOCK ? ECONNREFUSED : EACCES;
            d.failed = cd->type == DIALER_BLOCK ? "blocked"
                                                : "MSG_FASTOPEN through a proxy is not built yet";
        }
        if (!err)
            fdtab_set(fd, fst | FD_APPLIED);
        log_decision(err ? LOG_LVL_WARN : LOG_LVL_INFO, &d, rule, err, &t0);
        return err;
    }
    if (kind != FD_UDP)
        return 0;
    {
        struct dest dst = {.sa = to, .port = addr_port(to), .net = NET_UDP};
        struct dial d = {.conf = state.conf,
                         .fd = fd,
                         .sa = to,
                         .len = tolen,
                         .type = SOCK_DGRAM,
                         .applied = fst & FD_APPLIED};
        const struct conf_dialer *cd;

        d.dialer = route_pick(state.conf, state.app, &dst, &rule);
        cd = &state.conf->dialers[d.dialer];
        if (cd->type == DIALER_DIRECT && d.applied)
            return 0; /* every later datagram: one route lookup, nothing else */
        if (log_enabled(LOG_LVL_INFO))
            clock_gettime(CLOCK_MONOTONIC, &t0);
        if (cd->type == DIALER_DIRECT) {
            err = default_prepare(&d);
            if (!err)
                fdtab_set(fd, fst | FD_APPLIED);
            log_decision(err ? LOG_LVL_WARN : LOG_LVL_INFO, &d, rule, err, &t0);
            return err;
        }
        err = dialer_dial(&d); /* block or a proxy: refuses the datagram, says why */
        log_decision((fst & FD_BLOCK_LOGGED) ? LOG_LVL_DEBUG : LOG_LVL_WARN, &d, rule, err, &t0);
        fdtab_set(fd, fst | FD_BLOCK_LOGGED);
        return err;
    }
}

/* A datagram to a fake address goes to the first address its name resolves to
 * (UDP has nothing to race). Returns 0 with TO and TOLEN replaced, or an errno. */
static int unfake(int fd, const struct sockaddr **to, socklen_t *tolen,
                  struct sockaddr_storage *real)
{
    struct dest dst = {.port = addr_port(*to), .net = NET_UDP};
    struct dns_addr addrs[4];
    char name[FAKEIP_NAME_MAX], why[300];
    int rule, dialer, n;

    if ((fd_state(fd) & FD_KIND_MASK) != FD_UDP)
        return 0;
    if (!fakeip_lookup(*to, *tolen, name, sizeof(name)))
        return EHOSTUNREACH;
    dst.name = name;
    dialer = route_pick(state.conf, state.app, &dst, &rule);
    if (state.conf->dialers[dialer].type != DIALER_DIRECT)
        return 0; /* blocked or proxied: before_send refuses it */
    n = resolve_name(state.conf, dialer, name, addrs, 4, false, why, sizeof(why));
    if (n < 0) {
        log_warn("%s[%d] udp %s: %s", state.prog, (int)getpid(), name, why);
        return -n;
    }
    dns_addr_to_sockaddr(&addrs[0], dst.port, real);
    *to = (const struct sockaddr *)real;
    *tolen = addrs[0].family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    return 0;
}

ssize_t engine_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                      socklen_t tolen)
{
    struct sockaddr_storage real;

    if (fakeip_is_fake(to, tolen)) {
        int err = unfake(fd, &to, &tolen, &real);
        if (err) {
            errno = err;
            return -1;
        }
    }
    if (addr_is_inet(to, tolen)) {
        int err = before_send(fd, flags, to, tolen);
        if (err) {
            errno = err;
            return -1;
        }
    }
    return sys.sendto(fd, buf, n, flags, to, tolen);
}

ssize_t engine_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct sockaddr_storage real;
    struct msghdr copy;

    if (msg && fakeip_is_fake(msg->msg_name, msg->msg_namelen)) {
        const struct sockaddr *to = msg->msg_name;
        socklen_t tolen = msg->msg_namelen;
        int err = unfake(fd, &to, &tolen, &real);
        if (err) {
            errno = err;
            return -1;
        }
        copy = *msg;
        copy.msg_name = (void *)to;
        copy.msg_namelen = tolen;
        msg = &copy;
    }
    if (msg && addr_is_inet(msg->msg_name, msg->msg_namelen)) {
        int err = before_send(fd, flags, msg->msg_name, msg->msg_namelen);
        if (err) {
            errno = err;
            return -1;
        }
    }
    return sys.sendmsg(fd, msg, flags);
}
