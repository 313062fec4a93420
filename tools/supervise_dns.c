/* The supervisor's DNS responder: static and Go programs resolve by sending DNS
 * to the servers of /etc/resolv.conf; under a route that answers names here
 * (remote_dns, fake_ip), the supervisor points those sockets at this responder
 * on loopback (supervise_call.c) and answers each query itself, as the shim's
 * res_send does (common/resq.h): A and AAAA from the fake-address table, other
 * types of a remote_dns name empty (NOERROR), a blocked name REFUSED. A name
 * whose route resolves for real is resolved with its dialer's resolver, like
 * the shim's getaddrinfo. Nothing here forwards the program's query. */
#include "common/dns.h"
#include "common/log.h"
#include "common/lookup.h"
#include "common/resq.h"
#include "common/state.h"
#include "tools/supervise_int.h"

#include <arpa/nameser.h>
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

/* The question's name, type and length after the header; false: none. */
static bool question(const uint8_t *m, size_t len, char *name, int *type, size_t *qlen)
{
    size_t off = NS_HFIXEDSZ, n = 0;

    if (len < NS_HFIXEDSZ || (m[2] & 0x80) || ((m[4] << 8) | m[5]) != 1)
        return false;
    while (off < len && m[off]) {
        size_t l = m[off];
        if (l > NS_MAXLABEL || off + 1 + l >= len || n + l + 2 > NS_MAXDNAME)
            return false;
        if (n)
            name[n++] = '.';
        memcpy(name + n, m + off + 1, l);
        n += l;
        off += 1 + l;
    }
    if (off + 5 > len)
        return false;
    name[n] = '\0';
    *type = (m[off + 1] << 8) | m[off + 2];
    *qlen = off + 5 - NS_HFIXEDSZ;
    return true;
}

/* The answer without records and with RCODE, or FORMERR with no question. */
static int empty(const uint8_t *m, size_t len, int rcode, uint8_t *out, size_t cap)
{
    char name[NS_MAXDNAME + 1];
    size_t qlen;
    int type, r;

    if (len < NS_HFIXEDSZ)
        return -1;
    if (!question(m, len, name, &type, &qlen)) {
        memcpy(out, m, NS_HFIXEDSZ);
        out[2] = (uint8_t)(0x80 | (m[2] & 0x79));
        out[3] = 0x80 | ns_r_formerr;
        memset(out + 4, 0, 8);
        return NS_HFIXEDSZ;
    }
    r = resq_answer((uint16_t)((m[0] << 8) | m[1]), m[2] & 1, m + NS_HFIXEDSZ, qlen, NULL, 0, out,
                    cap);
    if (r > 0)
        out[3] = (uint8_t)(0x80 | rcode);
    return r;
}

/* A name whose route resolves for real: its dialer's resolver, here. */
static int real(const uint8_t *m, size_t len, uint8_t *out, size_t cap)
{
    struct dns_addr addrs[DNS_MAX_ADDRS];
    char name[NS_MAXDNAME + 1];
    size_t qlen, n;
    int type, rc;

    if (!question(m, len, name, &type, &qlen))
        return empty(m, len, 0, out, cap);
    if (type != ns_t_a && type != ns_t_aaaa)
        return empty(m, len, ns_r_noerror, out, cap);
    rc = netdb_lookup("supervised DNS", name, type == ns_t_a ? AF_INET : AF_INET6, addrs, &n);
    if (rc == EAI_NODATA || (rc == EAI_ADDRFAMILY))
        return empty(m, len, ns_r_noerror, out, cap);
    if (rc)
        return empty(m, len, rc == EAI_NONAME ? ns_r_nxdomain : ns_r_servfail, out, cap);
    return resq_answer((uint16_t)((m[0] << 8) | m[1]), m[2] & 1, m + NS_HFIXEDSZ, qlen, addrs, n,
                       out, cap);
}

static int respond(const uint8_t *m, size_t len, uint8_t *out, size_t cap)
{
    int herr = 0, rc = resq_send("supervised DNS", m, (int)len, out, (int)cap, &herr);

    if (rc >= 0)
        return rc;
    if (rc == RESQ_PASS)
        return real(m, len, out, cap);
    switch (herr) {
    case NO_DATA:
        return empty(m, len, ns_r_noerror, out, cap);
    case HOST_NOT_FOUND:
        return empty(m, len, ns_r_nxdomain, out, cap);
    case NO_RECOVERY:
        return empty(m, len, ns_r_refused, out, cap);
    default:
        return empty(m, len, ns_r_servfail, out, cap);
    }
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
