/* One setter per key of dialshim.ini(5), per section type, plus the checks that
 * need a whole section (which keys a dialer type takes). Setters parse and store;
 * references to other sections are recorded by name and resolved in check.c,
 * since a section may name one defined further down. */
#include "conf/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct key_def {
    const char *name;
    void (*set)(struct parser *p, const char *key, const char *v);
    bool repeat;   /* may be given more than once (the values add up) */
    bool empty_ok; /* "key =" means something */
};

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const type_names[] = {"direct", "socks5", "socks4", "http", "block"};
static const char *const strategy_names[] = {NULL,          "as_is",     "prefer_ipv4",
                                             "prefer_ipv6", "ipv4_only", "ipv6_only"};
static const char *const handshake_names[] = {"auto", "lockstep", "pipelined"};
static const char *const udp_names[] = {NULL, "allow", "block", "associate"};
static const char *const netstrat_names[] = {"default", "hybrid", "fallback"};
static const char *const mode_names[] = {NULL, "real", "fake_ip"};
static const char *const on_error_names[] = {"fail_closed", "pass_through"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char *conf_dialer_type_name(enum dialer_type t)
{
    return (int)t >= 0 && (int)t < COUNT(type_names) ? type_names[t] : "?";
}

const char *conf_strategy_name(enum strategy s)
{
    if (s == STRATEGY_UNSET)
        return "unset";
    return (int)s > 0 && (int)s < COUNT(strategy_names) ? strategy_names[s] : "?";
}

static struct conf_dialer *dialer(struct parser *p)
{
    return &p->c->dialers[p->index];
}

static struct conf_resolver *resolver(struct parser *p)
{
    return &p->c->resolvers[p->index];
}

static struct conf_app *app(struct parser *p)
{
    return &p->c->apps[p->index];
}

static void bad(struct parser *p, const char *what, const char *key, const char *v, const char *why)
{
    conf_report(p, p->line, "bad %s '%s' for %s: %s", what, v, key, why);
}

static bool get_enum(struct parser *p, const char *key, const char *v, const char *const *names,
                     int n, int *out)
{
    char list[160];

    if (conf_parse_enum(v, names, n, out) == 0)
        return true;
    conf_join_names(list, sizeof(list), names, n);
    conf_report(p, p->line, "bad value '%s' for %s: expected %s", v, key, list);
    return false;
}

static bool get_bool(struct parser *p, const char *key, const char *v, bool *out)
{
    char why[WHY_MAX];

    if (conf_parse_bool(v, out, why) == 0)
        return true;
    bad(p, "boolean", key, v, why);
    return false;
}

static enum tristate get_tristate(struct parser *p, const char *key, const char *v)
{
    bool b;

    if (!get_bool(p, key, v, &b))
        return TRI_UNSET;
    return b ? TRI_TRUE : TRI_FALSE;
}

/* MIN_MS: the smallest value that makes sense for the key. */
static bool get_duration(struct parser *p, const char *key, const char *v, uint32_t min_ms,
                         uint32_t *out)
{
    char why[WHY_MAX];
    uint32_t ms;

    if (conf_parse_duration_ms(v, &ms, why) < 0) {
        bad(p, "duration", key, v, why);
        return false;
    }
    if (ms < min_ms) {
        if (min_ms == 1)
            snprintf(why, sizeof(why), "must be greater than 0");
        else
            snprintf(why, sizeof(why), "must be at least %ums", min_ms);
        bad(p, "duration", key, v, why);
        return false;
    }
    *out = ms;
    return true;
}

static bool get_path(struct parser *p, const char *key, const char *v, char *out, size_t size)
{
    if (v[0] != '/') {
        bad(p, "path", key, v, "must be absolute");
        return false;
    }
    if (strlen(v) >= size) {
        char why[WHY_MAX];
        snprintf(why, sizeof(why), "longer than %zu bytes", size - 1);
        bad(p, "path", key, v, why);
        return false;
    }
    strcpy(out, v);
    return true;
}

/* The next comma-separated item, trimmed; NULL after the last. */
static char *next_item(char **cursor)
{
    char *item = *cursor, *comma;

    if (!item)
        return NULL;
    comma = strchr(item, ',');
    if (comma)
        *comma++ = '\0';
    *cursor = comma;
    return conf_trim(item);
}

/* Splits V and calls EACH per item; false at the first item it refuses. */
static bool each_item(struct parser *p, const char *key, const char *v, int *count, int max,
                      bool (*each)(struct parser *p, const char *key, const char *item, int i))
{
    char buf[CONF_LINE_MAX + 1], *cursor = buf, *item;

    snprintf(buf, sizeof(buf), "%s", v);
    while ((item = next_item(&cursor)) != NULL) {
        if (*item == '\0') {
            conf_report(p, p->line, "empty entry in %s", key);
            return false;
        }
        if (*count >= max) {
            conf_report(p, p->line, "too many entries in %s (max %d)", key, max);
            return false;
        }
        if (!each(p, key, item, *count))
            return false;
        (*count)++;
    }
    return true;
}

/* ---- [global] ---- */

static void set_log_level(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, level_names, COUNT(level_names), &i))
        p->c->log_level = (enum log_level)i;
}

