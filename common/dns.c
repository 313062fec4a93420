#include "common/dns.h"

#include "common/bigstack.h"

#include "common/log.h"
#include "common/nobss.h"
#include "common/sockopt.h"
#include "common/sys.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

/* Beyond timeout x attempts x servers: room for the last reply to arrive and be
 * parsed, small enough that a caller's own timeout rarely fires first. */
#define DNS_SLACK_MS   250
#define HOSTS_LINE_MAX 1024

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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *family_name(int family)
{
    return family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : "any";
}

/* ---- names ---- */

/* Length without one trailing dot: "a.example." and "a.example" are one name. */
static size_t bare_len(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

static bool name_eq(const char *a, const char *b)
{
    size_t la = bare_len(a), lb = bare_len(b);
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Worth a lookup: 1-253 characters besides a trailing dot, labels of 1-63, no
 * blanks or control characters (they could never be in a reply). */
static bool name_valid(const char *s)
{
    size_t n = s ? bare_len(s) : 0, label = 0;

    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch == 0x7f)
            return false;
        if (ch != '.')
            label++;
        else if (label == 0)
            return false;
        else
            label = 0;
        if (label > 63)
            return false;
    }
    return label > 0;
}

/* ---- answers ---- */

static void answer_reset(struct dns_answer *out)
{
    out->n = 0;
    out->canonname[0] = '\0';
    out->ttl = 0;
    out->source = DNS_SRC_DNS;
}

static void answer_set_canon(struct dns_answer *out, const char *name)
{
    size_t n = bare_len(name);
    if (n >= sizeof(out->canonname))
        n = sizeof(out->canonname) - 1;
    memcpy(out->canonname, name, n);
    out->canonname[n] = '\0';
}

/* Appends unless already there or full; false only when full. */
static bool answer_add(struct dns_answer *out, int family, const void *addr, uint32_t scope,
                       uint32_t ttl)
{
    size_t alen = family == AF_INET ? 4 : 16;

    for (size_t i = 0; i < out->n; i++)
        if (out->addrs[i].family == family && out->addrs[i].scope_id == scope &&
            memcmp(out->addrs[i].addr, addr, alen) == 0)
            return true;
    if (out->n >= DNS_MAX_ADDRS)
        return false;
    struct dns_addr *a = &out->addrs[out->n++];
    memset(a, 0, sizeof(*a));
    a->family = family;
    memcpy(a->addr, addr, alen);
    a->scope_id = scope;
    a->ttl = ttl;
    return true;
}

/* ---- local answers ---- */

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
    struct in_addr a4;
    struct in6_addr a6;
    char buf[INET6_ADDRSTRLEN];
    uint32_t scope = 0;

    if (inet_aton(name, &a4)) {
        if (family == AF_INET6)
            return EAI_ADDRFAMILY;
        answer_add(out, AF_INET, &a4, 0, 0);
        return 1;
    }
    const char *pct = strchr(name, '%');
    size_t len = pct ? (size_t)(pct - name) : strlen(name);
    if (len >= sizeof(buf))
        return 0;
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, &a6) != 1)
        return 0;
    if (pct && parse_scope(pct + 1, &scope) != 0)
        return EAI_NONAME;
    if (family == AF_INET)
        return EAI_ADDRFAMILY;
    answer_add(out, AF_INET6, &a6, scope, 0);
    return 1;
}

/* "localhost" and names below it (RFC 6761 6.3): always loopback, never asked. */
static bool is_localhost(const char *name)
{
    static const char lh[] = "localhost";
    size_t n = bare_len(name), l = sizeof(lh) - 1;

    if (n < l || strncasecmp(name + n - l, lh, l) != 0)
        return false;
    return n == l || name[n - l - 1] == '.';
}

/* IPv4 first: it exists wherever a loopback does, ::1 not always. */
static void localhost_answer(int family, struct dns_answer *out)
{
    struct in_addr lo4 = {htonl(INADDR_LOOPBACK)};

    if (family != AF_INET6)
        answer_add(out, AF_INET, &lo4, 0, 0);
    if (family != AF_INET)
        answer_add(out, AF_INET6, &in6addr_loopback, 0, 0);
}

