/* ResolveDialer: a connect to a fake address, which stands for a name.
 *
 * The name goes to the proxy as a name when the dialer is a proxy with
 * remote_dns; otherwise it is resolved with the dialer's resolver and strategy,
 * and TCP races the addresses (Happy Eyeballs) while UDP takes the first. */
#include "common/dialer/dialer.h"

#include "common/addr.h"
#include "common/dns.h"
#include "common/log.h"
#include "common/strategy.h"
#include "common/reentry.h"
#include "common/sys.h"
#include "common/v4mapped.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

enum strategy resolve_strategy(const struct conf *c, int dialer)
{
    const struct conf_dialer *cd = &c->dialers[dialer];
    const struct conf_resolver *r = dns_resolver(c, cd->domain_resolver);

    if (cd->domain_strategy != STRATEGY_UNSET)
        return cd->domain_strategy;
    return r && r->strategy != STRATEGY_UNSET ? r->strategy : STRATEGY_AS_IS;
}

/* connect(2) has no EAI_*: a name that does not resolve is an unreachable host,
 * a resolver that does not answer a timeout. */
static int eai_to_errno(int eai)
{
    switch (eai) {
    case EAI_AGAIN:
        return ETIMEDOUT;
    case EAI_SYSTEM:
        return errno ? errno : EHOSTUNREACH;
    default:
        return EHOSTUNREACH;
    }
}

int resolve_name(const struct conf *c, int dialer, const char *name, struct dns_addr *out, int cap,
                 bool race_order, char *why, size_t whycap)
{
    enum strategy s = resolve_strategy(c, dialer);
    int family = strategy_query_family(s, AF_UNSPEC), eai;
    struct dns_answer ans;
    size_t n;

    if (family < 0) {
        snprintf(why, whycap, "%s: the strategy %s allows no address family", name,
                 conf_strategy_name(s));
        return -EHOSTUNREACH;
    }
    eai = dns_lookup_via(c, c->dialers[dialer].domain_resolver, conf_dns_dialer(c, dialer), name,
                         family, &ans);
    if (eai) {
        snprintf(why, whycap, "%s: %s", name, gai_strerror(eai));
        return -eai_to_errno(eai);
    }
    n = race_order ? strategy_happy_eyeballs(s, ans.addrs, ans.n, out, cap)
                   : strategy_apply(s, ans.addrs, ans.n, out, cap);
    if (n == 0) {
        snprintf(why, whycap, "%s: no address allowed by strategy %s", name, conf_strategy_name(s));
        return -EHOSTUNREACH;
    }
    return (int)n;
}

/* The first address the program's socket can carry (an IPv6 socket takes IPv4
 * IPv4-mapped). A proxy only names the address, so any will do there. */
static int pick_for_socket(const struct dial *d, const struct dns_addr *a, int n, uint16_t port,
                           struct sockaddr_storage *ss)
{
    struct sockaddr_storage own;
    socklen_t len = sizeof(own);
    bool proxy = d->conf->dialers[d->dialer].type != DIALER_DIRECT;
    int family = sys.getsockname(d->fd, (struct sockaddr *)&own, &len) == 0 ? own.ss_family : 0;

    for (int i = 0; i < n; i++) {
        if (proxy || a[i].family == family) {
            dns_addr_to_sockaddr(&a[i], port, ss);
            return 0;
        }
    }
    for (int i = 0; i < n && family == AF_INET6; i++) {
        if (a[i].family == AF_INET) {
            v4mapped_sockaddr((struct sockaddr_in6 *)ss, a[i].addr, htons(port));
            return 0;
        }
    }
    return -1;
}

/* Dials SS in D's place. D->sa, D->len and D->host are the caller's again on
 * return: SS lives on this function's stack and must not outlive the call. */
static int dial_resolved(struct dial *d, const struct sockaddr_storage *ss)
{
    const struct sockaddr *sa = d->sa;
    socklen_t len = d->len;
    const char *host = d->host;
    int err;

    d->sa = (const struct sockaddr *)ss;
    d->len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    d->host = NULL;
    err = dialer_dial(d);
    d->sa = sa;
    d->len = len;
    d->host = host;
    return err;
}

int resolve_dial(struct dial *d)
{
    const struct conf *c = d->conf;
    const struct conf_dialer *cd = &c->dialers[d->dialer];
    uint32_t timeout = conf_connect_timeout(c, d->dialer);
    uint16_t port = addr_port(d->sa);
    struct dns_addr addrs[DNS_MAX_ADDRS];
    struct sockaddr_storage ss;
    int n;

    if (cd->type == DIALER_BLOCK || (cd->type != DIALER_DIRECT && conf_remote_dns(cd)))
        return dialer_dial(d); /* blocked, or the proxy resolves the name */
    if (reentry_nested()) {
        dial_refuse(d, "a name cannot be resolved inside another call of the thread (a signal "
                       "handler): the resolver's locks may be held by the call it interrupted");
        return EACCES;
    }
    n = resolve_name(c, d->dialer, d->host, addrs, DNS_MAX_ADDRS, d->type == SOCK_STREAM, d->why,
                     sizeof(d->why));
    if (n < 0)
        return -n;
    if (cd->type == DIALER_DIRECT && d->type == SOCK_STREAM)
        return happy_dial(d, addrs, n, port, timeout);
    /* A proxy resolving nothing itself, or UDP: the first usable address. */
    if (pick_for_socket(d, addrs, n, port, &ss) < 0) {
        snprintf(d->why, sizeof(d->why), "%s: no address of the socket's family", d->host);
        return EAFNOSUPPORT;
    }
    return dial_resolved(d, &ss);
}