static void set_log_file(struct parser *p, const char *key, const char *v)
{
    struct conf *c = p->c;

    if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
        strcpy(c->log_file, v);
    else if (v[0] != '/')
        bad(p, "value", key, v, "expected stderr, syslog or an absolute path");
    else
        get_path(p, key, v, c->log_file, sizeof(c->log_file));
}

static void set_default_app(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_DEFAULT_APP, 0, 0, v);
}

/* A fake range must be of its own family and leave room for some addresses. */
static bool get_range(struct parser *p, const char *key, const char *v, int family,
                      struct conf_rule *r)
{
    int max = family == AF_INET ? 30 : 126;
    char why[WHY_MAX];

    if (!strchr(v, '/')) {
        snprintf(why, sizeof(why), "missing '/PREFIX'");
    } else if (conf_parse_cidr(v, r, why) < 0) {
        /* why is set */
    } else if (r->m.cidr.family != family) {
        snprintf(why, sizeof(why), "not an %s range", family == AF_INET ? "IPv4" : "IPv6");
    } else if (r->m.cidr.prefix > max) {
        snprintf(why, sizeof(why), "too small (at most /%d)", max);
    } else {
        return true;
    }
    bad(p, "range", key, v, why);
    return false;
}

static void set_fake_ip_range(struct parser *p, const char *key, const char *v)
{
    struct conf_rule r;

    if (!get_range(p, key, v, AF_INET, &r))
        return;
    memcpy(&p->c->fake_ip_range.addr, r.m.cidr.addr, 4);
    p->c->fake_ip_range.prefix = r.m.cidr.prefix;
}

static void set_fake_ip6_range(struct parser *p, const char *key, const char *v)
{
    struct conf_rule r;

    if (!get_range(p, key, v, AF_INET6, &r))
        return;
    memcpy(&p->c->fake_ip6_range.addr, r.m.cidr.addr, 16);
    p->c->fake_ip6_range.prefix = r.m.cidr.prefix;
}

static void set_on_config_error(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, on_error_names, COUNT(on_error_names), &i))
        p->c->on_config_error = (enum on_config_error)i;
}

static const struct key_def global_keys[] = {
    {"log_level", set_log_level, false, false},
    {"log_file", set_log_file, false, false},
    {"default_app", set_default_app, false, false},
    {"fake_ip_range", set_fake_ip_range, false, false},
    {"fake_ip6_range", set_fake_ip6_range, false, false},
    {"on_config_error", set_on_config_error, false, false},
};

/* ---- [resolver NAME] ---- */

static bool add_server(struct parser *p, const char *key, const char *item, int i)
{
    char why[WHY_MAX];

    if (conf_parse_addr(item, 53, &resolver(p)->servers[i], why) == 0)
        return true;
    conf_report(p, p->line, "bad address '%s' in %s: %s", item, key, why);
    return false;
}