/* One hosts line "ADDR NAME [ALIAS...] [# comment]": adds ADDR when NAME matches. */
static void hosts_line(char *line, const char *name, int family, struct dns_answer *out)
{
    char *save, *tok, *first = NULL;
    uint8_t bytes[16];
    int fam;

    line[strcspn(line, "#")] = '\0';
    char *addr = strtok_r(line, " \t\r\n", &save);
    if (!addr)
        return;
    if (inet_pton(AF_INET, addr, bytes) == 1)
        fam = AF_INET;
    else if (inet_pton(AF_INET6, addr, bytes) == 1)
        fam = AF_INET6;
    else
        return;
    if (family != AF_UNSPEC && family != fam)
        return;
    while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
        if (!first)
            first = tok;
        if (name_eq(tok, name)) {
            if (out->n == 0)
                answer_set_canon(out, first);
            answer_add(out, fam, bytes, 0, 0);
            return;
        }
    }
}

/* The hosts file, kept in memory: read again only when it changed (size, mtime,
 * inode), and stat'ed at most once a second, so a cache hit costs no file I/O. */
#define HOSTS_FILE_MAX (1 << 20)

static struct {
    char path[CONF_PATH_MAX];
    char *text; /* NUL-terminated; NULL: no such file */
    struct stat st;
    int64_t checked_ms;
} hosts_mem NOBSS;
static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t coarse_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void hosts_reload(const char *path)
{
    struct stat st;
    FILE *f;
    char *text;
    size_t n;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > HOSTS_FILE_MAX) {
        free(hosts_mem.text);
        hosts_mem.text = NULL;
        memset(&hosts_mem.st, 0, sizeof(hosts_mem.st));
        return;
    }
    if (hosts_mem.text && !strcmp(hosts_mem.path, path) && st.st_ino == hosts_mem.st.st_ino &&
        st.st_size == hosts_mem.st.st_size && st.st_mtim.tv_sec == hosts_mem.st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == hosts_mem.st.st_mtim.tv_nsec)
        return;
    f = fopen(path, "re");
    text = f ? malloc(st.st_size + 1) : NULL;
    n = text ? fread(text, 1, st.st_size, f) : 0;
    if (f)
        fclose(f);
    if (text)
        text[n] = '\0';
    free(hosts_mem.text);
    hosts_mem.text = text;
    hosts_mem.st = st;
}

/* True when PATH maps NAME to an address of FAMILY. A missing file maps nothing;
 * an overlong line is skipped whole rather than misread in pieces. */
static bool hosts_answer(const char *path, const char *name, int family, struct dns_answer *out)
{
    char line[HOSTS_LINE_MAX];
    int64_t now = coarse_ms();

    pthread_mutex_lock(&hosts_lock);
    if (strcmp(hosts_mem.path, path) != 0 || now - hosts_mem.checked_ms >= 1000 ||
        now < hosts_mem.checked_ms) {
        hosts_reload(path);
        snprintf(hosts_mem.path, sizeof(hosts_mem.path), "%s", path);
        hosts_mem.checked_ms = now;
    }
    for (const char *p = hosts_mem.text; p && *p;) {
        size_t len = strcspn(p, "\n");
        if (len < sizeof(line)) {
            memcpy(line, p, len);
            line[len] = '\0';
            hosts_line(line, name, family, out);
        }
        p += len + (p[len] == '\n');
    }
    pthread_mutex_unlock(&hosts_lock);
    return out->n > 0;
}

/* ---- cache ---- */

struct cache_slot { /* scanned on each lookup, so kept small; name/answer apart */
    bool used;
    int rc;
    const struct conf *conf;
    int resolver;
    int family;
    uint32_t hash;
    int64_t expires_ms;
    uint64_t last_use;
};

/* Allocated by the first answer cached: as a static array its 370 KB of .bss
 * were a mapping of their own that every process under the shim paid for at
 * start (about 1% of /bin/true's), lookups or not. */
struct cache {
    struct cache_slot slots[DNS_CACHE_SIZE];
    char name[DNS_CACHE_SIZE][DNS_NAME_MAX];
    struct dns_answer answer[DNS_CACHE_SIZE];
};

static struct cache *cache; /* under cache_lock */
static uint64_t cache_clock;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

