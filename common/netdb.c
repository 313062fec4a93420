#include "common/netdb.h"

#include "common/dialer/dialer.h"
#include "common/dns.h"
#include "common/engine.h"
#include "common/fakeip.h"
#include "common/log.h"
#include "common/resq.h"
#include "common/route.h"
#include "common/state.h"
#include "common/strategy.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

/* glibc 2.36 accepts these and nothing else (0x300: the old AI_IDN flags). */
#define KNOWN_FLAGS                                                                                \
    (AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL |           \
     AI_NUMERICSERV | AI_IDN | AI_CANONIDN | 0x300)

#define MAX_TUPLES  8    /* socktype/protocol/port combinations per address */
#define HOSTENT_BUF 2048 /* thread-local room of gethostbyname*: 32 IPv6 addresses and names */
#define LOG_ADDRS   8    /* addresses shown in a log line; the rest are counted */

/* ------------------------------------------------------------------ our lists */

/* The heads of the lists made here and not yet freed: an open-addressing set
 * (linear probing, backward-shift deletion), so freeaddrinfo can tell ours from
 * glibc's by the pointer value alone, without reading a byte of the list. */
static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *own_slot;
static size_t own_cap, own_n; /* own_cap: 0 or a power of two */
static pthread_once_t own_once = PTHREAD_ONCE_INIT;

static void own_register_atfork(void)
{
    pthread_atfork(netdb_atfork_prepare, netdb_atfork_parent, netdb_atfork_child);
}

static size_t own_hash(uintptr_t p)
{
    return (size_t)(((uint64_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 20);
}

/* Under own_lock. */
static void own_put(uintptr_t *slot, size_t cap, uintptr_t p)
{
    size_t i = own_hash(p) & (cap - 1);

    while (slot[i])
        i = (i + 1) & (cap - 1);
    slot[i] = p;
}

/* Under own_lock: room for one more at a load of at most one half. */
static bool own_grow(void)
{
    size_t cap = own_cap ? own_cap * 2 : 64;
    uintptr_t *slot;

    if ((own_n + 1) * 2 <= own_cap)
        return true;
    slot = calloc(cap, sizeof(*slot));
    if (!slot)
        return false;
    for (size_t i = 0; i < own_cap; i++)
        if (own_slot[i])
            own_put(slot, cap, own_slot[i]);
    free(own_slot);
    own_slot = slot;
    own_cap = cap;
    return true;
}

/* Under own_lock: the slot of P, or own_cap. */
static size_t own_find(uintptr_t p)
{
    if (!own_cap)
        return 0;
    for (size_t i = own_hash(p) & (own_cap - 1); own_slot[i]; i = (i + 1) & (own_cap - 1))
        if (own_slot[i] == p)
            return i;
    return own_cap;
}

/* A head may already be there when a list of ours was freed through glibc's own
 * freeaddrinfo (the layouts agree) and malloc handed the block back to us. */
static bool own_add(const struct addrinfo *ai)
{
    bool ok = true;

    pthread_once(&own_once, own_register_atfork);
    pthread_mutex_lock(&own_lock);
    if (own_find((uintptr_t)ai) == own_cap) {
        ok = own_grow();
        if (ok) {
            own_put(own_slot, own_cap, (uintptr_t)ai);
            own_n++;
        }
    }
    pthread_mutex_unlock(&own_lock);
    return ok;
}

/* Under own_lock: empties slot I and moves later entries of its probe run back,
 * so every remaining entry stays reachable from its home slot. */
static void own_remove_at(size_t i)
{
    size_t mask = own_cap - 1, j = i;

    own_slot[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!own_slot[j])
            break;
        size_t home = own_hash(own_slot[j]) & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            own_slot[i] = own_slot[j];
            own_slot[j] = 0;
            i = j;
        }
    }
    own_n--;
}

