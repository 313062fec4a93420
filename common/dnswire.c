#include "common/dnswire.h"
#include "common/dnswire_int.h"

#include "common/addr.h"
#include "common/bigstack.h"
#include "common/dnsanswer.h"
#include "common/dnsresp.h"
#include "common/fakeip.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/lookup.h"
#include "common/ownfd.h"
#include "common/reentry.h"
#include "common/state.h"
#include "common/sys.h"
#include "common/hotpath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEERS_MAX  256  /* DNS sockets of one process that the shim answers on */
#define QUERY_MAX  1500 /* the largest query read (a query is a few hundred bytes) */
#define ANSWER_MAX 512  /* the classic DNS datagram: no EDNS in our answers */
#define PUMP_MAX   64   /* queries answered per call, so no call runs unbounded */
#define WAIT_MS    100  /* for a query that loopback has not delivered yet */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* A child of fork gets a usable lock; the responders stay shared: whichever
 * process reads a query answers it. Registered here, not by common/state.c,
 * which sits below this module. */
static void atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
}

static void register_fork(void)
{
    pthread_atfork(NULL, NULL, atfork_child);
}

static void lock_table(void)
{
    pthread_once(&fork_once, register_fork);
    pthread_mutex_lock(&lock);
}
static int resp4 = -1, resp6 = -1;
static struct sockaddr_in addr4;
static struct sockaddr_in6 addr6;
static struct peer {
    int fd;
    socklen_t len;
    struct sockaddr_storage sa;
} peers[PEERS_MAX];
static int n_peers;

bool dnswire_on(void)
{
    return state.active && state.dns_hijack;
}

/* ---------------------------------------------------------------- the responder */

static int open_responder(int family, int *where, void *addr, socklen_t len)
{
    int fd = sys.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (bind(fd, addr, len) < 0 || sys.getsockname(fd, addr, &len) < 0) {
        sys.close(fd);
        return -1;
    }
    *where = fd;
    ownfd_adopt(where);
    return 0;
}

/* The responder for a socket of FAMILY and its address (*SA, *LEN), made on first
 * need. IPv6 sockets talk to [::1], or to 127.0.0.1 mapped when ::1 is missing. */
static int responder(int family, struct sockaddr_storage *sa, socklen_t *len)
{
    int fd = -1;

    lock_table();
    if (resp4 < 0 || !ownfd_check(&resp4)) {
        addr4 = (struct sockaddr_in){.sin_family = AF_INET};
        addr4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        open_responder(AF_INET, &resp4, &addr4, sizeof(addr4));
    }
    if (family == AF_INET6 && (resp6 < 0 || !ownfd_check(&resp6))) {
        addr6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
        open_responder(AF_INET6, &resp6, &addr6, sizeof(addr6));
    }
    memset(sa, 0, sizeof(*sa));
    if (family == AF_INET6 && resp6 >= 0) {
        memcpy(sa, &addr6, sizeof(addr6));
        *len = sizeof(addr6);
        fd = resp6;
    } else if (resp4 >= 0) {
        fd = resp4;
        if (family == AF_INET6) {
            struct sockaddr_in6 *m = (struct sockaddr_in6 *)sa;
            m->sin6_family = AF_INET6;
            m->sin6_port = addr4.sin_port;
            m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&m->sin6_addr.s6_addr[12], &addr4.sin_addr, 4);
            *len = sizeof(*m);
        } else {
            memcpy(sa, &addr4, sizeof(addr4));
            *len = sizeof(addr4);
        }
    }
    pthread_mutex_unlock(&lock);
    return fd;
}

/* Is SA (a source address a receive reported) one of the responders? */
static bool from_responder(const struct sockaddr *sa, socklen_t len)
{
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const void *)sa;
        return resp4 >= 0 && in->sin_port == addr4.sin_port &&
               in->sin_addr.s_addr == addr4.sin_addr.s_addr;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        if (resp6 >= 0 && in6->sin6_port == addr6.sin6_port &&
            IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return true;
        return resp4 >= 0 && in6->sin6_port == addr4.sin_port &&
               IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
               memcmp(&in6->sin6_addr.s6_addr[12], &addr4.sin_addr, 4) == 0;
    }
    return false;
}

/* ---------------------------------------------------------------- answers */

struct ctx {
    bool strict; /* the query reached the responder: answered whatever its route */
};

static enum dnsresp_way way(void *arg, const char *name)
{
    struct ctx *c = arg;
    struct dns_addr a;
    char back[DNSRESP_NAME_MAX + 1];
    bool remote;