struct cache_key {
    const struct conf *conf;
    int resolver;
    int family;
    uint32_t hash;
    char name[DNS_NAME_MAX]; /* lower case */
};

static void cache_key_make(struct cache_key *k, const struct conf *c, int resolver,
                           const char *name, int family)
{
    size_t n = strlen(name);
    uint32_t h = 2166136261u;

    k->conf = resolver < 0 ? NULL : c; /* the built-in resolver is the same for all */
    k->resolver = resolver;
    k->family = family;
    for (size_t i = 0; i <= n && i < DNS_NAME_MAX - 1; i++) {
        char ch = name[i];
        k->name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        h = (h ^ (uint8_t)k->name[i]) * 16777619u;
    }
    k->name[DNS_NAME_MAX - 1] = '\0';
    k->hash = h;
}

static bool slot_matches(int i, const struct cache_key *k)
{
    const struct cache_slot *s = &cache->slots[i];
    return s->used && s->hash == k->hash && s->conf == k->conf && s->resolver == k->resolver &&
           s->family == k->family && strcmp(cache->name[i], k->name) == 0;
}

/* Under cache_lock. */
static int cache_find(const struct cache_key *k)
{
    for (int i = 0; cache && i < DNS_CACHE_SIZE; i++)
        if (slot_matches(i, k))
            return i;
    return -1;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* A hit copies the answer, with TTLs reduced to what is left, and its rc. */
static bool cache_get(const struct cache_key *k, struct dns_answer *out, int *rc)
{
    int64_t now = now_ms();
    bool hit = false;

    pthread_mutex_lock(&cache_lock);
    int i = cache_find(k);
    if (i >= 0 && cache->slots[i].expires_ms <= now) {
        cache->slots[i].used = false;
    } else if (i >= 0) {
        uint32_t left = (uint32_t)((cache->slots[i].expires_ms - now + 999) / 1000);
        cache->slots[i].last_use = ++cache_clock;
        *out = cache->answer[i];
        *rc = cache->slots[i].rc;
        out->ttl = min_u32(out->ttl, left);
        for (size_t j = 0; j < out->n; j++)
            out->addrs[j].ttl = min_u32(out->addrs[j].ttl, left);
        out->source = DNS_SRC_CACHE;
        hit = true;
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

/* Under cache_lock: the same key's slot, else a free or expired one, else the
 * least recently used. */
static int cache_victim(const struct cache_key *k, int64_t now)
{
    int i = cache_find(k), lru = 0;

    if (i >= 0)
        return i;
    for (i = 0; i < DNS_CACHE_SIZE; i++) {
        if (!cache->slots[i].used || cache->slots[i].expires_ms <= now)
            return i;
        if (cache->slots[i].last_use < cache->slots[lru].last_use)
            lru = i;
    }
    return lru;
}

static void cache_put(const struct cache_key *k, int rc, const struct dns_answer *ans, uint32_t ttl)
{
    int64_t now = now_ms();

    if (ttl == 0)
        return;
    pthread_mutex_lock(&cache_lock);
    if (!cache && !(cache = calloc(1, sizeof(*cache)))) {
        pthread_mutex_unlock(&cache_lock);
        return; /* no memory: answers are not kept, lookups still work */
    }
    int i = cache_victim(k, now);
    cache->slots[i] = (struct cache_slot){
        .used = true,
        .rc = rc,
        .conf = k->conf,
        .resolver = k->resolver,
        .family = k->family,
        .hash = k->hash,
        .expires_ms = now + (int64_t)ttl * 1000,
        .last_use = ++cache_clock,
    };
    memcpy(cache->name[i], k->name, sizeof(cache->name[i]));
    cache->answer[i] = *ans;
    pthread_mutex_unlock(&cache_lock);
}

void dns_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; cache && i < DNS_CACHE_SIZE; i++)
        cache->slots[i].used = false;
    pthread_mutex_unlock(&cache_lock);
}

void dns_atfork_prepare(void)
{
    pthread_mutex_lock(&hosts_lock);
    pthread_mutex_lock(&cache_lock);
}

void dns_atfork_parent(void)
{
    pthread_mutex_unlock(&cache_lock);
    pthread_mutex_unlock(&hosts_lock);
}

void dns_atfork_child(void)
{
    /* A copy of the initializer: only async-signal-safe calls are sure to work
     * in the child of a threaded process. */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&cache_lock, &fresh, sizeof(cache_lock));
    memcpy(&hosts_lock, &fresh, sizeof(hosts_lock));
    for (int i = 0; cache && i < DNS_CACHE_SIZE; i++)
        cache->slots[i].used = false;
}

