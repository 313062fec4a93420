/* conf: the INI file (dialshim.ini(5)) turned into one immutable struct.
 *
 * Promise: conf_load() either returns a fully validated struct in which every
 * reference (detour, domain_resolver, app dialer, route target) is an index that
 * exists and no detour chain has a cycle, or returns NULL and reports each problem
 * as "FILE:LINE: message" through the error callback. After loading, nothing in
 * the struct changes; any number of threads may read it without a lock.
 * Everything is allocated at load time; conf_free() releases it.
 */
#ifndef DIALSHIM_CONF_H
#define DIALSHIM_CONF_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONF_NAME_MAX      64   /* section names */
#define CONF_HOST_MAX      256  /* a proxy server's host */
#define CONF_CRED_MAX      256  /* username, password (SOCKS5 limits both to 255) */
#define CONF_LIST_MAX      16   /* entries of network_type, fallback_network_type, servers */
#define CONF_MATCH_MAX     32   /* entries of an app's match list */
#define CONF_PATH_MAX      4096 /* file paths */
#define CONF_STATE_DIR_MAX 1024 /* state_dir (its users keep it on small stacks) */

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG, LOG_LVL_TRACE };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

enum dialer_type {
    DIALER_DIRECT,
    DIALER_SOCKS5,
    DIALER_SOCKS4,
    DIALER_HTTP,
    DIALER_BLOCK,
    DIALER_GROUP /* picks one of its members per connection */
};

enum group_pick { PICK_FAILOVER, PICK_ROUND_ROBIN, PICK_RANDOM };

/* STRATEGY_UNSET: a dialer's domain_strategy that defers to its resolver. */
enum strategy {
    STRATEGY_UNSET,
    STRATEGY_AS_IS,
    STRATEGY_PREFER_IPV4,
    STRATEGY_PREFER_IPV6,
    STRATEGY_IPV4_ONLY,
    STRATEGY_IPV6_ONLY
};

enum handshake { HANDSHAKE_AUTO, HANDSHAKE_LOCKSTEP, HANDSHAKE_PIPELINED };

/* UDP_UNSET: allow for direct, associate for socks5, block for socks4/http. */
enum udp_mode { UDP_UNSET, UDP_ALLOW, UDP_BLOCK, UDP_ASSOCIATE };

enum network_strategy { NETSTRAT_DEFAULT, NETSTRAT_HYBRID, NETSTRAT_FALLBACK };

/* RESOLVER_MODE_UNSET: fake_ip when the dialer is a proxy with remote_dns, else real. */
enum resolver_mode { RESOLVER_MODE_UNSET, RESOLVER_MODE_REAL, RESOLVER_MODE_FAKE_IP };

enum on_config_error { ON_ERROR_FAIL_CLOSED, ON_ERROR_PASS_THROUGH };

/* [global] supervise: when `dialshim run` starts a program under the seccomp
 * supervisor (tools/supervise.c) instead of preloading the shim. */
enum supervise_mode { SUPERVISE_AUTO, SUPERVISE_ALWAYS, SUPERVISE_NEVER };

/* Tri-state for booleans whose absence means "leave the kernel default alone". */
enum tristate { TRI_UNSET = 0, TRI_FALSE, TRI_TRUE };

/* An IP address with a port, as sockaddr ready for connect(). */
struct conf_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
        struct sockaddr_storage ss;
    } u;
    socklen_t len; /* 0: not set */
};

/* A proxy's server: a literal address, or a host name resolved when dialed. */
struct conf_server {
    char host[CONF_HOST_MAX]; /* as written, without brackets */
    uint16_t port;
    struct conf_addr addr; /* len 0 when host is a name */
};

#define CONF_NETNS_MAX 128 /* netns: /run/netns/NAME or a path */

/* isolate: what a SOCKS5 dialer's username tells apart (Tor's IsolateSOCKSAuth). */
enum isolate { ISOLATE_NONE, ISOLATE_PROCESS, ISOLATE_APP };

