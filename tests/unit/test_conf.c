/* conf: the INI schema of dialshim.ini(5). A full file with every key, the
 * defaults, one broken fixture per kind of mistake (each with its exact
 * "FILE:LINE: message"), the password-permission warning, and the value parsers.
 * Run from the repository root (tests/unit/run.sh does): fixtures are found by
 * relative path. */
#include "conf/conf.h"
#include "conf/values.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES "tests/unit/fixtures/conf/"

static char out[8192];
static bool keep_warnings;

static void collect(void *ctx, const char *file, int line, const char *msg)
{
    size_t n = strlen(out);

    (void)ctx;
    /* Files in git are 0644 or 0600 depending on the checkout's umask: the
     * password warning is tested on its own files with known modes. */
    if (!keep_warnings && strncmp(msg, "warning: ", 9) == 0)
        return;
    snprintf(out + n, sizeof(out) - n, "%s:%d: %s\n", file, line, msg);
}

static struct conf *load_file(const char *path)
{
    out[0] = '\0';
    return conf_load(path, collect, NULL);
}

static struct conf *load_text(const char *text)
{
    out[0] = '\0';
    return conf_load_string("t.ini", text, collect, NULL);
}

static struct conf *load_ok(const char *text)
{
    struct conf *c = load_text(text);

    ck_assert_msg(c != NULL, "load failed:\n%s", out);
    ck_assert_str_eq(out, "");
    return c;
}

static void load_bad(const char *text, const char *expect)
{
    struct conf *c = load_text(text);

    ck_assert_ptr_null(c);
    ck_assert_str_eq(out, expect);
}

static const char *ip4(struct in_addr a)
{
    static char buf[INET_ADDRSTRLEN];

    return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

static const char *ip6(const struct in6_addr *a)
{
    static char buf[INET6_ADDRSTRLEN];

    return inet_ntop(AF_INET6, a, buf, sizeof(buf));
}

/* "1.2.3.4:53" or "[::1]:53" */
static const char *addr_text(const struct conf_addr *a)
{
    static char buf[INET6_ADDRSTRLEN + 16];
    char ip[INET6_ADDRSTRLEN];

    if (a->u.sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a->u.in4.sin_addr, ip, sizeof(ip));
        snprintf(buf, sizeof(buf), "%s:%u", ip, ntohs(a->u.in4.sin_port));
        ck_assert_uint_eq(a->len, sizeof(struct sockaddr_in));
    } else {
        inet_ntop(AF_INET6, &a->u.in6.sin6_addr, ip, sizeof(ip));
        snprintf(buf, sizeof(buf), "[%s]:%u", ip, ntohs(a->u.in6.sin6_port));
        ck_assert_uint_eq(a->len, sizeof(struct sockaddr_in6));
    }
    return buf;
}

/* ---- the full example ---- */

static struct conf *full(void)
{
    struct conf *c = load_file(FIXTURES "full.ini");

    ck_assert_msg(c != NULL, "full.ini failed:\n%s", out);
    ck_assert_str_eq(out, "");
    return c;
}

START_TEST(full_global)
{
    struct conf *c = full();

    ck_assert_str_eq(c->path, FIXTURES "full.ini");
    ck_assert_int_eq(c->log_level, LOG_LVL_DEBUG);
    ck_assert_str_eq(c->log_file, "/var/log/dialshim.log");
    ck_assert_int_eq(c->default_app, conf_app_index(c, "browsers"));
    ck_assert_int_eq(c->default_app, 0);
    ck_assert_str_eq(ip4(c->fake_ip_range.addr), "198.18.0.0");
    ck_assert_uint_eq(c->fake_ip_range.prefix, 16);
    ck_assert_str_eq(ip6(&c->fake_ip6_range.addr), "fd00:1::");
    ck_assert_uint_eq(c->fake_ip6_range.prefix, 64);
    ck_assert_int_eq(c->on_config_error, ON_ERROR_PASS_THROUGH);
    conf_free(c);
}
END_TEST

START_TEST(global_supervise)
{
    static const char *const names[] = {"auto", "always", "never"};
    char text[64];

    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "[global]\nsupervise = %s\n", names[i]);
        struct conf *c = load_ok(text);
        ck_assert_int_eq(c->supervise, i);
        conf_free(c);
    }
    load_bad("[global]\nsupervise = sometimes\n",
             "t.ini:2: bad value 'sometimes' for supervise: expected auto, always or never\n");
}
END_TEST

START_TEST(full_resolvers)
{
    struct conf *c = full();
    const struct conf_resolver *r;

    ck_assert_int_eq(c->n_resolvers, 2);
    ck_assert_int_eq(conf_resolver_index(c, "corp"), 0);
    ck_assert_int_eq(conf_resolver_index(c, "plain"), 1);
    ck_assert_int_eq(conf_resolver_index(c, "nope"), -1);
    r = &c->resolvers[0];
    ck_assert_str_eq(r->name, "corp");
    ck_assert_int_eq(r->line, 10);
    ck_assert_int_eq(r->n_servers, 4);
    ck_assert_str_eq(addr_text(&r->servers[0]), "203.0.113.2:53");
    ck_assert_str_eq(addr_text(&r->servers[1]), "[2001:db8::53]:5353");
    ck_assert_str_eq(addr_text(&r->servers[2]), "198.51.100.53:1053");
    ck_assert_str_eq(addr_text(&r->servers[3]), "[2001:db8::54]:53");
    ck_assert_int_eq(r->strategy, STRATEGY_PREFER_IPV6);
    ck_assert_uint_eq(r->timeout_ms, 1500);
    ck_assert_int_eq(r->attempts, 3);
    ck_assert_str_eq(r->hosts_file, "");
    ck_assert_int_eq(r->detour, conf_dialer_index(c, "lan"));
    ck_assert(!r->cache);
    ck_assert_int_eq(r->mode, RESOLVER_MODE_FAKE_IP);
    /* an empty section: every default */
    r = &c->resolvers[1];
    ck_assert_int_eq(r->n_servers, 0);
    ck_assert_int_eq(r->strategy, STRATEGY_AS_IS);
    ck_assert_uint_eq(r->timeout_ms, 2000);
    ck_assert_int_eq(r->attempts, 2);
    ck_assert_str_eq(r->hosts_file, "/etc/hosts");
    ck_assert_int_eq(r->detour, -1);
    ck_assert(r->cache);
    ck_assert_int_eq(r->mode, RESOLVER_MODE_UNSET);
    conf_free(c);
}
END_TEST

START_TEST(full_direct_dialer)
{
    struct conf *c = full();
    const struct conf_dialer *d = &c->dialers[conf_dialer_index(c, "lan")];

    ck_assert_int_eq(conf_dialer_index(c, "lan"), 0);
    ck_assert_int_eq(d->line, 22);
    ck_assert_int_eq(d->type, DIALER_DIRECT);
    ck_assert_str_eq(d->bind_interface, "eth0");
    ck_assert(d->has_inet4_bind);
    ck_assert_str_eq(ip4(d->inet4_bind), "198.51.100.1");
    ck_assert(d->has_inet6_bind);
    ck_assert_str_eq(ip6(&d->inet6_bind), "2001:db8:b::1");
    ck_assert(d->bind_address_no_port);
    ck_assert_str_eq(d->protect_path, "/run/protect.sock");
    ck_assert(d->has_mark);
    ck_assert_uint_eq(d->routing_mark, 100);
    ck_assert(d->reuse_addr);
    ck_assert_uint_eq(d->connect_timeout_ms, 5000);
    ck_assert(d->tcp_fast_open);
    ck_assert(d->tcp_multi_path);
    ck_assert_int_eq(d->udp_fragment, TRI_FALSE);
    ck_assert_int_eq(d->udp, UDP_ALLOW);
    ck_assert_int_eq(d->domain_resolver, conf_resolver_index(c, "corp"));
    ck_assert_int_eq(d->domain_strategy, STRATEGY_PREFER_IPV4);
    ck_assert_uint_eq(d->fallback_delay_ms, 300);
    ck_assert_int_eq(d->network_strategy, NETSTRAT_HYBRID);
    ck_assert_int_eq(d->n_network_type, 2);
    ck_assert_str_eq(d->network_type[0], "eth0");
    ck_assert_str_eq(d->network_type[1], "wifi");
    ck_assert_int_eq(d->n_fallback_network_type, 2);
    ck_assert_str_eq(d->fallback_network_type[0], "wwan0");
    ck_assert_str_eq(d->fallback_network_type[1], "cellular");
    ck_assert_int_eq(d->detour, -1);
    ck_assert(!d->has_auth);
    conf_free(c);
}
END_TEST