/* True (and forgotten) when AI heads a list made here. */
static bool own_take(const struct addrinfo *ai)
{
    bool mine = false;

    pthread_mutex_lock(&own_lock);
    size_t i = own_find((uintptr_t)ai);
    if (i < own_cap) {
        own_remove_at(i);
        mine = true;
    }
    pthread_mutex_unlock(&own_lock);
    return mine;
}

bool netdb_owns(const struct addrinfo *res)
{
    pthread_mutex_lock(&own_lock);
    bool mine = own_find((uintptr_t)res) < own_cap;
    pthread_mutex_unlock(&own_lock);
    return mine;
}

void netdb_atfork_prepare(void)
{
    pthread_mutex_lock(&own_lock);
}

void netdb_atfork_parent(void)
{
    pthread_mutex_unlock(&own_lock);
}

/* The child keeps the set (its lists are still ours to free) with a fresh lock. */
void netdb_atfork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&own_lock, &fresh, sizeof(own_lock));
}

static void free_list(struct addrinfo *ai)
{
    while (ai) {
        struct addrinfo *next = ai->ai_next;
        free(ai->ai_canonname);
        free(ai);
        ai = next;
    }
}

void netdb_freeaddrinfo(struct addrinfo *res)
{
    if (!res)
        return;
    if (own_take(res))
        free_list(res);
    else
        sys.freeaddrinfo(res);
}

/* ------------------------------------------------------------------ names */

/* `localhost` and the names below it (RFC 6761 6.3): loopback, answered here.
 * Not by glibc, which asks DNS when /etc/hosts lacks the family (or the name
 * has a trailing dot). */
static bool is_localhost(const char *name)
{
    static const char lh[] = "localhost";
    size_t n = strlen(name), l = sizeof(lh) - 1;

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n < l || strncasecmp(name + n - l, lh, l) != 0)
        return false;
    return n == l || name[n - l - 1] == '.';
}

/* A numeric host as glibc reads one: every inet_aton form, or IPv6 with an
 * optional "%scope". */
static bool is_numeric(const char *name)
{
    char buf[INET6_ADDRSTRLEN];
    struct in_addr a4;
    struct in6_addr a6;
    size_t len = strcspn(name, "%");

    if (inet_aton(name, &a4))
        return true;
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, name, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, &a6) == 1;
}

/* What the real getaddrinfo answers without any network I/O: no node, or digits. */
static bool answered_by_libc(const char *node, int flags)
{
    return !node || (flags & AI_NUMERICHOST) || is_numeric(node);
}

/* ------------------------------------------------------------------ services */

/* glibc's gaih_inet_typeproto table: which socket types a lookup yields. */
struct typeproto {
    int socktype;
    int protocol;
    bool any_proto; /* raw: takes the hints' protocol */
    bool no_serv;   /* raw: has no ports */
    bool dflt;      /* returned when the hints name neither type nor protocol */
    const char *name;
};

static const struct typeproto protos[] = {
    {SOCK_STREAM, IPPROTO_TCP, false, false, true, "tcp"},
    {SOCK_DGRAM, IPPROTO_UDP, false, false, true, "udp"},
    {SOCK_DCCP, IPPROTO_DCCP, false, false, false, "dccp"},
    {SOCK_DGRAM, IPPROTO_UDPLITE, false, false, false, "udplite"},
    {SOCK_STREAM, IPPROTO_SCTP, false, false, false, "sctp"},
    {SOCK_SEQPACKET, IPPROTO_SCTP, false, false, false, "sctp"},
    {SOCK_RAW, 0, true, true, true, "raw"},
};

#define NPROTOS ((int)(sizeof(protos) / sizeof(protos[0])))

struct tuple {
    int socktype;
    int protocol;
    uint16_t port; /* network order */
};

static bool tp_matches(const struct typeproto *tp, const struct addrinfo *h)
{
    return (h->ai_socktype == 0 || h->ai_socktype == tp->socktype) &&
           (h->ai_protocol == 0 || tp->any_proto || h->ai_protocol == tp->protocol);
}

