/* dialshim: run a command through the shim, check a configuration, explain a
 * decision (dialshim(1)). */
#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/dialer/group.h"
#include "common/dns.h"
#include "common/sockopt.h"
#include "common/engine.h"
#include "common/fakeshare.h"
#include "common/log.h"
#include "common/lookup.h"
#include "common/resq.h"
#include "common/route.h"
#include "common/state.h"
#include "common/support.h"
#include "common/sys.h"
#include "common/statedir.h"
#include "common/udpexplain.h"
#include "conf/conf.h"
#include "tools/elf.h"
#include "tools/tool.h"
#include "tools/supervise.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: dialshim [run] [-c FILE] [-p APP] [-l LEVEL] [--supervise | --no-supervise] [--]\n"
    "                COMMAND [ARG...]\n"
    "       dialshim check [-c FILE]\n"
    "       dialshim env [-c FILE] [-p APP] [-l LEVEL] | dialshim env --off\n"
    "       dialshim shell [-c FILE] [-p APP] [-l LEVEL] [--] [SHELL-ARG...]\n"
    "       dialshim import FILE\n"
    "       dialshim explain [-c FILE] [-p APP | -n PROGRAM] [--dial] [tcp|udp] HOST PORT\n"
    "       dialshim --version | --help\n";

/* --help: one line per verb and option; the manual is dialshim(1). */
static const char help_text[] =
    "\n"
    "  run          run COMMAND with the shim preloaded (the default verb)\n"
    "  check        validate the configuration: 'ok: N dialers, M apps' or FILE:LINE errors\n"
    "  explain      show the app, rule, dialer chain and addresses HOST PORT would get\n"
    "  env          print export lines for eval: this shell's later commands use the shim\n"
    "  shell        start $SHELL (else /bin/sh) under the shim, '(dialshim) ' before its prompt\n"
    "  import       print the INI equivalent of a proxychains.conf or torsocks.conf FILE\n"
    "  -c FILE      the configuration file (default: $DIALSHIM_CONFIG, the user's, /etc's)\n"
    "  -p APP       use [app APP] whatever the program (sets DIALSHIM_APP)\n"
    "  -l LEVEL     log level in COMMAND: error, warn, info, debug, trace (sets DIALSHIM_LOG)\n"
    "  -n PROGRAM   explain: match [app] sections as if run as PROGRAM (a name or a path)\n"
    "  --dial       explain: also dial HOST PORT (an address) and print the result\n"
    "  --off        env: print the lines that undo 'env' (only our library leaves LD_PRELOAD)\n"
    "  --supervise  run: COMMAND under the seccomp supervisor, whatever its kind\n"
    "  --no-supervise  run: never the supervisor (a static or Go COMMAND runs unproxied)\n"
    "  --version    print the version\n"
    "  --help       print this help\n"
    "Exit status: the command's; 2 for a usage or configuration error; 127 when COMMAND\n"
    "is not found. Manuals: dialshim(1), dialshim.ini(5).\n";

static void print_problem(void *ctx, const char *file, int line, const char *msg)
{
    int *errors = ctx;

    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
    if (strncmp(msg, "warning: ", 9) != 0)
        (*errors)++;
}

/* The file the shim would read, per dialshim(1) FILES, made absolute. */
int find_config(const struct opts *o, char *out, size_t cap)
{
    char found[PATH_MAX];

    if (o->config)
        snprintf(found, sizeof(found), "%s", o->config);
    else if (!state_find_config(found, sizeof(found))) {
        fprintf(stderr, "dialshim: no configuration: give -c FILE, set DIALSHIM_CONFIG, or "
                        "create ~/.config/dialshim/dialshim.ini or /etc/dialshim.ini\n");
        return -1;
    }
    if (!realpath(found, out)) {
        fprintf(stderr, "%s:0: cannot open: %s\n", found, strerror(errno));
        return -1;
    }
    (void)cap;
    return 0;
}

/* Load and validate, printing every problem; NULL when there was any error. */
struct conf *load_checked(const char *path)
{
    int errors = 0;
    struct conf *c = conf_load(path, print_problem, &errors);

    if (c && support_check(c, print_problem, &errors) != 0) {
        conf_free(c);
        c = NULL;
    }
    return c;
}

