/* proxychains-ng's proxychains.conf as dialshim.ini (tools/import.h).
 *
 * What proxychains-ng does, and what is written for it:
 * - strict_chain: every proxy in order, any failure fails: a chain of dialers,
 *   each one's detour the one before (exact);
 * - dynamic_chain (the default): in order, dead proxies skipped: the same chain,
 *   which fails instead of skipping (said in a comment when there are several);
 * - random_chain / round_robin_chain with chain_len N: N groups (pick = random or
 *   round_robin), one per position, over copies of every proxy whose detour is
 *   the previous position's group; round_robin's lists are rotated by position,
 *   so a connection takes N consecutive proxies from a start that moves by one
 *   (with more than CONF_LIST_MAX proxies: the first N as a fixed chain);
 * - proxy_dns: remote_dns = true, names go to the last proxy; remote_dns_subnet N
 *   (default 224): fake_ip_range = N.0.0.0/8, where proxychains hands out its
 *   addresses too;
 * - localnet ADDR/MASK: route = cidr:ADDR/PREFIX -> direct (with a port: left out,
 *   those destinations keep going through the proxies);
 * - dnat: left out (dialshim does not rewrite destinations);
 * - tcp_connect_time_out + tcp_read_time_out per proxy (default 10000 and 4000
 *   ms): connect_timeout, one bound for the whole dial;
 * - ProxyList "type host port [user pass]": a dialer each; raw proxies and proxies
 *   given by name are left out; with none left the app blocks (never direct).
 */
#include "tools/import.h"

#include "common/escape.h"
#include "conf/conf.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PC_PROXIES   32
#define PC_LOCALNETS 32

enum pc_chain { PC_DYNAMIC, PC_STRICT, PC_RANDOM, PC_ROUND_ROBIN };

struct pc_proxy {
    char type[8], server[80], user[IMP_VALUE_MAX + 1], pass[IMP_VALUE_MAX + 1];
    int line;
};

struct pc {
    enum pc_chain chain;
    int chain_line, chain_len, chain_len_line, subnet, subnet_line;
    long connect_ms, read_ms;
    bool proxy_dns, quiet, in_list;
    struct pc_proxy px[PC_PROXIES];
    int n_px;
    char localnet[PC_LOCALNETS][80];
    int n_localnet;
};

static const char *const chain_names[] = {"dynamic_chain", "strict_chain", "random_chain",
                                          "round_robin_chain"};

/* A number in [MIN, MAX] made only of digits, or -1. */
static long number(const char *s, long min, long max)
{
    size_t n = strlen(s);
    long v;

    if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
        return -1;
    v = strtol(s, NULL, 10);
    return v >= min && v <= max ? v : -1;
}

static void add_proxy(struct imp *im, struct pc *pc, int line, char **t, int n)
{
    struct pc_proxy *p = &pc->px[pc->n_px];
    char w[64];

    if (n < 3 || n > 5) {
        imp_warn(im, line, "proxy entry '%s' needs 'type host port [user pass]': left out",
                 imp_word(t[0], w, sizeof(w)));
        return;
    }
    if (strcmp(t[0], "raw") == 0) {
        imp_warn(im, line,
                 "raw proxy left out: dialshim has no dialer that forwards bytes unchanged "
                 "to a fixed address");
        return;
    }
    if (strcmp(t[0], "socks5") && strcmp(t[0], "socks4") && strcmp(t[0], "http")) {
        imp_warn(im, line, "unknown proxy type '%s': left out", imp_word(t[0], w, sizeof(w)));
        return;
    }
    if (pc->n_px == PC_PROXIES) {
        imp_warn(im, line, "more than %d proxies: left out", PC_PROXIES);
        return;
    }
    if (!imp_server(t[1], t[2], p->server, sizeof(p->server))) {
        imp_warn(im, line,
                 "%s proxy '%s' port '%s': not an address and port (a proxy given by name "
                 "is refused in this build): left out",
                 t[0], imp_word(t[1], w, sizeof(w)), imp_word(t[2], w + 32, 32));
        return;
    }
    if ((n >= 4 && !imp_value_ok(t[3])) || (n == 5 && !imp_value_ok(t[4]))) {
        imp_warn(im, line,
                 "%s proxy %s: a user name or password that a dialshim.ini value cannot hold "
                 "(more than %d bytes, or not printable ASCII): left out",
                 t[0], p->server, IMP_VALUE_MAX);
        return;
    }
    /* HTTP Basic authentication joins them as user:pass: a ':' in the user name
     * moves the split (proxychains-ng sends it all the same). */
    if (n >= 4 && strcmp(t[0], "http") == 0 && strchr(t[3], ':')) {
        imp_warn(im, line,
                 "http proxy %s: a user name with ':' cannot be sent by HTTP Basic "
                 "authentication: left out",
                 p->server);
        return;
    }
    if (n == 4)
        imp_warn(im, line, "%s proxy %s: a user name without a password: the user name is kept",
                 t[0], p->server);
    snprintf(p->type, sizeof(p->type), "%s", t[0]);
    snprintf(p->user, sizeof(p->user), "%s", n >= 4 ? t[3] : "");
    snprintf(p->pass, sizeof(p->pass), "%s", n == 5 ? t[4] : "");
    p->line = line;
    pc->n_px++;
}

