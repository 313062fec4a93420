#include "common/lookup.h"

#include "common/bigstack.h"
#include "common/dialer/dialer.h"
#include "common/state.h"
#include "common/fakeip.h"
#include "common/localhost.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/strategy.h"
#include "common/v4mapped.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool is_proxy(const struct conf_dialer *d)
{
    return d->type == DIALER_SOCKS5 || d->type == DIALER_SOCKS4 || d->type == DIALER_HTTP ||
           d->type == DIALER_GROUP;
}

/* A proxy that gets names: no name it is sent may be resolved here. */
static bool remote_dns(const struct conf_dialer *d)
{
    return is_proxy(d) && conf_remote_dns(d);
}

/* The resolver's mode; unset (and the built-in resolver): fake_ip for a proxy
 * that resolves names itself, real otherwise (dialshim.ini(5) mode). */
static enum resolver_mode mode_of(const struct conf *c, const struct conf_dialer *d)
{
    const struct conf_resolver *r =
        d->domain_resolver >= 0 ? dns_resolver(c, d->domain_resolver) : NULL;

    if (r && r->mode != RESOLVER_MODE_UNSET)
        return r->mode;
    return is_proxy(d) && conf_remote_dns(d) ? RESOLVER_MODE_FAKE_IP : RESOLVER_MODE_REAL;
}

static void map_v4(struct dns_addr *a)
{
    v4mapped(a->addr, a->addr);
    a->family = AF_INET6;
    a->scope_id = 0;
}

/* The strategy's list IN[0..N) cut to what the query takes, into OUT->addrs:
 * AI_V4MAPPED maps IPv4 (all of it with AI_ALL, else only when there is no IPv6). */
static void fit_family(const struct query *q, const struct dns_addr *in, size_t n,
                       struct answer *out)
{
    bool any6 = false;

    for (size_t i = 0; i < n; i++)
        any6 |= in[i].family == AF_INET6;
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        struct dns_addr a = in[i];
        if (q->family == AF_INET6 && q->v4mapped && a.family == AF_INET && (q->all || !any6))
            map_v4(&a);
        if (q->family == AF_UNSPEC || a.family == q->family)
            out->addrs[out->n++] = a;
    }
}

/* The family to ask the resolver for, or -1 when the strategy rules them all out. */
static int query_family(const struct query *q, enum strategy s)
{
    int want = q->family == AF_INET6 && q->v4mapped ? AF_UNSPEC : q->family;
    return strategy_query_family(s, want);
}

/* An answer of real addresses, filtered and ordered by the strategy. */
static int take_real(const struct query *q, const struct dns_answer *ans, struct answer *out)
{
    struct dns_addr sorted[DNS_MAX_ADDRS];
    size_t n = strategy_apply(out->strategy, ans->addrs, ans->n, sorted, DNS_MAX_ADDRS);

    fit_family(q, sorted, n, out);
    snprintf(out->canon, sizeof(out->canon), "%s", ans->canonname[0] ? ans->canonname : q->name);
    out->source = dns_source_name(ans->source);
    if (out->n == 0) {
        out->why = "no address of the family asked for";
        return EAI_NONAME;
    }
    return 0;
}

static int resolve_real(const struct query *q, struct answer *out)
{
    struct dns_answer ans;
    int family = query_family(q, out->strategy), rc;

    if (family < 0) {
        out->why = "the strategy allows no family asked for";
        return EAI_NONAME;
    }
    rc = dns_lookup_via(state.conf, out->resolver, conf_dns_dialer(state.conf, out->dialer),
                        q->name, family, &ans);
    if (rc) {
        out->source = dns_source_name(ans.source);
        return rc;
    }
    return take_real(q, &ans, out);
}

/* Adds the fake address of FAMILY (and sets *ADDED); adds nothing when the
 * family has no range. 0, or an EAI code for a bad name or no memory. */
static int add_fake(const char *name, int family, struct answer *out, bool *added)
{
    struct dns_addr *a = &out->addrs[out->n];
    int err;

    memset(a, 0, sizeof(*a));
    err = fakeip_for_name(name, family, a->addr);
    if (err == EAFNOSUPPORT)
        return 0;
    /* No memory, or every address held: fail the name (fakeip logged why); a
     * real lookup instead would send it to the local resolver. */
    if (err == ENOMEM)
        return EAI_MEMORY;
    if (err == EAGAIN)
        return EAI_AGAIN;
    if (err)
        return EAI_NONAME;
    a->family = family;
    out->n++;
    *added = true;
    return 0;
}