static int cmd_check(const struct opts *o)
{
    char path[PATH_MAX];
    struct conf *c;
    int nd = 0;

    if (find_config(o, path, sizeof(path)) < 0)
        return EXIT_USAGE;
    c = load_checked(path);
    if (!c)
        return EXIT_USAGE;
    for (int i = 0; i < c->n_dialers; i++)
        nd += c->dialers[i].line > 0;
    printf("ok: %d dialers, %d apps\n", nd, c->n_apps);
    conf_free(c);
    return 0;
}

/* ---- explain ---- */

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
static void explain_dns_wire(const struct conf *c, int dialer)
{
    bool remote;

    if (netdb_dialer_way(c, dialer, &remote) != NETDB_FAKE)
        return;
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

static int cmd_explain(const struct opts *o, int argc, char **argv)
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
            explain_dns_wire(c, di);
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

/* ---- run ---- */

/* The shim beside this program (build/), or, installed, in the library directory
 * of the tree this program lies in (DIALSHIM_LIBDIR_REL, relative to bin/: a
 * package unpacked under another root finds its own library), then where `make
 * install` put it. */
int shim_path(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n > 0) {
        exe[n] = '\0';
        char found[PATH_MAX];
#ifdef DIALSHIM_LIBDIR_REL
        snprintf(out, cap, "%s/%s/libdialshim.so", dirname(exe), DIALSHIM_LIBDIR_REL);
#else
        snprintf(out, cap, "%s/libdialshim.so", dirname(exe));
#endif
        /* without the "bin/.." the program would see in LD_PRELOAD */
        if (access(out, R_OK) == 0 && realpath(out, found) && strlen(found) < cap)
            snprintf(out, cap, "%s", found);
        if (access(out, R_OK) == 0)
            return 0;
    }
#ifdef DIALSHIM_LIBDIR
    snprintf(out, cap, "%s/libdialshim.so", DIALSHIM_LIBDIR);
    return access(out, R_OK) == 0 ? 0 : -1;
#else
    return -1;
#endif
}

/* execvp's search, to inspect the file that will run. */
static bool which(const char *cmd, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    char dirs[4096];

    if (strchr(cmd, '/')) {
        snprintf(out, cap, "%s", cmd);
        return access(out, X_OK) == 0;
    }
    snprintf(dirs, sizeof(dirs), "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/%s", *d ? d : ".", cmd);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* Look inside the file for what makes LD_PRELOAD useless. The file is anyone's:
 * only a regular file is opened (never waiting on a FIFO), and tools/elf.c reads
 * it with every offset checked. */
static void warn_uninterceptable(const char *file)
{
    struct stat st;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct elf_facts facts;
    unsigned char *m;
    int elf;

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (unsigned long long)st.st_size > SIZE_MAX) {
        if (fd >= 0)
            close(fd);
        return;
    }
    if (st.st_mode & (S_ISUID | S_ISGID))
        fprintf(stderr, "dialshim: warning: %s is set%s: the loader ignores LD_PRELOAD for it\n",
                file, st.st_mode & S_ISUID ? "uid" : "gid");
    if (fgetxattr(fd, "security.capability", NULL, 0) > 0)
        fprintf(stderr,
                "dialshim: warning: %s has file capabilities: the loader ignores LD_PRELOAD "
                "for it\n",
                file);
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    elf = elf_inspect(m, (size_t)st.st_size, &facts);
    munmap(m, (size_t)st.st_size);
    if (elf < 0)
        return; /* a script, another class, or headers that make no sense */
    if (!facts.interp)
        fprintf(stderr, "dialshim: warning: %s is statically linked: LD_PRELOAD cannot reach it\n",
                file);
    else if (facts.go)
        fprintf(stderr,
                "dialshim: warning: %s is a Go program: it makes system calls directly, so "
                "only cgo lookups (GODEBUG=netdns=cgo) can pass through the shim\n",
                file);
}