/* ADDR/PREFIX as a rule's network, host bits cleared (proxychains-ng masks them). */
static bool network(const char *addr, int prefix, char *out, size_t cap)
{
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET, size = family == AF_INET ? 4 : 16;
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];

    if (prefix < 0 || prefix > size * 8 || inet_pton(family, addr, a) != 1)
        return false;
    for (int bit = prefix; bit < size * 8; bit++)
        a[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
    return inet_ntop(family, a, text, sizeof(text)) &&
           snprintf(out, cap, "%s/%d", text, prefix) < (int)cap;
}

/* localnet ADDR[:PORT]/MASK (proxychains-ng also takes an IPv6 ADDR/PREFIX). */
static void add_localnet(struct imp *im, struct pc *pc, int line, const char *v)
{
    char buf[64], *slash, *colon, w[64];
    bool v6;

    snprintf(buf, sizeof(buf), "%s", v);
    slash = strchr(buf, '/');
    if (!slash || pc->n_localnet == PC_LOCALNETS) {
        imp_warn(im, line, "localnet '%s': %s: left out", imp_word(v, w, sizeof(w)),
                 slash ? "too many localnet lines" : "expected ADDR/MASK");
        return;
    }
    *slash++ = '\0';
    colon = strchr(buf, ':');
    v6 = colon && strchr(colon + 1, ':');
    if (colon && !v6) {
        imp_note(im, line,
                 "localnet %s: a dialshim rule cannot match an address and a port together: "
                 "left out, so these destinations go through the proxies",
                 imp_word(v, w, sizeof(w)));
        return;
    }
    if (!network(buf, v6 ? (int)number(slash, 0, 128) : imp_mask_prefix(slash),
                 pc->localnet[pc->n_localnet], sizeof(pc->localnet[0]))) {
        imp_warn(im, line, "localnet '%s': not %s: left out", imp_word(v, w, sizeof(w)),
                 v6 ? "ADDR/PREFIX" : "ADDR/MASK with a contiguous mask");
        return;
    }
    pc->n_localnet++;
}

static bool set_chain(struct pc *pc, int line, const char *w)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(w, chain_names[i]) == 0) {
            pc->chain = (enum pc_chain)i;
            pc->chain_line = line;
            return true;
        }
    return false;
}

/* One line outside [ProxyList]; false when it is not understood. */
static bool setting(struct imp *im, struct pc *pc, int line, char **t, int n)
{
    char w[64];
    long v;

    if (n == 1 && set_chain(pc, line, t[0]))
        return true;
    if (n == 1 && strcmp(t[0], "proxy_dns") == 0)
        return (pc->proxy_dns = true);
    if (n == 1 && strcmp(t[0], "quiet_mode") == 0)
        return (pc->quiet = true);
    if (n >= 1 && (strcmp(t[0], "proxy_dns_old") == 0 || strcmp(t[0], "proxy_dns_daemon") == 0)) {
        imp_note(im, line,
                 "%s: names go to the proxy instead (remote_dns = true), no helper process", t[0]);
        return (pc->proxy_dns = true);
    }
    if (n == 2 && strcmp(t[0], "chain_len") == 0 && (v = number(t[1], 1, PC_PROXIES)) > 0) {
        pc->chain_len = (int)v;
        pc->chain_len_line = line;
        return true;
    }
    if (n == 2 && strcmp(t[0], "remote_dns_subnet") == 0 && (v = number(t[1], 0, 255)) >= 0) {
        pc->subnet = (int)v;
        pc->subnet_line = line;
        return true;
    }
    if (n == 2 && strcmp(t[0], "tcp_read_time_out") == 0 && (v = number(t[1], 1, 3600000)) > 0)
        return (pc->read_ms = v) > 0;
    if (n == 2 && strcmp(t[0], "tcp_connect_time_out") == 0 && (v = number(t[1], 1, 3600000)) > 0)
        return (pc->connect_ms = v) > 0;
    if (n == 2 && strcmp(t[0], "localnet") == 0) {
        add_localnet(im, pc, line, t[1]);
        return true;
    }
    if (n >= 1 && strcmp(t[0], "dnat") == 0) {
        imp_note(im, line, "dnat: left out: dialshim does not rewrite destinations");
        return true;
    }
    (void)w;
    return false;
}