/* The fake families a query gets, in order: IPv6 first for an AF_INET6 query
 * (mapped IPv4 is its fallback) or under prefer_ipv6, else IPv4 first. */
static int fake_families(const struct query *q, enum strategy s, int fam[2])
{
    bool v4 = s != STRATEGY_IPV6_ONLY && (q->family != AF_INET6 || q->v4mapped);
    bool v6 = s != STRATEGY_IPV4_ONLY && q->family != AF_INET;
    bool six_first = q->family == AF_INET6 || s == STRATEGY_PREFER_IPV6;
    int n = 0;

    if (v6 && six_first)
        fam[n++] = AF_INET6;
    if (v4)
        fam[n++] = AF_INET;
    if (v6 && !six_first)
        fam[n++] = AF_INET6;
    return n;
}

/* Addresses from the fake range that stand for the name. Names in the
 * resolver's hosts file keep their real addresses. A
 * family without a usable range is left out; with none at all, the name is
 * resolved for real (a fake address nobody can map back helps no one). */
static int resolve_fake(const struct query *q, struct answer *out)
{
    struct dns_answer ans;
    int fam[2], nfam, family = query_family(q, out->strategy), rc;
    bool added = false;

    if (family >= 0 && dns_lookup_local(state.conf, out->resolver, q->name, family, &ans) == 0)
        return take_real(q, &ans, out);
    nfam = fake_families(q, out->strategy, fam);
    if (nfam == 0) {
        out->why = "the strategy allows no family asked for";
        return EAI_NONAME;
    }
    out->n = 0;
    for (int i = 0; i < nfam; i++) {
        size_t before = out->n;
        /* AI_V4MAPPED without AI_ALL: IPv4 only when IPv6 gave nothing. */
        if (fam[i] == AF_INET && q->family == AF_INET6 && !q->all && added)
            break;
        if ((rc = add_fake(q->name, fam[i], out, &added)) != 0) {
            out->why = rc == EAI_MEMORY  ? "no memory for the fake-ip table; not resolved"
                       : rc == EAI_AGAIN ? "every fake address is pinned or in quarantine"
                                         : NULL;
            return rc;
        }
        if (fam[i] == AF_INET && q->family == AF_INET6 && out->n > before)
            map_v4(&out->addrs[before]);
    }
    if (!added && remote_dns(&state.conf->dialers[out->dialer])) {
        out->why = "no fake range for the family; the proxy resolves names";
        return EAI_NONAME;
    }
    if (!added) {
        out->mode = RESOLVER_MODE_REAL;
        out->why = "no fake range for the family; resolved";
        return resolve_real(q, out);
    }
    snprintf(out->canon, sizeof(out->canon), "%s", q->name);
    out->source = "fake";
    return 0;
}

#define LOG_ADDRS 8 /* addresses shown in a log line; the rest are counted */

static const char *eai_name(int rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case EAI_NONAME:
        return "EAI_NONAME";
    case EAI_AGAIN:
        return "EAI_AGAIN";
    case EAI_FAIL:
        return "EAI_FAIL";
    case EAI_FAMILY:
        return "EAI_FAMILY";
    case EAI_ADDRFAMILY:
        return "EAI_ADDRFAMILY";
    case EAI_MEMORY:
        return "EAI_MEMORY";
    case EAI_SYSTEM:
        return "EAI_SYSTEM";
    case EAI_SERVICE:
        return "EAI_SERVICE";
    case EAI_SOCKTYPE:
        return "EAI_SOCKTYPE";
    case EAI_BADFLAGS:
        return "EAI_BADFLAGS";
    default:
        return "EAI_?";
    }
}

/* "203.0.113.2,2001:db8:f::2" (at most LOG_ADDRS, then "+N"). */
static const char *format_addrs(const struct answer *a, char *buf, size_t cap)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < a->n && i < LOG_ADDRS && off < cap; i++) {
        char one[INET6_ADDRSTRLEN];
        inet_ntop(a->addrs[i].family, a->addrs[i].addr, one, sizeof(one));
        off += snprintf(buf + off, cap - off, "%s%s", i ? "," : "", one);
    }
    if (a->n > LOG_ADDRS && off < cap)
        snprintf(buf + off, cap - off, ",+%zu", a->n - LOG_ADDRS);
    return buf;
}