int cmd_run(const struct opts *o, char **argv)
{
    char path[PATH_MAX], lib[PATH_MAX], file[PATH_MAX], preload[2 * PATH_MAX];
    const char *old = getenv("LD_PRELOAD");
    struct conf *c;

    if (!argv[0]) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (find_config(o, path, sizeof(path)) < 0)
        return EXIT_USAGE;
    c = load_checked(path);
    if (!c)
        return EXIT_USAGE;
    if (o->app && conf_app_index(c, o->app) < 0) {
        fprintf(stderr, "dialshim: -p %s: no [app %s] in %s\n", o->app, o->app, path);
        conf_free(c);
        return EXIT_USAGE;
    }
    conf_free(c);
    if (shim_path(lib, sizeof(lib)) < 0) {
        fprintf(stderr, "dialshim: cannot find libdialshim.so (looked at %s)\n", lib);
        return EXIT_USAGE;
    }
    if (old && *old && !strstr(old, lib))
        snprintf(preload, sizeof(preload), "%s:%s", lib, old);
    else
        snprintf(preload, sizeof(preload), "%s", old && *old ? old : lib);
    setenv("LD_PRELOAD", preload, 1);
    setenv("DIALSHIM_CONFIG", path, 1);
    if (o->app)
        setenv("DIALSHIM_APP", o->app, 1);
    if (o->level)
        setenv("DIALSHIM_LOG", o->level, 1);
    if (!which(argv[0], file, sizeof(file))) {
        fprintf(stderr, "dialshim: %s: command not found\n", argv[0]);
        return 127;
    }
    {
        struct supervise_run r = {path, o->app, o->level, file, argv, o->supervise};
        int st = supervise_maybe(&r);
        if (st != SUPERVISE_PRELOAD)
            return st;
    }
    warn_uninterceptable(file);
    execvp(argv[0], argv);
    fprintf(stderr, "dialshim: %s: %s\n", argv[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

static bool valid_level(const char *l)
{
    static const char *ok[] = {"error", "warn", "info", "debug", "trace"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!strcmp(l, ok[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"version", no_argument, NULL, 'V'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"dial", no_argument, NULL, 'd'},
                                             {"off", no_argument, NULL, 'o'},
                                             {"supervise", no_argument, NULL, 'S'},
                                             {"no-supervise", no_argument, NULL, 'N'},
                                             {NULL, 0, NULL, 0}};
    struct opts o = {0};
    const char *verb = "run";
    int ch;

    sys_init_default();
    /* Options may come before and after the verb: scan until a non-option, and
     * again after a verb. "+" stops at the command so its own options are its own. */
    for (int round = 0; round < 2; round++) {
        while ((ch = getopt_long(argc, argv, "+c:p:l:n:h", longopts, NULL)) != -1) {
            switch (ch) {
            case 'c':
                o.config = optarg;
                break;
            case 'p':
                o.app = optarg;
                break;
            case 'l':
                if (!valid_level(optarg)) {
                    fprintf(stderr, "dialshim: -l %s: use error, warn, info, debug or trace\n",
                            optarg);
                    return EXIT_USAGE;
                }
                o.level = optarg;
                break;
            case 'n':
                o.program = optarg;
                break;
            case 'd':
                o.dial = true;
                break;
            case 'o':
                o.off = true;
                break;
            case 'S':
                o.supervise = 1;
                break;
            case 'N':
                o.supervise = -1;
                break;
            case 'V':
                printf("dialshim %s\n", DIALSHIM_VERSION);
                return 0;
            case 'h':
                fputs(usage_text, stdout);
                fputs(help_text, stdout);
                return 0;
            default:
                fputs(usage_text, stderr);
                return EXIT_USAGE;
            }
        }
        if (round == 0 && optind < argc && optind > 0 && strcmp(argv[optind - 1], "--") != 0 &&
            (!strcmp(argv[optind], "check") || !strcmp(argv[optind], "explain") ||
             !strcmp(argv[optind], "run") || !strcmp(argv[optind], "env") ||
             !strcmp(argv[optind], "shell") || !strcmp(argv[optind], "import"))) {
            verb = argv[optind];
            argc -= optind;
            argv += optind;
            optind = 0; /* glibc: start over, scanning from argv[1] */
            continue;
        }
        break;
    }
    if (!strcmp(verb, "check")) {
        if (optind != argc) {
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
        return cmd_check(&o);
    }
    if (!strcmp(verb, "explain"))
        return cmd_explain(&o, argc - optind, argv + optind);
    if (!strcmp(verb, "env"))
        return cmd_env(&o, argc - optind, argv + optind);
    if (!strcmp(verb, "import"))
        return cmd_import(argc - optind, argv + optind);
    if (o.program || o.dial || o.off || (o.supervise && strcmp(verb, "run") != 0)) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(verb, "shell"))
        return cmd_shell(&o, argc - optind, argv + optind);
    return cmd_run(&o, argv + optind);
}