START_TEST(full_proxies)
{
    struct conf *c = full();
    const struct conf_dialer *hop = &c->dialers[conf_dialer_index(c, "hop")];
    const struct conf_dialer *corp = &c->dialers[conf_dialer_index(c, "corp")];
    const struct conf_dialer *old = &c->dialers[conf_dialer_index(c, "old")];

    ck_assert_int_eq(hop->type, DIALER_SOCKS5);
    ck_assert_str_eq(hop->server.host, "203.0.113.10");
    ck_assert_uint_eq(hop->server.port, 1080);
    ck_assert_str_eq(addr_text(&hop->server.addr), "203.0.113.10:1080");
    ck_assert_str_eq(hop->username, "lab");
    ck_assert_str_eq(hop->password, "s3cret#1"); /* '#' after no blank is data */
    ck_assert(hop->has_auth);
    ck_assert_int_eq(hop->remote_dns, TRI_TRUE);
    ck_assert_int_eq(hop->handshake, HANDSHAKE_PIPELINED);
    ck_assert_int_eq(hop->udp, UDP_ASSOCIATE);
    ck_assert_int_eq(hop->detour, conf_dialer_index(c, "lan"));
    ck_assert_uint_eq(hop->routing_mark, 0xffffffffu);
    ck_assert_uint_eq(hop->fallback_delay_ms, 250);
    ck_assert_int_eq(hop->domain_resolver, -1);
    ck_assert_int_eq(hop->domain_strategy, STRATEGY_UNSET);

    ck_assert_int_eq(corp->type, DIALER_HTTP);
    ck_assert_str_eq(corp->server.host, "Proxy.Corp.Example."); /* as written: resolved later */
    ck_assert_uint_eq(corp->server.port, 3128);
    ck_assert_uint_eq(corp->server.addr.len, 0);
    ck_assert_str_eq(corp->username, "alice");
    ck_assert_str_eq(corp->password, "pw");
    ck_assert_int_eq(corp->detour, conf_dialer_index(c, "hop"));
    ck_assert_int_eq(corp->handshake, HANDSHAKE_LOCKSTEP);
    ck_assert_uint_eq(corp->connect_timeout_ms, 120000);
    ck_assert_int_eq(corp->udp_fragment, TRI_TRUE);
    ck_assert_int_eq(corp->domain_resolver, conf_resolver_index(c, "plain"));
    ck_assert_int_eq(corp->remote_dns, TRI_UNSET);

    ck_assert_int_eq(old->type, DIALER_SOCKS4);
    ck_assert_str_eq(old->server.host, "2001:db8::4");
    ck_assert_str_eq(addr_text(&old->server.addr), "[2001:db8::4]:1081");
    ck_assert_str_eq(old->username, "bob");
    ck_assert_str_eq(old->password, "");
    ck_assert(old->has_auth);
    ck_assert_int_eq(old->remote_dns, TRI_FALSE);
    ck_assert_int_eq(old->detour, -1);
    conf_free(c);
}
END_TEST

START_TEST(full_builtins)
{
    struct conf *c = full();
    int direct = conf_dialer_index(c, "direct"), block = conf_dialer_index(c, "block");

    /* the file's five, then the built-ins */
    ck_assert_int_eq(c->n_dialers, 7);
    ck_assert_int_eq(conf_dialer_index(c, "deny"), 4);
    ck_assert_int_eq(c->dialers[4].type, DIALER_BLOCK);
    ck_assert_int_eq(direct, 5);
    ck_assert_int_eq(block, 6);
    ck_assert_int_eq(c->dialers[direct].type, DIALER_DIRECT);
    ck_assert_int_eq(c->dialers[block].type, DIALER_BLOCK);
    ck_assert_int_eq(c->dialers[direct].line, 0);
    ck_assert_int_eq(c->dialers[block].line, 0);
    ck_assert_int_eq(c->dialers[direct].detour, -1);
    ck_assert_uint_eq(c->dialers[direct].fallback_delay_ms, 250);
    ck_assert_int_eq(conf_dialer_index(c, "nope"), -1);
    conf_free(c);
}
END_TEST

START_TEST(full_apps)
{
    struct conf *c = full();
    const struct conf_app *a = &c->apps[0];
    const struct conf_rule *r = a->rules;

    ck_assert_int_eq(c->n_apps, 2);
    ck_assert_str_eq(a->name, "browsers");
    ck_assert_int_eq(a->n_match, 3); /* two match lines add up */
    ck_assert_str_eq(a->match[0], "firefox");
    ck_assert_str_eq(a->match[1], "chromium");
    ck_assert_str_eq(a->match[2], "/usr/bin/python3*");
    ck_assert_int_eq(a->dialer, conf_dialer_index(c, "corp"));
    ck_assert_int_eq(a->n_rules, 8);

    ck_assert_int_eq(r[0].kind, MATCH_CIDR);
    ck_assert_int_eq(r[0].m.cidr.family, AF_INET);
    ck_assert_uint_eq(r[0].m.cidr.prefix, 8);
    ck_assert_uint_eq(r[0].m.cidr.addr[0], 127);
    ck_assert_int_eq(r[0].dialer, conf_dialer_index(c, "direct"));
    ck_assert_str_eq(r[0].text, "cidr:127.0.0.0/8");
    ck_assert_int_eq(r[0].line, 78);

    ck_assert_int_eq(r[1].m.cidr.family, AF_INET6);
    ck_assert_uint_eq(r[1].m.cidr.prefix, 48);
    ck_assert_str_eq(ip6((const struct in6_addr *)r[1].m.cidr.addr), "2001:db8:f::");
    ck_assert_int_eq(r[1].dialer, conf_dialer_index(c, "lan"));

    ck_assert_uint_eq(r[2].m.cidr.prefix, 32); /* no prefix: one host */
    ck_assert_int_eq(r[2].dialer, conf_dialer_index(c, "deny"));

    ck_assert_int_eq(r[3].kind, MATCH_DOMAIN);
    ck_assert(r[3].m.domain.suffix);
    ck_assert_str_eq(r[3].m.domain.name, "corp.example");
    ck_assert_str_eq(r[3].text, "domain:*.Corp.Example.");
    ck_assert(!r[4].m.domain.suffix);
    ck_assert_str_eq(r[4].m.domain.name, "intranet");

    ck_assert_int_eq(r[5].kind, MATCH_PORT);
    ck_assert_uint_eq(r[5].m.port.lo, 53);
    ck_assert_uint_eq(r[5].m.port.hi, 53);
    ck_assert_int_eq(r[5].dialer, conf_dialer_index(c, "block"));
    ck_assert_uint_eq(r[6].m.port.lo, 8000);
    ck_assert_uint_eq(r[6].m.port.hi, 8099);
    ck_assert_int_eq(r[6].dialer, conf_dialer_index(c, "old"));

    ck_assert_int_eq(r[7].kind, MATCH_NETWORK);
    ck_assert_int_eq(r[7].m.network, NET_UDP);
    ck_assert_int_eq(r[7].dialer, conf_dialer_index(c, "hop"));
    ck_assert_int_eq(r[7].line, 85);

    ck_assert_str_eq(c->apps[1].match[0], "*");
    ck_assert_int_eq(c->apps[1].dialer, conf_dialer_index(c, "direct"));
    ck_assert_int_eq(c->apps[1].n_rules, 0);
    conf_free(c);
}
END_TEST

