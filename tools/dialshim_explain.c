/* dialshim explain: which app, rule, dialer chain, options and addresses a
 * destination gets, and with --dial the dial itself (dialshim(1)). */
#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/dialer/group.h"
#include "common/sockopt.h"
#include "common/engine.h"
#include "common/fakeshare.h"
#include "common/lookup.h"
#include "common/resq.h"
#include "common/state.h"
#include "common/statedir.h"
#include "common/udpexplain.h"
#include "tools/tool.h"
#include "tools/supervise.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void print_options(const struct conf *c, int di)
{
    const struct conf_dialer *d = &c->dialers[di];
    char buf[INET6_ADDRSTRLEN];
    uint32_t t = conf_connect_timeout(c, di);
    bool any = false;

#define OPT(...) (printf(any ? "" : "  options:"), printf(" " __VA_ARGS__), any = true)
    if (d->bind_interface[0])
        OPT("bind_interface=%s", d->bind_interface);
    if (d->has_inet4_bind)
        OPT("inet4_bind_address=%s", inet_ntop(AF_INET, &d->inet4_bind, buf, sizeof(buf)));
    if (d->has_inet6_bind)
        OPT("inet6_bind_address=%s", inet_ntop(AF_INET6, &d->inet6_bind, buf, sizeof(buf)));
    if (d->bind_address_no_port)
        OPT("bind_address_no_port");
    if (d->protect_path[0])
        OPT("protect_path=%s", d->protect_path);
    if (d->has_mark)
        OPT("routing_mark=0x%x", d->routing_mark);
    if (d->reuse_addr)
        OPT("reuse_addr");
    if (d->tcp_fast_open)
        OPT("tcp_fast_open");
    if (d->tcp_multi_path)
        OPT("tcp_multi_path");
    if (d->netns[0])
        OPT("netns=%s", d->netns);
    if (d->tcp_keep_alive_ms)
        OPT("tcp_keep_alive=%us", d->tcp_keep_alive_ms / 1000);
    if (d->tcp_keep_alive_interval_ms)
        OPT("tcp_keep_alive_interval=%us", d->tcp_keep_alive_interval_ms / 1000);
    if (d->disable_tcp_keep_alive)
        OPT("disable_tcp_keep_alive");
    if (d->ip_transparent)
        OPT("ip_transparent");
    if (d->udp_fragment != TRI_UNSET)
        OPT("udp_fragment=%s", d->udp_fragment == TRI_TRUE ? "true" : "false");
    if (d->connect_timeout_ms)
        OPT("connect_timeout=%ums", t);
    else if (d->type == DIALER_DIRECT)
        OPT("connect_timeout=%ums(default; a literal address without a race: the kernel's)", t);
    else if (t)
        OPT("connect_timeout=%ums(default)", t);
#undef OPT
    printf(any ? "\n" : "  options: none (kernel defaults)\n");
}

/* From the destination back to the first hop: the order a dial happens in, with
 * the members the groups on the way would pick now. */
static void print_chain(const struct conf *c, int di)
{
    int hops[CHAIN_MAX + 1], n = 0;
    char groups[2048];
    struct chain ch;

    group_explain(c, di, groups, sizeof(groups));
    if (groups[0])
        printf("%s\n", groups);
    if (chain_resolve(c, di, &ch, NULL) < 0) {
        printf("chain: none (too long, or no member to try)\n");
        return;
    }
    for (int k = ch.n - 1; k >= 0; k--)
        hops[n++] = ch.hops[k];
    if (c->dialers[ch.maker].type == DIALER_DIRECT || c->dialers[ch.maker].type == DIALER_BLOCK)
        hops[n++] = ch.maker;
    printf("chain:");
    for (int k = n - 1; k >= 0; k--)
        printf(" %s (%s) ->", c->dialers[hops[k]].name,
               conf_dialer_type_name(c->dialers[hops[k]].type));
    printf(" destination\n");
    for (int k = n - 1; k >= 0; k--) {
        const struct conf_dialer *d = &c->dialers[hops[k]];
        if (d->type == DIALER_BLOCK) {
            printf("hop %d: %s blocks: connect fails with ECONNREFUSED (tcp) or EPERM (udp)\n",
                   n - k, d->name);
            continue;
        }
        if (d->type == DIALER_DIRECT)
            printf("hop %d: %s dials %s directly\n", n - k, d->name,
                   k == n - 1 && n > 1 ? "the next proxy" : "the destination");
        else
            printf("hop %d: %s connects to its server %s:%u (%s%s)\n", n - k, d->name,
                   d->server.host, d->server.port, conf_dialer_type_name(d->type),
                   d->isolate == ISOLATE_PROCESS ? ", isolate=process: username dialshim-PID-START"
                   : d->isolate == ISOLATE_APP   ? ", isolate=app: username dialshim-app-APP"
                                                 : "");
        print_options(c, hops[k]);
    }
}