/* One line: "[ProxyList]" starts the list, whose lines are proxies; before it,
 * settings. */
static bool pc_line(struct imp *im, void *ctx, int no, char **t, int n)
{
    struct pc *pc = ctx;

    if (n == 1 && strcasecmp(t[0], "[ProxyList]") == 0) {
        pc->in_list = true;
        return true;
    }
    if (pc->in_list && t[0][0] != '[') {
        add_proxy(im, pc, no, t, n);
        return true;
    }
    return t[0][0] != '[' && setting(im, pc, no, t, n);
}

static void parse(struct imp *im, struct pc *pc, const char *text, size_t len)
{
    imp_each_line(im, text, len, pc_line, pc);
}

static void put_global(struct imp *im, const struct pc *pc)
{
    fprintf(im->out, "[global]\n");
    if (pc->quiet) {
        imp_comment(im, "quiet_mode: only errors are logged");
        fprintf(im->out, "log_level = error\n");
    }
    if (pc->proxy_dns) {
        int net = pc->subnet >= 0 ? pc->subnet : 224;
        imp_comment(im,
                    "proxy_dns%s: programs get fake addresses from %d.0.0.0/8 for names, which "
                    "the proxy resolves (IPv6 ones from fake_ip6_range's default)",
                    pc->subnet >= 0 ? " with remote_dns_subnet" : "", net);
        fprintf(im->out, "fake_ip_range = %d.0.0.0/8\n", net);
    } else if (pc->subnet >= 0) {
        imp_comment(im, "remote_dns_subnet (line %d) without proxy_dns: no effect",
                    pc->subnet_line);
    }
    fputc('\n', im->out);
}

/* Proxy I as dialer NAME, its detour DETOUR (NULL: none), TIMEOUT_MS (0: none). */
static void put_dialer(struct imp *im, const struct pc *pc, int i, const char *name,
                       const char *detour, uint32_t timeout_ms)
{
    const struct pc_proxy *p = &pc->px[i];

    fprintf(im->out, "[dialer %s]\ntype = %s\nserver = %s\n", name, p->type, p->server);
    if (p->user[0])
        fprintf(im->out, "username = %s\n", p->user);
    if (p->pass[0] && strcmp(p->type, "socks4") != 0)
        fprintf(im->out, "password = %s\n", p->pass);
    else if (p->pass[0])
        imp_comment(im, "SOCKS4 carries a user id only: the password (line %d) is left out",
                    p->line);
    fprintf(im->out, "remote_dns = %s\n", pc->proxy_dns ? "true" : "false");
    if (detour)
        fprintf(im->out, "detour = %s\n", detour);
    if (timeout_ms)
        fprintf(im->out, "connect_timeout = %ums\n", timeout_ms);
    fputc('\n', im->out);
}

static uint32_t cap_ms(long ms)
{
    return ms > 600000 ? 600000 : (uint32_t)ms;
}

static void timeout_comment(struct imp *im, const struct pc *pc)
{
    imp_comment(im,
                "tcp_connect_time_out %ld ms + tcp_read_time_out %ld ms per proxy: connect_timeout "
                "bounds a whole dial (a group's: all the members it tries)",
                pc->connect_ms, pc->read_ms);
}

/* strict_chain, dynamic_chain, and the others when groups cannot hold them: the
 * first N proxies chained in order. Returns the app's dialer. */
static void put_chain(struct imp *im, const struct pc *pc, int n, char *app, size_t cap)
{
    char name[32], prev[32];

    timeout_comment(im, pc);
    for (int i = 0; i < pc->n_px; i++) {
        snprintf(name, sizeof(name), "proxy%d", i + 1);
        snprintf(prev, sizeof(prev), "proxy%d", i);
        if (i >= n)
            imp_comment(im, "not in the chain (see above)");
        put_dialer(im, pc, i, name, i > 0 && i < n ? prev : NULL,
                   i == n - 1 ? cap_ms((pc->connect_ms + pc->read_ms) * n) : 0);
    }
    snprintf(app, cap, "proxy%d", n);
}

/* random_chain / round_robin_chain: a group per position of the chain, each over
 * every proxy (copies whose detour is the previous position's group). */