START_TEST(full_effective_values)
{
    struct conf *c = full();
    int lan = conf_dialer_index(c, "lan"), hop = conf_dialer_index(c, "hop");
    int corp = conf_dialer_index(c, "corp"), old = conf_dialer_index(c, "old");
    int deny = conf_dialer_index(c, "deny"), direct = conf_dialer_index(c, "direct");

    ck_assert_uint_eq(conf_connect_timeout(c, lan), 5000);
    ck_assert_uint_eq(conf_connect_timeout(c, hop), 10000); /* proxy default */
    ck_assert_uint_eq(conf_connect_timeout(c, corp), 120000);
    ck_assert_uint_eq(conf_connect_timeout(c, direct), CONF_CONNECT_TIMEOUT_DEFAULT_MS);
    ck_assert_uint_eq(conf_connect_timeout(c, deny), 0);
    ck_assert_uint_eq(conf_connect_timeout(c, -1), 0);
    ck_assert_uint_eq(conf_connect_timeout(c, c->n_dialers), 0);

    ck_assert_int_eq(conf_udp_mode(&c->dialers[lan]), UDP_ALLOW);
    ck_assert_int_eq(conf_udp_mode(&c->dialers[hop]), UDP_ASSOCIATE);
    ck_assert_int_eq(conf_udp_mode(&c->dialers[corp]), UDP_BLOCK);
    ck_assert_int_eq(conf_udp_mode(&c->dialers[old]), UDP_BLOCK);
    ck_assert_int_eq(conf_udp_mode(&c->dialers[deny]), UDP_BLOCK);
    ck_assert_int_eq(conf_udp_mode(&c->dialers[direct]), UDP_ALLOW);

    ck_assert(conf_remote_dns(&c->dialers[hop]));
    ck_assert(!conf_remote_dns(&c->dialers[corp]));
    ck_assert(!conf_remote_dns(&c->dialers[old]));
    conf_free(c);
}
END_TEST

START_TEST(udp_mode_unset_socks5)
{
    struct conf *c = load_ok("[dialer s]\ntype = socks5\nserver = 192.0.2.1:1080\n"
                             "[dialer b]\ntype = block\nudp = block\n");

    ck_assert_int_eq(c->dialers[0].udp, UDP_UNSET);
    ck_assert_int_eq(conf_udp_mode(&c->dialers[0]), UDP_ASSOCIATE);
    ck_assert_int_eq(conf_udp_mode(&c->dialers[1]), UDP_BLOCK);
    conf_free(c);
}
END_TEST

/* ---- defaults and small loads ---- */

START_TEST(defaults_empty_file)
{
    struct conf *c = load_ok("");

    ck_assert_str_eq(c->path, "t.ini");
    ck_assert_int_eq(c->log_level, LOG_LVL_WARN);
    ck_assert_str_eq(c->log_file, "stderr");
    ck_assert_int_eq(c->default_app, -1);
    ck_assert_str_eq(ip4(c->fake_ip_range.addr), "198.18.0.0");
    ck_assert_uint_eq(c->fake_ip_range.prefix, 15);
    ck_assert_str_eq(ip6(&c->fake_ip6_range.addr), "fc00::");
    ck_assert_uint_eq(c->fake_ip6_range.prefix, 18);
    ck_assert_int_eq(c->on_config_error, ON_ERROR_FAIL_CLOSED);
    ck_assert_int_eq(c->supervise, SUPERVISE_AUTO);
    ck_assert(!c->secret_readable);
    ck_assert_int_eq(c->n_dialers, 2);
    ck_assert_str_eq(c->dialers[0].name, "direct");
    ck_assert_str_eq(c->dialers[1].name, "block");
    ck_assert_int_eq(c->n_resolvers, 0);
    ck_assert_int_eq(c->n_apps, 0);
    conf_free(c);
}
END_TEST

START_TEST(defaults_dialer)
{
    struct conf *c = load_ok("[dialer plain]\n");
    const struct conf_dialer *d = &c->dialers[0];

    ck_assert_str_eq(d->name, "plain");
    ck_assert_int_eq(d->line, 1);
    ck_assert_int_eq(d->type, DIALER_DIRECT); /* no type: direct */
    ck_assert_int_eq(d->detour, -1);
    ck_assert_int_eq(d->domain_resolver, -1);
    ck_assert_int_eq(d->domain_strategy, STRATEGY_UNSET);
    ck_assert_uint_eq(d->fallback_delay_ms, 250);
    ck_assert_uint_eq(d->connect_timeout_ms, 0);
    ck_assert_int_eq(d->udp, UDP_UNSET);
    ck_assert_int_eq(d->udp_fragment, TRI_UNSET);
    ck_assert_int_eq(d->remote_dns, TRI_UNSET);
    ck_assert_int_eq(d->handshake, HANDSHAKE_AUTO);
    ck_assert_int_eq(d->network_strategy, NETSTRAT_DEFAULT);
    ck_assert(!d->has_mark && !d->has_inet4_bind && !d->has_inet6_bind && !d->has_auth);
    ck_assert_str_eq(d->bind_interface, "");
    ck_assert_str_eq(d->protect_path, "");
    conf_free(c);
}
END_TEST

START_TEST(default_app_named_default)
{
    struct conf *c = load_ok("[app first]\nmatch = curl\n[app default]\ndialer = block\n");

    ck_assert_int_eq(c->default_app, 1);
    ck_assert_int_eq(c->apps[1].dialer, conf_dialer_index(c, "block"));
    ck_assert_int_eq(c->apps[0].dialer, conf_dialer_index(c, "direct"));
    conf_free(c);
    /* default_app wins over the name */
    c = load_ok("[global]\ndefault_app = first\n[app first]\n[app default]\n");
    ck_assert_int_eq(c->default_app, 0);
    conf_free(c);
}
END_TEST

START_TEST(file_overrides_builtin)
{
    struct conf *c = load_ok("[dialer direct]\ntype = direct\nbind_interface = eth1\n"
                             "[app a]\nroute = port:1 -> direct\n");
    int d = conf_dialer_index(c, "direct");

    ck_assert_int_eq(c->n_dialers, 2); /* the file's direct, the built-in block */
    ck_assert_int_eq(d, 0);
    ck_assert_str_eq(c->dialers[d].bind_interface, "eth1");
    ck_assert_int_eq(c->dialers[d].line, 1);
    ck_assert_int_eq(c->apps[0].dialer, d);
    ck_assert_int_eq(c->apps[0].rules[0].dialer, d);
    ck_assert_int_eq(c->dialers[1].line, 0);
    conf_free(c);

    c = load_ok("[dialer block]\ntype = socks5\nserver = 192.0.2.1:1080\n");
    ck_assert_int_eq(c->dialers[conf_dialer_index(c, "block")].type, DIALER_SOCKS5);
    ck_assert_int_eq(c->n_dialers, 2);
    conf_free(c);
}
END_TEST

START_TEST(forward_references)
{
    struct conf *c = load_ok("[app a]\ndialer = p\n[dialer p]\ntype = socks5\nserver = "
                             "192.0.2.1:1080\ndetour = q\n[dialer q]\ntype = http\n"
                             "server = 192.0.2.2:80\n");

    ck_assert_int_eq(c->apps[0].dialer, 0);
    ck_assert_int_eq(c->dialers[0].detour, 1);
    conf_free(c);
}
END_TEST