/* ---- c-ares ---- */

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_status = ARES_ENOTINITIALIZED;

static void ares_lib_init(void)
{
    ares_init_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* State shared between one lookup and its c-ares callbacks. */
struct lookup {
    const struct conf_dialer *detour; /* NULL: no options on the DNS sockets */
    int opt_err;                      /* errno of a failed socket() or refused option, 0 if none */
    bool done;
    bool cancelled; /* the deadline cut it short: a partial answer is not cached */
    int status;
    struct ares_addrinfo *res;
};

/* Remembers why a DNS socket could not be had, so the lookup can fail with that
 * errno (EAI_SYSTEM) rather than a misleading "server failure". Logged once. */
static ares_socket_t socket_failed(struct lookup *lk, const char *what, int err)
{
    if (!lk->opt_err)
        log_error("dns: %s for a DNS query failed: %s", what, strerror(err));
    lk->opt_err = err;
    errno = err;
    return ARES_SOCKET_BAD;
}

/* c-ares leaves sockets we create untouched (no O_NONBLOCK, no FD_CLOEXEC), so
 * both flags are ours to set. */
static ares_socket_t cb_socket(int domain, int type, int protocol, void *ud)
{
    struct lookup *lk = ud;
    const char *failed = "socket option";
    int fd = sys.socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);

    if (fd < 0)
        return socket_failed(lk, "socket", errno);
    int err = lk->detour ? sockopt_apply(lk->detour, fd, domain, type, &failed) : 0;
    if (err) {
        sys.close(fd);
        return socket_failed(lk, failed, err);
    }
    return fd;
}

static int cb_close(ares_socket_t fd, void *ud)
{
    (void)ud;
    return sys.close(fd);
}

static int cb_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *ud)
{
    (void)ud;
    return sys.connect(fd, sa, len);
}

static ares_ssize_t cb_recvfrom(ares_socket_t fd, void *buf, size_t n, int flags,
                                struct sockaddr *from, ares_socklen_t *fromlen, void *ud)
{
    (void)ud;
    return sys.recvfrom(fd, buf, n, flags, from, fromlen);
}

/* MSG_NOSIGNAL: a server closing its TCP side must not SIGPIPE the host program. */
static ares_ssize_t cb_sendv(ares_socket_t fd, const struct iovec *iov, int iovcnt, void *ud)
{
    struct msghdr m;

    (void)ud;
    memset(&m, 0, sizeof(m));
    m.msg_iov = (struct iovec *)iov;
    m.msg_iovlen = (size_t)iovcnt;
    return sys.sendmsg(fd, &m, MSG_NOSIGNAL);
}

static const struct ares_socket_functions sock_funcs = {
    .asocket = cb_socket,
    .aclose = cb_close,
    .aconnect = cb_connect,
    .arecvfrom = cb_recvfrom,
    .asendv = cb_sendv,
};

static void on_result(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    struct lookup *lk = arg;

    (void)timeouts;
    if (lk->done) { /* never expected; don't leak if c-ares calls twice */
        if (res)
            ares_freeaddrinfo(res);
        return;
    }
    lk->done = true;
    lk->status = status;
    lk->res = res;
}

static int set_servers(ares_channel ch, const struct conf_resolver *r)
{
    struct ares_addr_port_node nodes[CONF_LIST_MAX];
    int n = r->n_servers < CONF_LIST_MAX ? r->n_servers : CONF_LIST_MAX;

    memset(nodes, 0, sizeof(nodes));
    for (int i = 0; i < n; i++) {
        const struct conf_addr *a = &r->servers[i];
        int port;
        nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
        nodes[i].family = a->u.sa.sa_family;
        if (a->u.sa.sa_family == AF_INET6) {
            memcpy(&nodes[i].addr.addr6, &a->u.in6.sin6_addr, 16);
            port = ntohs(a->u.in6.sin6_port);
        } else {
            nodes[i].addr.addr4 = a->u.in4.sin_addr;
            port = ntohs(a->u.in4.sin_port);
        }
        nodes[i].udp_port = nodes[i].tcp_port = port ? port : 53;
    }
    return ares_set_servers_ports(ch, nodes);
}