static void set_servers(struct parser *p, const char *key, const char *v)
{
    struct conf_resolver *r = resolver(p);

    if (*v && !each_item(p, key, v, &r->n_servers, CONF_LIST_MAX, add_server))
        r->n_servers = 0;
}

static void set_strategy(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, strategy_names, COUNT(strategy_names), &i))
        resolver(p)->strategy = (enum strategy)i;
}

static void set_timeout(struct parser *p, const char *key, const char *v)
{
    get_duration(p, key, v, 1, &resolver(p)->timeout_ms);
}

static void set_attempts(struct parser *p, const char *key, const char *v)
{
    size_t n = strlen(v);

    if (n > 0 && n <= 2 && strspn(v, "0123456789") == n && atoi(v) >= 1 && atoi(v) <= 10)
        resolver(p)->attempts = atoi(v);
    else
        bad(p, "value", key, v, "expected a whole number from 1 to 10");
}

static void set_hosts_file(struct parser *p, const char *key, const char *v)
{
    struct conf_resolver *r = resolver(p);

    if (*v == '\0')
        r->hosts_file[0] = '\0';
    else
        get_path(p, key, v, r->hosts_file, sizeof(r->hosts_file));
}

static void set_resolver_detour(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_RESOLVER_DETOUR, p->index, 0, v);
}

static void set_cache(struct parser *p, const char *key, const char *v)
{
    get_bool(p, key, v, &resolver(p)->cache);
}

static void set_mode(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, mode_names, COUNT(mode_names), &i))
        resolver(p)->mode = (enum resolver_mode)i;
}

static const struct key_def resolver_keys[] = {
    {"servers", set_servers, false, true},       {"strategy", set_strategy, false, false},
    {"timeout", set_timeout, false, false},      {"attempts", set_attempts, false, false},
    {"hosts_file", set_hosts_file, false, true}, {"detour", set_resolver_detour, false, false},
    {"cache", set_cache, false, false},          {"mode", set_mode, false, false},
};

/* ---- [dialer NAME] ---- */

enum dialer_key {
    DK_TYPE,
    DK_SERVER,
    DK_USERNAME,
    DK_PASSWORD,
    DK_DETOUR,
    DK_REMOTE_DNS,
    DK_HANDSHAKE,
    DK_UDP,
    DK_OTHER /* the rest need no cross-key check */
};

static void set_type(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, type_names, COUNT(type_names), &i))
        dialer(p)->type = (enum dialer_type)i;
}

static void set_server(struct parser *p, const char *key, const char *v)
{
    char why[WHY_MAX];

    if (conf_parse_server(v, &dialer(p)->server, why) < 0)
        bad(p, "address", key, v, why);
}

/* Never echoes the value: it may be a secret. */
static bool get_cred(struct parser *p, const char *key, const char *v, char *out)
{
    if (strlen(v) >= CONF_CRED_MAX) {
        conf_report(p, p->line, "%s is too long (max %d bytes)", key, CONF_CRED_MAX - 1);
        return false;
    }
    strcpy(out, v);
    return true;
}

static void set_username(struct parser *p, const char *key, const char *v)
{
    get_cred(p, key, v, dialer(p)->username);
}

static void set_password(struct parser *p, const char *key, const char *v)
{
    get_cred(p, key, v, dialer(p)->password);
}

static void set_dialer_detour(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_DIALER_DETOUR, p->index, 0, v);
}

static void set_remote_dns(struct parser *p, const char *key, const char *v)
{
    dialer(p)->remote_dns = get_tristate(p, key, v);
}

static void set_handshake(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, handshake_names, COUNT(handshake_names), &i))
        dialer(p)->handshake = (enum handshake)i;
}

static void set_udp(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, udp_names, COUNT(udp_names), &i))
        dialer(p)->udp = (enum udp_mode)i;
}

