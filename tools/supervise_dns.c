/* The supervisor's DNS responder: static and Go programs resolve by sending DNS
 * to the servers of /etc/resolv.conf, over UDP, and over TCP when an answer was
 * truncated or `options use-vc` says so. Under a route that answers names here
 * (remote_dns, fake_ip), the supervisor points those sockets at this responder
 * on loopback (supervise_call.c: a UDP send or connect to port 53, a TCP
 * connect to port 53) and answers each query itself with common/dnsresp.h: A
 * and AAAA with the shim's lookup (netdb_lookup_app: the fake addresses, or for
 * a name routed for real its dialer's resolver, like the shim's getaddrinfo),
 * PTR of a fake address its name, other types empty (NOERROR), a blocked name
 * REFUSED. Nothing here forwards the program's query.
 *
 * Each [app] whose names are answered here has its own sockets (UDP and a TCP
 * listener, on 127.0.0.1 and ::1): the socket a query arrives on says which
 * app's routes decide, so a child exec'd under the supervisor that matches
 * another [app] gets its own app's answers, as the shim would give it in that
 * child. */
#include "common/addr.h"
#include "common/dns.h"
#include "common/dnsresp.h"
#include "common/fakeip.h"
#include "common/lookup.h"
#include "common/state.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define MSG_MAX    1232 /* what a resolver offers over UDP without EDNS problems */
#define STREAM_MAX 4096 /* an answer over TCP: fake or resolved addresses fit */
#define TCP_IDLE_S 10   /* a DNS-over-TCP connection left idle is closed, as servers do */

/* One app's responder: UDP and TCP, each on 127.0.0.1 and ::1 (port 0: none). */
struct responder {
    int app;
    int fd[4]; /* udp4, udp6, tcp4, tcp6 */
    struct sockaddr_in6 at[4];
};

static struct responder *resp; /* one per app answered here */
static int n_resp;

struct query_job {
    int sock;
    int app;
    struct sockaddr_storage from;
    socklen_t fromlen;
    size_t len;
    uint8_t msg[MSG_MAX];
};

bool sup_names_here(const struct conf *c, int app)
{
    bool remote;

    if (netdb_dialer_way(c, route_app_dialer(c, app), &remote) == NETDB_FAKE || remote)
        return true;
    for (int i = 0; app >= 0 && i < c->apps[app].n_rules; i++)
        if (netdb_dialer_way(c, c->apps[app].rules[i].dialer, &remote) == NETDB_FAKE || remote)
            return true;
    return false;
}

bool sup_names_anywhere(const struct conf *c)
{
    for (int app = APP_BUILTIN; app < c->n_apps; app++)
        if (sup_names_here(c, app))
            return true;
    return false;
}

/* A blocked name is refused; every other name is answered here, by the lookup
 * below, under the app the query's socket stands for. */
static enum dnsresp_way way(void *ctx, const char *name)
{
    const struct conf *c = state.conf;
    struct dest d = {.name = name, .net = NET_UDP};
    int rule;
    bool remote;

    return netdb_dialer_way(c, route_pick(c, *(const int *)ctx, &d, &rule), &remote) == NETDB_BLOCK
               ? DNSRESP_REFUSE
               : DNSRESP_ANSWER;
}

/* The shim's own lookup: fake addresses under remote_dns or fake_ip, the
 * dialer's resolver for a name routed for real. */
static int lookup(void *ctx, const char *name, int family, struct dns_addr *out, size_t cap,
                  size_t *n)
{
    return netdb_lookup_capped("supervised DNS", name, family, *(const int *)ctx, out, cap, n);
}

static bool name_of(void *ctx, const struct dns_addr *a, char *name, size_t cap)
{
    (void)ctx;
    return fakeip_lookup_addr(a->family, a->addr, name, cap);
}

static int respond(int app, const uint8_t *m, size_t len, uint8_t *out, size_t cap)
{
    struct dnsresp_ops ops = {&app, way, lookup, name_of};
    int n = dnsresp_respond(m, len, &ops, out, cap);

    return n > 0 ? n : dnsresp_rcode(m, len, DNSRESP_FORMERR, out, cap);
}

static void *serve_query(void *arg)
{
    struct query_job *j = arg;
    uint8_t out[MSG_MAX];
    int n = respond(j->app, j->msg, j->len, out, sizeof(out));

    if (n > 0)
        sendto(j->sock, out, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&j->from, j->fromlen);
    free(j);
    return NULL;
}

/* ---- DNS over TCP: each message after its 2-byte length (RFC 1035 4.2.2) ---- */

static bool read_all(int fd, void *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = read(fd, (char *)buf + off, len - off);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            return false;
        off += n > 0 ? (size_t)n : 0;
    }
    return true;
}

static bool write_all(int fd, const void *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            return false;
        off += n > 0 ? (size_t)n : 0;
    }
    return true;
}

struct stream_job {
    int fd, app;
};

/* The queries of one connection, answered in order until the program closes
 * it or leaves it idle. */
