/* The keys of [dialer NAME] (dialshim.ini(5)): a setter per key, and the checks
 * that need the whole section (which keys a dialer type takes), run as it closes.
 * One table: the closing checks find keys by their index in it (enum dialer_key). */
#include "conf/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"direct", "socks5", "socks4", "http", "block", "group"};
static const char *const pick_names[] = {"failover", "round_robin", "random"};
static const char *const handshake_names[] = {"auto", "lockstep", "pipelined"};
static const char *const udp_names[] = {NULL, "allow", "block", "associate"};
static const char *const netstrat_names[] = {"default", "hybrid", "fallback"};

const char *conf_dialer_type_name(enum dialer_type t)
{
    return (int)t >= 0 && (int)t < COUNT(type_names) ? type_names[t] : "?";
}

const char *conf_pick_name(enum group_pick p)
{
    return (int)p >= 0 && (int)p < COUNT(pick_names) ? pick_names[p] : "?";
}

/* ---- [dialer NAME] ---- */

static void set_type(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, type_names, COUNT(type_names), &i))
        dialer(p)->type = (enum dialer_type)i;
}

static void set_server(struct parser *p, const char *key, const char *v)
{
    char why[WHY_MAX];

    if (conf_parse_server(v, &dialer(p)->server, why) < 0)
        conf_bad(p, "address", key, v, why);
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
    dialer(p)->remote_dns = conf_get_tristate(p, key, v);
}

static void set_handshake(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, handshake_names, COUNT(handshake_names), &i))
        dialer(p)->handshake = (enum handshake)i;
}

static void set_udp(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, udp_names, COUNT(udp_names), &i))
        dialer(p)->udp = (enum udp_mode)i;
}

static bool get_ifname(struct parser *p, const char *key, const char *v, char *out)
{
    char why[WHY_MAX];

    if (conf_check_ifname(v, why) < 0) {
        conf_bad(p, "interface name", key, v, why);
        return false;
    }
    strcpy(out, v);
    return true;
}

static void set_bind_interface(struct parser *p, const char *key, const char *v)
{
    get_ifname(p, key, v, dialer(p)->bind_interface);
}

/* A bind address is a bare address of one family: the port is the kernel's.
 * IP: where the address goes (struct in_addr or in6_addr), SIZE its size. */
static bool set_bind(struct parser *p, const char *key, const char *v, int family, void *ip,
                     size_t size)
{
    struct conf_addr a;
    char why[WHY_MAX];

    if (conf_parse_addr(v, -2, &a, why) < 0) {
        conf_bad(p, "address", key, v, why);
        return false;
    }
    if (a.u.sa.sa_family != family) {
        conf_bad(p, "address", key, v,
                 family == AF_INET ? "not an IPv4 address" : "not an IPv6 address");
        return false;
    }
    memcpy(ip, family == AF_INET ? (void *)&a.u.in4.sin_addr : (void *)&a.u.in6.sin6_addr, size);
    return true;
}

static void set_inet4_bind(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);

    d->has_inet4_bind = set_bind(p, key, v, AF_INET, &d->inet4_bind, sizeof(d->inet4_bind));
}

static void set_inet6_bind(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);

    d->has_inet6_bind = set_bind(p, key, v, AF_INET6, &d->inet6_bind, sizeof(d->inet6_bind));
}

static void set_bind_no_port(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &dialer(p)->bind_address_no_port);
}

static void set_protect_path(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);

    conf_get_path(p, key, v, d->protect_path, sizeof(d->protect_path));
}

static void set_routing_mark(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);
    char why[WHY_MAX];

    if (conf_parse_mark(v, &d->routing_mark, why) < 0)
        conf_bad(p, "mark", key, v, why);
    else
        d->has_mark = true;
}

static void set_reuse_addr(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &dialer(p)->reuse_addr);
}

static void set_connect_timeout(struct parser *p, const char *key, const char *v)
{
    conf_get_duration(p, key, v, 1, &dialer(p)->connect_timeout_ms);
}

static void set_tcp_fast_open(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &dialer(p)->tcp_fast_open);
}

static void set_tcp_multi_path(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &dialer(p)->tcp_multi_path);
}

static void set_udp_fragment(struct parser *p, const char *key, const char *v)
{
    dialer(p)->udp_fragment = conf_get_tristate(p, key, v);
}

static void set_domain_resolver(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_DIALER_RESOLVER, p->index, 0, v);
}

static void set_domain_strategy(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, conf_strategy_names, CONF_N_STRATEGY, &i))
        dialer(p)->domain_strategy = (enum strategy)i;
}

static void set_fallback_delay(struct parser *p, const char *key, const char *v)
{
    /* Below ~10ms the "delay" races every address at once (RFC 8305 says 10ms). */
    conf_get_duration(p, key, v, 10, &dialer(p)->fallback_delay_ms);
}

static void set_network_strategy(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, netstrat_names, COUNT(netstrat_names), &i))
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

    if (!conf_each_item(p, key, v, &d->n_network_type, CONF_LIST_MAX, add_network_type))
        d->n_network_type = 0;
}

static void set_fallback_network_type(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);

    if (!conf_each_item(p, key, v, &d->n_fallback_network_type, CONF_LIST_MAX, add_fallback_type))
        d->n_fallback_network_type = 0;
}

static bool add_member(struct parser *p, const char *key, const char *item, int i)
{
    (void)key;
    dialer(p)->members[i] = -1; /* until the name is resolved */
    conf_add_ref(p, REF_GROUP_MEMBER, p->index, i, item);
    return true;
}