static bool get_ifname(struct parser *p, const char *key, const char *v, char *out)
{
    char why[WHY_MAX];

    if (conf_check_ifname(v, why) < 0) {
        bad(p, "interface name", key, v, why);
        return false;
    }
    strcpy(out, v);
    return true;
}

static void set_bind_interface(struct parser *p, const char *key, const char *v)
{
    get_ifname(p, key, v, dialer(p)->bind_interface);
}

/* A bind address is a bare address of one family: the port is the kernel's. */
static bool get_bind(struct parser *p, const char *key, const char *v, int family,
                     struct conf_addr *a)
{
    char why[WHY_MAX];

    if (conf_parse_addr(v, -2, a, why) < 0) {
        bad(p, "address", key, v, why);
        return false;
    }
    if (a->u.sa.sa_family != family) {
        bad(p, "address", key, v,
            family == AF_INET ? "not an IPv4 address" : "not an IPv6 address");
        return false;
    }
    return true;
}

static void set_inet4_bind(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);
    struct conf_addr a;

    d->has_inet4_bind = get_bind(p, key, v, AF_INET, &a);
    if (d->has_inet4_bind)
        d->inet4_bind = a.u.in4.sin_addr;
}

static void set_inet6_bind(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);
    struct conf_addr a;

    d->has_inet6_bind = get_bind(p, key, v, AF_INET6, &a);
    if (d->has_inet6_bind)
        d->inet6_bind = a.u.in6.sin6_addr;
}

static void set_bind_no_port(struct parser *p, const char *key, const char *v)
{
    get_bool(p, key, v, &dialer(p)->bind_address_no_port);
}

static void set_protect_path(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);

    get_path(p, key, v, d->protect_path, sizeof(d->protect_path));
}

static void set_routing_mark(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);
    char why[WHY_MAX];

    if (conf_parse_mark(v, &d->routing_mark, why) < 0)
        bad(p, "mark", key, v, why);
    else
        d->has_mark = true;
}

static void set_reuse_addr(struct parser *p, const char *key, const char *v)
{
    get_bool(p, key, v, &dialer(p)->reuse_addr);
}

static void set_connect_timeout(struct parser *p, const char *key, const char *v)
{
    get_duration(p, key, v, 1, &dialer(p)->connect_timeout_ms);
}

static void set_tcp_fast_open(struct parser *p, const char *key, const char *v)
{
    get_bool(p, key, v, &dialer(p)->tcp_fast_open);
}

static void set_tcp_multi_path(struct parser *p, const char *key, const char *v)
{
    get_bool(p, key, v, &dialer(p)->tcp_multi_path);
}

static void set_udp_fragment(struct parser *p, const char *key, const char *v)
{
    dialer(p)->udp_fragment = get_tristate(p, key, v);
}

static void set_domain_resolver(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_DIALER_RESOLVER, p->index, 0, v);
}

static void set_domain_strategy(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, strategy_names, COUNT(strategy_names), &i))
        dialer(p)->domain_strategy = (enum strategy)i;
}

static void set_fallback_delay(struct parser *p, const char *key, const char *v)
{
    /* Below ~10ms the "delay" races every address at once (RFC 8305 says 10ms). */
    get_duration(p, key, v, 10, &dialer(p)->fallback_delay_ms);
}

static void set_network_strategy(struct parser *p, const char *key, const char *v)
{
    int i;

    if (get_enum(p, key, v, netstrat_names, COUNT(netstrat_names), &i))
        dialer(p)->network_strategy = (enum network_strategy)i;
}

/* Interface names, or the kinds wifi, cellular and ethernet: all valid names. */
static bool add_network_type(struct parser *p, const char *key, const char *item, int i)
{
    return get_ifname(p, key, item, dialer(p)->network_type[i]);
}

static bool add_fallback_type(struct parser *p, const char *key, const char *item, int i)
{
    return get_ifname(p, key, item, dialer(p)->fallback_network_type[i]);
}

