#include "common/dialer/dialer.h"

#include "common/addr.h"
#include "common/reentry.h"
#include "common/hotpath.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* A literal address over the dialer's interfaces (network_strategy). */
static int interface_dial(struct dial *d)
{
    struct dns_addr a = {.family = d->sa->sa_family};

    if (a.family == AF_INET) {
        memcpy(a.addr, &((const struct sockaddr_in *)d->sa)->sin_addr, 4);
    } else {
        memcpy(a.addr, &((const struct sockaddr_in6 *)d->sa)->sin6_addr, 16);
        a.scope_id = ((const struct sockaddr_in6 *)d->sa)->sin6_scope_id;
    }
    return happy_dial(d, &a, 1, addr_port(d->sa), conf_connect_timeout(d->conf, d->dialer));
}

/* Inside another call of the same thread (common/reentry.h) only what takes no
 * lock and allocates nothing: a direct dial over one path, or a block. */
static bool nested_refused(struct dial *d, const struct conf_dialer *cd)
{
    if (!reentry_nested() || cd->type == DIALER_BLOCK ||
        (cd->type == DIALER_DIRECT && (d->type == SOCK_DGRAM || !parallel_wanted(cd))))
        return false;
    dial_refuse(d, cd->type == DIALER_DIRECT
                       ? "a race across interfaces cannot run inside another call of the thread "
                         "(a signal handler)"
                       : "a proxy cannot be dialed inside another call of the thread (a signal "
                         "handler): its locks may be held by the call it interrupted");
    return true;
}

HOT_PATH int dialer_dial(struct dial *d)
{
    const struct conf_dialer *cd = &d->conf->dialers[d->dialer];

    if (nested_refused(d, cd))
        return EACCES;
    switch (cd->type) {
    case DIALER_DIRECT:
        if (d->type == SOCK_DGRAM && conf_udp_mode(cd) == UDP_BLOCK) {
            dial_refuse(d, "UDP blocked by the direct dialer (udp = block)");
            return EPERM;
        }
        if (d->type == SOCK_STREAM && parallel_wanted(cd))
            return interface_dial(d);
        /* The fast path: only a connect_timeout the user set bounds it. */
        return default_dial(d, cd->connect_timeout_ms);
    case DIALER_BLOCK:
        dial_refuse(d, "blocked");
        return d->type == SOCK_DGRAM ? EPERM : ECONNREFUSED;
    case DIALER_SOCKS5:
    case DIALER_SOCKS4:
    case DIALER_HTTP:
    case DIALER_GROUP:
        if (d->type == SOCK_DGRAM) {
            /* By SOCKS5 UDP ASSOCIATE, or refused (EPERM): a datagram meant for a
             * proxy never leaves directly. */
            int err = associate_dial(d);
            if (err)
                dial_refuse(d, "UDP ASSOCIATE failed");
            return err;
        }
        return detour_dial(d, conf_connect_timeout(d->conf, d->dialer));
    }
    dial_refuse(d, "unknown dialer type");
    return EACCES;
}

bool dialer_may_defer(const struct conf *c)
{
    for (int i = 0; i < c->n_resolvers; i++)
        if (c->resolvers[i].mode == RESOLVER_MODE_FAKE_IP)
            return true; /* fake addresses: dialed by name, in the background */
    for (int i = 0; i < c->n_dialers; i++) {
        const struct conf_dialer *cd = &c->dialers[i];
        if (cd->type != DIALER_BLOCK &&
            (cd->type != DIALER_DIRECT || cd->netns[0] || parallel_wanted(cd)))
            return true;
    }
    return false;
}