static int count_servers(ares_channel ch)
{
    struct ares_addr_port_node *list = NULL;
    int n = 0;

    if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS)
        return 1;
    for (struct ares_addr_port_node *p = list; p; p = p->next)
        n++;
    ares_free_data(list);
    return n > 0 ? n : 1;
}

/* A channel for one lookup. Everything that decides timing or what is asked is
 * set here, not left to c-ares defaults (5 s x 4 tries, doubling: ~75 s). */
static int channel_open(const struct conf_resolver *r, struct lookup *lk, ares_channel *ch)
{
    static char lookups[] = "b"; /* hosts files are read by hosts_answer() */
    struct ares_options o;
    struct in_addr placeholder;
    int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;

    memset(&o, 0, sizeof(o));
    o.timeout = r->timeout_ms ? (int)min_u32(r->timeout_ms, 600000) : 2000;
    o.tries = r->attempts > 0 ? r->attempts : 1;
    o.lookups = lookups;
    if (r->n_servers > 0) {
        /* Explicit servers: the name as given, no search list from resolv.conf
         * or the host's domain. With servers, ndots and sortlist given too,
         * c-ares leaves resolv.conf unread (a file read in every first lookup);
         * the placeholder server is replaced by set_servers() below. */
        mask |= ARES_OPT_DOMAINS | ARES_OPT_SERVERS | ARES_OPT_NDOTS | ARES_OPT_SORTLIST;
        o.domains = NULL;
        o.ndomains = 0;
        placeholder.s_addr = htonl(INADDR_LOOPBACK);
        o.servers = &placeholder;
        o.nservers = 1;
        o.ndots = 1;
        o.sortlist = NULL;
        o.nsort = 0;
    }
    int st = ares_init_options(ch, &o, mask);
    if (st != ARES_SUCCESS)
        return st;
    ares_set_socket_functions(*ch, &sock_funcs, lk);
    if (r->n_servers > 0 && (st = set_servers(*ch, r)) != ARES_SUCCESS) {
        ares_destroy(*ch);
        return st;
    }
    return ARES_SUCCESS;
}

static int fill_pollfds(ares_channel ch, struct pollfd *pfd)
{
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    /* Unsigned: ARES_GETSOCK_WRITABLE shifts a signed 1 into the sign bit. */
    unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
    int n = 0;

    for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
        short ev = (short)(((bits >> i) & 1u ? POLLIN : 0) |
                           ((bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u ? POLLOUT : 0));
        if (ev)
            pfd[n++] = (struct pollfd){.fd = socks[i], .events = ev};
    }
    return n;
}

/* Runs the channel until the lookup's callback has run or DEADLINE passes
 * (then the lookup is cancelled, which also runs the callback). poll, not
 * select: the program may have descriptors above FD_SETSIZE. */
static void drive(ares_channel ch, struct lookup *lk, int64_t deadline)
{
    struct pollfd pfd[ARES_GETSOCK_MAXNUM];

    while (!lk->done) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            lk->cancelled = true;
            ares_cancel(ch);
            break;
        }
        int n = fill_pollfds(ch, pfd);
        struct timeval max = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000}, tv;
        struct timeval *t = ares_timeout(ch, &max, &tv);
        int wait = (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
        int r = poll(pfd, (nfds_t)n, wait);
        if (r < 0 && errno != EINTR) {
            lk->cancelled = true;
            ares_cancel(ch);
            break;
        }
        if (r == 0)
            ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
        for (int i = 0; r > 0 && i < n && !lk->done; i++) {
            short ev = pfd[i].revents;
            if (!ev)
                continue;
            bool rd = ev & (POLLIN | POLLERR | POLLHUP), wr = ev & (POLLOUT | POLLERR | POLLHUP);
            ares_process_fd(ch, rd ? pfd[i].fd : ARES_SOCKET_BAD, wr ? pfd[i].fd : ARES_SOCKET_BAD);
        }
    }
}

