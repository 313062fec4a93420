#include "common/dns.h"

#include "common/bigstack.h"
#include "common/cares.h"
#include "common/dnsanswer.h"
#include "common/dnscache.h"
#include "common/hosts.h"
#include "common/localhost.h"
#include "common/log.h"
#include "common/numeric.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static const struct conf_resolver builtin = {
    .name = "default",
    .n_servers = 0,
    .strategy = STRATEGY_AS_IS,
    .timeout_ms = 2000,
    .attempts = 2,
    .hosts_file = "/etc/hosts",
    .detour = -1,
    .cache = true,
    .mode = RESOLVER_MODE_REAL,
};

const struct conf_resolver *dns_resolver(const struct conf *c, int resolver)
{
    if (resolver < 0)
        return &builtin;
    if (!c || resolver >= c->n_resolvers)
        return NULL;
    return &c->resolvers[resolver];
}

const char *dns_source_name(enum dns_source s)
{
    static const char *const names[] = {"numeric", "localhost", "hosts", "dns", "cache"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static const char *family_name(int family)
{
    return family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : "any";
}

static int parse_scope(const char *s, uint32_t *scope)
{
    char *end;

    if (*s >= '0' && *s <= '9') {
        unsigned long v = strtoul(s, &end, 10);
        if (*end || v > UINT32_MAX)
            return -1;
        *scope = (uint32_t)v;
        return 0;
    }
    *scope = if_nametoindex(s);
    return *scope ? 0 : -1;
}

/* 1: NAME is a numeric address (answered); 0: it is not; else an EAI_* code.
 * IPv4 takes every inet_aton form ("127.1", "0x7f.1") as glibc does. */
static int numeric_answer(const char *name, int family, struct dns_answer *out)
{
    uint8_t addr[16];
    const char *scope_text;
    uint32_t scope = 0;
    int fam = numeric_host(name, addr, &scope_text);

    if (fam == 0)
        return 0;
    if (scope_text && parse_scope(scope_text, &scope) != 0)
        return EAI_NONAME;
    if (family != AF_UNSPEC && family != fam)
        return EAI_ADDRFAMILY;
    dns_answer_add(out, fam, addr, scope, 0);
    return 1;
}

/* IPv4 first: it exists wherever a loopback does, ::1 not always. */
static void localhost_answer(int family, struct dns_answer *out)
{
    struct in_addr lo4 = {htonl(INADDR_LOOPBACK)};

    if (family != AF_INET6)
        dns_answer_add(out, AF_INET, &lo4, 0, 0);
    if (family != AF_INET)
        dns_answer_add(out, AF_INET6, &in6addr_loopback, 0, 0);
}

/* Answers that need no server. 1: answered (rc in *RC); 0: not local. */
static int local_answer(const struct conf_resolver *r, const char *name, int family,
                        struct dns_answer *out, int *rc)
{
    int num = numeric_answer(name, family, out);

    if (num != 0) {
        out->source = DNS_SRC_NUMERIC;
        *rc = num == 1 ? 0 : num;
    } else if (is_localhost(name)) {
        localhost_answer(family, out);
        out->source = DNS_SRC_LOCALHOST;
        *rc = 0;
    } else if (r->hosts_file[0] && hosts_answer(r->hosts_file, name, family, out)) {
        out->source = DNS_SRC_HOSTS;
        *rc = 0;
        return 1;
    } else {
        return 0;
    }
    if (*rc == 0)
        dns_answer_set_canon(out, name);
    return 1;
}

struct query_call {
    const struct conf *c;
    const struct conf_resolver *r;
    int opts;
    const char *name;
    int family;
    struct dns_answer *out;
    bool *cacheable;
    int rc;
};

static int query_on_bigstack(void *arg)
{
    struct query_call *q = arg;

    q->rc = cares_query(q->c, q->r, q->opts, q->name, q->family, q->out, q->cacheable);
    return 0;
}

static int lookup(const struct conf *c, int resolver, int opts, const char *name, int family,
                  struct dns_answer *out)
{
    const struct conf_resolver *r = dns_resolver(c, resolver);
    int rc;

    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        return EAI_FAMILY;
    if (!dns_name_valid(name))
        return EAI_NONAME;
    if (!r) {
        log_error("dns: resolver %d does not exist", resolver);
        return EAI_FAIL;
    }
    if (local_answer(r, name, family, out, &rc))
        return rc;

    struct cache_key key;
    if (r->cache) {
        dnscache_key_make(&key, c, resolver, name, family);
        if (dnscache_get(&key, out, &rc))
            return rc;
    }
    if (!cares_ready()) {
        log_error("dns: c-ares or the socket table is not initialised");
        return EAI_FAIL;
    }
    bool cacheable = false;
    struct query_call q = {c, r, opts, name, family, out, &cacheable, EAI_MEMORY};
    /* c-ares on a stack of its own: the program's thread may have 16 KiB */
    if (bigstack_call(query_on_bigstack, &q) < 0)
        return EAI_MEMORY;
    rc = q.rc;
    if (r->cache && cacheable && rc == 0)
        dnscache_put(&key, rc, out, out->ttl);
    else if (r->cache && cacheable && rc == EAI_NONAME)
        dnscache_put(&key, rc, out, DNS_NEGATIVE_TTL);
    return rc;
}

int dns_lookup_local(const struct conf *c, int resolver, const char *name, int family,
                     struct dns_answer *out)
{
    const struct conf_resolver *r = dns_resolver(c, resolver);
    int saved = errno, cancel_state, rc = EAI_NONAME;

    /* fopen of the hosts file is a cancellation point: hold it off, as dns_lookup. */
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    dns_answer_reset(out);
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        rc = EAI_FAMILY;
    else if (r && dns_name_valid(name) && !local_answer(r, name, family, out, &rc))
        rc = EAI_NONAME;
    if (rc != 0)
        out->n = 0;
    pthread_setcancelstate(cancel_state, NULL);
    errno = saved;
    return rc;
}

/* Cancellation is held off for the lookup: c-ares and stdio reach cancellation
 * points (poll, fopen of resolv.conf and hosts) with a channel, sockets or a FILE
 * open, and the lookup is bounded anyway. A pending cancel acts at the caller's
 * next cancellation point. */
int dns_lookup(const struct conf *c, int resolver, const char *name, int family,
               struct dns_answer *out)
{
    const struct conf_resolver *r = dns_resolver(c, resolver);

    return dns_lookup_via(c, resolver, r ? r->detour : -1, name, family, out);
}

int dns_lookup_via(const struct conf *c, int resolver, int opts, const char *name, int family,
                   struct dns_answer *out)
{
    int saved = errno, cancel_state;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    dns_answer_reset(out);
    int rc = lookup(c, resolver, opts, name, family, out);
    int err = rc == EAI_SYSTEM ? errno : saved;
    if (rc != 0)
        out->n = 0;
    if (log_enabled(LOG_LVL_DEBUG)) {
        const struct conf_resolver *r = dns_resolver(c, resolver);
        log_debug("dns: %s (%s) via %s: %s, %zu address(es) from %s", name ? name : "(null)",
                  family_name(family), r ? r->name : "?", rc ? gai_strerror(rc) : "ok", out->n,
                  dns_source_name(out->source));
    }
    pthread_setcancelstate(cancel_state, NULL);
    errno = err;
    return rc;
}

void dns_cache_clear(void)
{
    dnscache_clear();
}

void dns_atfork_prepare(void)
{
    hosts_atfork_prepare();
    dnscache_atfork_prepare();
}

void dns_atfork_parent(void)
{
    dnscache_atfork_parent();
    hosts_atfork_parent();
}

void dns_atfork_child(void)
{
    dnscache_atfork_child();
    hosts_atfork_child();
}