static void set_members(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);

    if (!conf_each_item(p, key, v, &d->n_members, CONF_LIST_MAX, add_member))
        d->n_members = 0;
}

static void set_pick(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, pick_names, COUNT(pick_names), &i))
        dialer(p)->pick = (enum group_pick)i;
}

static void set_down_for(struct parser *p, const char *key, const char *v)
{
    conf_get_duration(p, key, v, 1, &dialer(p)->down_for_ms);
}

const struct key_def conf_dialer_keys[] = {
    [DK_TYPE] = {"type", set_type, false, false},
    [DK_SERVER] = {"server", set_server, false, false},
    [DK_USERNAME] = {"username", set_username, false, false},
    [DK_PASSWORD] = {"password", set_password, false, false},
    [DK_DETOUR] = {"detour", set_dialer_detour, false, false},
    [DK_REMOTE_DNS] = {"remote_dns", set_remote_dns, false, false},
    [DK_HANDSHAKE] = {"handshake", set_handshake, false, false},
    [DK_UDP] = {"udp", set_udp, false, false},
    [DK_MEMBERS] = {"members", set_members, false, false},
    [DK_PICK] = {"pick", set_pick, false, false},
    [DK_DOWN_FOR] = {"down_for", set_down_for, false, false},
    [DK_CONNECT_TIMEOUT] = {"connect_timeout", set_connect_timeout, false, false},
    {"bind_interface", set_bind_interface, false, false},
    {"inet4_bind_address", set_inet4_bind, false, false},
    {"inet6_bind_address", set_inet6_bind, false, false},
    {"bind_address_no_port", set_bind_no_port, false, false},
    {"protect_path", set_protect_path, false, false},
    {"routing_mark", set_routing_mark, false, false},
    {"reuse_addr", set_reuse_addr, false, false},
    {"tcp_fast_open", set_tcp_fast_open, false, false},
    {"tcp_multi_path", set_tcp_multi_path, false, false},
    {"udp_fragment", set_udp_fragment, false, false},
    {"domain_resolver", set_domain_resolver, false, false},
    {"domain_strategy", set_domain_strategy, false, false},
    {"fallback_delay", set_fallback_delay, false, false},
    {"network_strategy", set_network_strategy, false, false},
    {"network_type", set_network_type, false, false},
    {"fallback_network_type", set_fallback_network_type, false, false},
    {"netns", conf_set_netns, false, false},
    {"tcp_keep_alive", conf_set_tcp_keep_alive, false, false},
    {"tcp_keep_alive_interval", conf_set_tcp_keep_alive_interval, false, false},
    {"disable_tcp_keep_alive", conf_set_disable_tcp_keep_alive, false, false},
    {"ip_transparent", conf_set_ip_transparent, false, false},
    {"isolate", conf_set_isolate, false, false},
};
const int conf_n_dialer_keys = COUNT(conf_dialer_keys);

/* ---- closing checks ---- */

static bool is_proxy(enum dialer_type t)
{
    return t == DIALER_SOCKS5 || t == DIALER_SOCKS4 || t == DIALER_HTTP;
}

static void refuse_key(struct parser *p, int key, const char *why)
{
    conf_report(p, p->seen[key], "%s is not allowed for type %s%s", conf_dialer_keys[key].name,
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

/* A group dials nothing itself: its members do, with their own options. */
static void check_group(struct parser *p)
{
    static const int group_keys[] = {DK_TYPE,     DK_MEMBERS,         DK_PICK,
                                     DK_DOWN_FOR, DK_CONNECT_TIMEOUT, DK_REMOTE_DNS};

    if (!p->seen[DK_MEMBERS] || dialer(p)->n_members == 0)
        conf_report(p, dialer(p)->line, "missing members for type group");
    for (int k = 0; k < conf_n_dialer_keys; k++) {
        bool allowed = false;
        for (int i = 0; i < COUNT(group_keys); i++)
            allowed |= group_keys[i] == k;
        if (p->seen[k] && !allowed)
            refuse_key(p, k, " (a group's members dial with their own options)");
    }
    for (int i = 0; i < p->n_refs; i++)
        if (p->refs[i].kind == REF_DIALER_DETOUR && p->refs[i].owner == p->index)
            p->refs[i].dropped = true;
}

/* members, pick and down_for mean something for a group only. */
static void check_not_group(struct parser *p)
{
    static const int group_only[] = {DK_MEMBERS, DK_PICK, DK_DOWN_FOR};

    for (int i = 0; i < COUNT(group_only); i++)
        if (p->seen[group_only[i]])
            refuse_key(p, group_only[i], "");
    for (int i = 0; i < p->n_refs; i++)
        if (p->refs[i].kind == REF_GROUP_MEMBER && p->refs[i].owner == p->index)
            p->refs[i].dropped = true;
}

void conf_close_dialer(struct parser *p)
{
    struct conf_dialer *d = dialer(p);

    if (d->type == DIALER_GROUP) {
        check_group(p);
        return;
    }
    check_not_group(p);
    if (is_proxy(d->type)) {
        if (!p->seen[DK_SERVER])
            conf_report(p, d->line, "missing server for type %s", conf_dialer_type_name(d->type));
        check_credentials(p);
    } else {
        check_not_proxy(p);
    }
    check_udp(p);
    conf_close_dialer_sockopt(p);
    /* isolate sends credentials of its own making (common/isolate.c) */
    d->has_auth = d->username[0] != '\0' || d->isolate != ISOLATE_NONE;
}