static void *serve_stream(void *arg)
{
    struct stream_job *j = arg;
    struct timeval idle = {.tv_sec = TCP_IDLE_S};
    uint8_t hdr[2], msg[65535], out[2 + STREAM_MAX];
    size_t len;
    int n;

    setsockopt(j->fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
    setsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof(idle));
    while (read_all(j->fd, hdr, 2) && (len = (size_t)hdr[0] << 8 | hdr[1]) > 0 &&
           read_all(j->fd, msg, len)) {
        n = respond(j->app, msg, len, out + 2, STREAM_MAX);
        if (n <= 0)
            break;
        out[0] = (uint8_t)(n >> 8);
        out[1] = (uint8_t)n;
        if (!write_all(j->fd, out, (size_t)n + 2))
            break;
    }
    close(j->fd);
    free(j);
    return NULL;
}

/* ---- the sockets ---- */

static void start_job(const pthread_attr_t *a, void *(*fn)(void *), void *job)
{
    pthread_t th;

    if (pthread_create(&th, a, fn, job) != 0)
        free(job); /* the program's resolver retries, or times out */
}

static void take_datagram(const pthread_attr_t *a, int fd, int app)
{
    struct query_job *j = malloc(sizeof(*j));
    ssize_t n;

    if (!j)
        return;
    j->sock = fd;
    j->app = app;
    j->fromlen = sizeof(j->from);
    n = recvfrom(fd, j->msg, sizeof(j->msg), MSG_DONTWAIT, (struct sockaddr *)&j->from,
                 &j->fromlen);
    j->len = n > 0 ? (size_t)n : 0;
    if (n <= 0) {
        free(j);
        return;
    }
    start_job(a, serve_query, j);
}

static void take_connection(const pthread_attr_t *a, int fd, int app)
{
    struct stream_job *j = malloc(sizeof(*j));

    if (!j)
        return;
    j->app = app;
    j->fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (j->fd < 0) {
        free(j);
        return;
    }
    start_job(a, serve_stream, j);
}

/* Each query (each connection) on its own thread: a real lookup may wait for
 * its server. */
static void *responder(void *arg)
{
    struct pollfd *p = arg;
    pthread_attr_t a;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 512 * 1024);
    for (int i = 0; i < n_resp * 4; i++)
        p[i] = (struct pollfd){.fd = resp[i / 4].fd[i % 4], .events = POLLIN};
    for (;;) {
        if (poll(p, (nfds_t)n_resp * 4, -1) < 0)
            continue;
        for (int i = 0; i < n_resp * 4; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            if (i % 4 < 2)
                take_datagram(&a, p[i].fd, resp[i / 4].app);
            else
                take_connection(&a, p[i].fd, resp[i / 4].app);
        }
    }
    return NULL;
}

/* A socket of TYPE bound to loopback of family (K 0, 2: IPv4; 1, 3: IPv6) at
 * an ephemeral port, its address in *AT; -1 when it cannot be had. */
static int bound(int k, struct sockaddr_in6 *at)
{
    int family = k % 2 ? AF_INET6 : AF_INET, type = k < 2 ? SOCK_DGRAM : SOCK_STREAM, one = 1;
    socklen_t len = sizeof(*at);
    int fd = socket(family, type | SOCK_CLOEXEC, 0);

    memset(at, 0, sizeof(*at));
    if (family == AF_INET)
        *(struct sockaddr_in *)at =
            (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    else
        *at = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (fd >= 0 && family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (fd < 0 ||
        bind(fd, (struct sockaddr *)at,
             family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(*at)) < 0 ||
        getsockname(fd, (struct sockaddr *)at, &len) < 0 ||
        (type == SOCK_STREAM && listen(fd, 64))) {
        if (fd >= 0)
            close(fd);
        memset(at, 0, sizeof(*at));
        return -1;
    }
    return fd;
}

bool sup_dns_addr(int app, bool tcp, int family, struct sockaddr_storage *to, socklen_t *tolen)
{
    for (int i = 0; i < n_resp; i++) {
        const struct sockaddr_in6 *v6 = &resp[i].at[tcp ? 3 : 1];
        const struct sockaddr *v4 = (const struct sockaddr *)&resp[i].at[tcp ? 2 : 0];
        if (resp[i].app != app)
            continue;
        if (family == AF_INET6 && v6->sin6_port) {
            memcpy(to, v6, sizeof(*v6));
            *tolen = sizeof(*v6);
            return true;
        }
        return addr_in_family(v4, family, to, tolen); /* an IPv6 socket: v4-mapped */
    }
    return false;
}

int sup_dns_start(const struct conf *c)
{
    struct pollfd *p;
    pthread_t th;

    resp = calloc((size_t)c->n_apps + 1, sizeof(*resp));
    p = calloc(((size_t)c->n_apps + 1) * 4, sizeof(*p));
    if (!resp || !p)
        return ENOMEM;
    for (int app = APP_BUILTIN; app < c->n_apps; app++) {
        struct responder *r = &resp[n_resp];
        if (!sup_names_here(c, app))
            continue;
        r->app = app;
        for (int k = 0; k < 4; k++)
            r->fd[k] = bound(k, &r->at[k]);
        if (r->fd[0] < 0 || r->fd[2] < 0)
            return errno ? errno : EIO; /* IPv4 loopback is required, IPv6 optional */
        n_resp++;
    }
    if (n_resp == 0)
        return 0;
    if (pthread_create(&th, NULL, responder, p) != 0)
        return EAGAIN;
    pthread_detach(th);
    return 0;
}