START_TEST(syntax_variants)
{
    /* BOM, CRLF, indentation, "key: value", both comment styles, blank lines */
    struct conf *c = load_ok("\xef\xbb\xbf; comment\r\n"
                             "# comment\r\n"
                             "\r\n"
                             "  [ dialer   x ]   ; trailing comment\r\n"
                             "\ttype: socks5\r\n"
                             "  server = 192.0.2.1:1080 # the proxy\r\n"
                             "  username = u;v\r\n"
                             "  password = p#q ;comment\r\n"
                             "[app a]\n"
                             "match = a,b ,  c\n"
                             "route=port:1->x");

    ck_assert_int_eq(c->dialers[0].type, DIALER_SOCKS5);
    ck_assert_int_eq(c->dialers[0].line, 4);
    ck_assert_str_eq(c->dialers[0].username, "u;v");
    ck_assert_str_eq(c->dialers[0].password, "p#q");
    ck_assert_int_eq(c->apps[0].n_match, 3);
    ck_assert_str_eq(c->apps[0].match[1], "b");
    ck_assert_str_eq(c->apps[0].match[2], "c");
    ck_assert_int_eq(c->apps[0].rules[0].line, 11);
    conf_free(c);
}
END_TEST

START_TEST(indented_line_is_not_a_continuation)
{
    /* inih would glue an indented line to the previous key; we do not. */
    load_bad("[dialer x]\ntype = direct\n   not a key\n",
             "t.ini:3: syntax error: expected '[section]' or 'key = value'\n");
}
END_TEST

START_TEST(every_refused_line_at_its_line)
{
    /* inih returns the first bad line only; each one is reported, in a skipped
     * section too, and a comment before the '=' leaves no key */
    load_bad("[global]\nbroken\nlog_level = warn\nalso broken\nk ; = v\n[dialer]\nstill broken\n",
             "t.ini:2: syntax error: expected '[section]' or 'key = value'\n"
             "t.ini:4: syntax error: expected '[section]' or 'key = value'\n"
             "t.ini:5: syntax error: expected '[section]' or 'key = value'\n"
             "t.ini:6: section [dialer] needs a name: [dialer NAME]\n"
             "t.ini:7: syntax error: expected '[section]' or 'key = value'\n");
}
END_TEST

START_TEST(any_blank_indent_is_not_a_continuation)
{
    /* a form feed is a blank to inih: the line was glued to match before */
    struct conf *c = load_ok("[app a]\nmatch = a\n\fdialer = block\n");

    ck_assert_int_eq(c->apps[0].n_match, 1);
    ck_assert_int_eq(c->apps[0].dialer, conf_dialer_index(c, "block"));
    conf_free(c);
}
END_TEST

START_TEST(line_length_limit)
{
    char text[512];

    /* 199 characters pass, 200 do not */
    snprintf(text, sizeof(text), "[app a]\nmatch = %0191d\n", 7);
    ck_assert_uint_eq(strlen(strchr(text, '\n') + 1), 200);
    conf_free(load_ok(text));
    snprintf(text, sizeof(text), "[app a]\nmatch = %0192d\ntype = x\n", 7);
    load_bad(text, "t.ini:2: line too long (max 199 characters)\n"
                   "t.ini:3: unknown key 'type' in [app a]\n");
}
END_TEST

START_TEST(inih_syntax_error_once)
{
    load_bad("[global]\nlog_level = warn\n\n[app all]\nthis line is broken\ndialer = direct\n",
             "t.ini:5: syntax error: expected '[section]' or 'key = value'\n");
    load_bad("[global]\n= value\n", "t.ini:2: syntax error: missing key name before '='\n");
    load_bad("[]\n", "t.ini:1: syntax error: empty section header '[]'\n");
}
END_TEST

START_TEST(keys_in_bad_sections_are_skipped)
{
    /* one error for the header, none for the keys below it */
    load_bad("[dialer]\nfoo = 1\n[foo]\nbar = 2\n[dialer x]\ntype = direct\n[dialer x]\nbaz = 3\n",
             "t.ini:1: section [dialer] needs a name: [dialer NAME]\n"
             "t.ini:3: unknown section type 'foo' (expected global, resolver, dialer or app)\n"
             "t.ini:7: duplicate section [dialer x] (first defined at line 5)\n");
}
END_TEST

START_TEST(same_name_different_kinds)
{
    struct conf *c = load_ok("[dialer x]\n[resolver x]\n[app x]\n");

    ck_assert_int_eq(conf_dialer_index(c, "x"), 0);
    ck_assert_int_eq(conf_resolver_index(c, "x"), 0);
    ck_assert_int_eq(conf_app_index(c, "x"), 0);
    ck_assert_int_eq(conf_app_index(c, "y"), -1);
    conf_free(c);
}
END_TEST

START_TEST(list_limits)
{
    load_bad("[resolver r]\nservers = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,"
             "1.1.1.8,1.1.1.9,1.1.1.10,1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,"
             "1.1.1.17\n",
             "t.ini:2: too many entries in servers (max 16)\n");
    load_bad(
        "[app a]\nmatch = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\nmatch = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p"
        "\nmatch = z\n",
        "t.ini:4: too many entries in match (max 32)\n");
    load_bad("[dialer d]\ntype = socks5\nserver =\n", "t.ini:3: empty value for server\n");
}
END_TEST

START_TEST(duplicate_route_and_match_are_fine)
{
    struct conf *c = load_ok("[app a]\nroute = port:1 -> block\nroute = port:1 -> direct\n");

    ck_assert_int_eq(c->apps[0].n_rules, 2);
    conf_free(c);
}
END_TEST

/* ---- files ---- */

START_TEST(missing_file)
{
    ck_assert_ptr_null(load_file(FIXTURES "does-not-exist.ini"));
    ck_assert_str_eq(out,
                     FIXTURES "does-not-exist.ini:0: cannot open: No such file or directory\n");
    ck_assert_ptr_null(load_file(FIXTURES));
    ck_assert_str_eq(out, FIXTURES ":0: cannot open: Is a directory\n");
}
END_TEST

