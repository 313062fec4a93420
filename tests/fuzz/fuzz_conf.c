/* libFuzzer: the INI loader and validator, conf_load_string() (and conf_load() on the
 * same bytes when they hold a NUL, which only a file can carry).
 *
 * Checked: every problem comes through the callback as one line (no newline) with the
 * file name and a line number inside the text; NULL exactly when a non-warning problem
 * was reported; a returned struct keeps conf.h's promise: every index in range
 * (detour, domain_resolver, app dialer, route targets, default_app), no detour cycle,
 * built-in direct and block present, names terminated and unique, enums and counts
 * within their bounds; route_pick/app_pick on it do not crash; loading the same text
 * twice gives the same messages; conf_scan_pass_through, the fallback for broken
 * files, reads a loadable file's on_config_error exactly as the loader did (and
 * never reads past the length it is given). */
#include "common/route.h"
#include "conf/conf.h"
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>

struct seen {
    int errors, warnings, max_line;
    const char *file;
    uint32_t hash;
};

static void on_error(void *ctx, const char *file, int line, const char *msg)
{
    struct seen *s = ctx;

    FUZZ_CHECK(file && strcmp(file, s->file) == 0, "message for file '%s'", file ? file : "(null)");
    FUZZ_CHECK(line >= 0 && line <= s->max_line, "line %d of a %d-line text: %s", line, s->max_line,
               msg);
    FUZZ_CHECK(msg && msg[0], "empty message at line %d", line);
    FUZZ_CHECK(!strchr(msg, '\n'), "message with a newline at line %d: %s", line, msg);
    if (strncmp(msg, "warning: ", 9) == 0)
        s->warnings++;
    else
        s->errors++;
    for (const char *p = msg; *p; p++)
        s->hash = (s->hash ^ (uint8_t)*p) * 16777619u;
    s->hash = (s->hash ^ (uint32_t)line) * 16777619u;
}

static bool terminated(const char *s, size_t cap)
{
    return strnlen(s, cap) < cap;
}