struct conf_dialer {
    /* What a connect through this dialer reads, first and together: the type and
     * the direct dialer's options (sockopt_apply), a few cache lines. */
    enum dialer_type type;
    bool has_inet4_bind;
    bool has_inet6_bind;
    bool bind_address_no_port;
    bool has_mark;
    bool reuse_addr;
    bool tcp_fast_open;
    bool tcp_multi_path;
    bool disable_tcp_keep_alive;
    bool ip_transparent;
    enum tristate udp_fragment; /* FALSE: IP_PMTUDISC_DO; TRUE: IP_PMTUDISC_DONT */
    uint32_t routing_mark;
    uint32_t connect_timeout_ms;         /* 0 = not set (see conf_connect_timeout) */
    uint32_t tcp_keep_alive_ms;          /* 0 = not set: the program's keep-alive untouched */
    uint32_t tcp_keep_alive_interval_ms; /* 0 = not set */
    enum network_strategy network_strategy;
    int n_network_type;
    int n_fallback_network_type;
    struct in_addr inet4_bind;
    struct in6_addr inet6_bind;
    char bind_interface[IF_NAMESIZE]; /* "" = none */
    char netns[CONF_NETNS_MAX];       /* "" = none; else a path (a bare name is under /run/netns) */
    char protect_path[108];           /* sun_path; "" = none */

    char name[CONF_NAME_MAX];
    int line; /* the section header's line */

    /* proxies */
    struct conf_server server;
    char username[CONF_CRED_MAX]; /* "" = none */
    char password[CONF_CRED_MAX];
    bool has_auth;
    int detour; /* index into conf.dialers, -1 = none (dial directly) */
    enum tristate remote_dns;
    enum handshake handshake;
    enum udp_mode udp;
    enum isolate isolate; /* socks5: a username per process or per app */

    /* names (ResolveDialer) */
    int domain_resolver; /* index into conf.resolvers, -1 = the built-in default */
    enum strategy domain_strategy;
    uint32_t fallback_delay_ms; /* default 250, minimum 10 */

    /* groups (common/dialer/group.c) */
    int n_members;
    int members[CONF_LIST_MAX]; /* indexes into conf.dialers, in the file's order */
    enum group_pick pick;
    uint32_t down_for_ms; /* default 30 s */

    /* interfaces (ParallelInterfaceDialer) */
    char network_type[CONF_LIST_MAX][IF_NAMESIZE];
    char fallback_network_type[CONF_LIST_MAX][IF_NAMESIZE];
};

struct conf_resolver {
    char name[CONF_NAME_MAX];
    int line;
    int n_servers;                           /* 0 = /etc/resolv.conf */
    struct conf_addr servers[CONF_LIST_MAX]; /* port 53 unless given */
    enum strategy strategy;                  /* never UNSET after load: default as_is */
    uint32_t timeout_ms;                     /* per attempt, default 2000 */
    int attempts;                            /* default 2 */
    char hosts_file[CONF_PATH_MAX];          /* "" = disabled; default /etc/hosts */
    int detour;                              /* dialer index, -1 = none */
    bool cache;                              /* default true */
    enum resolver_mode mode;
};

/* One route rule's matcher. Precompiled at load so matching allocates nothing. */
enum matcher_kind { MATCH_CIDR, MATCH_DOMAIN, MATCH_PORT, MATCH_NETWORK };

enum net_kind { NET_TCP = 1, NET_UDP = 2 };

struct conf_rule {
    int line;
    enum matcher_kind kind;
    union {
        struct {
            sa_family_t family; /* AF_INET or AF_INET6 */
            uint8_t prefix;     /* bits */
            uint8_t addr[16];   /* network order, host bits cleared */
        } cidr;
        struct {
            bool suffix;    /* written "*.example.com": matches below example.com */
            char name[254]; /* lower case, without "*." and trailing dot */
        } domain;
        struct {
            uint16_t lo, hi;
        } port;
        enum net_kind network;
    } m;
    int dialer;     /* index into conf.dialers */
    char text[128]; /* the matcher as written, for logs and explain */
};

struct conf_app {
    /* what every connect reads (route_pick), before the 8 KiB of match patterns */
    int dialer; /* index into conf.dialers */
    int n_rules;
    struct conf_rule *rules;
    char name[CONF_NAME_MAX];
    int line;
    bool inherit; /* the processes it starts follow it unless they match their own */
    int n_match;
    char match[CONF_MATCH_MAX][CONF_PATH_MAX / 16]; /* basename or path glob; "*" = all */
};

struct conf {
    char path[CONF_PATH_MAX];