/* "ok ADDRS from SOURCE" or "EAI_X [from SOURCE] [strerror]", then the reason. */
static const char *format_result(const struct answer *a, int rc, int err, char *buf, size_t cap)
{
    char addrs[LOG_ADDRS * (INET6_ADDRSTRLEN + 1) + 16];
    size_t off = (size_t)snprintf(buf, cap, "%s", eai_name(rc));

    if (!rc && off < cap)
        off += (size_t)snprintf(buf + off, cap - off, " %s", format_addrs(a, addrs, sizeof(addrs)));
    if (a->source && off < cap)
        off += (size_t)snprintf(buf + off, cap - off, " from %s", a->source);
    if (rc == EAI_SYSTEM && off < cap)
        off += (size_t)snprintf(buf + off, cap - off, " %s", strerror(err));
    if (a->why && off < cap)
        snprintf(buf + off, cap - off, " (%s)", a->why);
    return buf;
}

static int app_of(const struct query *q)
{
    return q->as_app ? q->app : state.app;
}

/* One line per routed lookup: program, pid, call, name, app, rule, dialer,
 * resolver, mode, strategy, result, time. */
static void log_lookup(const struct query *q, const struct answer *a, int rc,
                       const struct timespec *t0)
{
    const struct conf *c = state.conf;
    const struct conf_resolver *r = dns_resolver(c, a->resolver);
    char rule[160], result[512];
    int err = errno, app = app_of(q);

    if (!log_enabled(LOG_LVL_INFO))
        return;
    if (a->rule >= 0)
        snprintf(rule, sizeof(rule), "#%d %s", a->rule + 1, c->apps[app].rules[a->rule].text);
    else
        snprintf(rule, sizeof(rule), "default");
    format_result(a, rc, err, result, sizeof(result));
    if (log_format_now == LOG_FORMAT_JSON) {
        const struct log_kv kv[] = {
            LOG_KV_STR("prog", state.prog),
            LOG_KV_INT("pid", getpid()),
            LOG_KV_STR("call", q->call),
            LOG_KV_STR("name", q->name),
            LOG_KV_STR("app", app >= 0 ? c->apps[app].name : "(built-in)"),
            LOG_KV_STR("rule", rule),
            LOG_KV_STR("dialer", c->dialers[a->dialer].name),
            LOG_KV_STR("resolver", r ? r->name : "?"),
            LOG_KV_STR("mode", a->mode == RESOLVER_MODE_FAKE_IP ? "fake_ip" : "real"),
            LOG_KV_STR("strategy", conf_strategy_name(a->strategy)),
            LOG_KV_STR("result", result),
            LOG_KV_MS("ms", monotime_ms_since(t0))};
        log_kv(LOG_LVL_INFO, kv, (int)(sizeof(kv) / sizeof(kv[0])));
    } else {
        log_msg(LOG_LVL_INFO,
                "%s[%d] %s %s app=%s rule=%s dialer=%s resolver=%s mode=%s strategy=%s "
                "result=%s %.3fms",
                state.prog, (int)getpid(), q->call, q->name,
                app >= 0 ? c->apps[app].name : "(built-in)", rule, c->dialers[a->dialer].name,
                r ? r->name : "?", a->mode == RESOLVER_MODE_FAKE_IP ? "fake_ip" : "real",
                conf_strategy_name(a->strategy), result, monotime_ms_since(t0));
    }
    errno = err;
}

/* Loopback for localhost, whatever the route: no resolver, no strategy. */
static int resolve_localhost(const struct query *q, struct answer *out)
{
    struct dns_answer ans;
    int family = q->family == AF_INET6 && q->v4mapped ? AF_UNSPEC : q->family;
    int rc = dns_lookup_local(NULL, -1, q->name, family, &ans);

    out->strategy = STRATEGY_AS_IS;
    if (rc == 0)
        rc = take_real(q, &ans, out);
    log_debug("%s[%d] %s %s: %s, %zu loopback address(es)", state.prog, (int)getpid(), q->call,
              q->name, eai_name(rc), out->n);
    return rc;
}

/* The route for the name, then its dialer's resolver in its mode. Returns 0
 * (OUT->n >= 1) or an EAI_* code; logs one line either way. */
static int resolve_here(const struct query *q, struct answer *out)
{
    const struct conf *c = state.conf;
    struct dest d = {.name = q->name, .port = q->port, .net = q->net};
    const struct conf_dialer *cd;
    struct timespec t0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (is_localhost(q->name))
        return resolve_localhost(q, out);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    out->dialer = route_pick(c, app_of(q), &d, &out->rule);
    cd = &c->dialers[out->dialer];
    out->resolver = cd->domain_resolver;
    out->strategy = resolve_strategy(c, out->dialer);
    out->mode = mode_of(c, cd);
    if (cd->type == DIALER_BLOCK) {
        /* Not "unknown": the name exists, the configuration refuses it. */
        out->why = "blocked";
        out->blocked = true;
        rc = EAI_FAIL;
    } else if (out->mode == RESOLVER_MODE_FAKE_IP) {
        rc = resolve_fake(q, out);
    } else {
        rc = resolve_real(q, out);
    }
    if (rc)
        out->n = 0;
    log_lookup(q, out, rc, &t0);
    return rc;
}