static void put_groups(struct imp *im, const struct pc *pc, int len, char *app, size_t cap)
{
    const char *pick = pc->chain == PC_RANDOM ? "random" : "round_robin";
    long per = pc->connect_ms + pc->read_ms;
    char name[32], prev[32];

    timeout_comment(im, pc);
    for (int k = 1; k <= len; k++) {
        snprintf(prev, sizeof(prev), "hop%d", k - 1);
        for (int i = 0; i < pc->n_px; i++) {
            if (len == 1)
                snprintf(name, sizeof(name), "proxy%d", i + 1);
            else
                snprintf(name, sizeof(name), "p%d_hop%d", i + 1, k);
            put_dialer(im, pc, i, name, k > 1 ? prev : NULL, cap_ms(per * k));
        }
        fprintf(im->out, "[dialer hop%d]\ntype = group\npick = %s\nmembers = ", k, pick);
        /* round_robin: position k starts one further, so a connection takes len
         * consecutive proxies from a start that moves by one per connection */
        for (int j = 0; j < pc->n_px; j++) {
            int i = (j + k - 1) % pc->n_px;
            if (len == 1)
                fprintf(im->out, "%sproxy%d", j ? ", " : "", i + 1);
            else
                fprintf(im->out, "%sp%d_hop%d", j ? ", " : "", i + 1, k);
        }
        fprintf(im->out, "\nremote_dns = %s\nconnect_timeout = %ums\n\n",
                pc->proxy_dns ? "true" : "false", cap_ms(per * k * pc->n_px));
    }
    snprintf(app, cap, "hop%d", len);
}

/* The dialers, and the name of the one the app uses ("" when none). */
static void put_dialers(struct imp *im, const struct pc *pc, char *app, size_t cap)
{
    bool rotating = pc->chain == PC_RANDOM || pc->chain == PC_ROUND_ROBIN;
    int want = pc->chain_len ? pc->chain_len : 1;
    int len = want < pc->n_px ? want : pc->n_px;

    app[0] = '\0';
    if (pc->n_px == 0)
        return;
    if (!rotating) {
        if (pc->chain == PC_DYNAMIC && pc->n_px > 1)
            imp_comment(im,
                        "dynamic_chain%s: the proxies are chained in order as strict_chain "
                        "does; a dead proxy fails the connection instead of being skipped (a "
                        "group picks one dialer, it cannot leave out a hop)",
                        pc->chain_line ? "" : " (proxychains-ng's default)");
        put_chain(im, pc, pc->n_px, app, cap);
        return;
    }
    if (pc->n_px > CONF_LIST_MAX) {
        imp_comment(im,
                    "%s (line %d), chain_len %d: more than %d proxies do not fit a group; the "
                    "first %d form a fixed chain instead",
                    chain_names[pc->chain], pc->chain_line, want, CONF_LIST_MAX, len);
        put_chain(im, pc, len, app, cap);
        return;
    }
    imp_comment(im,
                "%s (line %d), chain_len %d: %s per position (hop1 first), passing over proxies "
                "that failed; %s",
                chain_names[pc->chain], pc->chain_line, want,
                len == 1 ? "a group" : "a group of copies of every proxy",
                pc->chain == PC_ROUND_ROBIN
                    ? "the start moves by one per connection, per process, as proxychains-ng does"
                : len > 1 ? "unlike proxychains-ng, one proxy may be picked at two positions"
                          : "as proxychains-ng does");
    put_groups(im, pc, len, app, cap);
}

static void put_app(struct imp *im, const struct pc *pc, const char *dialer)
{
    fprintf(im->out, "[app proxychains]\nmatch = *\n");
    if (dialer[0]) {
        fprintf(im->out, "dialer = %s\n", dialer);
    } else {
        imp_comment(im, "no proxy could be imported: everything is refused rather than sent "
                        "directly");
        fprintf(im->out, "dialer = block\n");
    }
    for (int i = 0; i < pc->n_localnet; i++)
        fprintf(im->out, "route = cidr:%s -> direct\n", pc->localnet[i]);
    imp_comment(im, "proxychains-ng leaves UDP alone (it leaves directly); here datagrams follow "
                    "the dialer (SOCKS5 UDP ASSOCIATE, refused by SOCKS4 and HTTP proxies). "
                    "Add 'route = network:udp -> direct' for proxychains's behaviour.");
}

void import_proxychains(struct imp *im, const char *text, size_t len)
{
    struct pc *pc = calloc(1, sizeof(*pc));
    char nm[160], app[32];

    if (!pc) {
        fprintf(im->err, "dialshim: import: out of memory\n");
        return;
    }
    pc->subnet = -1;
    pc->connect_ms = 10000;
    pc->read_ms = 4000;
    parse(im, pc, text, len);
    imp_comment(im,
                "Imported by dialshim import from %s (proxychains-ng). Lines without an "
                "exact equivalent have a comment saying what was chosen instead.",
                escape_str(nm, sizeof(nm), im->name));
    imp_put_notes(im);
    fputc('\n', im->out);
    put_global(im, pc);
    put_dialers(im, pc, app, sizeof(app));
    put_app(im, pc, app);
    free(pc);
}
