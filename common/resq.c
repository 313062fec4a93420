#include "common/resq.h"

#include "common/dns.h"
#include "common/log.h"
#include "common/lookup.h"
#include "common/netdb.h"
#include "common/numeric.h"
#include "common/state.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUESTION_MAX (NS_MAXCDNAME + 4) /* a name on the wire, type and class */

/* ------------------------------------------------------------------ messages */

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

int resq_answer(uint16_t id, bool rd, const uint8_t *q, size_t qlen, const struct dns_addr *addrs,
                size_t n, uint8_t *out, size_t cap)
{
    size_t off = NS_HFIXEDSZ + qlen, an = 0;
    bool tc = false;

    if (cap < off)
        return -1;
    memcpy(out + NS_HFIXEDSZ, q, qlen);
    for (size_t i = 0; i < n; i++) {
        size_t alen = addrs[i].family == AF_INET ? 4 : 16;
        if (off + 12 + alen > cap) {
            tc = true;
            break;
        }
        put16(out + off, 0xc000 | NS_HFIXEDSZ); /* the question's name */
        put16(out + off + 2, alen == 4 ? ns_t_a : ns_t_aaaa);
        put16(out + off + 4, ns_c_in);
        put16(out + off + 6, 0);
        put16(out + off + 8, RESQ_TTL);
        put16(out + off + 10, (unsigned)alen);
        memcpy(out + off + 12, addrs[i].addr, alen);
        off += 12 + alen;
        an++;
    }
    put16(out, id);
    /* QR, opcode QUERY, RD echoed, RA; TC when answers were left out; NOERROR */
    out[2] = (uint8_t)(0x80 | (tc ? 0x02 : 0) | (rd ? 0x01 : 0));
    out[3] = 0x80;
    put16(out + 4, 1);
    put16(out + 6, (unsigned)an);
    put16(out + 8, 0);
    put16(out + 10, 0);
    return (int)off;
}

/* NAME as a question on the wire (no escapes: res_mkquery's own rules are not
 * needed for the names a program asks about). Returns its length or -1. */
static int encode_question(const char *name, int class, int type, uint8_t *q)
{
    size_t len = strlen(name), off = 0;

    if (len > 0 && name[len - 1] == '.')
        len--;
    for (size_t i = 0; i < len;) {
        size_t l = strcspn(name + i, ".");
        if (l > len - i)
            l = len - i;
        if (l == 0 || l > NS_MAXLABEL || off + 1 + l + 1 > NS_MAXCDNAME)
            return -1;
        q[off++] = (uint8_t)l;
        memcpy(q + off, name + i, l);
        off += l;
        i += l + 1;
    }
    q[off++] = 0;
    put16(q + off, (unsigned)type);
    put16(q + off + 2, (unsigned)class);
    return (int)off + 4;
}

/* The question of a query message: its bytes (*Q, *QLEN) and the name as text.
 * False for anything but one plain question. */
static bool parse_query(const uint8_t *m, size_t len, const uint8_t **q, size_t *qlen, char *name,
                        int *class, int *type)
{
    size_t off = NS_HFIXEDSZ, n = 0;

    if (len < NS_HFIXEDSZ || (m[2] & 0x80) || get16(m + 4) != 1)
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
    if (off + 5 > len || n == 0)
        return false;
    name[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f)
            return false;
    *type = (int)get16(m + off + 1);
    *class = (int)get16(m + off + 3);
    *q = m + NS_HFIXEDSZ;
    *qlen = off + 5 - NS_HFIXEDSZ;
    return true;
}

/* ------------------------------------------------------------------ res_* */

static int fail(int h, int *herr, int err)
{
    h_errno = h;
    if (herr)
        *herr = h;
    if (err)
        errno = err;
    return -1;
}

static int herr_of(int rc)
{
    switch (rc) {
    case EAI_NONAME:
        return HOST_NOT_FOUND;
    case EAI_AGAIN:
        return TRY_AGAIN;
    case EAI_MEMORY:
    case EAI_SYSTEM:
        return NETDB_INTERNAL;
    default:
        return NO_RECOVERY;
    }
}

static const char *type_name(int type)
{
    return type == ns_t_a ? "A" : type == ns_t_aaaa ? "AAAA" : "other";
}

/* Q (QLEN bytes) asks NAME: the answer, the refusal, or RESQ_PASS. */
static int decide(const char *call, const char *name, int class, int type, uint16_t id, bool rd,
                  const uint8_t *q, size_t qlen, unsigned char *answer, int anslen, int *herr)
{
    struct dns_addr addrs[DNS_MAX_ADDRS];
    bool remote;
    size_t n;
    int rc;

    switch (netdb_name_way(name, 0, false, &remote)) {
    case NETDB_OFF:
    case NETDB_REAL:
        return RESQ_PASS;
    case NETDB_DENY:
        log_info("%s[%d] %s %s: refused (configuration unusable, fail_closed)", state.prog,
                 (int)getpid(), call, name);
        return fail(NO_RECOVERY, herr, EACCES);
    case NETDB_BLOCK:
        log_info("%s[%d] %s %s: blocked by the route: h_errno NO_RECOVERY", state.prog,
                 (int)getpid(), call, name);
        return fail(NO_RECOVERY, herr, 0);
    default:
        break;
    }
    if (class != ns_c_in || (type != ns_t_a && type != ns_t_aaaa)) {
        if (!remote)
            return RESQ_PASS;
        log_info("%s[%d] %s %s type %d: NODATA, the proxy resolves names (remote_dns)", state.prog,
                 (int)getpid(), call, name, type);
        return fail(NO_DATA, herr, 0);
    }
    rc = netdb_lookup(call, name, type == ns_t_a ? AF_INET : AF_INET6, addrs, &n);
    if (rc)
        return fail(herr_of(rc), herr, rc == EAI_MEMORY ? ENOMEM : 0);
    rc = resq_answer(id, rd, q, qlen, addrs, n, answer, anslen > 0 ? (size_t)anslen : 0);
    if (rc < 0)
        return fail(NETDB_INTERNAL, herr, EMSGSIZE);
    log_info("%s[%d] %s %s %s: answered here, %zu address(es), no query", state.prog, (int)getpid(),
             call, name, type_name(type), n);
    if (herr)
        *herr = NETDB_SUCCESS;
    return rc;
}