static const char *why_text(enum app_reason r)
{
    switch (r) {
    case APP_BY_ENV:
        return "forced by -p / DIALSHIM_APP";
    case APP_BY_NAME:
        return "program name matched";
    case APP_BY_PATH:
        return "program path matched";
    case APP_BY_EXE_NAME:
        return "the executable's name matched";
    case APP_BY_PARENT:
        return "no match; inherited from the process that started it (DIALSHIM_PARENT_APP)";
    case APP_BY_DEFAULT:
        return "no match; [global] default_app";
    case APP_BY_BUILTIN:
        return "no match and no default_app: the built-in app, dialer direct";
    }
    return "?";
}

/* What the shim does with a program's own queries to port 53 (common/dnswire.h). */
static void explain_dns_wire(const struct conf *c, int dialer, bool tcp)
{
    bool remote;

    if (netdb_dialer_way(c, dialer, &remote) != NETDB_FAKE)
        return;
    if (tcp) {
        printf("dns: %s\n",
               c->dns_hijack
                   ? "a connect to port 53 (DNS over TCP) is answered by the shim from a loopback "
                     "listener of its own, like a program's datagrams to port 53: no connection "
                     "leaves, the chain above is not used (dns_hijack = true)"
                   : "dns_hijack = false: a connect to port 53 goes by the chain above");
        return;
    }
    printf("dns: %s\n",
           c->dns_hijack
               ? "queries a program sends to port 53 itself are answered by the shim for names "
                 "routed to fake addresses (A/AAAA fake, PTR of a fake address its name, other "
                 "types empty): none leaves, no UDP association (dns_hijack = true)"
               : "dns_hijack = false: queries a program sends to port 53 itself are datagrams "
                 "like any other (the udp line above)");
}

/* A resolver's detour lends the DNS sockets its socket options, nothing more. */
static void explain_resolver_detour(const struct conf *c, const struct conf_resolver *r)
{
    const struct conf_dialer *d = r && r->detour >= 0 ? &c->dialers[r->detour] : NULL;

    if (d && d->type == DIALER_DIRECT)
        printf("resolver detour: %s: DNS queries use its socket options\n", d->name);
    else if (d)
        printf("resolver detour: %s (%s): DNS queries use only its socket options and still "
               "leave directly, not through it\n",
               d->name, conf_dialer_type_name(d->type));
}

/* The interface and mark the DNS queries for DI's names leave with
 * (conf_dns_dialer): the resolver's detour's, else the dialer's own first hop's. */
static void explain_dns_options(const struct conf *c, int di, const struct conf_resolver *r)
{
    int o = conf_dns_dialer(c, di);
    const struct conf_dialer *d = o >= 0 ? &c->dialers[o] : NULL;
    char mark[16] = "none";

    if (!d || sockopt_none(d)) {
        printf("DNS queries: no socket options (interface and mark: the host's routing)\n");
        return;
    }
    if (d->has_mark)
        snprintf(mark, sizeof(mark), "0x%x", d->routing_mark);
    printf("DNS queries: the socket options of %s (%s): interface %s, mark %s%s\n", d->name,
           r && r->detour >= 0 ? "the resolver's detour" : "the dialer's first hop",
           d->bind_interface[0] ? d->bind_interface : "none", mark,
           r && r->detour >= 0 ? "" : "; a server on loopback gets none");
}

/* For a name: the resolver, the strategy, and the addresses in attempt order
 * (or that the proxy gets the name). */
static void explain_name(const struct conf *c, int di, const char *host)
{
    const struct conf_dialer *d = &c->dialers[di];
    const struct conf_resolver *r = dns_resolver(c, d->domain_resolver);
    struct dns_addr addrs[DNS_MAX_ADDRS];
    char why[300];
    int n;

    if (d->type == DIALER_BLOCK)
        return;
    if (d->type != DIALER_DIRECT && conf_remote_dns(d)) {
        printf("names: sent to the proxy as a name (remote_dns); the program gets a fake "
               "address\n");
        return;
    }
    printf("resolver: %s (%s), strategy %s, fallback_delay %ums\n",
           d->domain_resolver >= 0 ? c->resolvers[d->domain_resolver].name : "(built-in)",
           r && r->n_servers ? "its own servers" : "servers of /etc/resolv.conf",
           conf_strategy_name(resolve_strategy(c, di)), d->fallback_delay_ms);
    explain_resolver_detour(c, r);
    explain_dns_options(c, di, r);
    n = resolve_name(c, di, host, addrs, DNS_MAX_ADDRS, d->type == DIALER_DIRECT, why, sizeof(why));
    if (n < 0) {
        printf("addresses: none (%s)\n", why);
        return;
    }
    printf("addresses in the order they would be tried:");
    for (int i = 0; i < n; i++) {
        char ip[INET6_ADDRSTRLEN];
        printf(" %s", inet_ntop(addrs[i].family, addrs[i].addr, ip, sizeof(ip)));
    }
    printf("\n");
}