static struct tuple tuple_of(const struct typeproto *tp, const struct addrinfo *h, uint16_t port)
{
    return (struct tuple){tp->socktype, tp->any_proto ? h->ai_protocol : tp->protocol, port};
}

/* /etc/services through NSS (files only: no network). The reentrant form: the
 * plain one shares a static buffer with every other thread. */
static bool service_port(const char *service, const char *proto, uint16_t *port)
{
    struct servent se, *r = NULL;
    char buf[1024];

    if (getservbyname_r(service, proto, &se, buf, sizeof(buf), &r) != 0 || !r)
        return false;
    *port = (uint16_t)r->s_port;
    return true;
}

static bool numeric_service(const char *service)
{
    char *end;

    strtoul(service, &end, 10);
    return *end == '\0';
}

/* A service name for every type the hints allow (FIRST: the one they name). */
static int named_tuples(const char *service, const struct typeproto *first,
                        const struct addrinfo *h, struct tuple *out, int *n)
{
    uint16_t port;

    if (first) {
        if (!service_port(service, first->name, &port))
            return EAI_SERVICE;
        out[(*n)++] = tuple_of(first, h, port);
        return 0;
    }
    for (int i = 0; i < NPROTOS && *n < MAX_TUPLES; i++)
        if (!protos[i].no_serv && tp_matches(&protos[i], h) &&
            service_port(service, protos[i].name, &port))
            out[(*n)++] = tuple_of(&protos[i], h, port);
    return *n ? 0 : EAI_SERVICE;
}

/* The (socktype, protocol, port) list glibc would make for SERVICE and the
 * hints: one entry per type the hints allow, in glibc's order. */
static int service_tuples(const char *service, const struct addrinfo *h, struct tuple *out, int *n)
{
    const struct typeproto *first = NULL;
    uint16_t port = 0;

    *n = 0;
    if (h->ai_socktype || h->ai_protocol) {
        for (int i = 0; i < NPROTOS && !first; i++)
            if (tp_matches(&protos[i], h))
                first = &protos[i];
        if (!first)
            return h->ai_socktype ? EAI_SOCKTYPE : EAI_SERVICE;
    }
    if (service && *service) {
        char *end;
        /* As glibc: an int, so "-1" and 2^32-1 count as names, 65536 as port 0. */
        int num = (int)strtoul(service, &end, 10);

        if (first && first->no_serv)
            return EAI_SERVICE;
        if (*end || num < 0)
            return named_tuples(service, first, h, out, n);
        port = htons((uint16_t)num);
    }
    if (first) {
        out[(*n)++] = tuple_of(first, h, port);
        return 0;
    }
    for (int i = 0; i < NPROTOS; i++)
        if (protos[i].dflt)
            out[(*n)++] = tuple_of(&protos[i], h, port);
    return 0;
}

/* ------------------------------------------------------------------ AI_ADDRCONFIG */

/* Which families have an address other than loopback, as glibc's __check_pf.
 * Unknown (getifaddrs failed): both, so nothing is narrowed by mistake. */