/* A query ID, as res_mkquery would pick one (the caller never sees the query). */
static uint16_t new_id(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint16_t)((uint64_t)ts.tv_nsec * 2654435761u >> 16);
}

int resq_query(const char *call, const char *name, int class, int type, unsigned char *answer,
               int anslen, int *herr)
{
    uint8_t q[QUESTION_MAX];
    bool remote;

    if (!name)
        return RESQ_PASS;
    int qlen = encode_question(name, class, type, q);
    if (qlen < 0) {
        /* not a name any query could carry: the real call reports it, unless
         * it would have to send it somewhere */
        if (netdb_name_way(name, 0, false, &remote) != NETDB_FAKE)
            return RESQ_PASS;
        log_info("%s[%d] %s: not a DNS name: h_errno NO_RECOVERY", state.prog, (int)getpid(), call);
        return fail(NO_RECOVERY, herr, EMSGSIZE);
    }
    return decide(call, name, class, type, new_id(), true, q, (size_t)qlen, answer, anslen, herr);
}

int resq_querydomain(const char *call, const char *name, const char *domain, int class, int type,
                     unsigned char *answer, int anslen, int *herr)
{
    char full[NS_MAXDNAME + 1];

    if (!name || !domain)
        return resq_query(call, name, class, type, answer, anslen, herr);
    /* as glibc: a joined name too long for DNS fails before any query */
    if ((size_t)snprintf(full, sizeof(full), "%s.%s", name, domain) >= sizeof(full))
        return RESQ_PASS;
    return resq_query(call, full, class, type, answer, anslen, herr);
}

int resq_send(const char *call, const unsigned char *msg, int msglen, unsigned char *answer,
              int anslen, int *herr)
{
    char name[NS_MAXDNAME + 1];
    const uint8_t *q;
    size_t qlen;
    int class, type;
    bool remote;

    if (msg && msglen > 0 && parse_query(msg, (size_t)msglen, &q, &qlen, name, &class, &type))
        return decide(call, name, class, type, (uint16_t)get16(msg), (msg[2] & 1) != 0, q, qlen,
                      answer, anslen, herr);
    /* No question to route by: the app's own route decides. */
    enum netdb_way w = netdb_name_way("", 0, false, &remote);
    if (w == NETDB_OFF || w == NETDB_REAL)
        return RESQ_PASS;
    log_info("%s[%d] %s: a message with no plain question, refused (route by name)", state.prog,
             (int)getpid(), call);
    return fail(NO_RECOVERY, herr, w == NETDB_DENY ? EACCES : EINVAL);
}

/* ------------------------------------------------------------------ getaddrinfo_a */

/* The port a service names for the route (0 when it names none here). */
static uint16_t service_port(const char *service, bool udp)
{
    struct servent se, *r = NULL;
    char buf[1024], *end;

    if (!service || !*service)
        return 0;
    unsigned long v = strtoul(service, &end, 10);
    if (!*end)
        return (uint16_t)v;
    if (getservbyname_r(service, udp ? "udp" : "tcp", &se, buf, sizeof(buf), &r) != 0 || !r)
        return 0;
    return ntohs((uint16_t)r->s_port);
}

bool resq_gai_take(struct gaicb *req)
{
    const struct addrinfo *h = req->ar_request;
    bool udp = h && h->ai_socktype == SOCK_DGRAM, remote;

    if (numeric_node(req->ar_name, h ? h->ai_flags : 0))
        return false; /* no network: the real one answers it */
    switch (netdb_name_way(req->ar_name, service_port(req->ar_service, udp), udp, &remote)) {
    case NETDB_OFF:
    case NETDB_REAL:
        return false;
    default:
        break;
    }
    req->ar_result = NULL;
    req->__return = netdb_getaddrinfo(req->ar_name, req->ar_service, h, &req->ar_result);
    return true;
}

/* ------------------------------------------------------------------ explain */

const char *resq_explain(const struct conf *c, int dialer, bool address)
{
    bool remote;
    enum netdb_way w = netdb_dialer_way(c, dialer, &remote);

    if (address)
        return remote ? "reverse lookups (getnameinfo, gethostbyaddr): no PTR query, the proxy "
                        "resolves names: the address in digits, EAI_NONAME with NI_NAMEREQD, "
                        "HOST_NOT_FOUND"
                      : "reverse lookups (getnameinfo, gethostbyaddr): the system resolver, "
                        "as without the shim";
    if (w == NETDB_BLOCK)
        return "res_query/res_search/res_send, getaddrinfo_a: refused (h_errno NO_RECOVERY, "
               "EAI_FAIL), no query";
    if (w == NETDB_REAL)
        return "res_query/res_search/res_send, getaddrinfo_a: the system resolver, as without "
               "the shim";
    return remote ? "res_query/res_search/res_send: A and AAAA answered here with the fake "
                    "addresses (TTL 1 s), other types NODATA; getaddrinfo_a: fake addresses; "
                    "no query leaves"
                  : "res_query/res_search/res_send: A and AAAA answered here with the fake "
                    "addresses (TTL 1 s), other types the system resolver; getaddrinfo_a: "
                    "fake addresses";
}
