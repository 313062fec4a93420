#include "common/cares.h"

#include "common/cares_api.h"
#include "common/dnsanswer.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/sockopt.h"
#include "common/sys.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_status = ARES_ENOTINITIALIZED;

static void ares_lib_init(void)
{
    if (cares_api_load() != 0)
        return; /* stays ARES_ENOTINITIALIZED */
    ares_init_status = CA(ares_library_init)(ARES_LIB_INIT_ALL);
}

/* State shared between one lookup and its c-ares callbacks. */
struct lookup {
    const struct conf_dialer *detour; /* NULL: no options on the DNS sockets */
    bool at_connect;  /* the dialer's own options: set at connect, not for loopback servers */
    int family, type; /* of the socket being made, for the options at connect */
    int opt_err;      /* errno of a failed socket() or refused option, 0 if none */
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
    lk->family = domain;
    lk->type = type;
    int err =
        lk->detour && !lk->at_connect ? sockopt_apply(lk->detour, fd, domain, type, &failed) : 0;
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

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
               127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

/* c-ares connects each socket right after making it (UDP too), so the last
 * socket made is the one connecting. The dialer's own options go on here,
 * where the server is known: a loopback server (a local stub resolver) is
 * this host, which an interface or a source address would only cut off. */
static int cb_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *ud)
{
    struct lookup *lk = ud;
    const char *failed = "socket option";

    if (lk->at_connect && !is_loopback(sa)) {
        int err = sockopt_apply(lk->detour, fd, lk->family, lk->type, &failed);
        if (err) {
            socket_failed(lk, failed, err);
            return -1;
        }
    }
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
            CA(ares_freeaddrinfo)(res);
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
    return CA(ares_set_servers_ports)(ch, nodes);
}

static int count_servers(ares_channel ch)
{
    struct ares_addr_port_node *list = NULL;
    int n = 0;

    if (CA(ares_get_servers_ports)(ch, &list) != ARES_SUCCESS)
        return 1;
    for (struct ares_addr_port_node *p = list; p; p = p->next)
        n++;
    CA(ares_free_data)(list);
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
    int st = CA(ares_init_options)(ch, &o, mask);
    if (st != ARES_SUCCESS)
        return st;
    CA(ares_set_socket_functions)(*ch, &sock_funcs, lk);
    if (r->n_servers > 0 && (st = set_servers(*ch, r)) != ARES_SUCCESS) {
        CA(ares_destroy)(*ch);
        return st;
    }
    return ARES_SUCCESS;
}

static int fill_pollfds(ares_channel ch, struct pollfd *pfd)
{
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    /* Unsigned: ARES_GETSOCK_WRITABLE shifts a signed 1 into the sign bit. */
    unsigned bits = (unsigned)CA(ares_getsock)(ch, socks, ARES_GETSOCK_MAXNUM);
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
        int64_t left = deadline - monotime_ms();
        if (left <= 0) {
            lk->cancelled = true;
            CA(ares_cancel)(ch);
            break;
        }
        int n = fill_pollfds(ch, pfd);
        struct timeval max = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000}, tv;
        struct timeval *t = CA(ares_timeout)(ch, &max, &tv);
        int wait = (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
        int r = sys.poll(pfd, (nfds_t)n, wait);
        if (r < 0 && errno != EINTR) {
            lk->cancelled = true;
            CA(ares_cancel)(ch);
            break;
        }
        if (r == 0)
            CA(ares_process_fd)(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
        for (int i = 0; r > 0 && i < n && !lk->done; i++) {
            short ev = pfd[i].revents;
            if (!ev)
                continue;
            bool rd = ev & (POLLIN | POLLERR | POLLHUP), wr = ev & (POLLOUT | POLLERR | POLLHUP);
            CA(ares_process_fd)
            (ch, rd ? pfd[i].fd : ARES_SOCKET_BAD, wr ? pfd[i].fd : ARES_SOCKET_BAD);
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
        while (c && !(c->alias && c->name && dns_name_eq(c->alias, cur)))
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
        if (a && !dns_answer_add(out, family, a, scope, nd->ai_ttl > 0 ? (uint32_t)nd->ai_ttl : 0))
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
    dns_answer_set_canon(out, canon_of(ai, name));
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

int cares_query(const struct conf *c, const struct conf_resolver *r, int opts, const char *name,
                int family, struct dns_answer *out, bool *cacheable)
{
    struct lookup lk;
    ares_channel ch;
    struct ares_addrinfo_hints hints = {.ai_flags = ARES_AI_NOSORT, .ai_family = family};

    memset(&lk, 0, sizeof(lk));
    if (opts >= 0 && c && opts < c->n_dialers && !sockopt_none(&c->dialers[opts])) {
        lk.detour = &c->dialers[opts];
        lk.at_connect = opts != r->detour;
    }
    int st = channel_open(r, &lk, &ch);
    if (st != ARES_SUCCESS)
        return st == ARES_ENOMEM ? EAI_MEMORY : EAI_FAIL;
    int64_t budget = budget_ms(r, count_servers(ch)), deadline = monotime_ms() + budget;

    CA(ares_getaddrinfo)(ch, name, NULL, &hints, on_result, &lk);
    drive(ch, &lk, deadline);
    if (lk.done && lk.status == ARES_SUCCESS && lk.res)
        answer_from_ares(lk.res, name, out);
    CA(ares_destroy)(ch);
    if (lk.res)
        CA(ares_freeaddrinfo)(lk.res);

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

bool cares_ready(void)
{
    pthread_once(&ares_once, ares_lib_init);
    return ares_init_status == ARES_SUCCESS && sys.socket;
}