static void check_conf(const struct conf *c)
{
    FUZZ_CHECK(c->n_dialers >= 2 && c->dialers, "%d dialers", c->n_dialers);
    FUZZ_CHECK(c->n_resolvers >= 0 && (c->n_resolvers == 0 || c->resolvers), "%d resolvers",
               c->n_resolvers);
    FUZZ_CHECK(c->n_apps >= 0 && (c->n_apps == 0 || c->apps), "%d apps", c->n_apps);
    FUZZ_CHECK(c->default_app >= -1 && c->default_app < c->n_apps, "default_app %d of %d",
               c->default_app, c->n_apps);
    FUZZ_CHECK(c->log_level >= LOG_LVL_ERROR && c->log_level <= LOG_LVL_TRACE, "log_level %d",
               (int)c->log_level);
    FUZZ_CHECK(c->fake_ip_range.prefix <= 32 && c->fake_ip6_range.prefix <= 128,
               "fake ranges /%u /%u", c->fake_ip_range.prefix, c->fake_ip6_range.prefix);
    FUZZ_CHECK(c->on_config_error == ON_ERROR_FAIL_CLOSED ||
                   c->on_config_error == ON_ERROR_PASS_THROUGH,
               "on_config_error %d", (int)c->on_config_error);
    FUZZ_CHECK(terminated(c->log_file, sizeof c->log_file), "log_file unterminated");
    FUZZ_CHECK(conf_dialer_index(c, "direct") >= 0 && conf_dialer_index(c, "block") >= 0,
               "no direct or no block dialer");

    for (int i = 0; i < c->n_dialers; i++) {
        const struct conf_dialer *d = &c->dialers[i];
        FUZZ_CHECK(terminated(d->name, sizeof d->name) && d->name[0], "dialer %d name", i);
        FUZZ_CHECK(conf_dialer_index(c, d->name) == i, "dialer name '%s' not unique", d->name);
        FUZZ_CHECK(d->type >= DIALER_DIRECT && d->type <= DIALER_BLOCK, "dialer %s type %d",
                   d->name, (int)d->type);
        FUZZ_CHECK(d->detour >= -1 && d->detour < c->n_dialers, "dialer %s detour %d of %d",
                   d->name, d->detour, c->n_dialers);
        FUZZ_CHECK(d->domain_resolver >= -1 && d->domain_resolver < c->n_resolvers,
                   "dialer %s domain_resolver %d of %d", d->name, d->domain_resolver,
                   c->n_resolvers);
        FUZZ_CHECK(d->n_network_type >= 0 && d->n_network_type <= CONF_LIST_MAX &&
                       d->n_fallback_network_type >= 0 &&
                       d->n_fallback_network_type <= CONF_LIST_MAX,
                   "dialer %s network_type counts %d %d", d->name, d->n_network_type,
                   d->n_fallback_network_type);
        FUZZ_CHECK(terminated(d->server.host, sizeof d->server.host) &&
                       terminated(d->username, sizeof d->username) &&
                       terminated(d->password, sizeof d->password) &&
                       terminated(d->bind_interface, sizeof d->bind_interface) &&
                       terminated(d->protect_path, sizeof d->protect_path),
                   "dialer %s: an unterminated string", d->name);
        FUZZ_CHECK(d->handshake >= HANDSHAKE_AUTO && d->handshake <= HANDSHAKE_PIPELINED &&
                       d->udp >= UDP_UNSET && d->udp <= UDP_ASSOCIATE &&
                       d->domain_strategy >= STRATEGY_UNSET &&
                       d->domain_strategy <= STRATEGY_IPV6_ONLY,
                   "dialer %s: enum out of range", d->name);
        if (d->type == DIALER_SOCKS5 || d->type == DIALER_SOCKS4 || d->type == DIALER_HTTP)
            FUZZ_CHECK(d->server.host[0], "proxy dialer %s without a server", d->name);
        /* no detour cycle: a chain ends within n_dialers hops */
        int hop = d->detour, steps = 0;
        while (hop >= 0 && steps <= c->n_dialers) {
            hop = c->dialers[hop].detour;
            steps++;
        }
        FUZZ_CHECK(hop < 0, "detour cycle through dialer %s", d->name);
        (void)conf_connect_timeout(c, i);
        (void)conf_udp_mode(d);
        (void)conf_remote_dns(d);
        (void)conf_dialer_type_name(d->type);
        (void)conf_strategy_name(d->domain_strategy);
    }
    for (int i = 0; i < c->n_resolvers; i++) {
        const struct conf_resolver *r = &c->resolvers[i];
        FUZZ_CHECK(terminated(r->name, sizeof r->name) && r->name[0], "resolver %d name", i);
        FUZZ_CHECK(conf_resolver_index(c, r->name) == i, "resolver '%s' not unique", r->name);
        FUZZ_CHECK(r->n_servers >= 0 && r->n_servers <= CONF_LIST_MAX, "resolver %s: %d servers",
                   r->name, r->n_servers);
        FUZZ_CHECK(r->detour >= -1 && r->detour < c->n_dialers, "resolver %s detour %d", r->name,
                   r->detour);
        FUZZ_CHECK(r->strategy > STRATEGY_UNSET && r->strategy <= STRATEGY_IPV6_ONLY,
                   "resolver %s strategy %d", r->name, (int)r->strategy);
        FUZZ_CHECK(r->attempts >= 1 && r->timeout_ms > 0, "resolver %s attempts %d timeout %u",
                   r->name, r->attempts, r->timeout_ms);
        FUZZ_CHECK(terminated(r->hosts_file, sizeof r->hosts_file), "resolver %s hosts_file",
                   r->name);
        FUZZ_CHECK(r->mode >= RESOLVER_MODE_UNSET && r->mode <= RESOLVER_MODE_FAKE_IP,
                   "resolver %s mode %d", r->name, (int)r->mode);
        for (int j = 0; j < r->n_servers; j++)
            FUZZ_CHECK(r->servers[j].len > 0 && (r->servers[j].u.sa.sa_family == AF_INET ||
                                                 r->servers[j].u.sa.sa_family == AF_INET6),
                       "resolver %s server %d", r->name, j);
    }
    for (int i = 0; i < c->n_apps; i++) {
        const struct conf_app *a = &c->apps[i];
        FUZZ_CHECK(terminated(a->name, sizeof a->name) && a->name[0], "app %d name", i);
        FUZZ_CHECK(conf_app_index(c, a->name) == i, "app '%s' not unique", a->name);
        FUZZ_CHECK(a->dialer >= 0 && a->dialer < c->n_dialers, "app %s dialer %d of %d", a->name,
                   a->dialer, c->n_dialers);
        FUZZ_CHECK(a->n_match >= 0 && a->n_match <= CONF_MATCH_MAX, "app %s: %d match", a->name,
                   a->n_match);
        for (int j = 0; j < a->n_match; j++)
            FUZZ_CHECK(terminated(a->match[j], sizeof a->match[j]), "app %s match %d", a->name, j);
        FUZZ_CHECK(a->n_rules >= 0 && (a->n_rules == 0 || a->rules), "app %s: %d rules", a->name,
                   a->n_rules);
        for (int j = 0; j < a->n_rules; j++) {
            const struct conf_rule *r = &a->rules[j];
            FUZZ_CHECK(r->dialer >= 0 && r->dialer < c->n_dialers, "app %s rule %d dialer %d",
                       a->name, j, r->dialer);
            FUZZ_CHECK(terminated(r->text, sizeof r->text), "app %s rule %d text", a->name, j);
            switch (r->kind) {
            case MATCH_CIDR:
                FUZZ_CHECK((r->m.cidr.family == AF_INET && r->m.cidr.prefix <= 32) ||
                               (r->m.cidr.family == AF_INET6 && r->m.cidr.prefix <= 128),
                           "app %s rule %d: cidr family %d /%u", a->name, j, r->m.cidr.family,
                           r->m.cidr.prefix);
                break;
            case MATCH_DOMAIN:
                FUZZ_CHECK(terminated(r->m.domain.name, sizeof r->m.domain.name),
                           "app %s rule %d domain", a->name, j);
                break;
            case MATCH_PORT:
                FUZZ_CHECK(r->m.port.lo <= r->m.port.hi, "app %s rule %d ports %u-%u", a->name, j,
                           r->m.port.lo, r->m.port.hi);
                break;
            case MATCH_NETWORK:
                FUZZ_CHECK(r->m.network == NET_TCP || r->m.network == NET_UDP,
                           "app %s rule %d network %d", a->name, j, (int)r->m.network);
                break;
            default:
                FUZZ_CHECK(0, "app %s rule %d kind %d", a->name, j, (int)r->kind);
            }
        }
    }

    /* the per-connect path on this configuration */
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(443)};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
    sin.sin_addr.s_addr = htonl(0xcb007102); /* 203.0.113.2 */
    inet_pton(AF_INET6, "2001:db8::2", &sin6.sin6_addr);
    const struct dest dests[] = {
        {(struct sockaddr *)&sin, NULL, 443, NET_TCP},
        {(struct sockaddr *)&sin6, "www.example.com", 53, NET_UDP},
        {NULL, "a.corp.example", 8080, NET_TCP},
    };
    for (int app = -1; app < c->n_apps; app++) {
        for (size_t k = 0; k < sizeof dests / sizeof dests[0]; k++) {
            int rule, d = route_pick(c, app, &dests[k], &rule);
            FUZZ_CHECK(d >= 0 && d < c->n_dialers, "route_pick gave dialer %d", d);
            FUZZ_CHECK(rule >= -1 && (app < 0 ? rule == -1 : rule < c->apps[app].n_rules),
                       "route_pick gave rule %d", rule);
        }
    }
    enum app_reason why;
    const char *matched;
    struct app_who who = {NULL, "curl", "/usr/bin/curl", c->n_apps ? c->apps[0].name : NULL};
    int a = app_pick(c, &who, &why, &matched);
    FUZZ_CHECK(a == APP_BUILTIN || (a >= 0 && a < c->n_apps), "app_pick gave %d", a);
    if (c->n_apps)
        FUZZ_CHECK(
            app_pick(c, &(struct app_who){c->apps[0].name, "x", NULL, NULL}, &why, &matched) == 0,
            "app_pick by forced name");
}