static enum netdb_way way_of(const struct dest *d, bool *remote)
{
    const struct conf *c = state.conf;
    int rule;

    *remote = false;
    switch (state_gate(AF_INET)) {
    case GATE_PASS:
        return NETDB_OFF;
    case GATE_DENY:
        return NETDB_DENY;
    default:
        break;
    }
    return netdb_dialer_way(c, route_pick(c, state.app, d, &rule), remote);
}

enum netdb_way netdb_dialer_way(const struct conf *c, int dialer, bool *remote)
{
    const struct conf_dialer *cd = &c->dialers[dialer];

    *remote = remote_dns(cd);
    if (cd->type == DIALER_BLOCK)
        return NETDB_BLOCK;
    return mode_of(c, cd) == RESOLVER_MODE_FAKE_IP ? NETDB_FAKE : NETDB_REAL;
}

enum netdb_way netdb_name_way(const char *name, uint16_t port, bool udp, bool *remote_dns)
{
    struct dest d = {.name = name, .port = port, .net = udp ? NET_UDP : NET_TCP};
    return way_of(&d, remote_dns);
}

enum netdb_way netdb_addr_way(const struct sockaddr *sa, socklen_t len, bool *remote_dns)
{
    struct dest d = {.sa = sa, .net = NET_TCP};

    if (!sa || len < (socklen_t)sizeof(struct sockaddr_in) ||
        (sa->sa_family == AF_INET6 && len < (socklen_t)sizeof(struct sockaddr_in6)))
        d.sa = NULL; /* the real call reports the bad address */
    else
        d.port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    return way_of(&d, remote_dns);
}

struct resolve_call {
    const struct query *q;
    struct answer *out;
    int rc;
};

static int resolve_on_bigstack(void *arg)
{
    struct resolve_call *c = arg;

    c->rc = resolve_here(c->q, c->out);
    return 0;
}

/* A lookup runs on a stack of its own (common/bigstack.h): the route, the cache,
 * c-ares and the log line, so a program's thread with a small stack pays only
 * for the hook. */
int lookup_resolve(const struct query *q, struct answer *out)
{
    struct resolve_call c = {.q = q, .out = out};

    if (bigstack_call(resolve_on_bigstack, &c) < 0) {
        memset(out, 0, sizeof(*out));
        return EAI_MEMORY; /* no stack to resolve on: no answer, never a local one */
    }
    return c.rc;
}

int netdb_lookup(const char *call, const char *name, int family, struct dns_addr *out, size_t *n)
{
    return netdb_lookup_app(call, name, family, state.app, out, n);
}

int netdb_lookup_app(const char *call, const char *name, int family, int app, struct dns_addr *out,
                     size_t *n)
{
    return netdb_lookup_capped(call, name, family, app, out, DNS_MAX_ADDRS, n);
}

int netdb_lookup_capped(const char *call, const char *name, int family, int app,
                        struct dns_addr *out, size_t cap, size_t *n)
{
    struct query q = {
        .call = call, .name = name, .family = family, .net = NET_TCP, .as_app = true, .app = app};
    struct answer a;
    int rc = lookup_resolve(&q, &a);

    *n = rc ? 0 : a.n < cap ? a.n : cap;
    memcpy(out, a.addrs, *n * sizeof(*out));
    return rc;
}

bool lookup_no_ptr(const char *call, const struct sockaddr *sa, socklen_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    bool remote;

    if (netdb_addr_way(sa, len, &remote) == NETDB_OFF || !remote)
        return false;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
    log_info("%s[%d] %s %s: no PTR query, the route's proxy resolves names (remote_dns)",
             state.prog, (int)getpid(), call, ip);
    return true;
}

bool lookup_no_ptr_addr(const char *call, const void *addr, socklen_t len, int type)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (addr && type == AF_INET && len == 4) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
    } else if (addr && type == AF_INET6 && len == 16) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
    } else {
        return false; /* the real call reports the bad argument */
    }
    return lookup_no_ptr(call, (struct sockaddr *)&ss, sizeof(ss));
}