    if (dnsresp_arpa_addr(name, &a) && fakeip_lookup_addr(a.family, a.addr, back, sizeof(back)))
        return DNSRESP_ANSWER;
    switch (netdb_name_way(name, 53, true, &remote)) {
    case NETDB_FAKE:
        return DNSRESP_ANSWER;
    case NETDB_BLOCK:
    case NETDB_DENY:
        /* a datagram not yet sent takes the usual refusal (EPERM, nothing sent) */
        return c->strict ? DNSRESP_REFUSE : DNSRESP_PASS;
    default:
        if (c->strict)
            log_info("%s[%d] dns %s: its route resolves names for real, but the socket's "
                     "queries are answered by the shim: REFUSED",
                     state.prog, (int)getpid(), name);
        return c->strict ? DNSRESP_REFUSE : DNSRESP_PASS;
    }
}

static int lookup(void *arg, const char *name, int family, struct dns_addr *out, size_t cap,
                  size_t *n)
{
    (void)arg;
    return netdb_lookup_capped("dns (port 53)", name, family, state.app, out, cap, n);
}

static bool name_of(void *arg, const struct dns_addr *a, char *name, size_t cap)
{
    (void)arg;
    return fakeip_lookup_addr(a->family, a->addr, name, cap);
}

/* Every query waiting on responder RFD answered to its sender. Returns how many.
 * The buffers come from the heap: a hook's stack stays small. */
int dnswire_answer(const uint8_t *q, size_t n, uint8_t *a, size_t cap)
{
    struct ctx c = {.strict = true};
    const struct dnsresp_ops ops = {&c, way, lookup, name_of};
    int r = dnsresp_respond(q, n, &ops, a, cap);

    if (r <= 0) /* not a query we can route by: the sender learns at once */
        r = dnsresp_rcode(q, n, DNSRESP_FORMERR, a, cap);
    return r;
}

static int pump_one(int rfd)
{
    uint8_t *q = rfd >= 0 ? malloc(QUERY_MAX + ANSWER_MAX) : NULL, *a = q + QUERY_MAX;
    int done = 0;

    while (q && done < PUMP_MAX) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        ssize_t n = sys.recvfrom(rfd, q, QUERY_MAX, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        int r;

        if (n < 0)
            break;
        done++;
        r = dnswire_answer(q, (size_t)n, a, ANSWER_MAX);
        if (r > 0)
            sys.sendto(rfd, a, (size_t)r, MSG_DONTWAIT, (struct sockaddr *)&from, fl);
    }
    free(q);
    return done;
}

static int pump_deep(void *arg)
{
    bool wait = *(bool *)arg;
    int done = pump_one(resp4) + pump_one(resp6);

    if (!done && wait) {
        /* loopback delivers within the send almost always; a softirq left to
         * ksoftirqd may take a moment */
        struct pollfd p[2] = {{.fd = resp4, .events = POLLIN}, {.fd = resp6, .events = POLLIN}};
        if (sys.poll(p, 2, WAIT_MS) > 0)
            done = pump_one(resp4) + pump_one(resp6);
    }
    return done;
}

static void pump(bool wait)
{
    if (!reentry_nested())
        bigstack_call(pump_deep, &wait);
}

/* ---------------------------------------------------------------- the peers */

void dnswire_remember(int fd, const struct sockaddr *sa, socklen_t len)
{
    int i;

    lock_table();
    for (i = 0; i < n_peers && peers[i].fd != fd; i++)
        ;
    if (i == n_peers && n_peers < PEERS_MAX)
        n_peers++;
    if (i < n_peers) {
        peers[i].fd = fd;
        peers[i].len = len < sizeof(peers[i].sa) ? len : sizeof(peers[i].sa);
        memcpy(&peers[i].sa, sa, peers[i].len);
    }
    pthread_mutex_unlock(&lock);
    fdtab_or(fd, FD_DNS);
}