static struct conf *load(const char *name, const char *text, size_t size, bool as_file,
                         struct seen *s)
{
    int lines = 1;

    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    memset(s, 0, sizeof *s);
    s->file = name;
    s->max_line = lines;
    s->hash = 2166136261u;
    if (!as_file)
        return conf_load_string(name, text, on_error, s);

    /* a file: the loader reads the bytes as they are, NULs included */
    int fd = memfd_create("fuzz.ini", MFD_CLOEXEC);
    char path[64];
    struct conf *c;
    if (fd < 0)
        abort();
    if (size && write(fd, text, size) != (ssize_t)size)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    s->file = path;
    c = conf_load(path, on_error, s);
    close(fd);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s1, s2;
    struct conf *c, *c2;
    char *text;

    if (size > 64 * 1024)
        return 0;
    text = fuzz_str(data, size);

    c = load("fuzz.ini", text, strlen(text), false, &s1);
    FUZZ_CHECK((c == NULL) == (s1.errors > 0), "returned %p with %d errors", (void *)c, s1.errors);
    if (c)
        check_conf(c);
    {
        char *copy = (char *)fuzz_copy((const uint8_t *)text, strlen(text));
        bool pass = conf_scan_pass_through(copy, strlen(text));
        FUZZ_CHECK(!c || pass == (c->on_config_error == ON_ERROR_PASS_THROUGH),
                   "scan says %d, the loader on_config_error %d", pass, (int)c->on_config_error);
        free(copy);
    }

    c2 = load("fuzz.ini", text, strlen(text), false, &s2);
    FUZZ_CHECK((c == NULL) == (c2 == NULL) && s1.errors == s2.errors &&
                   s1.warnings == s2.warnings && s1.hash == s2.hash,
               "a second load of the same text differs (%d/%d errors)", s1.errors, s2.errors);
    conf_free(c);
    conf_free(c2);

    if (memchr(data, 0, size)) {
        c = load("file", (const char *)data, size, true, &s1);
        FUZZ_CHECK((c == NULL) == (s1.errors > 0), "file: returned %p with %d errors", (void *)c,
                   s1.errors);
        if (c)
            check_conf(c);
        conf_free(c);
    }
    free(text);
    return 0;
}