static int map_status(int st)
{
    switch (st) {
    case ARES_SUCCESS:
        return 0;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_EBADNAME:
    case ARES_ENONAME:
        return EAI_NONAME;
    case ARES_ETIMEOUT:
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED:
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
    case ARES_EOF:
        return EAI_AGAIN;
    case ARES_EBADFAMILY:
        return EAI_FAMILY;
    case ARES_ENOMEM:
        return EAI_MEMORY;
    default:
        return EAI_FAIL;
    }
}

/* The end of the CNAME chain that starts at NAME; when the chain starts
 * elsewhere (a search domain was appended), the last CNAME's target. */
static const char *canon_of(const struct ares_addrinfo *ai, const char *name)
{
    const char *cur = name;

    for (int hops = 0; hops < 16; hops++) {
        const struct ares_addrinfo_cname *c = ai->cnames;
        while (c && !(c->alias && c->name && name_eq(c->alias, cur)))
            c = c->next;
        if (!c)
            break;
        cur = c->name;
    }
    if (cur == name && ai->cnames) {
        const struct ares_addrinfo_cname *c = ai->cnames;
        while (c->next)
            c = c->next;
        if (c->name)
            cur = c->name;
    }
    return cur;
}

static const void *node_addr(const struct ares_addrinfo_node *nd, uint32_t *scope)
{
    *scope = 0;
    if (nd->ai_family == AF_INET && nd->ai_addr)
        return &((const struct sockaddr_in *)(const void *)nd->ai_addr)->sin_addr;
    if (nd->ai_family == AF_INET6 && nd->ai_addr) {
        const struct sockaddr_in6 *s6 = (const void *)nd->ai_addr;
        *scope = s6->sin6_scope_id;
        return &s6->sin6_addr;
    }
    return NULL;
}

/* Adds up to LIMIT addresses of FAMILY, in the server's order. */
static void add_family(const struct ares_addrinfo *ai, int family, size_t limit,
                       struct dns_answer *out)
{
    size_t start = out->n;

    for (const struct ares_addrinfo_node *nd = ai->nodes; nd && out->n - start < limit;
         nd = nd->ai_next) {
        uint32_t scope;
        const void *a = nd->ai_family == family ? node_addr(nd, &scope) : NULL;
        if (a && !answer_add(out, family, a, scope, nd->ai_ttl > 0 ? (uint32_t)nd->ai_ttl : 0))
            break;
    }
}

/* A records first, then AAAA. When more than fit, each family keeps at least
 * half the room, so a long A list can't push IPv6 out entirely. */
static void answer_from_ares(const struct ares_addrinfo *ai, const char *name,
                             struct dns_answer *out)
{
    size_t c4 = 0, c6 = 0, half = DNS_MAX_ADDRS / 2;

    for (const struct ares_addrinfo_node *nd = ai->nodes; nd; nd = nd->ai_next) {
        c4 += nd->ai_family == AF_INET;
        c6 += nd->ai_family == AF_INET6;
    }
    size_t k4 = c4;
    if (c4 + c6 > DNS_MAX_ADDRS && c4 > half)
        k4 = c6 >= half ? half : DNS_MAX_ADDRS - c6;
    add_family(ai, AF_INET, k4, out);
    add_family(ai, AF_INET6, DNS_MAX_ADDRS, out);

    uint32_t ttl = DNS_MAX_TTL;
    for (size_t i = 0; i < out->n; i++)
        ttl = min_u32(ttl, out->addrs[i].ttl);
    for (const struct ares_addrinfo_cname *c = ai->cnames; c; c = c->next)
        ttl = min_u32(ttl, c->ttl > 0 ? (uint32_t)c->ttl : 0);
    out->ttl = out->n ? ttl : 0;
    answer_set_canon(out, canon_of(ai, name));
}

/* The time budget: every attempt at every server its full timeout, plus slack.
 * c-ares 1.18 doubles the timeout on each round and cannot be told not to, so
 * this also caps the later rounds and `timeout` stays close to "per attempt". */
static int64_t budget_ms(const struct conf_resolver *r, int nservers)
{
    int64_t t = r->timeout_ms ? min_u32(r->timeout_ms, 600000) : 2000;
    int64_t tries = r->attempts > 0 ? r->attempts : 1;
    return t * tries * nservers + DNS_SLACK_MS;
}