/* A temporary file with TEXT and MODE; the caller unlinks PATH. */
static void temp_conf(char *path, const char *text, mode_t mode)
{
    int fd;

    strcpy(path, "/tmp/test_conf_XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

static const char secret_ini[] = "[dialer p]\ntype = socks5\nserver = 192.0.2.1:1080\n"
                                 "username = u\npassword = topsecret\n";

START_TEST(password_readable_by_others_warns)
{
    char path[64], expect[256];
    struct conf *c;
    mode_t modes[] = {0644, 0640, 0604};

    keep_warnings = true;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        temp_conf(path, secret_ini, modes[i]);
        c = load_file(path);
        ck_assert_ptr_nonnull(c); /* a warning does not fail the load */
        ck_assert(c->secret_readable);
        snprintf(expect, sizeof(expect),
                 "%s:5: warning: %s holds a password and is readable by others (chmod 600)\n", path,
                 path);
        ck_assert_str_eq(out, expect);
        ck_assert_ptr_null(strstr(out, "topsecret"));
        conf_free(c);
        unlink(path);
    }
}
END_TEST

START_TEST(password_private_or_absent_is_quiet)
{
    char path[64];
    struct conf *c;

    keep_warnings = true;
    temp_conf(path, secret_ini, 0600);
    c = load_file(path);
    ck_assert_ptr_nonnull(c);
    ck_assert(!c->secret_readable);
    ck_assert_str_eq(out, "");
    conf_free(c);
    unlink(path);

    temp_conf(path, "[dialer p]\ntype = socks5\nserver = 192.0.2.1:1080\nusername = u\n", 0644);
    c = load_file(path);
    ck_assert_ptr_nonnull(c);
    ck_assert(!c->secret_readable);
    ck_assert_str_eq(out, "");
    conf_free(c);
    unlink(path);
}
END_TEST

/* The corpus's permission case: the fixture, copied under its own name into a
 * private directory (git keeps no modes but the x bit, so the checkout's are
 * unknown), in each mode. Group- or other-readable: one warning at the first
 * password line, naming the file, never the password; the file still loads. */
START_TEST(perm_fixture)
{
    static const struct {
        mode_t mode;
        bool warns;
    } cases[] = {{0644, true}, {0640, true},  {0604, true},  {0444, true},
                 {0660, true}, {0600, false}, {0400, false}, {0700, false}};
    const char *name = "perm-password-readable.ini";
    char dir[64] = "/tmp/test_conf_XXXXXX", path[128], expect[512], text[2048];
    FILE *f = fopen(FIXTURES "perm-password-readable.ini", "r");
    size_t n;

    ck_assert_ptr_nonnull(f);
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    ck_assert_uint_lt(n, sizeof(text));
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    keep_warnings = true;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, n), (int)n);
        ck_assert_int_eq(fchmod(fd, cases[i].mode), 0);
        close(fd);

        struct conf *c = load_file(path);
        ck_assert_msg(c != NULL, "mode %o: load failed:\n%s", (unsigned)cases[i].mode, out);
        ck_assert_int_eq(c->secret_readable, cases[i].warns);
        if (cases[i].warns)
            snprintf(expect, sizeof(expect),
                     "%s:11: warning: %s holds a password and is readable by others (chmod 600)\n",
                     path, path);
        else
            expect[0] = '\0';
        ck_assert_msg(strcmp(out, expect) == 0, "mode %o: got '%s', expected '%s'",
                      (unsigned)cases[i].mode, out, expect);
        ck_assert_ptr_null(strstr(out, "secret"));
        conf_free(c);
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

START_TEST(nul_byte_in_file)
{
    char path[64];
    int fd;

    strcpy(path, "/tmp/test_conf_XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_eq(write(fd, "[global]\nlog_level = w\0arn\n", 27), 27);
    close(fd);
    ck_assert_ptr_null(load_file(path));
    ck_assert_ptr_nonnull(strstr(out, ":2: syntax error: NUL byte in line\n"));
    unlink(path);
}
END_TEST

START_TEST(password_never_in_messages)
{
    keep_warnings = true;
    load_bad("[dialer d]\ntype = direct\npassword = hunter2\npassword = hunter3\n"
             "[dialer s]\ntype = socks4\nserver = 192.0.2.1:1\nusername = u\npassword = hunter4\n"
             "[resolver r]\npassword = hunter5\n",
             "t.ini:3: password is not allowed for type direct\n"
             "t.ini:4: duplicate key 'password' in [dialer d] (first set at line 3)\n"
             "t.ini:9: password is not allowed for type socks4 (socks4 sends a user id only)\n"
             "t.ini:11: unknown key 'password' in [resolver r]\n");
    ck_assert_ptr_null(strstr(out, "hunter"));
}
END_TEST

START_TEST(null_callback)
{
    ck_assert_ptr_null(conf_load_string("t.ini", "[nope]\n", NULL, NULL));
    conf_free(conf_load_string("t.ini", "[dialer x]\n", NULL, NULL));
    conf_free(NULL);
}
END_TEST

/* ---- broken fixtures: every line of output, exactly ---- */

static const struct {
    const char *file;
    const char *expect; /* "LINE: message\n" lines; the path is prefixed */
} bad[] = {
    {"bad-address-family.ini",
     "2: bad address '198.51.100.1' for inet6_bind_address: not an IPv6 address\n"},
    {"bad-address.ini", "2: bad address '198.51.100' for inet4_bind_address: not an IP address\n"},
    {"bad-attempts.ini", "2: bad value '0' for attempts: expected a whole number from 1 to 10\n"},
    {"bad-bool.ini",
     "2: bad boolean 'maybe' for tcp_fast_open: expected true, false, yes, no, on, off, 1 or 0\n"},
    {"bad-cidr.ini", "3: bad route 'cidr:198.51.100.7/24 -> direct': host bits set (did you mean "
                     "198.51.100.0/24?)\n"},
    {"bad-connect-timeout-zero.ini",
     "2: bad duration '0s' for connect_timeout: must be greater than 0\n"},
    {"bad-cycle-2.ini", "9: detour cycle: a -> b -> a\n"},
    {"bad-cycle-3.ini", "19: detour cycle: a -> b -> c -> a\n"},
    {"bad-detour-on-block.ini", "6: detour is not allowed for type block\n"},
    {"bad-domain.ini",
     "2: bad route 'domain:www.*.example -> block': '*' is only allowed as a leading '*.'\n"},
    {"bad-duplicate-global.ini", "3: duplicate section [global] (first defined at line 1)\n"},
    {"bad-duplicate-key.ini",
     "4: duplicate key 'routing_mark' in [dialer proxy] (first set at line 3)\n"},
    {"bad-duplicate-section.ini",
     "7: duplicate section [dialer proxy] (first defined at line 1)\n"},
    {"bad-duration-no-unit.ini",
     "2: bad duration '300' for connect_timeout: no unit (write '300s' or '300ms')\n"},
    {"bad-duration.ini",
     "3: bad duration '5x' for connect_timeout: unknown unit 'x' (use ms, s or m)\n"},
    {"bad-empty-value.ini", "2: empty value for type\n"},
    {"bad-fake-range.ini", "2: bad range 'fc00::/18' for fake_ip_range: not an IPv4 range\n"},
    {"bad-fallback-delay.ini", "2: bad duration '5ms' for fallback_delay: must be at least 10ms\n"},
    {"bad-global-name.ini", "1: section [global] takes no name\n"},
    {"bad-header-text.ini", "1: syntax error: unexpected text after ']'\n"},
    {"bad-http-username.ini",
     "4: username must not contain ':' for type http (basic authentication)\n"},
    {"bad-ifname.ini",
     "2: bad interface name 'enp0s31f6-backup0' for bind_interface: longer than 15 characters\n"},
    {"bad-key-outside.ini", "2: key 'log_level' outside any section\n"},
    {"bad-long-line.ini", "2: line too long (max 199 characters)\n"},
    {"bad-many.ini",
     "3: bad value 'loud' for log_level: expected error, warn, info, debug or trace\n"
     "5: missing server for type socks5\n"
     "8: syntax error: expected '[section]' or 'key = value'\n"
     "13: detour cycle: a -> b -> a\n"
     "14: bad boolean 'sometimes' for udp_fragment: expected true, false, yes, no, on, off, 1 or "
     "0\n"
     "17: undefined dialer 'nowhere'\n"
     "18: bad route 'port:0 -> a': expected a port (1-65535) or a range LO-HI\n"},
    {"bad-mark.ini", "2: bad mark '0x1ffffffff' for routing_mark: out of range (max 0xffffffff)\n"},
    {"bad-missing-bracket.ini", "1: syntax error: missing ']' in section header\n"},
    {"bad-missing-server.ini", "1: missing server for type socks5\n"},
    {"bad-network-type.ini", "2: empty entry in network_type\n"},
    {"bad-password-no-username.ini", "4: password without username\n"},
    {"bad-port-range.ini", "2: bad route 'port:2000-1000 -> block': range starts above its end\n"},
    {"bad-proxy-keys-default-type.ini",
     "2: server is not allowed for type direct (no type given: direct is the default)\n"
     "3: remote_dns is not allowed for type direct (no type given: direct is the default)\n"},
    {"bad-relative-path.ini",
     "2: bad path 'run/protect.sock' for protect_path: must be absolute\n"},
    {"bad-route-matcher.ini", "2: bad route 'ip:198.51.100.0/24 -> direct': unknown matcher 'ip' "
                              "(expected cidr, domain, port or network)\n"},
    {"bad-route-syntax.ini",
     "2: bad route 'cidr:198.51.100.0/24 direct': expected 'MATCHER -> DIALER'\n"},
    {"bad-section-name.ini",
     "1: bad dialer name 'my/proxy': use letters, digits, '_', '-' and '.'\n"},
    {"bad-section-no-name.ini", "1: section [dialer] needs a name: [dialer NAME]\n"},
    {"bad-self-detour.ini", "4: detour cycle: loop -> loop\n"},
    {"bad-server-on-direct.ini", "3: server is not allowed for type direct\n"},
    {"bad-server-port.ini",
     "3: bad address 'proxy.example:80800' for server: bad port '80800' (1-65535)\n"},
    {"bad-server-v6.ini", "3: bad address '2001:db8::1:1080' for server: write an IPv6 address "
                          "with a port as '[ADDR]:PORT'\n"},
    {"bad-servers.ini", "2: bad address '[2001:db8::53' in servers: missing ']'\n"},
    {"bad-socks4-password.ini",
     "5: password is not allowed for type socks4 (socks4 sends a user id only)\n"},
    {"bad-syntax.ini", "3: syntax error: expected '[section]' or 'key = value'\n"},
    {"bad-type.ini",
     "2: bad value 'socks6' for type: expected direct, socks5, socks4, http, block or group\n"},
    {"bad-udp-allow.ini", "4: udp 'allow' is only allowed for type direct\n"},
    {"bad-udp-associate.ini", "4: udp 'associate' is only allowed for type socks5\n"},
    {"bad-undefined-app-dialer.ini", "3: undefined dialer 'proxy'\n"},
    {"bad-undefined-default-app.ini", "2: undefined app 'everyone'\n"},
    {"bad-undefined-detour.ini", "4: undefined dialer 'jump'\n"},
    {"bad-undefined-resolver-detour.ini", "3: undefined dialer 'vpn'\n"},
    {"bad-undefined-resolver.ini", "3: undefined resolver 'corp'\n"},
    {"bad-undefined-route-target.ini", "7: undefined dialer 'vpn'\n"},
    {"bad-unknown-key.ini", "3: unknown key 'foo' in [dialer proxy]\n"},
    {"bad-unknown-section.ini",
     "4: unknown section type 'proxy' (expected global, resolver, dialer or app)\n"},
};

START_TEST(bad_fixture)
{
    char path[256], expect[4096];
    const char *line = bad[_i].expect;
    size_t n = 0;
    struct conf *c;

    snprintf(path, sizeof(path), FIXTURES "%s", bad[_i].file);
    expect[0] = '\0';
    while (*line) {
        const char *nl = strchr(line, '\n');
        n += (size_t)snprintf(expect + n, sizeof(expect) - n, "%s:%.*s\n", path, (int)(nl - line),
                              line);
        line = nl + 1;
    }
    c = load_file(path);
    ck_assert_msg(c == NULL, "%s loaded", path);
    ck_assert_str_eq(out, expect);
}
END_TEST

/* ---- value parsers ---- */

START_TEST(parse_duration)
{
    static const struct {
        const char *s;
        uint32_t ms;
    } good[] = {{"300ms", 300},
                {"5s", 5000},
                {"2m", 120000},
                {"0ms", 0},
                {"007s", 7000},
                {"1ms", 1},
                {"4294967295ms", 4294967295u},
                {"71582m", 4294920000u}};
    static const struct {
        const char *s, *why;
    } no[] = {
        {"", "expected a whole number followed by ms, s or m"},
        {"s", "expected a whole number followed by ms, s or m"},
        {"-1s", "expected a whole number followed by ms, s or m"},
        {"5", "no unit (write '5s' or '5ms')"},
        {"5x", "unknown unit 'x' (use ms, s or m)"},
        {"5 s", "unknown unit ' s' (use ms, s or m)"},
        {"5S", "unknown unit 'S' (use ms, s or m)"},
        {"1h", "unknown unit 'h' (use ms, s or m)"},
        {"1.5s", "fractions are not supported (use a smaller unit, e.g. ms)"},
        {"4294967296ms", "too large (max 4294967295ms, about 49 days)"},
        {"71583m", "too large (max 4294967295ms, about 49 days)"},
        {"99999999999999999999s", "too large (max 4294967295ms, about 49 days)"},
    };
    char why[128];
    uint32_t ms;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(conf_parse_duration_ms(good[i].s, &ms, why) == 0, "%s: %s", good[i].s, why);
        ck_assert_uint_eq(ms, good[i].ms);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(conf_parse_duration_ms(no[i].s, &ms, why) == -1, "%s accepted", no[i].s);
        ck_assert_str_eq(why, no[i].why);
    }
}
END_TEST