bool dnswire_peer(int fd, struct sockaddr *sa, socklen_t *len)
{
    bool found = false;

    if (reentry_nested())
        return false;
    lock_table();
    for (int i = 0; i < n_peers && !found; i++) {
        if (peers[i].fd != fd)
            continue;
        found = true;
        memcpy(sa, &peers[i].sa, *len < peers[i].len ? *len : peers[i].len);
        *len = peers[i].len;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

void dnswire_forget(int fd)
{
    lock_table();
    for (int i = 0; i < n_peers; i++) {
        if (peers[i].fd == fd) {
            peers[i] = peers[--n_peers];
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------- the hooks' side */

static const char *addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
    return addr_format(sa, buf, cap);
}

/* dnswire_connect's work once the destination is a name server's port: kept
 * apart, so that every other connect passes with two loads and a compare. */
RARE_PATH static bool connect_dns(int fd, const struct sockaddr *sa, socklen_t len, bool tcp,
                                  int *err)
{
    struct sockaddr_storage r;
    socklen_t rl;
    char ns[ADDR_STRLEN];
    bool remote;

    if (reentry_nested() || netdb_name_way("", 53, true, &remote) != NETDB_FAKE)
        return false;
    if (tcp)
        return dnswire_tcp_connect(fd, sa, len, err);
    if (responder(sa->sa_family, &r, &rl) < 0) {
        *err = EPERM; /* the query would leave the host: fail closed */
        log_warn("%s[%d] connect fd %d to %s: no DNS responder could be made: EPERM", state.prog,
                 (int)getpid(), fd, addr_text(sa, ns, sizeof(ns)));
        return true;
    }
    *err = sys.connect(fd, (struct sockaddr *)&r, rl) < 0 ? errno : 0;
    if (!*err)
        dnswire_remember(fd, sa, len);
    log_info("%s[%d] connect fd %d to %s (DNS): answered by the shim (fake_ip), no query leaves%s",
             state.prog, (int)getpid(), fd, addr_text(sa, ns, sizeof(ns)), *err ? ": failed" : "");
    return true;
}

HOT_PATH bool dnswire_connect(int fd, const struct sockaddr *sa, socklen_t len, bool tcp, int *err)
{
    return dnswire_on() && addr_port(sa) == 53 && connect_dns(fd, sa, len, tcp, err);
}

/* MSG's payload, gathered into BUF (CAP bytes). */
static size_t gather(const struct msghdr *msg, uint8_t *buf, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < msg->msg_iovlen && n < cap; i++) {
        size_t k = msg->msg_iov[i].iov_len < cap - n ? msg->msg_iov[i].iov_len : cap - n;
        memcpy(buf + n, msg->msg_iov[i].iov_base, k);
        n += k;
    }
    return n;
}

struct decide {
    const struct msghdr *msg;
    enum dnsresp_way w;
};

static int decide_deep(void *arg)
{
    struct decide *d = arg;
    uint8_t *q = malloc(QUERY_MAX);
    struct dnsresp_query pq;
    struct ctx c = {.strict = false};
    size_t n = q ? gather(d->msg, q, QUERY_MAX) : 0;

    if (!q)
        return -1; /* no memory: the caller fails closed */
    d->w = dnsresp_parse(q, n, &pq) ? way(&c, pq.name) : DNSRESP_PASS;
    free(q);
    return 0;
}

ssize_t dnswire_sendto(int fd, const struct msghdr *msg, int flags)
{
    const struct sockaddr *to = msg->msg_name;
    struct decide d = {.msg = msg, .w = DNSRESP_PASS};
    struct sockaddr_storage r;
    struct msghdr m = *msg;
    ssize_t n;

    if (!dnswire_on() || addr_port(to) != 53 || reentry_nested())
        return -2;
    if (bigstack_call(decide_deep, &d) < 0) {
        errno = ENOMEM; /* the query could not be read: never sent unread */
        return -1;
    }
    if (d.w == DNSRESP_PASS)
        return -2;
    m.msg_name = &r;
    if (responder(to->sa_family, &r, &m.msg_namelen) < 0) {
        log_warn("%s[%d] sendto fd %d (DNS): no DNS responder could be made: EPERM", state.prog,
                 (int)getpid(), fd);
        errno = EPERM;
        return -1;
    }
    dnswire_remember(fd, to, msg->msg_namelen);
    n = sys.sendmsg(fd, &m, flags);
    if (n >= 0)
        pump(true);
    return n;
}

ssize_t dnswire_send(int fd, const struct msghdr *msg, int flags)
{
    ssize_t n = sys.sendmsg(fd, msg, flags);

    if (n >= 0 && (fdtab_get(fd) & FD_KIND_MASK) == FD_TCP)
        dnswire_tcp_pump(true);
    else if (n >= 0)
        pump(true);
    return n;
}

ssize_t dnswire_recv(int fd, struct msghdr *msg, int flags)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof(peer), cap = msg->msg_namelen;
    ssize_t n;

    if ((fdtab_get(fd) & FD_KIND_MASK) == FD_TCP) {
        dnswire_tcp_pump(false);
        return sys.recvmsg(fd, msg, flags);
    }
    pump(false);
    n = sys.recvmsg(fd, msg, flags);
    if (n < 0 || !msg->msg_name || msg->msg_namelen == 0 ||
        !from_responder(msg->msg_name, msg->msg_namelen))
        return n;
    if (dnswire_peer(fd, (struct sockaddr *)&peer, &pl)) {
        /* the kernel's rule: cut to the room, give the whole length */
        memcpy(msg->msg_name, &peer, cap < pl ? cap : pl);
        msg->msg_namelen = pl;
    }
    return n;
}