static void set_network_type(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);

    if (!each_item(p, key, v, &d->n_network_type, CONF_LIST_MAX, add_network_type))
        d->n_network_type = 0;
}

static void set_fallback_network_type(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);

    if (!each_item(p, key, v, &d->n_fallback_network_type, CONF_LIST_MAX, add_fallback_type))
        d->n_fallback_network_type = 0;
}

static const struct key_def dialer_keys[] = {
    [DK_TYPE] = {"type", set_type, false, false},
    [DK_SERVER] = {"server", set_server, false, false},
    [DK_USERNAME] = {"username", set_username, false, false},
    [DK_PASSWORD] = {"password", set_password, false, false},
    [DK_DETOUR] = {"detour", set_dialer_detour, false, false},
    [DK_REMOTE_DNS] = {"remote_dns", set_remote_dns, false, false},
    [DK_HANDSHAKE] = {"handshake", set_handshake, false, false},
    [DK_UDP] = {"udp", set_udp, false, false},
    {"bind_interface", set_bind_interface, false, false},
    {"inet4_bind_address", set_inet4_bind, false, false},
    {"inet6_bind_address", set_inet6_bind, false, false},
    {"bind_address_no_port", set_bind_no_port, false, false},
    {"protect_path", set_protect_path, false, false},
    {"routing_mark", set_routing_mark, false, false},
    {"reuse_addr", set_reuse_addr, false, false},
    {"connect_timeout", set_connect_timeout, false, false},
    {"tcp_fast_open", set_tcp_fast_open, false, false},
    {"tcp_multi_path", set_tcp_multi_path, false, false},
    {"udp_fragment", set_udp_fragment, false, false},
    {"domain_resolver", set_domain_resolver, false, false},
    {"domain_strategy", set_domain_strategy, false, false},
    {"fallback_delay", set_fallback_delay, false, false},
    {"network_strategy", set_network_strategy, false, false},
    {"network_type", set_network_type, false, false},
    {"fallback_network_type", set_fallback_network_type, false, false},
};

/* ---- [app NAME] ---- */

static bool add_match(struct parser *p, const char *key, const char *item, int i)
{
    struct conf_app *a = app(p);

    if (strlen(item) >= sizeof(a->match[i])) {
        conf_report(p, p->line, "entry in %s longer than %zu characters", key,
                    sizeof(a->match[i]) - 1);
        return false;
    }
    strcpy(a->match[i], item);
    return true;
}

/* Repeated match lines add up: a long list may be spread over lines. */
static void set_match(struct parser *p, const char *key, const char *v)
{
    each_item(p, key, v, &app(p)->n_match, CONF_MATCH_MAX, add_match);
}

static void set_app_dialer(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_APP_DIALER, p->index, 0, v);
}

static void set_route(struct parser *p, const char *key, const char *v)
{
    struct conf_app *a = app(p);
    struct conf_rule rule, *rules;
    char target[CONF_NAME_MAX], why[WHY_MAX];

    (void)key;
    memset(&rule, 0, sizeof(rule));
    if (conf_parse_route(v, &rule, target, why) < 0) {
        conf_report(p, p->line, "bad route '%s': %s", v, why);
        return;
    }
    rules = realloc(a->rules, (size_t)(a->n_rules + 1) * sizeof(*rules));
    if (!rules) {
        p->oom = true;
        return;
    }
    a->rules = rules;
    rule.line = p->line;
    rule.dialer = -1;
    rules[a->n_rules] = rule;
    conf_add_ref(p, REF_ROUTE, p->index, a->n_rules++, target);
}

static const struct key_def app_keys[] = {
    {"match", set_match, true, false},
    {"dialer", set_app_dialer, false, false},
    {"route", set_route, true, false},
};

/* ---- dispatch ---- */