START_TEST(parse_bool)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "TRUE", "Yes", "ON"};
    static const char *const no[] = {"false", "no", "off", "0", "False", "NO", "oFf"};
    static const char *const junk[] = {"", "2", "y", "n", "truee", " true", "enabled"};
    char why[128];
    bool b;

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        b = false;
        ck_assert_int_eq(conf_parse_bool(yes[i], &b, why), 0);
        ck_assert(b);
        ck_assert_int_eq(conf_parse_bool(no[i], &b, why), 0);
        ck_assert(!b);
    }
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        ck_assert_int_eq(conf_parse_bool(junk[i], &b, why), -1);
        ck_assert_str_eq(why, "expected true, false, yes, no, on, off, 1 or 0");
    }
}
END_TEST

START_TEST(parse_mark)
{
    static const struct {
        const char *s;
        uint32_t v;
    } good[] = {{"0", 0},
                {"100", 100},
                {"0x64", 100},
                {"0XfF", 255},
                {"4294967295", 4294967295u},
                {"0xffffffff", 4294967295u},
                {"0x00000001", 1},
                {"010", 10}};
    static const struct {
        const char *s, *why;
    } no[] = {
        {"", "expected a decimal or 0x hex number"},
        {"0x", "expected a decimal or 0x hex number"},
        {"-1", "expected a decimal or 0x hex number"},
        {"+1", "expected a decimal or 0x hex number"},
        {"12a", "expected a decimal or 0x hex number"},
        {"0xg", "expected a decimal or 0x hex number"},
        {" 1", "expected a decimal or 0x hex number"},
        {"4294967296", "out of range (max 0xffffffff)"},
        {"0x100000000", "out of range (max 0xffffffff)"},
    };
    char why[128];
    uint32_t v;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(conf_parse_mark(good[i].s, &v, why) == 0, "%s: %s", good[i].s, why);
        ck_assert_uint_eq(v, good[i].v);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(conf_parse_mark(no[i].s, &v, why) == -1, "%s accepted", no[i].s);
        ck_assert_str_eq(why, no[i].why);
    }
}
END_TEST