static int parse_port(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    return *s && !*end && v >= 0 && v <= 65535 ? (int)v : -1;
}

int cmd_explain(const struct opts *o, int argc, char **argv)
{
    char path[PATH_MAX], abuf[ADDR_STRLEN];
    enum net_kind net = NET_TCP;
    enum app_reason why;
    const char *matched, *host, *name;
    struct sockaddr_storage ss;
    struct dest dst = {0};
    struct conf *c;
    int app, di, rule, port;

    if (argc > 0 && (!strcmp(argv[0], "tcp") || !strcmp(argv[0], "udp"))) {
        net = !strcmp(argv[0], "udp") ? NET_UDP : NET_TCP;
        argc--, argv++;
    }
    if (argc != 2 || (port = parse_port(argv[1])) < 0) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    host = argv[0];
    if (find_config(o, path, sizeof(path)) < 0)
        return EXIT_USAGE;
    c = load_checked(path);
    if (!c)
        return EXIT_USAGE;

    name = o->program ? o->program : "dialshim";
    {
        struct app_who who = {o->app, name,
                              o->program && strchr(o->program, '/') ? o->program : NULL,
                              state_env("DIALSHIM_PARENT_APP")};
        app = app_pick(c, &who, &why, &matched);
    }
    printf("config: %s\n", path);
    printf("log: level %s, format %s, to %s\n",
           (const char *[]){"error", "warn", "info", "debug", "trace"}[c->log_level],
           c->log_format == LOG_FORMAT_JSON ? "json (one object per line)" : "text",
           c->log_file[0] ? c->log_file : "stderr");
    if (app == -2) {
        fprintf(stderr, "dialshim: no [app %s] in %s\n", o->app, path);
        conf_free(c);
        return EXIT_USAGE;
    }
    printf("app: %s (%s%s%s%s)\n", app >= 0 ? c->apps[app].name : "(built-in)", why_text(why),
           matched ? ": '" : "", matched ? matched : "", matched ? "'" : "");
    if (app >= 0)
        printf("children: %s\n",
               c->apps[app].inherit
                   ? "the processes it starts follow this app unless they match one of their "
                     "own (inherit = true, passed down in DIALSHIM_PARENT_APP)"
                   : "the processes it starts match on their own (inherit = false)");
    {
        char line[CONF_STATE_DIR_MAX + 128];
        statedir_describe(c, line, sizeof(line));
        printf("%s\n", line);
        fakeshare_describe(c, line, sizeof(line));
        printf("%s\n", line);
    }

    memset(&ss, 0, sizeof(ss));
    dst.port = (uint16_t)port;
    dst.net = net;
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        dst.sa = (struct sockaddr *)&ss;
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ss.ss_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        dst.sa = (struct sockaddr *)&ss;
    } else {
        dst.name = host;
    }
    if (dst.sa)
        printf("destination: %s %s\n", net == NET_UDP ? "udp" : "tcp",
               addr_format(dst.sa, abuf, sizeof(abuf)));
    else
        printf("destination: %s %s port %d\n", net == NET_UDP ? "udp" : "tcp", host, port);
    di = route_pick(c, app, &dst, &rule);
    if (rule >= 0)
        printf("rule: #%d (line %d) %s -> %s\n", rule + 1, c->apps[app].rules[rule].line,
               c->apps[app].rules[rule].text, c->dialers[di].name);
    else
        printf("rule: none matched; the app's dialer -> %s\n", c->dialers[di].name);
    print_chain(c, di);
    if (net == NET_UDP) {
        char line[1024];
        udp_explain(c, di, (uint16_t)port, line, sizeof(line));
        printf("%s\n", line);
        if (port == 53)
            explain_dns_wire(c, di, false);
    } else if (port == 53) {
        explain_dns_wire(c, di, true);
    }
    if (dst.name)
        explain_name(c, di, host);
    printf("%s\n", resq_explain(c, di, dst.sa != NULL));
    supervise_explain(c, o->program);
    if (o->dial) {
        int fd, err;
        if (!dst.sa) {
            printf("dial: give an address to dial (names are not resolved by dialshim yet)\n");
            conf_free(c);
            return EXIT_USAGE;
        }
        fd = socket(dst.sa->sa_family, net == NET_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
        {
            struct dial d = {.conf = c,
                             .dialer = di,
                             .fd = fd,
                             .sa = dst.sa,
                             .len = dst.sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                                 : sizeof(struct sockaddr_in6),
                             .type = net == NET_UDP ? SOCK_DGRAM : SOCK_STREAM};
            err = fd < 0 ? errno : dialer_dial(&d);
            printf("dial: %s%s%s\n", err ? strerrorname_np(err) : "connected",
                   dial_why(&d) ? " - " : "", dial_why(&d) ? dial_why(&d) : "");
        }
        if (fd >= 0)
            close(fd);
        conf_free(c);
        return err ? 1 : 0;
    }
    conf_free(c);
    return 0;
}