static const struct key_def *keys_of(enum section_kind kind, int *n)
{
    switch (kind) {
    case SEC_GLOBAL:
        *n = COUNT(global_keys);
        return global_keys;
    case SEC_RESOLVER:
        *n = COUNT(resolver_keys);
        return resolver_keys;
    case SEC_DIALER:
        *n = COUNT(dialer_keys);
        return dialer_keys;
    case SEC_APP:
        *n = COUNT(app_keys);
        return app_keys;
    default:
        *n = 0;
        return NULL;
    }
}

/* "[dialer proxy]", "[global]": how messages name the current section. */
static void label(const struct parser *p, char *buf, size_t size)
{
    switch (p->kind) {
    case SEC_DIALER:
        snprintf(buf, size, "[dialer %s]", p->c->dialers[p->index].name);
        break;
    case SEC_RESOLVER:
        snprintf(buf, size, "[resolver %s]", p->c->resolvers[p->index].name);
        break;
    case SEC_APP:
        snprintf(buf, size, "[app %s]", p->c->apps[p->index].name);
        break;
    default:
        snprintf(buf, size, "[global]");
    }
}

void conf_set_key(struct parser *p, const char *key, const char *value)
{
    const struct key_def *keys;
    char where[CONF_NAME_MAX + 16];
    int n, i;

    if (p->kind == SEC_NONE || p->kind == SEC_SKIP)
        return;
    keys = keys_of(p->kind, &n);
    label(p, where, sizeof(where));
    for (i = 0; i < n && strcmp(keys[i].name, key) != 0; i++)
        ;
    if (i == n) {
        conf_report(p, p->line, "unknown key '%s' in %s", key, where);
        return;
    }
    if (p->seen[i] && !keys[i].repeat) {
        conf_report(p, p->line, "duplicate key '%s' in %s (first set at line %d)", key, where,
                    p->seen[i]);
        return;
    }
    if (!p->seen[i])
        p->seen[i] = p->line;
    if (p->kind == SEC_DIALER && i == DK_PASSWORD && !p->password_line)
        p->password_line = p->line;
    if (*value == '\0' && !keys[i].empty_ok) {
        conf_report(p, p->line, "empty value for %s", key);
        return;
    }
    keys[i].set(p, key, value);
}

/* ---- sections ---- */

void conf_dialer_defaults(struct conf_dialer *d)
{
    d->type = DIALER_DIRECT;
    d->detour = -1;
    d->domain_resolver = -1;
    d->fallback_delay_ms = 250;
}

static void resolver_defaults(struct conf_resolver *r)
{
    r->strategy = STRATEGY_AS_IS;
    r->timeout_ms = 2000;
    r->attempts = 2;
    strcpy(r->hosts_file, "/etc/hosts");
    r->detour = -1;
    r->cache = true;
}

/* A new zeroed element at the end of *ARR; NULL when out of memory. */
static void *grow(void *arr_ptr, int *n, size_t size)
{
    void **arr = arr_ptr;
    char *bigger = realloc(*arr, (size_t)(*n + 1) * size);

    if (!bigger)
        return NULL;
    *arr = bigger;
    memset(bigger + (size_t)*n * size, 0, size);
    return bigger + (size_t)(*n)++ * size;
}

static void *new_section(struct parser *p, enum section_kind kind)
{
    struct conf *c = p->c;

    switch (kind) {
    case SEC_DIALER:
        p->index = c->n_dialers;
        return grow(&c->dialers, &c->n_dialers, sizeof(*c->dialers));
    case SEC_RESOLVER:
        p->index = c->n_resolvers;
        return grow(&c->resolvers, &c->n_resolvers, sizeof(*c->resolvers));
    case SEC_APP:
        p->index = c->n_apps;
        return grow(&c->apps, &c->n_apps, sizeof(*c->apps));
    default:
        return c;
    }
}