START_TEST(parse_addr)
{
    static const struct {
        const char *s;
        int port;
        const char *want;
    } good[] = {
        {"1.2.3.4", 53, "1.2.3.4:53"},
        {"1.2.3.4:80", 53, "1.2.3.4:80"},
        {"1.2.3.4:65535", -1, "1.2.3.4:65535"},
        {"[2001:db8::1]:53", -1, "[2001:db8::1]:53"},
        {"[2001:db8::1]", 53, "[2001:db8::1]:53"},
        {"[2001:db8::1]:5353", 53, "[2001:db8::1]:5353"},
        {"2001:db8::1", 53, "[2001:db8::1]:53"},
        {"2001:db8::1", -2, "[2001:db8::1]:0"},
        {"[::1]", -2, "[::1]:0"},
        {"::ffff:1.2.3.4", -2, "[::ffff:1.2.3.4]:0"},
        {"198.51.100.1", -2, "198.51.100.1:0"},
    };
    static const struct {
        const char *s;
        int port;
        const char *why;
    } no[] = {
        {"", 53, "not an IP address"},
        {"1.2.3", 53, "not an IP address"},
        {"1.2.3.256", 53, "not an IP address"},
        {"01.2.3.4", 53, "not an IP address"},
        {"host.example", 53, "not an IP address"},
        {"1.2.3.4", -1, "missing port (write ADDR:PORT)"},
        {"[2001:db8::1]", -1, "missing port (write ADDR:PORT)"},
        {"1.2.3.4:53", -2, "a port is not allowed here"},
        {"[::1]:53", -2, "a port is not allowed here"},
        {"1.2.3.4:0", 53, "bad port '0' (1-65535)"},
        {"1.2.3.4:65536", 53, "bad port '65536' (1-65535)"},
        {"1.2.3.4:", 53, "bad port '' (1-65535)"},
        {"1.2.3.4:http", 53, "bad port 'http' (1-65535)"},
        {"2001:db8::1", -1, "write an IPv6 address with a port as '[ADDR]:PORT'"},
        {"[2001:db8::1", 53, "missing ']'"},
        {"[2001:db8::1]x", 53, "unexpected text after ']'"},
        {"[1.2.3.4]", 53, "not an IPv6 address (brackets are for IPv6)"},
        {"[2001:db8::g]", 53, "not an IP address"},
        {"2001:db8::1::2", 53, "not an IP address"},
    };
    struct conf_addr a;
    char why[128];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(conf_parse_addr(good[i].s, good[i].port, &a, why) == 0, "%s: %s", good[i].s,
                      why);
        ck_assert_str_eq(addr_text(&a), good[i].want);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(conf_parse_addr(no[i].s, no[i].port, &a, why) == -1, "%s accepted", no[i].s);
        ck_assert_str_eq(why, no[i].why);
    }
}
END_TEST

START_TEST(parse_cidr)
{
    static const struct {
        const char *s;
        int family, prefix;
        const char *net;
    } good[] = {
        {"198.51.100.0/24", AF_INET, 24, "198.51.100.0"},
        {"192.0.2.7", AF_INET, 32, "192.0.2.7"},
        {"0.0.0.0/0", AF_INET, 0, "0.0.0.0"},
        {"198.18.0.0/15", AF_INET, 15, "198.18.0.0"},
        {"2001:db8::/32", AF_INET6, 32, "2001:db8::"},
        {"::1", AF_INET6, 128, "::1"},
        {"::/0", AF_INET6, 0, "::"},
        {"fc00::/18", AF_INET6, 18, "fc00::"},
    };
    static const struct {
        const char *s, *why;
    } no[] = {
        {"198.51.100.7/24", "host bits set (did you mean 198.51.100.0/24?)"},
        {"198.19.0.0/15", "host bits set (did you mean 198.18.0.0/15?)"},
        {"2001:db8::1/64", "host bits set (did you mean 2001:db8::/64?)"},
        {"198.51.100.0/33", "bad prefix length '33' (0-32)"},
        {"2001:db8::/129", "bad prefix length '129' (0-128)"},
        {"198.51.100.0/", "bad prefix length '' (0-32)"},
        {"198.51.100.0/-1", "bad prefix length '-1' (0-32)"},
        {"198.51.100.0/24x", "bad prefix length '24x' (0-32)"},
        {"/8", "not an IP address"},
        {"198.51.100/24", "not an IP address"},
        {"", "not an IP address"},
        {"example.com/8", "not an IP address"},
    };
    struct conf_rule r;
    char why[128], net[INET6_ADDRSTRLEN];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        memset(&r, 0xaa, sizeof(r));
        ck_assert_msg(conf_parse_cidr(good[i].s, &r, why) == 0, "%s: %s", good[i].s, why);
        ck_assert_int_eq(r.kind, MATCH_CIDR);
        ck_assert_int_eq(r.m.cidr.family, good[i].family);
        ck_assert_int_eq(r.m.cidr.prefix, good[i].prefix);
        inet_ntop(good[i].family, r.m.cidr.addr, net, sizeof(net));
        ck_assert_str_eq(net, good[i].net);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(conf_parse_cidr(no[i].s, &r, why) == -1, "%s accepted", no[i].s);
        ck_assert_str_eq(why, no[i].why);
    }
}
END_TEST

START_TEST(parse_route_good)
{
    struct conf_rule r;
    char dialer[CONF_NAME_MAX], why[128];

    ck_assert_int_eq(conf_parse_route("cidr:198.51.100.0/24 -> lan", &r, dialer, why), 0);
    ck_assert_int_eq(r.kind, MATCH_CIDR);
    ck_assert_str_eq(dialer, "lan");
    ck_assert_str_eq(r.text, "cidr:198.51.100.0/24");

    ck_assert_int_eq(conf_parse_route("  domain:*.Example.COM.->x  ", &r, dialer, why), 0);
    ck_assert_int_eq(r.kind, MATCH_DOMAIN);
    ck_assert(r.m.domain.suffix);
    ck_assert_str_eq(r.m.domain.name, "example.com");
    ck_assert_str_eq(r.text, "domain:*.Example.COM.");
    ck_assert_str_eq(dialer, "x");

    ck_assert_int_eq(conf_parse_route("domain:_sip._udp.example -> x", &r, dialer, why), 0);
    ck_assert(!r.m.domain.suffix);
    ck_assert_str_eq(r.m.domain.name, "_sip._udp.example");

    ck_assert_int_eq(conf_parse_route("port:443 -> block", &r, dialer, why), 0);
    ck_assert_int_eq(r.kind, MATCH_PORT);
    ck_assert_uint_eq(r.m.port.lo, 443);
    ck_assert_uint_eq(r.m.port.hi, 443);
    ck_assert_int_eq(conf_parse_route("port:1-65535 -> block", &r, dialer, why), 0);
    ck_assert_uint_eq(r.m.port.lo, 1);
    ck_assert_uint_eq(r.m.port.hi, 65535);

    ck_assert_int_eq(conf_parse_route("network:tcp -> a.b-c_d", &r, dialer, why), 0);
    ck_assert_int_eq(r.kind, MATCH_NETWORK);
    ck_assert_int_eq(r.m.network, NET_TCP);
    ck_assert_str_eq(dialer, "a.b-c_d");
    ck_assert_int_eq(conf_parse_route("cidr: 2001:db8::/32 -> x", &r, dialer, why), 0);
    ck_assert_int_eq(r.m.cidr.family, AF_INET6);
}
END_TEST

START_TEST(parse_route_bad)
{
    static const struct {
        const char *s, *why;
    } no[] = {
        {"cidr:198.51.100.0/24 direct", "expected 'MATCHER -> DIALER'"},
        {"-> direct", "missing matcher before '->' (expected 'MATCHER -> DIALER')"},
        {"port:1 ->", "missing dialer after '->' (expected 'MATCHER -> DIALER')"},
        {"port:1 -> a -> b", "more than one '->'"},
        {"port:1 -> a b", "bad dialer name 'a b': use letters, digits, '_', '-' and '.'"},
        {"198.51.100.0/24 -> a",
         "matcher '198.51.100.0/24' has no type (cidr:, domain:, port: or network:)"},
        {"ip:198.51.100.0/24 -> a",
         "unknown matcher 'ip' (expected cidr, domain, port or network)"},
        {"CIDR:198.51.100.0/24 -> a",
         "unknown matcher 'CIDR' (expected cidr, domain, port or network)"},
        {"cidr: -> a", "empty cidr matcher"},
        {"cidr:198.51.100.1/24 -> a", "host bits set (did you mean 198.51.100.0/24?)"},
        {"domain:*.* -> a", "'*' is only allowed as a leading '*.'"},
        {"domain:* -> a", "'*' is only allowed as a leading '*.'"},
        {"domain:a..b -> a", "labels must be 1-63 characters"},
        {"domain:-a.b -> a", "a label must not start or end with '-'"},
        {"domain:a b -> a", "character ' ' is not allowed in a host name"},
        {"domain:. -> a", "empty host name"},
        {"port:0 -> a", "expected a port (1-65535) or a range LO-HI"},
        {"port:65536 -> a", "expected a port (1-65535) or a range LO-HI"},
        {"port:1- -> a", "expected a port (1-65535) or a range LO-HI"},
        {"port:http -> a", "expected a port (1-65535) or a range LO-HI"},
        {"port:2000-1000 -> a", "range starts above its end"},
        {"network:icmp -> a", "expected network:tcp or network:udp"},
    };
    struct conf_rule r;
    char dialer[CONF_NAME_MAX], why[128];

    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        ck_assert_msg(conf_parse_route(no[i].s, &r, dialer, why) == -1, "%s accepted", no[i].s);
        ck_assert_str_eq(why, no[i].why);
    }
}
END_TEST

