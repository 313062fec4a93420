#include "common/other.h"

#include "common/addr.h"
#include "common/applied.h"
#include "common/fakeip.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/route.h"
#include "common/sockopt.h"
#include "common/state.h"
#include "common/sys.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *app_name(void)
{
    return state.app >= 0 ? state.conf->apps[state.app].name : "(built-in)";
}

/* Raw sockets write their own IP headers, SCTP names addresses outside connect
 * and sendmsg: no destination of theirs can be routed one by one. */
static bool unroutable(int type, int protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

    return base == SOCK_RAW || base == SOCK_PACKET || protocol == IPPROTO_SCTP;
}

/* The app's one direct dialer when every dialer it can reach (its own, every
 * rule's) is direct and leaves the socket alike; else -1 and the reason in WHY. */
static int uniform_direct(char *why, size_t cap)
{
    const struct conf *c = state.conf;
    int def = route_app_dialer(c, state.app);

    if (c->dialers[def].type != DIALER_DIRECT) {
        snprintf(why, cap, "the app's dialer %s is not direct", c->dialers[def].name);
        return -1;
    }
    for (int i = 0; state.app >= 0 && i < c->apps[state.app].n_rules; i++) {
        const struct conf_rule *r = &c->apps[state.app].rules[i];
        if (c->dialers[r->dialer].type != DIALER_DIRECT || !applied_same(c, r->dialer, def)) {
            snprintf(why, cap, "rule #%d (%s) leads elsewhere than the app's dialer %s", i + 1,
                     r->text, c->dialers[def].name);
            return -1;
        }
    }
    return def;
}

int other_socket(int domain, int type, int protocol, uint32_t *kind)
{
    const struct conf_dialer *cd;
    const char *failed = NULL;
    char why[400];
    int dialer, fd, err;

    if (!unroutable(type, protocol))
        return sys.socket(domain, type, protocol);
    if ((dialer = uniform_direct(why, sizeof(why))) < 0) {
        err = EACCES;
    } else {
        cd = &state.conf->dialers[dialer];
        if (protocol == IPPROTO_SCTP &&
            (domain == AF_INET ? cd->has_inet4_bind : cd->has_inet6_bind)) {
            snprintf(why, sizeof(why),
                     "dialer %s's source address would take the bind the "
                     "program makes",
                     cd->name);
            err = EACCES;
        } else {
            if ((fd = sys.socket(domain, type, protocol)) < 0)
                return -1;
            err = sockopt_apply(cd, fd, domain, 0, &failed);
            if (!err) {
                *kind |= applied_bits(dialer);
                return fd;
            }
            sys.close(fd);
            snprintf(why, sizeof(why), "%s: %s", failed ? failed : "option", strerror(err));
        }
    }
    log_warn("%s[%d] socket(%s, type %d, protocol %d) app=%s result=%s: a raw or SCTP socket "
             "is made only when every destination goes direct alike; %s",
             state.prog, (int)getpid(), domain == AF_INET ? "AF_INET" : "AF_INET6", type, protocol,
             app_name(), strerrorname_np(err), why);
    errno = err;
    return -1;
}

int other_unseen(const char *call, int err)
{
    char why[400];
    int dialer = uniform_direct(why, sizeof(why));

    if (dialer >= 0 && applied_none(state.conf, dialer))
        return 0;
    if (dialer >= 0)
        snprintf(why, sizeof(why), "dialer %s sets socket options this call would skip",
                 state.conf->dialers[dialer].name);
    log_warn("%s[%d] %s app=%s result=%s: its connects and lookups pass no hook, so it is "
             "let through only when every destination goes direct with no options; %s",
             state.prog, (int)getpid(), call, app_name(), strerrorname_np(err), why);
    return err;
}

/* The socket's type (SOCK_DGRAM, SOCK_RAW, ...) and protocol, from the kernel. */
static void type_of(int fd, int *type, int *proto)
{
    socklen_t len = sizeof(int);

    *type = *proto = 0;
    sys.getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len);
    len = sizeof(int);
    sys.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, proto, &len);
}

int other_route(int fd, uint32_t fst, const struct sockaddr *sa, socklen_t len, bool send)
{
    const struct conf *c = state.conf;
    const struct conf_dialer *cd;
    const char *why = NULL;
    char dst_s[ADDR_STRLEN], rbuf[160];
    int type, proto, rule, dialer, err = 0;
    struct dest dst = {.sa = sa, .port = addr_port(sa)};
    enum applied_need need;

    type_of(fd, &type, &proto);
    /* network: rules see datagram kinds as udp, connection kinds (SCTP, DCCP) as tcp */
    dst.net = type == SOCK_DGRAM || type == SOCK_RAW ? NET_UDP : NET_TCP;
    dialer = route_pick(c, state.app, &dst, &rule);
    cd = &c->dialers[dialer];
    if (fakeip_is_fake(sa, len))
        why = "a name's fake address: only TCP and UDP reach names";
    else if (cd->type != DIALER_DIRECT)
        why = cd->type == DIALER_BLOCK ? "blocked" : "no proxy carries this protocol";
    else if (dst.net == NET_UDP && conf_udp_mode(cd) == UDP_BLOCK)
        why = "datagrams blocked by the direct dialer (udp = block)";
    else if ((need = applied_need(c, fst, dialer)) == APPLIED_READY)
        return 0;
    else if (need == APPLIED_CLASH)
        why = "the socket carries another dialer's options, which this one's cannot replace";
    else if (!(err =
                   sockopt_apply(cd, fd, sa->sa_family, type == SOCK_DGRAM ? SOCK_DGRAM : 0, &why)))
        applied_mark(fd, dialer);
    if (why && !err)
        err = send ? EPERM : EACCES;
    if (rule >= 0)
        snprintf(rbuf, sizeof(rbuf), "#%d %s", rule + 1, c->apps[state.app].rules[rule].text);
    else
        snprintf(rbuf, sizeof(rbuf), "default");
    if ((!err || !send || !(fst & FD_BLOCK_LOGGED)) &&
        log_enabled(err ? LOG_LVL_WARN : LOG_LVL_INFO))
        log_msg(err ? LOG_LVL_WARN : LOG_LVL_INFO,
                "%s[%d] type=%d proto=%d %s app=%s rule=%s chain=%s result=%s%s%s", state.prog,
                (int)getpid(), type, proto, addr_format(sa, dst_s, sizeof(dst_s)), app_name(), rbuf,
                cd->name, err ? strerrorname_np(err) : "ok", why ? " " : "", why ? why : "");
    if (err && send)
        fdtab_or(fd, FD_BLOCK_LOGGED);
    return err;
}