void conf_open_section(struct parser *p, enum section_kind kind, const char *name, int line)
{
    void *s = new_section(p, kind);

    memset(p->seen, 0, sizeof(p->seen));
    if (!s) {
        p->oom = true;
        p->kind = SEC_SKIP;
        return;
    }
    p->kind = kind;
    if (kind == SEC_GLOBAL) {
        p->global_line = line;
    } else if (kind == SEC_DIALER) {
        conf_dialer_defaults(s);
        snprintf(dialer(p)->name, CONF_NAME_MAX, "%s", name);
        dialer(p)->line = line;
    } else if (kind == SEC_RESOLVER) {
        resolver_defaults(s);
        snprintf(resolver(p)->name, CONF_NAME_MAX, "%s", name);
        resolver(p)->line = line;
    } else if (kind == SEC_APP) {
        app(p)->dialer = -1;
        snprintf(app(p)->name, CONF_NAME_MAX, "%s", name);
        app(p)->line = line;
    }
}

void conf_add_ref(struct parser *p, enum ref_kind kind, int owner, int rule, const char *name)
{
    struct ref *r = grow(&p->refs, &p->n_refs, sizeof(*p->refs));

    if (!r || !(r->name = strdup(name))) {
        p->oom = true;
        return;
    }
    r->kind = kind;
    r->owner = owner;
    r->rule = rule;
    r->line = p->line;
}

static bool is_proxy(enum dialer_type t)
{
    return t == DIALER_SOCKS5 || t == DIALER_SOCKS4 || t == DIALER_HTTP;
}

static void refuse_key(struct parser *p, int key, const char *why)
{
    conf_report(p, p->seen[key], "%s is not allowed for type %s%s", dialer_keys[key].name,
                conf_dialer_type_name(dialer(p)->type), why);
}

/* direct and block open no proxy session: the proxy keys mean nothing there. */
static void check_not_proxy(struct parser *p)
{
    static const int proxy_only[] = {DK_SERVER,     DK_USERNAME,  DK_PASSWORD,
                                     DK_REMOTE_DNS, DK_HANDSHAKE, DK_DETOUR};
    const char *hint = p->seen[DK_TYPE] ? "" : " (no type given: direct is the default)";

    for (int i = 0; i < COUNT(proxy_only); i++)
        if (p->seen[proxy_only[i]])
            refuse_key(p, proxy_only[i], hint);
    for (int i = 0; i < p->n_refs; i++)
        if (p->refs[i].kind == REF_DIALER_DETOUR && p->refs[i].owner == p->index)
            p->refs[i].dropped = true;
}

static void check_credentials(struct parser *p)
{
    struct conf_dialer *d = dialer(p);

    if (d->type == DIALER_SOCKS4 && p->seen[DK_PASSWORD])
        refuse_key(p, DK_PASSWORD, " (socks4 sends a user id only)");
    else if (p->seen[DK_PASSWORD] && !p->seen[DK_USERNAME])
        conf_report(p, p->seen[DK_PASSWORD], "password without username");
    if (d->type == DIALER_HTTP && strchr(d->username, ':'))
        conf_report(p, p->seen[DK_USERNAME],
                    "username must not contain ':' for type http (basic authentication)");
}

static void check_udp(struct parser *p)
{
    enum udp_mode u = dialer(p)->udp;
    enum dialer_type t = dialer(p)->type;

    if (u == UDP_ASSOCIATE && t != DIALER_SOCKS5)
        conf_report(p, p->seen[DK_UDP], "udp 'associate' is only allowed for type socks5");
    else if (u == UDP_ALLOW && t != DIALER_DIRECT)
        conf_report(p, p->seen[DK_UDP], "udp 'allow' is only allowed for type direct");
}

static void close_dialer(struct parser *p)
{
    struct conf_dialer *d = dialer(p);

    if (is_proxy(d->type)) {
        if (!p->seen[DK_SERVER])
            conf_report(p, d->line, "missing server for type %s", conf_dialer_type_name(d->type));
        check_credentials(p);
    } else {
        check_not_proxy(p);
    }
    check_udp(p);
    d->has_auth = d->username[0] != '\0';
}

void conf_close_section(struct parser *p)
{
    if (p->kind == SEC_DIALER)
        close_dialer(p);
    p->kind = SEC_NONE;
}