START_TEST(enum_names)
{
    ck_assert_str_eq(conf_dialer_type_name(DIALER_DIRECT), "direct");
    ck_assert_str_eq(conf_dialer_type_name(DIALER_SOCKS5), "socks5");
    ck_assert_str_eq(conf_dialer_type_name(DIALER_SOCKS4), "socks4");
    ck_assert_str_eq(conf_dialer_type_name(DIALER_HTTP), "http");
    ck_assert_str_eq(conf_dialer_type_name(DIALER_BLOCK), "block");
    ck_assert_str_eq(conf_strategy_name(STRATEGY_UNSET), "unset");
    ck_assert_str_eq(conf_strategy_name(STRATEGY_AS_IS), "as_is");
    ck_assert_str_eq(conf_strategy_name(STRATEGY_PREFER_IPV4), "prefer_ipv4");
    ck_assert_str_eq(conf_strategy_name(STRATEGY_PREFER_IPV6), "prefer_ipv6");
    ck_assert_str_eq(conf_strategy_name(STRATEGY_IPV4_ONLY), "ipv4_only");
    ck_assert_str_eq(conf_strategy_name(STRATEGY_IPV6_ONLY), "ipv6_only");
}
END_TEST

static void setup(void)
{
    out[0] = '\0';
    keep_warnings = false;
}

static TCase *tcase(Suite *s, const char *name)
{
    TCase *t = tcase_create(name);

    tcase_add_checked_fixture(t, setup, NULL);
    suite_add_tcase(s, t);
    return t;
}

/* Groups (issue 14): members by name, pick, down_for; what a group refuses; a
 * cycle through members is an error at the key that closes it. */
START_TEST(groups)
{
    struct conf *c =
        load_ok("[dialer a]\ntype = socks5\nserver = 192.0.2.1:1080\n"
                "[dialer b]\ntype = http\nserver = 192.0.2.2:3128\n"
                "[dialer pool]\ntype = group\nmembers = a, b, direct\n"
                "pick = round_robin\ndown_for = 5s\nconnect_timeout = 3s\n"
                "[dialer via]\ntype = socks5\nserver = 192.0.2.3:1080\ndetour = pool\n");
    int pool = conf_dialer_index(c, "pool");

    ck_assert_int_eq(c->dialers[pool].type, DIALER_GROUP);
    ck_assert_int_eq(c->dialers[pool].n_members, 3);
    ck_assert_int_eq(c->dialers[pool].members[0], conf_dialer_index(c, "a"));
    ck_assert_int_eq(c->dialers[pool].members[2], conf_dialer_index(c, "direct"));
    ck_assert_int_eq(c->dialers[pool].pick, PICK_ROUND_ROBIN);
    ck_assert_uint_eq(c->dialers[pool].down_for_ms, 5000);
    ck_assert_int_eq(c->dialers[conf_dialer_index(c, "via")].detour, pool);
    conf_free(c);
    c = load_ok("[dialer g]\ntype = group\nmembers = direct\n");
    ck_assert_int_eq(c->dialers[0].pick, PICK_FAILOVER);
    ck_assert_uint_eq(c->dialers[0].down_for_ms, 30000);
    conf_free(c);
    load_bad("[dialer g]\ntype = group\nmembers = a, nowhere\n[dialer a]\ntype = direct\n",
             "t.ini:3: undefined dialer 'nowhere'\n");
    load_bad("[dialer g]\ntype = group\n", "t.ini:1: missing members for type group\n");
    load_bad("[dialer g]\ntype = group\nmembers = direct\nserver = 192.0.2.1:1\npick = first\n",
             "t.ini:4: server is not allowed for type group (a group's members dial with their "
             "own options)\n"
             "t.ini:5: bad value 'first' for pick: expected failover, round_robin or random\n");
    load_bad("[dialer a]\ntype = socks5\nserver = 192.0.2.1:1\nmembers = direct\n",
             "t.ini:4: members is not allowed for type socks5\n");
    load_bad("[dialer g]\ntype = group\nmembers = a\n"
             "[dialer a]\ntype = socks5\nserver = 192.0.2.1:1\ndetour = g\n",
             "t.ini:7: group cycle: g -> a -> g\n");
    load_bad("[dialer g]\ntype = group\nmembers = direct, h\n"
             "[dialer h]\ntype = group\nmembers = g\n",
             "t.ini:6: group cycle: g -> h -> g\n");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf");
    TCase *t;
    SRunner *r;
    int failed;

    t = tcase(s, "full");
    tcase_add_test(t, full_global);
    tcase_add_test(t, global_supervise);
    tcase_add_test(t, groups);
    tcase_add_test(t, full_resolvers);
    tcase_add_test(t, full_direct_dialer);
    tcase_add_test(t, full_proxies);
    tcase_add_test(t, full_builtins);
    tcase_add_test(t, full_apps);
    tcase_add_test(t, full_effective_values);
    tcase_add_test(t, udp_mode_unset_socks5);

    t = tcase(s, "load");
    tcase_add_test(t, defaults_empty_file);
    tcase_add_test(t, defaults_dialer);
    tcase_add_test(t, default_app_named_default);
    tcase_add_test(t, file_overrides_builtin);
    tcase_add_test(t, forward_references);
    tcase_add_test(t, syntax_variants);
    tcase_add_test(t, indented_line_is_not_a_continuation);
    tcase_add_test(t, every_refused_line_at_its_line);
    tcase_add_test(t, any_blank_indent_is_not_a_continuation);
    tcase_add_test(t, line_length_limit);
    tcase_add_test(t, inih_syntax_error_once);
    tcase_add_test(t, keys_in_bad_sections_are_skipped);
    tcase_add_test(t, same_name_different_kinds);
    tcase_add_test(t, list_limits);
    tcase_add_test(t, duplicate_route_and_match_are_fine);
    tcase_add_test(t, missing_file);
    tcase_add_test(t, password_readable_by_others_warns);
    tcase_add_test(t, password_private_or_absent_is_quiet);
    tcase_add_test(t, perm_fixture);
    tcase_add_test(t, nul_byte_in_file);
    tcase_add_test(t, password_never_in_messages);
    tcase_add_test(t, null_callback);

    t = tcase(s, "bad");
    tcase_add_loop_test(t, bad_fixture, 0, (int)(sizeof(bad) / sizeof(bad[0])));

    t = tcase(s, "values");
    tcase_add_test(t, parse_duration);
    tcase_add_test(t, parse_bool);
    tcase_add_test(t, parse_mark);
    tcase_add_test(t, parse_addr);
    tcase_add_test(t, parse_cidr);
    tcase_add_test(t, parse_route_good);
    tcase_add_test(t, parse_route_bad);
    tcase_add_test(t, enum_names);

    r = srunner_create(s);
    srunner_run_all(r, CK_ENV);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
