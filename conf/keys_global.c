/* The keys of [global] and of [resolver NAME] (dialshim.ini(5)): a setter per
 * key, parsing and storing; a resolver's detour is recorded by name and resolved
 * in check.c. */
#include "conf/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const on_error_names[] = {"fail_closed", "pass_through"};
static const char *const supervise_names[] = {"auto", "always", "never"};
static const char *const log_format_names[] = {"text", "json"};
static const char *const mode_names[] = {NULL, "real", "fake_ip"};
const char *const conf_strategy_names[CONF_N_STRATEGY] = {NULL,          "as_is",     "prefer_ipv4",
                                                          "prefer_ipv6", "ipv4_only", "ipv6_only"};

const char *conf_strategy_name(enum strategy s)
{
    if (s == STRATEGY_UNSET)
        return "unset";
    return (int)s > 0 && (int)s < CONF_N_STRATEGY ? conf_strategy_names[s] : "?";
}

/* ---- [global] ---- */

static void set_log_level(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, level_names, COUNT(level_names), &i))
        p->c->log_level = (enum log_level)i;
}

static void set_log_file(struct parser *p, const char *key, const char *v)
{
    struct conf *c = p->c;

    if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
        strcpy(c->log_file, v);
    else if (v[0] != '/')
        conf_bad(p, "value", key, v, "expected stderr, syslog or an absolute path");
    else
        conf_get_path(p, key, v, c->log_file, sizeof(c->log_file));
}

static void set_log_format(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, log_format_names, COUNT(log_format_names), &i))
        p->c->log_format = (enum log_format)i;
}

static void set_default_app(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_DEFAULT_APP, 0, 0, v);
}

/* A fake range must be of its own family and leave room for some addresses.
 * ADDR: where the network goes (SIZE bytes), PREFIX its length. */
static void set_range(struct parser *p, const char *key, const char *v, int family, void *addr,
                      size_t size, uint8_t *prefix)
{
    int max = family == AF_INET ? 30 : 126;
    char why[WHY_MAX];
    struct conf_rule r;

    if (!strchr(v, '/')) {
        snprintf(why, sizeof(why), "missing '/PREFIX'");
    } else if (conf_parse_cidr(v, &r, why) < 0) {
        /* why is set */
    } else if (r.m.cidr.family != family) {
        snprintf(why, sizeof(why), "not an %s range", family == AF_INET ? "IPv4" : "IPv6");
    } else if (r.m.cidr.prefix > max) {
        snprintf(why, sizeof(why), "too small (at most /%d)", max);
    } else {
        memcpy(addr, r.m.cidr.addr, size);
        *prefix = r.m.cidr.prefix;
        return;
    }
    conf_bad(p, "range", key, v, why);
}

static void set_fake_ip_range(struct parser *p, const char *key, const char *v)
{
    set_range(p, key, v, AF_INET, &p->c->fake_ip_range.addr, 4, &p->c->fake_ip_range.prefix);
}

static void set_fake_ip6_range(struct parser *p, const char *key, const char *v)
{
    set_range(p, key, v, AF_INET6, &p->c->fake_ip6_range.addr, 16, &p->c->fake_ip6_range.prefix);
}

static void set_on_config_error(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, on_error_names, COUNT(on_error_names), &i))
        p->c->on_config_error = (enum on_config_error)i;
}

/* Empty: keep nothing; unset: $XDG_RUNTIME_DIR/dialshim (common/statedir.c). */
static void set_state_dir(struct parser *p, const char *key, const char *v)
{
    struct conf *c = p->c;

    if (*v == '\0') {
        c->state_dir[0] = '\0';
        c->state_dir_set = true;
    } else if (conf_get_path(p, key, v, c->state_dir, sizeof(c->state_dir))) {
        c->state_dir_set = true;
    }
}

static void set_supervise(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, supervise_names, COUNT(supervise_names), &i))
        p->c->supervise = (enum supervise_mode)i;
}

static void set_dns_hijack(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &p->c->dns_hijack);
}

const struct key_def conf_global_keys[] = {
    {"dns_hijack", set_dns_hijack, false, false},
    {"log_level", set_log_level, false, false},
    {"log_file", set_log_file, false, false},
    {"log_format", set_log_format, false, false},
    {"default_app", set_default_app, false, false},
    {"fake_ip_range", set_fake_ip_range, false, false},
    {"fake_ip6_range", set_fake_ip6_range, false, false},
    {"on_config_error", set_on_config_error, false, false},
    {"state_dir", set_state_dir, false, true},
    {"supervise", set_supervise, false, false},
};
const int conf_n_global_keys = COUNT(conf_global_keys);

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

    if (*v && !conf_each_item(p, key, v, &r->n_servers, CONF_LIST_MAX, add_server))
        r->n_servers = 0;
}

static void set_strategy(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, conf_strategy_names, CONF_N_STRATEGY, &i))
        resolver(p)->strategy = (enum strategy)i;
}

static void set_timeout(struct parser *p, const char *key, const char *v)
{
    conf_get_duration(p, key, v, 1, &resolver(p)->timeout_ms);
}

static void set_attempts(struct parser *p, const char *key, const char *v)
{
    size_t n = strlen(v);

    if (n > 0 && n <= 2 && strspn(v, "0123456789") == n && atoi(v) >= 1 && atoi(v) <= 10)
        resolver(p)->attempts = atoi(v);
    else
        conf_bad(p, "value", key, v, "expected a whole number from 1 to 10");
}

static void set_hosts_file(struct parser *p, const char *key, const char *v)
{
    struct conf_resolver *r = resolver(p);

    if (*v == '\0')
        r->hosts_file[0] = '\0';
    else
        conf_get_path(p, key, v, r->hosts_file, sizeof(r->hosts_file));
}

static void set_resolver_detour(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_RESOLVER_DETOUR, p->index, 0, v);
}

static void set_cache(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &resolver(p)->cache);
}

static void set_mode(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, mode_names, COUNT(mode_names), &i))
        resolver(p)->mode = (enum resolver_mode)i;
}

const struct key_def conf_resolver_keys[] = {
    {"servers", set_servers, false, true},       {"strategy", set_strategy, false, false},
    {"timeout", set_timeout, false, false},      {"attempts", set_attempts, false, false},
    {"hosts_file", set_hosts_file, false, true}, {"detour", set_resolver_detour, false, false},
    {"cache", set_cache, false, false},          {"mode", set_mode, false, false},
};
const int conf_n_resolver_keys = COUNT(conf_resolver_keys);