static int dns_query(const struct conf *c, const struct conf_resolver *r, const char *name,
                     int family, struct dns_answer *out, bool *cacheable)
{
    struct lookup lk;
    ares_channel ch;
    struct ares_addrinfo_hints hints = {.ai_flags = ARES_AI_NOSORT, .ai_family = family};

    memset(&lk, 0, sizeof(lk));
    if (r->detour >= 0 && c && r->detour < c->n_dialers && !sockopt_none(&c->dialers[r->detour]))
        lk.detour = &c->dialers[r->detour];
    int st = channel_open(r, &lk, &ch);
    if (st != ARES_SUCCESS)
        return st == ARES_ENOMEM ? EAI_MEMORY : EAI_FAIL;
    int64_t budget = budget_ms(r, count_servers(ch)), deadline = now_ms() + budget;

    ares_getaddrinfo(ch, name, NULL, &hints, on_result, &lk);
    drive(ch, &lk, deadline);
    if (lk.done && lk.status == ARES_SUCCESS && lk.res)
        answer_from_ares(lk.res, name, out);
    ares_destroy(ch);
    if (lk.res)
        ares_freeaddrinfo(lk.res);

    if (lk.cancelled)
        log_info("dns: %s: no complete answer within %lld ms", name, (long long)budget);
    *cacheable = !lk.cancelled;
    if (out->n > 0)
        return 0;
    if (lk.opt_err) {
        errno = lk.opt_err;
        return EAI_SYSTEM;
    }
    int rc = map_status(lk.done ? lk.status : ARES_ECANCELLED);
    return rc ? rc : EAI_NONAME; /* "success" without a usable address */
}

/* ---- the lookup ---- */

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
        answer_set_canon(out, name);
    return 1;
}

struct query_call {
    const struct conf *c;
    const struct conf_resolver *r;
    const char *name;
    int family;
    struct dns_answer *out;
    bool *cacheable;
    int rc;
};

static int query_on_bigstack(void *arg)
{
    struct query_call *q = arg;

    q->rc = dns_query(q->c, q->r, q->name, q->family, q->out, q->cacheable);
    return 0;
}

static int lookup(const struct conf *c, int resolver, const char *name, int family,
                  struct dns_answer *out)
{
    const struct conf_resolver *r = dns_resolver(c, resolver);
    int rc;

    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        return EAI_FAMILY;
    if (!name_valid(name))
        return EAI_NONAME;
    if (!r) {
        log_error("dns: resolver %d does not exist", resolver);
        return EAI_FAIL;
    }
    if (local_answer(r, name, family, out, &rc))
        return rc;

    struct cache_key key;
    if (r->cache) {
        cache_key_make(&key, c, resolver, name, family);
        if (cache_get(&key, out, &rc))
            return rc;
    }
    pthread_once(&ares_once, ares_lib_init);
    if (ares_init_status != ARES_SUCCESS || !sys.socket) {
        log_error("dns: c-ares or the socket table is not initialised");
        return EAI_FAIL;
    }
    bool cacheable = false;
    struct query_call q = {c, r, name, family, out, &cacheable, EAI_MEMORY};
    /* c-ares on a stack of its own: the program's thread may have 16 KiB */
    if (bigstack_call(query_on_bigstack, &q) < 0)
        return EAI_MEMORY;
    rc = q.rc;
    if (r->cache && cacheable && rc == 0)
        cache_put(&key, rc, out, out->ttl);
    else if (r->cache && cacheable && rc == EAI_NONAME)
        cache_put(&key, rc, out, DNS_NEGATIVE_TTL);
    return rc;
}

int dns_lookup_local(const struct conf *c, int resolver, const char *name, int family,
                     struct dns_answer *out)
{
    const struct conf_resolver *r = dns_resolver(c, resolver);
    int saved = errno, cancel_state, rc = EAI_NONAME;

    /* fopen of the hosts file is a cancellation point: hold it off, as dns_lookup. */
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    answer_reset(out);
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        rc = EAI_FAMILY;
    else if (r && name_valid(name) && !local_answer(r, name, family, out, &rc))
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
    int saved = errno, cancel_state;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    answer_reset(out);
    int rc = lookup(c, resolver, name, family, out);
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