    /* [global] */
    enum log_level log_level;
    char log_file[CONF_PATH_MAX]; /* "stderr", "syslog" or a path */
    enum log_format log_format;
    int default_app; /* index into apps, -1 = the built-in `direct` app */
    int direct;      /* the dialer named direct (the file's or the built-in); -1 until checked */
    struct {
        struct in_addr addr;
        uint8_t prefix;
    } fake_ip_range; /* default 198.18.0.0/15 */
    struct {
        struct in6_addr addr;
        uint8_t prefix;
    } fake_ip6_range; /* default fc00::/18 */
    enum on_config_error on_config_error;
    bool dns_hijack;    /* answer programs' own port-53 queries under fake_ip routes */
    bool state_dir_set; /* state_dir written in the file */
    char state_dir[CONF_STATE_DIR_MAX]; /* "" with state_dir_set: keep nothing */
    enum supervise_mode supervise;      /* default auto */
    bool secret_readable;               /* holds a password and is group/other readable */

    int n_dialers;
    struct conf_dialer *dialers; /* built-ins `direct` and `block` included */
    int n_resolvers;
    struct conf_resolver *resolvers;
    int n_apps;
    struct conf_app *apps;
};

/* Called once per problem: file, line (0 when none applies) and the message. */
typedef void (*conf_error_fn)(void *ctx, const char *file, int line, const char *msg);

/* Load and validate PATH. NULL on any error (each reported through ERR).
 * Warnings (a password in a file others can read) also go to ERR, with
 * msg starting "warning: ", and do not fail the load. */
struct conf *conf_load(const char *path, conf_error_fn err, void *ctx);

/* The same from a string (for tests and fuzzing); NAME is used in messages. */
struct conf *conf_load_string(const char *name, const char *text, conf_error_fn err, void *ctx);

/* The bytes of a file read elsewhere (the shim reads it at start-up): LEN bytes
 * of TEXT, NUL-terminated; MODE its permissions, for the readable-password
 * warning. NAME is the path used in messages. */
struct conf *conf_load_text(const char *name, const char *text, size_t len, mode_t mode,
                            conf_error_fn err, void *ctx);

void conf_free(struct conf *c);

/* For a file too broken to load: does its [global] ask for on_config_error =
 * pass_through? The loader's own reader and inih read the lines (comments,
 * "key: value", CR, BOM; a line the loader refuses says nothing), and the key's
 * value is compared, never the rest of the line: true only when the key is there
 * and every occurrence says exactly pass_through. */
bool conf_scan_pass_through(const char *text, size_t len);

/* Find by name; -1 when absent. */
int conf_dialer_index(const struct conf *c, const char *name);
int conf_resolver_index(const struct conf *c, const char *name);
int conf_app_index(const struct conf *c, const char *name);

/* Effective values that depend on more than one key. */
/* The bound on every dial the shim performs itself (proxy chains, fake addresses,
 * Happy Eyeballs, network_strategy) when connect_timeout is not set. A direct
 * connect to a literal address without a race keeps the kernel's own timing
 * unless the key is set (dialer.c reads connect_timeout_ms there). */
#define CONF_CONNECT_TIMEOUT_DEFAULT_MS 10000
uint32_t conf_connect_timeout(const struct conf *c, int dialer); /* 0: a block dialer */

/* The dialer whose socket options the DNS queries for DIALER's names carry: its
 * resolver's detour when set, else the dialer that makes DIALER's first hop
 * (DIALER itself when direct, the direct detour or first proxy of a chain), so
 * names leave the way the connections do. -1: none (a block dialer, no DIALER). */
int conf_dns_dialer(const struct conf *c, int dialer);
enum udp_mode conf_udp_mode(const struct conf_dialer *d);
bool conf_remote_dns(const struct conf_dialer *d);

/* Names of enum values, as written in the file. */
const char *conf_dialer_type_name(enum dialer_type t);

/* "p1>p2": the dialers of the detour chain ending in DIALER, first hop first, in
 * BUF (CAP bytes, cut when longer). Returns BUF. */
char *conf_chain_text(const struct conf *c, int dialer, char *buf, size_t cap);
const char *conf_pick_name(enum group_pick p);
const char *conf_strategy_name(enum strategy s);

#endif