static void configured_families(bool *v4, bool *v6)
{
    struct ifaddrs *list, *p;

    *v4 = *v6 = false;
    if (getifaddrs(&list) != 0) {
        *v4 = *v6 = true;
        return;
    }
    for (p = list; p; p = p->ifa_next) {
        if (!p->ifa_addr)
            continue;
        if (p->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *s = (const void *)p->ifa_addr;
            if ((ntohl(s->sin_addr.s_addr) >> 24) != 127)
                *v4 = true;
        } else if (p->ifa_addr->sa_family == AF_INET6) {
            const struct sockaddr_in6 *s = (const void *)p->ifa_addr;
            if (!IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
                *v6 = true;
        }
    }
    freeifaddrs(list);
}

/* glibc's rule: AF_UNSPEC narrows to the only family present (none present:
 * unchanged); a family that is absent can have no answer. */
static int addrconfig(int *family)
{
    bool v4, v6;

    configured_families(&v4, &v6);
    if (*family == AF_UNSPEC) {
        if (v4 != v6)
            *family = v4 ? AF_INET : AF_INET6;
        return 0;
    }
    if ((*family == AF_INET && !v4) || (*family == AF_INET6 && !v6))
        return EAI_NONAME;
    return 0;
}

/* ------------------------------------------------------------------ resolving */

/* One routed lookup: what was asked. */
struct query {
    const char *call; /* for the log */
    const char *name;
    int family;    /* AF_UNSPEC, AF_INET, AF_INET6 */
    bool v4mapped; /* AF_INET6 that takes IPv4 as ::ffff:a.b.c.d */
    bool all;      /* with v4mapped: IPv6 and mapped IPv4 both */
    uint16_t port; /* host order, for the route */
    enum net_kind net;
};

/* ... and what it decided and found. */
struct answer {
    size_t n;
    struct dns_addr addrs[DNS_MAX_ADDRS];
    char canon[DNS_NAME_MAX];
    int dialer, rule, resolver;
    enum resolver_mode mode;
    enum strategy strategy;
    const char *source; /* "dns", "hosts", "cache", "fake"... */
    const char *why;    /* a reason for the log, or NULL */
    bool blocked;       /* the route chose a `block` dialer */
};

static bool is_proxy(const struct conf_dialer *d)
{
    return d->type == DIALER_SOCKS5 || d->type == DIALER_SOCKS4 || d->type == DIALER_HTTP;
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
    uint8_t v4[4];

    memcpy(v4, a->addr, 4);
    memset(a->addr, 0, 10);
    a->addr[10] = a->addr[11] = 0xff;
    memcpy(a->addr + 12, v4, 4);
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
    rc = dns_lookup(state.conf, out->resolver, q->name, family, &ans);
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

/* ------------------------------------------------------------------ the log */

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

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
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

/* One line per routed lookup: program, pid, call, name, app, rule, dialer,
 * resolver, mode, strategy, result, time. */
static void log_lookup(const struct query *q, const struct answer *a, int rc,
                       const struct timespec *t0)
{
    const struct conf *c = state.conf;
    const struct conf_resolver *r = dns_resolver(c, a->resolver);
    char rule[160], result[512];
    int err = errno;

    if (!log_enabled(LOG_LVL_INFO))
        return;
    if (a->rule >= 0)
        snprintf(rule, sizeof(rule), "#%d %s", a->rule + 1, c->apps[state.app].rules[a->rule].text);
    else
        snprintf(rule, sizeof(rule), "default");
    log_msg(LOG_LVL_INFO,
            "%s[%d] %s %s app=%s rule=%s dialer=%s resolver=%s mode=%s strategy=%s result=%s "
            "%.3fms",
            state.prog, (int)getpid(), q->call, q->name,
            state.app >= 0 ? c->apps[state.app].name : "(built-in)", rule,
            c->dialers[a->dialer].name, r ? r->name : "?",
            a->mode == RESOLVER_MODE_FAKE_IP ? "fake_ip" : "real", conf_strategy_name(a->strategy),
            format_result(a, rc, err, result, sizeof(result)), ms_since(t0));
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
static int resolve(const struct query *q, struct answer *out)
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
    out->dialer = route_pick(c, state.app, &d, &out->rule);
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

/* ------------------------------------------------------------------ other calls */

static enum netdb_way way_of(const struct dest *d, bool *remote)
{
    const struct conf *c = state.conf;
    int rule;

    *remote = false;
    switch (engine_gate(AF_INET)) {
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

int netdb_lookup(const char *call, const char *name, int family, struct dns_addr *out, size_t *n)
{
    struct query q = {.call = call, .name = name, .family = family, .net = NET_TCP};
    struct answer a;
    int rc = resolve(&q, &a);

    *n = rc ? 0 : a.n;
    memcpy(out, a.addrs, *n * sizeof(*out));
    return rc;
}

bool netdb_numeric(const char *node, int flags)
{
    return answered_by_libc(node, flags);
}

/* ------------------------------------------------------------------ getaddrinfo */

static void fill_sockaddr(const struct dns_addr *a, uint16_t port, struct sockaddr *sa)
{
    if (a->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)sa;
        in->sin_family = AF_INET;
        in->sin_port = port;
        memcpy(&in->sin_addr, a->addr, 4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = port;
        in6->sin6_scope_id = a->scope_id;
        memcpy(&in6->sin6_addr, a->addr, 16);
    }
}

/* One node and its sockaddr in one block, as glibc allocates them. */
static struct addrinfo *new_node(const struct dns_addr *a, const struct tuple *t, int flags)
{
    socklen_t len = a->family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    struct addrinfo *ai = calloc(1, sizeof(*ai) + len);

    if (!ai)
        return NULL;
    ai->ai_flags = flags;
    ai->ai_family = a->family;
    ai->ai_socktype = t->socktype;
    ai->ai_protocol = t->protocol;
    ai->ai_addrlen = len;
    ai->ai_addr = (struct sockaddr *)(ai + 1);
    fill_sockaddr(a, t->port, ai->ai_addr);
    return ai;
}

/* Address-major, as glibc: each address once per socket type. */
static int build_list(const struct answer *a, const struct tuple *t, int nt, int flags,
                      struct addrinfo **res)
{
    struct addrinfo *head = NULL, **tail = &head;

    for (size_t i = 0; i < a->n; i++) {
        for (int j = 0; j < nt; j++) {
            struct addrinfo *ai = new_node(&a->addrs[i], &t[j], flags);
            if (!ai)
                goto oom;
            *tail = ai;
            tail = &ai->ai_next;
        }
    }
    if (!head)
        return EAI_NONAME;
    if ((flags & AI_CANONNAME) && !(head->ai_canonname = strdup(a->canon)))
        goto oom;
    if (!own_add(head))
        goto oom;
    *res = head;
    return 0;
oom:
    free_list(head);
    return EAI_MEMORY;
}

/* A name that takes the route, checked the way glibc checks the same call. */
static int routed_getaddrinfo(const char *node, const char *service, const struct addrinfo *h,
                              struct addrinfo **res)
{
    struct tuple t[MAX_TUPLES];
    struct answer a;
    int nt, rc, family = h->ai_family;

    /* glibc's order of checks, so a call with two faults gets glibc's code */
    if (h->ai_flags & ~KNOWN_FLAGS)
        return EAI_BADFLAGS;
    if ((h->ai_flags & AI_NUMERICSERV) && service && *service && !numeric_service(service))
        return EAI_NONAME;
    if ((h->ai_flags & AI_ADDRCONFIG) && (rc = addrconfig(&family)) != 0)
        return rc;
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        return EAI_FAMILY;
    if ((rc = service_tuples(service, h, t, &nt)) != 0)
        return rc;
    if (!*node)
        return EAI_NONAME;
    struct query q = {
        .call = "getaddrinfo",
        .name = node,
        .family = family,
        .v4mapped = family == AF_INET6 && (h->ai_flags & AI_V4MAPPED),
        .all = (h->ai_flags & AI_ALL) != 0,
        .port = ntohs(t[0].port),
        .net = t[0].socktype == SOCK_DGRAM ? NET_UDP : NET_TCP,
    };
    if ((rc = resolve(&q, &a)) != 0)
        return rc;
    return build_list(&a, t, nt, h->ai_flags, res);
}

int netdb_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res)
{
    /* glibc's hints when the program gives none. */
    static const struct addrinfo dflt = {.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG};
    const struct addrinfo *h = hints ? hints : &dflt;
    int saved = errno, rc;

    switch (engine_gate(AF_INET)) {
    case GATE_PASS:
        return sys.getaddrinfo(node, service, hints, res);
    case GATE_DENY:
        errno = EACCES;
        return EAI_SYSTEM;
    default:
        break;
    }
    if (answered_by_libc(node, h->ai_flags))
        return sys.getaddrinfo(node, service, hints, res);
    if (!res) {
        errno = EINVAL;
        return EAI_SYSTEM;
    }
    rc = routed_getaddrinfo(node, service, h, res);
    if (rc != EAI_SYSTEM)
        errno = saved;
    return rc;
}

/* ------------------------------------------------------------------ getnameinfo */

/* A fake address gives its name back; it is never asked of DNS (its PTR, if
 * any, would name nobody). Everything else is the real getnameinfo's. */
int netdb_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
                      char *serv, socklen_t servlen, int flags)
{
    char name[FAKEIP_NAME_MAX];
    int rc;

    switch (engine_gate(AF_INET)) {
    case GATE_PASS:
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    case GATE_DENY:
        errno = EACCES;
        return EAI_SYSTEM;
    default:
        break;
    }
    if (!host || !hostlen || (flags & NI_NUMERICHOST))
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    if (!fakeip_is_fake(sa, salen)) {
        if (!resq_no_ptr("getnameinfo", sa, salen))
            return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
        /* A PTR query would tell the local resolver what the proxy hides. */
        if (flags & NI_NAMEREQD)
            return EAI_NONAME;
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST);
    }
    if (!fakeip_lookup(sa, salen, name, sizeof(name))) {
        if (flags & NI_NAMEREQD)
            return EAI_NONAME;
        return sys.getnameinfo(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST);
    }
    if (serv && servlen && (rc = sys.getnameinfo(sa, salen, NULL, 0, serv, servlen, flags)) != 0)
        return rc;
    if (strlen(name) >= hostlen)
        return EAI_OVERFLOW;
    memcpy(host, name, strlen(name) + 1);
    log_debug("%s[%d] getnameinfo: fake address stands for %s", state.prog, (int)getpid(), name);
    return 0;
}

/* ------------------------------------------------------------------ hostent */

struct hostent_in {
    const char *name;  /* h_name */
    const char *alias; /* the one alias, or NULL */
    int type, len;     /* h_addrtype, h_length */
    const uint8_t *addrs[DNS_MAX_ADDRS];
    size_t n;
};

static size_t align_up(size_t v)
{
    return (v + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
}

/* Lays IN out in BUF (pointers first, then addresses, then names) and points
 * RET at it. 0 or ERANGE. */
static int hostent_fill(const struct hostent_in *in, struct hostent *ret, char *buf, size_t buflen)
{
    size_t pad = align_up((uintptr_t)buf) - (uintptr_t)buf;
    size_t nl = strlen(in->name) + 1, al = in->alias ? strlen(in->alias) + 1 : 0;
    size_t need = pad + (2 + in->n + 1) * sizeof(char *) + in->n * (size_t)in->len + nl + al;
    char **ptrs, *p;

    if (!buf || buflen < need)
        return ERANGE;
    ptrs = (char **)(void *)(buf + pad);
    p = (char *)(ptrs + 2 + in->n + 1);
    ret->h_aliases = ptrs;
    ret->h_addr_list = ptrs + 2;
    for (size_t i = 0; i < in->n; i++, p += in->len) {
        memcpy(p, in->addrs[i], (size_t)in->len);
        ret->h_addr_list[i] = p;
    }
    ret->h_addr_list[in->n] = NULL;
    ret->h_name = memcpy(p, in->name, nl);
    p += nl;
    ret->h_aliases[0] = in->alias ? memcpy(p, in->alias, al) : NULL;
    ret->h_aliases[1] = NULL;
    ret->h_addrtype = in->type;
    ret->h_length = in->len;
    return 0;
}

/* What gethostbyname*_r return and set for an EAI code (glibc's NSS wrapper:
 * not found is 0 with HOST_NOT_FOUND, a timeout EAGAIN with TRY_AGAIN). */
static int herr_of(int rc, bool blocked, int *h_errnop)
{
    int err = errno;

    switch (rc) {
    case EAI_NONAME:
        *h_errnop = HOST_NOT_FOUND;
        return 0;
    case EAI_AGAIN:
        *h_errnop = TRY_AGAIN;
        return EAGAIN;
    case EAI_MEMORY:
        *h_errnop = NETDB_INTERNAL;
        return ENOMEM;
    case EAI_SYSTEM:
        *h_errnop = NETDB_INTERNAL;
        return err ? err : EIO;
    default:
        *h_errnop = NO_RECOVERY;
        return blocked ? EPERM : EIO;
    }
}

static int finish_r(int ret, struct hostent *he, struct hostent **result)
{
    *result = ret == 0 ? he : NULL;
    if (ret)
        errno = ret;
    return ret;
}

/* gethostbyname2_r for a name that takes the route. */
static int routed_byname(const char *call, const char *name, int af, struct hostent *ret, char *buf,
                         size_t buflen, struct hostent **result, int *h_errnop)
{
    struct query q = {.call = call, .name = name, .family = af, .net = NET_TCP};
    struct hostent_in in = {.type = af, .len = af == AF_INET ? 4 : 16};
    struct answer a;
    int rc;

    *result = NULL;
    if (!*name) {
        *h_errnop = HOST_NOT_FOUND;
        return 0;
    }
    rc = resolve(&q, &a);
    if (rc) {
        int r = herr_of(rc, a.blocked, h_errnop);
        if (r)
            errno = r;
        return r;
    }
    in.name = a.canon;
    in.alias = strcasecmp(a.canon, name) != 0 ? name : NULL;
    for (size_t i = 0; i < a.n; i++)
        in.addrs[in.n++] = a.addrs[i].addr;
    if (hostent_fill(&in, ret, buf, buflen) != 0) {
        *h_errnop = NETDB_INTERNAL;
        return finish_r(ERANGE, ret, result);
    }
    *h_errnop = NETDB_SUCCESS;
    return finish_r(0, ret, result);
}

/* What a gethostbyname* call does: the real function, refuse, or route. */
static enum gate byname_gate(const char *name, int af)
{
    enum gate g = engine_gate(AF_INET);

    if (g != GATE_HANDLE)
        return g;
    /* A bad family or no name is the real function's to report; digits it
     * answers without the network. */
    if (!name || (af != AF_INET && af != AF_INET6) || is_numeric(name))
        return GATE_PASS;
    return GATE_HANDLE;
}

int netdb_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                           struct hostent **result, int *h_errnop)
{
    switch (byname_gate(name, af)) {
    case GATE_PASS:
        return sys.gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
    case GATE_DENY:
        *result = NULL;
        *h_errnop = NO_RECOVERY;
        errno = EACCES;
        return EACCES;
    default:
        return routed_byname("gethostbyname2_r", name, af, ret, buf, buflen, result, h_errnop);
    }
}

int netdb_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                          struct hostent **result, int *h_errnop)
{
    switch (byname_gate(name, AF_INET)) {
    case GATE_PASS:
        return sys.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
    case GATE_DENY:
        *result = NULL;
        *h_errnop = NO_RECOVERY;
        errno = EACCES;
        return EACCES;
    default:
        return routed_byname("gethostbyname_r", name, AF_INET, ret, buf, buflen, result, h_errnop);
    }
}

/* The non-reentrant forms' storage: per thread (glibc's is per process). */
/* initial-exec: the library is preloaded, never dlopen'ed late, and the
 * general-dynamic model would import __tls_get_addr for these two alone. */
static __thread struct hostent tls_he __attribute__((tls_model("initial-exec")));
static __thread char tls_buf[HOSTENT_BUF] __attribute__((tls_model("initial-exec")));

static struct hostent *routed_static(const char *call, const char *name, int af)
{
    struct hostent *r = NULL;
    int herr = NETDB_SUCCESS;

    routed_byname(call, name, af, &tls_he, tls_buf, sizeof(tls_buf), &r, &herr);
    h_errno = herr;
    return r;
}

static struct hostent *denied(void)
{
    h_errno = NO_RECOVERY;
    errno = EACCES;
    return NULL;
}

struct hostent *netdb_gethostbyname2(const char *name, int af)
{
    switch (byname_gate(name, af)) {
    case GATE_PASS:
        return sys.gethostbyname2(name, af);
    case GATE_DENY:
        return denied();
    default:
        return routed_static("gethostbyname2", name, af);
    }
}

struct hostent *netdb_gethostbyname(const char *name)
{
    switch (byname_gate(name, AF_INET)) {
    case GATE_PASS:
        return sys.gethostbyname(name);
    case GATE_DENY:
        return denied();
    default:
        return routed_static("gethostbyname", name, AF_INET);
    }
}

/* ------------------------------------------------------------------ gethostbyaddr */

/* Whether ADDR is a fake address (an IPv4 one also as ::ffff:a.b.c.d). */
static bool fake_addr(const void *addr, socklen_t len, int type)
{
    return addr && ((type == AF_INET && len == 4) || (type == AF_INET6 && len == 16)) &&
           fakeip_is_fake_addr(type, addr);
}

/* A fake address: its name, or HOST_NOT_FOUND once its slot was recycled. */
static int fake_byaddr(const void *addr, socklen_t len, int type, struct hostent *ret, char *buf,
                       size_t buflen, struct hostent **result, int *h_errnop)
{
    char name[FAKEIP_NAME_MAX];
    struct hostent_in in = {.name = name, .type = type, .len = (int)len, .n = 1};

    *result = NULL;
    if (!fakeip_lookup_addr(type, addr, name, sizeof(name))) {
        *h_errnop = HOST_NOT_FOUND;
        return 0;
    }
    in.addrs[0] = addr;
    if (hostent_fill(&in, ret, buf, buflen) != 0) {
        *h_errnop = NETDB_INTERNAL;
        return finish_r(ERANGE, ret, result);
    }
    *h_errnop = NETDB_SUCCESS;
    return finish_r(0, ret, result);
}

int netdb_gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret, char *buf,
                          size_t buflen, struct hostent **result, int *h_errnop)
{
    switch (engine_gate(AF_INET)) {
    case GATE_DENY:
        *result = NULL;
        *h_errnop = NO_RECOVERY;
        errno = EACCES;
        return EACCES;
    case GATE_HANDLE:
        if (fake_addr(addr, len, type))
            return fake_byaddr(addr, len, type, ret, buf, buflen, result, h_errnop);
        if (resq_no_ptr_addr("gethostbyaddr", addr, len, type)) {
            *result = NULL;
            *h_errnop = h_errno = HOST_NOT_FOUND; /* python reads h_errno itself */
            return 0;
        }
        /* fall through */
    default:
        return sys.gethostbyaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop);
    }
}

struct hostent *netdb_gethostbyaddr(const void *addr, socklen_t len, int type)
{
    struct hostent *r = NULL;
    int herr = NETDB_SUCCESS;

    switch (engine_gate(AF_INET)) {
    case GATE_DENY:
        return denied();
    case GATE_HANDLE:
        if (fake_addr(addr, len, type)) {
            fake_byaddr(addr, len, type, &tls_he, tls_buf, sizeof(tls_buf), &r, &herr);
            h_errno = herr;
            return r;
        }
        if (resq_no_ptr_addr("gethostbyaddr", addr, len, type)) {
            h_errno = HOST_NOT_FOUND;
            return NULL;
        }
        /* fall through */
    default:
        return sys.gethostbyaddr(addr, len, type);
    }
}
