/* The supervisor's DNS responder: static and Go programs resolve by sending DNS
 * to the servers of /etc/resolv.conf; under a route that answers names here
 * (remote_dns, fake_ip), the supervisor points those sockets at this responder
 * on loopback (supervise_call.c) and answers each query itself with
 * common/dnsresp.h: A and AAAA with the shim's lookup (netdb_lookup: the fake
 * addresses, or for a name routed for real its dialer's resolver, like the
 * shim's getaddrinfo), PTR of a fake address its name, other types empty
 * (NOERROR), a blocked name REFUSED. Nothing here forwards the program's query. */
#include "common/dns.h"
#include "common/dnsresp.h"
#include "common/fakeip.h"
#include "common/lookup.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSG_MAX 1232 /* what a resolver offers over UDP without EDNS problems */

struct query_job {
    int sock;
    struct sockaddr_storage from;
    socklen_t fromlen;
    size_t len;
    uint8_t msg[MSG_MAX];
};

/* A blocked name (or a broken file) is refused; every other name is answered
 * here, by the lookup below. */
static enum dnsresp_way way(void *ctx, const char *name)
{
    bool remote;
    enum netdb_way w = netdb_name_way(name, 0, true, &remote);

    (void)ctx;
    return w == NETDB_BLOCK || w == NETDB_DENY ? DNSRESP_REFUSE : DNSRESP_ANSWER;
}

/* The shim's own lookup: fake addresses under remote_dns or fake_ip, the
 * dialer's resolver for a name routed for real. */
static int lookup(void *ctx, const char *name, int family, struct dns_addr *out, size_t cap,
                  size_t *n)
{
    struct dns_addr all[DNS_MAX_ADDRS];
    int rc = netdb_lookup("supervised DNS", name, family, all, n);

    (void)ctx;
    if (rc)
        return rc;
    if (*n > cap)
        *n = cap;
    memcpy(out, all, *n * sizeof(*out));
    return 0;
}

static bool name_of(void *ctx, const struct dns_addr *a, char *name, size_t cap)
{
    (void)ctx;
    return fakeip_lookup_addr(a->family, a->addr, name, cap);
}

static int respond(const uint8_t *m, size_t len, uint8_t *out, size_t cap)
{
    static const struct dnsresp_ops ops = {NULL, way, lookup, name_of};
    int n = dnsresp_respond(m, len, &ops, out, cap);

    return n > 0 ? n : dnsresp_rcode(m, len, DNSRESP_FORMERR, out, cap);
}

static void *serve_query(void *arg)
{
    struct query_job *j = arg;
    uint8_t out[MSG_MAX];
    int n = respond(j->msg, j->len, out, sizeof(out));

    if (n > 0)
        sendto(j->sock, out, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&j->from, j->fromlen);
    free(j);
    return NULL;
}

/* Each query on its own thread: a real lookup may wait for its server. */
static void *responder(void *arg)
{
    struct pollfd p[2] = {{.fd = -1, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
    int *socks = arg;
    pthread_attr_t a;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 512 * 1024);
    p[0].fd = socks[0];
    p[1].fd = socks[1];
    for (;;) {
        if (poll(p, 2, -1) < 0)
            continue;
        for (int i = 0; i < 2; i++) {
            struct query_job *j;
            pthread_t th;
            ssize_t n;
            if (!(p[i].revents & POLLIN) || !(j = malloc(sizeof(*j))))
                continue;
            j->sock = p[i].fd;
            j->fromlen = sizeof(j->from);
            n = recvfrom(p[i].fd, j->msg, sizeof(j->msg), MSG_DONTWAIT, (struct sockaddr *)&j->from,
                         &j->fromlen);
            j->len = n > 0 ? (size_t)n : 0;
            if (n <= 0 || pthread_create(&th, &a, serve_query, j) != 0)
                free(j);
        }
    }
    return NULL;
}

int sup_dns_start(void)
{
    static int socks[2] = {-1, -1};
    socklen_t len = sizeof(sup.dns4);
    pthread_t th;

    sup.dns4 =
        (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socks[0] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (socks[0] < 0 || bind(socks[0], (struct sockaddr *)&sup.dns4, sizeof(sup.dns4)) < 0 ||
        getsockname(socks[0], (struct sockaddr *)&sup.dns4, &len) < 0)
        return errno ? errno : EIO;
    /* ::1 on the same port when it can be had; IPv6 sockets reach 127.0.0.1 mapped otherwise. */
    sup.dns6 = (struct sockaddr_in6){.sin6_family = AF_INET6,
                                     .sin6_addr = IN6ADDR_LOOPBACK_INIT,
                                     .sin6_port = sup.dns4.sin_port};
    socks[1] = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (socks[1] < 0 || bind(socks[1], (struct sockaddr *)&sup.dns6, sizeof(sup.dns6)) < 0)
        sup.dns6.sin6_port = 0;
    if (pthread_create(&th, NULL, responder, socks) != 0)
        return EAGAIN;
    pthread_detach(th);
    return 0;
}
