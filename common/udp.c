/* udp: SOCKS5 UDP ASSOCIATE for the program's UDP sockets. See udp.h.
 *
 * A datagram to a destination behind a chain of SOCKS5 proxies p0 > p1 > ... > pN
 * leaves the program's socket for p0's relay as
 *     H(relay of p1) H(relay of p2) ... H(destination) payload
 * each proxy strips its header and forwards the rest; replies come back wrapped the
 * same way. The control connection of p_i reaches it through p0..p_{i-1} (CONNECT),
 * like any detour; the relays' headers never change, so they are encoded once. */
#include "common/udp.h"

#include "common/addr.h"
#include "common/escape.h"
#include "common/fakeip.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/ownfd.h"
#include "common/proto/socks5.h"
#include "common/reentry.h"
#include "common/route.h"
#include "common/sockopt.h"
#include "common/state.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define HDR_CAP     (UDP_MAX_HOPS * SOCKS5_UDP_HEADER_MAX)
#define RECENT      8 /* destinations remembered to name the source of replies */
#define STACK_IOV   8 /* iovecs a call may carry on the stack; more go flat (small stacks) */
#define STACK_BYTES 512

/* One destination the program sent to, as it named it. */
struct peer {
    char host[256];             /* a name the proxy resolves, or "" */
    struct sockaddr_storage ip; /* the address when host is "" */
    uint16_t port;
    struct sockaddr_storage view; /* what the program called it */
    socklen_t view_len;
};

struct assoc {
    int fd, family; /* the program's socket (as first numbered, for logs) and its family */
    int dialer;     /* the route's dialer: the last proxy */
    int n;          /* proxies crossed */
    int ctl[UDP_MAX_HOPS];
    int hop_dialer[UDP_MAX_HOPS];
    struct sockaddr_storage relay; /* p0's relay, in the socket's family */
    socklen_t relay_len;
    uint8_t prefix[HDR_CAP]; /* the headers addressing the relays of p1..pN */
    size_t prefix_len;
    int refs;             /* under table_lock: one per slot holding it and one per call inside */
    int fds;              /* under table_lock: the slots holding it (dup shares the socket) */
    int dead;             /* atomic: 0, or the errno that ended a control connection */
    pthread_mutex_t lock; /* peer, connected, recent */
    bool connected;
    struct peer peer;
    struct peer recent[RECENT];
    int next_recent;
    unsigned long long out, in, dropped; /* atomic counters, for the closing log line */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct assoc **slots;
static size_t n_slots;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* ---------------------------------------------------------------- the table */

static void atfork_prepare(void)
{
    pthread_mutex_lock(&table_lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&table_lock);
}

/* The child has one thread: the locks some other thread held are reborn free. */
static void atfork_child(void)
{
    pthread_mutex_init(&table_lock, NULL);
    for (size_t i = 0; i < n_slots; i++)
        if (slots[i])
            pthread_mutex_init(&slots[i]->lock, NULL);
}

static void register_fork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void adopt_orphans(void);

static struct assoc *get(int fd)
{
    struct assoc *a = NULL;

    adopt_orphans();
    pthread_mutex_lock(&table_lock);
    if (fd >= 0 && (size_t)fd < n_slots && (a = slots[fd]))
        a->refs++;
    pthread_mutex_unlock(&table_lock);
    return a;
}

static void close_ctls(struct assoc *a);

static void destroy(struct assoc *a)
{
    close_ctls(a);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static void put(struct assoc *a)
{
    bool last;

    pthread_mutex_lock(&table_lock);
    last = --a->refs == 0;
    pthread_mutex_unlock(&table_lock);
    if (last)
        destroy(a);
}

/* Room in the table for FD; under table_lock. Returns 0 or ENOMEM. */
static int grow(int fd)
{
    size_t n = n_slots ? n_slots : 64;
    struct assoc **p;

    if ((size_t)fd < n_slots)
        return 0;
    while (n <= (size_t)fd)
        n *= 2;
    p = realloc(slots, n * sizeof(*p));
    if (!p)
        return ENOMEM;
    memset(p + n_slots, 0, (n - n_slots) * sizeof(*p));
    slots = p;
    n_slots = n;
    return 0;
}

/* Returns 0 with two references taken (the table's and the caller's), EEXIST when
 * FD got one meanwhile (another thread), or ENOMEM. */
static int insert(int fd, struct assoc *a)
{
    int err;

    adopt_orphans();
    pthread_mutex_lock(&table_lock);
    err = grow(fd);
    if (!err && slots[fd])
        err = EEXIST;
    if (!err) {
        a->refs = 2;
        a->fds = 1;
        slots[fd] = a;
    }
    pthread_mutex_unlock(&table_lock);
    return err;
}

/* FD's slot, emptied; *LAST tells whether no other descriptor holds the association
 * (the caller puts the slot's reference). */
static struct assoc *take(int fd, bool *last)
{
    struct assoc *a = NULL;

    adopt_orphans();
    pthread_mutex_lock(&table_lock);
    if (fd >= 0 && (size_t)fd < n_slots) {
        a = slots[fd];
        slots[fd] = NULL;
    }
    *last = a && --a->fds == 0;
    pthread_mutex_unlock(&table_lock);
    return a;
}

/* ---------------------------------------------------------------- nested calls
 *
 * A call from inside another call of the same thread (a signal handler, see
 * common/reentry.h) may not take table_lock or an association's lock, nor free:
 * the call it interrupted may hold them. A descriptor whose association must go
 * (closed, reconnected) is queued here, lock-free, and its slot emptied by the
 * next call that is not nested, before any slot can be filled again. */
#define ORPHANS 16
static int orphans[ORPHANS]; /* fd + 1 of a slot to empty; 0: free */
static int n_orphans;

static bool orphan(int fd)
{
    for (int i = 0; i < ORPHANS; i++) {
        int expected = 0;
        if (__atomic_compare_exchange_n(&orphans[i], &expected, fd + 1, false, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED)) {
            __atomic_add_fetch(&n_orphans, 1, __ATOMIC_RELEASE);
            return true;
        }
    }
    return false;
}

static void forget(int fd);

/* Not nested: empty the queued slots. One load when there are none. */
static void adopt_orphans(void)
{
    if (!__atomic_load_n(&n_orphans, __ATOMIC_ACQUIRE) || reentry_nested())
        return;
    for (int i = 0; i < ORPHANS; i++) {
        int v = __atomic_exchange_n(&orphans[i], 0, __ATOMIC_ACQUIRE);
        if (v) {
            __atomic_sub_fetch(&n_orphans, 1, __ATOMIC_RELEASE);
            forget(v - 1);
        }
    }
}

/* Nested: FD's association is let go of without a lock; the descriptor is a plain
 * UDP socket from now on (a later datagram is routed afresh). */
static void let_go(int fd)
{
    fdtab_and(fd, ~(FD_ASSOC | FD_APPLIED));
    if (!orphan(fd))
        log_warn("%s[%d] udp fd %d: its association ended inside a signal handler with %d "
                 "others pending; its control connection stays open until the process ends",
                 state.prog, (int)getpid(), fd, ORPHANS);
}

static int nested_refusal(int fd, const char *what, int err)
{
    log_warn("%s[%d] udp fd %d: %s inside another call of the thread (a signal handler) is "
             "refused: the association's locks may be held by the call it interrupted",
             state.prog, (int)getpid(), fd, what);
    errno = err;
    return -1;
}

static void count(unsigned long long *c)
{
    __atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static const char *dialer_name(const struct assoc *a)
{
    return state.conf && a->dialer < state.conf->n_dialers ? state.conf->dialers[a->dialer].name
                                                           : "?";
}

/* ---------------------------------------------------------------- addresses */

static socklen_t sa_len(int family)
{
    return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* Any inet address as IPv6 (IPv4 mapped) and its port, for comparing. */
static bool norm6(const struct sockaddr *sa, struct in6_addr *a, uint16_t *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memset(a, 0, sizeof(*a));
        a->s6_addr[10] = a->s6_addr[11] = 0xff;
        memcpy(&a->s6_addr[12], &in->sin_addr, 4);
        *port = in->sin_port;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        *a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
        *port = ((const struct sockaddr_in6 *)sa)->sin6_port;
        return true;
    }
    return false;
}

static bool same_addr(const struct sockaddr *x, const struct sockaddr *y, bool with_port)
{
    struct in6_addr a, b;
    uint16_t pa, pb;

    return norm6(x, &a, &pa) && norm6(y, &b, &pb) && !memcmp(&a, &b, sizeof(a)) &&
           (!with_port || pa == pb);
}

/* SA as FAMILY can carry it: IPv4 in an IPv6 socket goes mapped, a mapped address
 * in an IPv4 socket goes plain. False when it cannot. */
static bool in_family(const struct sockaddr *sa, int family, struct sockaddr_storage *out,
                      socklen_t *len)
{
    struct in6_addr a;
    uint16_t port;

    if (!norm6(sa, &a, &port))
        return false;
    memset(out, 0, sizeof(*out));
    *len = sa_len(family);
    if (family == AF_INET6) {
        struct sockaddr_in6 *o = (struct sockaddr_in6 *)out;
        o->sin6_family = AF_INET6;
        o->sin6_addr = a;
        o->sin6_port = port;
        if (sa->sa_family == AF_INET6)
            o->sin6_scope_id = ((const struct sockaddr_in6 *)sa)->sin6_scope_id;
        return true;
    }
    if (!IN6_IS_ADDR_V4MAPPED(&a))
        return false;
    ((struct sockaddr_in *)out)->sin_family = AF_INET;
    ((struct sockaddr_in *)out)->sin_port = port;
    memcpy(&((struct sockaddr_in *)out)->sin_addr, &a.s6_addr[12], 4);
    return true;
}

static bool unspecified(const struct proto_addr *p)
{
    static const uint8_t zero[16];

    if (p->kind == PROTO_ADDR_IPV4)
        return ((const struct sockaddr_in *)&p->sa)->sin_addr.s_addr == 0;
    if (p->kind == PROTO_ADDR_IPV6)
        return !memcmp(&((const struct sockaddr_in6 *)&p->sa)->sin6_addr, zero, 16);
    return false;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* ---------------------------------------------------------------- the chain */

int udp_chain_check(const struct conf *c, int dialer, char *why, size_t whycap)
{
    const struct conf_dialer *cd = &c->dialers[dialer];
    int hops[16], maker = -1, n;

    if (cd->type == DIALER_BLOCK) {
        snprintf(why, whycap, "blocked");
        return EPERM;
    }
    if (cd->type == DIALER_DIRECT) {
        if (conf_udp_mode(cd) != UDP_BLOCK)
            return 0;
        snprintf(why, whycap, "UDP blocked by the direct dialer %s (udp = block)", cd->name);
        return EPERM;
    }
    n = detour_chain(c, dialer, hops, &maker);
    if (n <= 0 || n > UDP_MAX_HOPS) {
        snprintf(why, whycap, "UDP crosses at most %d SOCKS5 proxies", UDP_MAX_HOPS);
        return EPERM;
    }
    for (int i = 0; i < n; i++) {
        const struct conf_dialer *h = &c->dialers[hops[i]];
        if (h->type != DIALER_SOCKS5) {
            snprintf(why, whycap, "UDP cannot cross %s (%s carries TCP only)", h->name,
                     conf_dialer_type_name(h->type));
            return EPERM;
        }
        if (conf_udp_mode(h) != UDP_ASSOCIATE) {
            snprintf(why, whycap, "UDP blocked by the proxy dialer %s (udp = block)", h->name);
            return EPERM;
        }
    }
    if (c->dialers[maker].type == DIALER_BLOCK) {
        snprintf(why, whycap, "the chain's first hop is a block dialer");
        return EPERM;
    }
    if (c->dialers[maker].type == DIALER_DIRECT && conf_udp_mode(&c->dialers[maker]) == UDP_BLOCK) {
        snprintf(why, whycap, "UDP blocked by the direct dialer %s (udp = block)",
                 c->dialers[maker].name);
        return EPERM;
    }
    return 0;
}

/* The program's socket is bound (as a sendto would bind it), so the proxy can be
 * told the port the datagrams come from. Returns the local address in *LOCAL. */
static void bind_local(int fd, int family, struct sockaddr_storage *local)
{
    socklen_t len = sizeof(*local);

    if (sys.getsockname(fd, (struct sockaddr *)local, &len) < 0)
        memset(local, 0, sizeof(*local));
    if (addr_port((struct sockaddr *)local) == 0) {
        struct sockaddr_storage any;
        memset(&any, 0, sizeof(any));
        any.ss_family = (sa_family_t)family;
        /* Fails harmlessly on a socket bound with IP_BIND_ADDRESS_NO_PORT. */
        if (bind(fd, (struct sockaddr *)&any, sa_len(family)) == 0) {
            len = sizeof(*local);
            sys.getsockname(fd, (struct sockaddr *)local, &len);
        }
    }
}

/* RFC 1928: the address and port the datagrams will come from, zeros when unknown.
 * The proxy sees the control connection's family; a wildcard local address says
 * only the port. */
static void client_addr(const struct sockaddr_storage *local, int ctl_family,
                        struct sockaddr_storage *out)
{
    struct sockaddr_storage conv;
    socklen_t len;
    uint16_t port = addr_port((const struct sockaddr *)local);

    memset(out, 0, sizeof(*out));
    out->ss_family = (sa_family_t)ctl_family;
    if (local->ss_family && in_family((const struct sockaddr *)local, ctl_family, &conv, &len)) {
        struct in6_addr a;
        uint16_t p;
        norm6((struct sockaddr *)&conv, &a, &p);
        if (!IN6_IS_ADDR_UNSPECIFIED(&a) &&
            !(IN6_IS_ADDR_V4MAPPED(&a) && !memcmp(&a.s6_addr[12], "\0\0\0\0", 4)))
            *out = conv;
    }
    set_port(out, port);
}

/* Where the datagrams for proxy I of the chain go: its BND.ADDR, or when that is
 * 0.0.0.0 / :: the proxy's own address (for p0: the peer of its control connection;
 * further ones are named by their server address). */
static int relay_of(const struct conf *c, int dialer, int ctl, int i, struct proto_addr *b,
                    char *why, size_t whycap)
{
    if (b->kind == PROTO_ADDR_DOMAIN && i == 0) {
        char name[ESCAPE_SIZE(50)]; /* the proxy's bytes: escaped for the log */
        snprintf(why, whycap, "%s gave its relay as a name (%s)", c->dialers[dialer].name,
                 escape_str(name, sizeof(name), b->host));
        return EPROTO;
    }
    if (b->kind == PROTO_ADDR_NONE || (b->kind != PROTO_ADDR_DOMAIN && b->port == 0)) {
        snprintf(why, whycap, "%s gave no relay port", c->dialers[dialer].name);
        return EPROTO;
    }
    if (!unspecified(b))
        return 0;
    if (i == 0) {
        socklen_t len = sizeof(b->sa);
        if (sys.getpeername(ctl, (struct sockaddr *)&b->sa, &len) < 0)
            return errno;
    } else {
        const struct conf_server *s = &c->dialers[dialer].server;
        memcpy(&b->sa, &s->addr.u.ss, s->addr.len);
    }
    b->kind = b->sa.ss_family == AF_INET ? PROTO_ADDR_IPV4 : PROTO_ADDR_IPV6;
    set_port(&b->sa, b->port);
    return 0;
}

/* A control connection is closed only while its number still names it: the
 * program may have closed it behind our back and given the number to a file. */
static void close_ctls(struct assoc *a)
{
    for (int i = 0; i < a->n; i++)
        ownfd_close(&a->ctl[i]);
}

/* Open every control connection of the chain, outermost first. */
static int open_chain(struct dial *d, struct assoc *a, const int *hops, int n,
                      const struct sockaddr_storage *local)
{
    const struct conf *c = d->conf;
    long long deadline = dial_now_ms() + conf_connect_timeout(c, d->dialer);
    /* 2 KiB of answers: on the heap, the program's thread may have a small stack */
    struct chain_mem {
        struct proto_addr bound[UDP_MAX_HOPS];
        char why[400];
    } *m = malloc(sizeof(*m));
    struct proto_addr *bound;
    char *why;
    int err = 0;

    if (!m) {
        snprintf(d->why, sizeof(d->why), "no memory for the UDP ASSOCIATE handshakes");
        return ENOMEM;
    }
    bound = m->bound;
    why = m->why;

    for (int i = 0; i < n; i++)
        a->ctl[i] = -1;
    a->n = n;
    for (int i = 0; i < n; i++) {
        const struct conf_dialer *p = &c->dialers[hops[i]];
        struct sockaddr_storage cl;
        ssize_t h;

        if (i == 0) {
            client_addr(local, p->server.addr.u.sa.sa_family, &cl);
        } else {
            memset(&cl, 0, sizeof(cl));
            cl.ss_family = AF_INET; /* comes from the previous proxy: unknown */
        }
        a->hop_dialer[i] = hops[i];
        why[0] = '\0';
        err = detour_associate(c, hops[i], (struct sockaddr *)&cl, deadline, &a->ctl[i], &bound[i],
                               why, sizeof(m->why));
        if (!err)
            ownfd_adopt(&a->ctl[i]); /* out of the program's way (common/ownfd.h) */
        if (!err)
            err = relay_of(c, hops[i], a->ctl[i], i, &bound[i], why, sizeof(m->why));
        if (err) {
            snprintf(d->why, sizeof(d->why), "UDP ASSOCIATE at %s (socks5 %.64s:%u): %.400s",
                     p->name, p->server.host, p->server.port, why[0] ? why : strerror(err));
            goto out;
        }
        if (i == 0)
            continue;
        h = socks5_encode_udp_header(a->prefix + a->prefix_len, sizeof(a->prefix) - a->prefix_len,
                                     bound[i].kind == PROTO_ADDR_DOMAIN ? bound[i].host : NULL,
                                     (struct sockaddr *)&bound[i].sa, bound[i].port);
        if (h < 0) {
            snprintf(d->why, sizeof(d->why), "%s: its relay cannot be addressed", p->name);
            err = EPROTO;
            goto out;
        }
        a->prefix_len += (size_t)h;
    }
    if (!in_family((struct sockaddr *)&bound[0].sa, a->family, &a->relay, &a->relay_len)) {
        snprintf(d->why, sizeof(d->why), "the relay of %s is IPv6 and the socket IPv4",
                 c->dialers[hops[0]].name);
        err = EAFNOSUPPORT;
    }
out:
    free(m);
    return err;
}

static void log_created(const struct assoc *a, const struct sockaddr_storage *local)
{
    char relay[ADDR_STRLEN], lo[ADDR_STRLEN], cl[ADDR_STRLEN], cp[ADDR_STRLEN];
    struct sockaddr_storage cs, ps;
    socklen_t len = sizeof(cs);

    if (!log_enabled(LOG_LVL_INFO))
        return;
    if (sys.getsockname(a->ctl[0], (struct sockaddr *)&cs, &len) < 0)
        cs.ss_family = AF_UNSPEC;
    len = sizeof(ps);
    if (sys.getpeername(a->ctl[0], (struct sockaddr *)&ps, &len) < 0)
        ps.ss_family = AF_UNSPEC;
    log_info("%s[%d] udp association via %s created (fd %d, %d proxies): relay %s, from %s, "
             "control %s -> %s",
             state.prog, (int)getpid(), dialer_name(a), a->fd, a->n,
             addr_format((struct sockaddr *)&a->relay, relay, sizeof(relay)),
             addr_format((const struct sockaddr *)local, lo, sizeof(lo)),
             addr_format((struct sockaddr *)&cs, cl, sizeof(cl)),
             addr_format((struct sockaddr *)&ps, cp, sizeof(cp)));
}

int udp_assoc_dialer(int fd)
{
    struct assoc *a = reentry_nested() ? NULL : get(fd);
    int d = a ? a->dialer : -1;

    if (a)
        put(a);
    return d;
}

/* The association of D->fd, new or reused, with a reference the caller puts. */
static int associate(struct dial *d, bool *created, struct assoc **out)
{
    const struct conf *c = d->conf;
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    int hops[16], maker = -1, n, err;
    struct assoc *a;
    char why[300];

    *created = false;
    if (reentry_nested()) {
        snprintf(d->why, sizeof(d->why),
                 "a UDP association cannot be used inside another call of the thread (a signal "
                 "handler): its locks may be held by the call it interrupted");
        return EACCES;
    }
    a = get(d->fd);
    if (a) {
        if (a->dialer == d->dialer) {
            *out = a;
            return 0;
        }
        snprintf(d->why, sizeof(d->why), "the socket already relays through %s", dialer_name(a));
        put(a);
        return EPERM;
    }
    if ((err = udp_chain_check(c, d->dialer, why, sizeof(why)))) {
        snprintf(d->why, sizeof(d->why), "%s", why);
        return err;
    }
    n = detour_chain(c, d->dialer, hops, &maker);
    a = calloc(1, sizeof(*a));
    if (!a)
        return ENOMEM;
    a->fd = d->fd;
    a->dialer = d->dialer;
    pthread_mutex_init(&a->lock, NULL);
    if (sys.getsockname(d->fd, (struct sockaddr *)&local, &len) < 0) {
        err = errno;
        goto fail;
    }
    a->family = local.ss_family;
    /* The datagrams leave the program's socket for the first relay: it gets the
     * options of the dialer that makes the first hop. */
    if (!d->applied) {
        err = sockopt_apply(&c->dialers[maker], d->fd, a->family, SOCK_DGRAM, &d->failed);
        if (err)
            goto fail;
        d->applied = true;
    }
    bind_local(d->fd, a->family, &local);
    if ((err = open_chain(d, a, hops, n, &local)))
        goto fail;
    pthread_once(&fork_once, register_fork);
    err = insert(d->fd, a);
    if (err == EEXIST) { /* another thread's first datagram won: use its association */
        destroy(a);
        return associate(d, created, out);
    }
    if (err)
        goto fail;
    fdtab_or(d->fd, FD_ASSOC);
    log_created(a, &local);
    *created = true;
    *out = a;
    return 0;
fail:
    close_ctls(a);
    pthread_mutex_destroy(&a->lock);
    free(a);
    return err;
}

int udp_associate(struct dial *d, bool *created)
{
    struct assoc *a;
    int err = associate(d, created, &a);

    if (!err)
        put(a);
    return err;
}

static void set_peer(struct peer *p, const struct udp_target *t)
{
    memset(p, 0, sizeof(*p));
    if (t->host)
        snprintf(p->host, sizeof(p->host), "%s", t->host);
    else
        memcpy(&p->ip, t->sa,
               t->sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                           : sizeof(struct sockaddr_in6));
    p->port = t->port;
    if (t->view) {
        memcpy(&p->view, t->view, t->view_len < sizeof(p->view) ? t->view_len : sizeof(p->view));
        p->view_len = t->view_len;
    } else if (t->sa) {
        p->view_len = sa_len(t->sa->sa_family);
        memcpy(&p->view, t->sa, p->view_len);
    }
}

int udp_dial(struct dial *d)
{
    struct udp_target t = {
        .host = d->host, .sa = d->sa, .port = addr_port(d->sa), .view = d->sa, .view_len = d->len};
    struct assoc *a;
    bool created;
    int err = associate(d, &created, &a);

    if (err)
        return err;
    /* Connected to the relay, the socket hears the relay alone, as a connected
     * socket hears its peer alone; the peer is checked on each datagram. */
    if (sys.connect(d->fd, (struct sockaddr *)&a->relay, a->relay_len) < 0) {
        err = errno;
        snprintf(d->why, sizeof(d->why), "connecting the socket to the relay: %s", strerror(err));
    } else {
        pthread_mutex_lock(&a->lock);
        set_peer(&a->peer, &t);
        a->connected = true;
        pthread_mutex_unlock(&a->lock);
        snprintf(d->why, sizeof(d->why), "via UDP ASSOCIATE");
    }
    put(a);
    return err;
}

void udp_set_view(int fd, const struct sockaddr *sa, socklen_t len)
{
    struct assoc *a = reentry_nested() ? NULL : get(fd);

    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    if (a->connected && len <= sizeof(a->peer.view)) {
        memcpy(&a->peer.view, sa, len);
        a->peer.view_len = len;
    }
    pthread_mutex_unlock(&a->lock);
    put(a);
}

bool udp_peer(int fd, struct sockaddr *sa, socklen_t *len)
{
    struct assoc *a = reentry_nested() ? NULL : get(fd);
    bool connected = false;

    if (!a)
        return false;
    pthread_mutex_lock(&a->lock);
    if ((connected = a->connected)) {
        memcpy(sa, &a->peer.view, a->peer.view_len < *len ? a->peer.view_len : *len);
        *len = a->peer.view_len;
    }
    pthread_mutex_unlock(&a->lock);
    put(a);
    return connected;
}

void udp_forget_peer(int fd)
{
    struct assoc *a;

    if (reentry_nested()) {
        let_go(fd);
        return;
    }
    a = get(fd);

    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->connected = false;
    pthread_mutex_unlock(&a->lock);
    put(a);
}

/* ---------------------------------------------------------------- liveness */

/* One control connection: 0 while it is open, else the errno that ended it. A
 * proxy has nothing to say on it after the reply; what it says anyway is read and
 * ignored, so an end behind it is still seen. */
static int ctl_state(int ctl)
{
    char b[64];

    for (int k = 0; k < 4; k++) {
        ssize_t r = sys.recv(ctl, b, sizeof(b), MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (r <= 0)
            return r == 0 ? ECONNRESET : errno;
    }
    return 0; /* a chatty proxy: alive */
}

/* A control connection that ended ends the association, for good. One
 * non-blocking read per proxy: EAGAIN means alive and quiet, as it should be. */
static int alive(struct assoc *a, int fd)
{
    int dead = __atomic_load_n(&a->dead, __ATOMIC_RELAXED);

    if (dead)
        return dead;
    for (int i = 0; i < a->n && !dead; i++) {
        /* a number the program closed behind our back ends the association */
        dead = ownfd_check(&a->ctl[i]) ? ctl_state(a->ctl[i]) : EBADF;
        if (!dead)
            continue;
        int expected = 0;
        if (__atomic_compare_exchange_n(&a->dead, &expected, dead, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            log_info("%s[%d] udp association via %s dropped (fd %d): the control connection to "
                     "%s ended (%s); sends fail with ECONNRESET",
                     state.prog, (int)getpid(), dialer_name(a), fd,
                     state.conf ? state.conf->dialers[a->hop_dialer[i]].name : "?", strerror(dead));
    }
    return dead;
}

/* ---------------------------------------------------------------- sending */

static bool peer_matches(const struct peer *p, const struct udp_target *t)
{
    if (p->port != t->port)
        return false;
    if (t->host)
        return p->host[0] && !strcmp(p->host, t->host);
    return !p->host[0] && p->ip.ss_family && same_addr((struct sockaddr *)&p->ip, t->sa, false);
}

/* Remember where the program sends, to name the source of the replies. */
static void remember(struct assoc *a, const struct udp_target *t)
{
    int last;

    pthread_mutex_lock(&a->lock);
    last = (a->next_recent + RECENT - 1) % RECENT;
    if (!peer_matches(&a->recent[last], t)) {
        set_peer(&a->recent[a->next_recent], t);
        a->next_recent = (a->next_recent + 1) % RECENT;
    }
    pthread_mutex_unlock(&a->lock);
}

/* The headers for T, after the relays' prefix; returns the length or -1. */
static ssize_t headers(const struct assoc *a, const struct udp_target *t, uint8_t *buf, size_t cap)
{
    ssize_t h;

    memcpy(buf, a->prefix, a->prefix_len);
    h = socks5_encode_udp_header(buf + a->prefix_len, cap - a->prefix_len, t->host,
                                 t->host ? NULL : t->sa, t->port);
    return h < 0 ? -1 : (ssize_t)a->prefix_len + h;
}

/* Payload iovecs after the header: on the stack, or flattened into one buffer when
 * the program passes more than STACK_IOV. */
static ssize_t send_wrapped(struct assoc *a, int fd, const struct msghdr *msg, int flags,
                            const uint8_t *hdr, size_t h)
{
    struct iovec iov[STACK_IOV + 1];
    struct msghdr m = {.msg_name = &a->relay,
                       .msg_namelen = a->relay_len,
                       .msg_iov = iov,
                       .msg_control = msg->msg_control,
                       .msg_controllen = msg->msg_controllen};
    uint8_t *flat = NULL;
    ssize_t r;

    iov[0].iov_base = (void *)hdr;
    iov[0].iov_len = h;
    if (msg->msg_iovlen <= STACK_IOV) {
        for (size_t i = 0; i < msg->msg_iovlen; i++)
            iov[i + 1] = msg->msg_iov[i];
        m.msg_iovlen = msg->msg_iovlen + 1;
    } else {
        size_t total = 0, off = 0;
        for (size_t i = 0; i < msg->msg_iovlen; i++)
            total += msg->msg_iov[i].iov_len;
        flat = malloc(total ? total : 1);
        if (!flat) {
            errno = ENOBUFS;
            return -1;
        }
        for (size_t i = 0; i < msg->msg_iovlen; i++) {
            memcpy(flat + off, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
            off += msg->msg_iov[i].iov_len;
        }
        iov[1].iov_base = flat;
        iov[1].iov_len = total;
        m.msg_iovlen = 2;
    }
    r = sys.sendmsg(fd, &m, flags);
    free(flat);
    return r < 0 ? -1 : r - (ssize_t)h;
}

ssize_t udp_send(int fd, const struct msghdr *msg, int flags, const struct udp_target *t)
{
    struct assoc *a;
    uint8_t hdr[HDR_CAP];
    struct udp_target pt;
    struct peer peer;
    int saved = errno, err;
    ssize_t h, r;

    if (reentry_nested())
        return nested_refusal(fd, "a datagram through the association", EPERM);
    if (!(a = get(fd)))
        return sys.sendmsg(fd, msg, flags);
    if ((err = alive(a, fd))) {
        put(a);
        errno = ECONNRESET;
        return -1;
    }
    if (!t) {
        pthread_mutex_lock(&a->lock);
        bool connected = a->connected;
        peer = a->peer;
        pthread_mutex_unlock(&a->lock);
        if (!connected) {
            /* Not connected through the relay: the kernel answers (EDESTADDRREQ,
             * or a peer the socket was connected to directly since). */
            put(a);
            errno = saved;
            return sys.sendmsg(fd, msg, flags);
        }
        pt = (struct udp_target){.host = peer.host[0] ? peer.host : NULL,
                                 .sa = (struct sockaddr *)&peer.ip,
                                 .port = peer.port};
        t = &pt;
    } else {
        remember(a, t);
    }
    h = headers(a, t, hdr, sizeof(hdr));
    if (h < 0) {
        put(a);
        errno = EINVAL;
        return -1;
    }
    r = send_wrapped(a, fd, msg, flags, hdr, (size_t)h);
    if (r >= 0) {
        count(&a->out);
        errno = saved;
    }
    put(a);
    return r;
}

/* ---------------------------------------------------------------- receiving */

int udp_unwrap(const uint8_t *buf, size_t len, int nhops, struct proto_addr *src)
{
    struct socks5_udp_header h;
    size_t off = 0;

    for (int i = 0; i < nhops; i++) {
        int r = socks5_parse_udp_header(buf + off, len - off, &h, NULL);
        if (r < 0)
            return -1;
        off += (size_t)r;
    }
    *src = h.src;
    return (int)off;
}

/* Copy LEN bytes between logical offset POS of the iovecs and FLAT. */
static void iov_io(const struct iovec *iov, size_t n, size_t pos, uint8_t *flat, size_t len,
                   bool into_iov)
{
    for (size_t i = 0; i < n && len; i++) {
        size_t l = iov[i].iov_len;
        if (pos >= l) {
            pos -= l;
            continue;
        }
        size_t k = l - pos < len ? l - pos : len;
        if (into_iov)
            memmove((uint8_t *)iov[i].iov_base + pos, flat, k);
        else
            memmove(flat, (uint8_t *)iov[i].iov_base + pos, k);
        flat += k;
        len -= k;
        pos = 0;
    }
}

int udp_place_payload(const uint8_t *hdr, size_t hdr_cap, size_t off, const struct iovec *iov,
                      size_t n, size_t copy)
{
    size_t k = hdr_cap - off; /* payload bytes that landed in HDR */
    size_t head = k < copy ? k : copy, rest = copy - head;
    uint8_t stack[STACK_BYTES], *tmp = stack;

    if (rest && n == 1) {
        memmove((uint8_t *)iov[0].iov_base + k, iov[0].iov_base, rest);
    } else if (rest) {
        if (rest > sizeof(stack) && !(tmp = malloc(rest)))
            return -1;
        iov_io(iov, n, 0, tmp, rest, false);
        iov_io(iov, n, k, tmp, rest, true);
        if (tmp != stack)
            free(tmp);
    }
    iov_io(iov, n, 0, (uint8_t *)hdr + off, head, true);
    return 0;
}

/* Where a relayed datagram from SRC came from, as the program knows it: its
 * connected peer, the fake address of a name it sent to, or the address itself. */
static bool source_view(struct assoc *a, const struct proto_addr *src, struct sockaddr_storage *out,
                        socklen_t *len)
{
    const struct sockaddr *sa = (const struct sockaddr *)&src->sa;
    struct sockaddr_storage fake;
    bool found = false;

    pthread_mutex_lock(&a->lock);
    if (a->connected) {
        const struct peer *p = &a->peer;
        /* A peer named by a name answers from an address we never learn. */
        bool ok =
            p->host[0] || (src->kind != PROTO_ADDR_DOMAIN &&
                           same_addr(sa, (struct sockaddr *)&p->ip, false) && src->port == p->port);
        if (ok) {
            memcpy(out, &p->view, sizeof(p->view));
            *len = p->view_len;
        }
        pthread_mutex_unlock(&a->lock);
        return ok;
    }
    if (src->kind != PROTO_ADDR_DOMAIN) {
        const struct peer *named = NULL;
        for (int k = 1; k <= RECENT; k++) {
            const struct peer *p = &a->recent[(a->next_recent + RECENT - k) % RECENT];
            if (!p->port)
                continue;
            if (!p->host[0] && same_addr(sa, (struct sockaddr *)&p->ip, false) &&
                src->port == p->port) {
                named = NULL;
                break;
            }
            if (p->host[0] && src->port == p->port && !named)
                named = p;
        }
        if (named) {
            memcpy(out, &named->view, sizeof(named->view));
            *len = named->view_len;
            found = true;
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (found)
        return true;
    if (src->kind == PROTO_ADDR_DOMAIN) {
        int fam = a->family == AF_INET6 && fakeip_capacity(AF_INET6) ? AF_INET6 : AF_INET;
        memset(&fake, 0, sizeof(fake));
        fake.ss_family = (sa_family_t)fam;
        if (fakeip_for_relayed_name(src->host, fam,
                                    fam == AF_INET
                                        ? (void *)&((struct sockaddr_in *)&fake)->sin_addr
                                        : (void *)&((struct sockaddr_in6 *)&fake)->sin6_addr))
            return false;
        set_port(&fake, src->port);
        sa = (struct sockaddr *)&fake;
    }
    return in_family(sa, a->family, out, len);
}

/* A datagram that did not come from the relay reaches the program only from a
 * peer the route sends to directly (a socket may mix both). */
static bool direct_peer(const struct sockaddr *from)
{
    struct dest dst = {.sa = from, .port = addr_port(from), .net = NET_UDP};
    int rule, di;

    if (!state.conf)
        return false;
    di = route_pick(state.conf, state.app, &dst, &rule);
    return state.conf->dialers[di].type == DIALER_DIRECT &&
           conf_udp_mode(&state.conf->dialers[di]) != UDP_BLOCK;
}

/* Consume the datagram a peek saw, so the next one can be looked at. */
static void discard(int fd, int flags)
{
    struct msghdr m = {0};
    char b;
    struct iovec iov = {&b, 0};

    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    sys.recvmsg(fd, &m, (flags & ~MSG_PEEK) | MSG_DONTWAIT);
}

struct rx {
    struct iovec *iov; /* where the payload goes: the program's, or FLAT */
    size_t n, cap;
    uint8_t *flat; /* non-NULL when the program's iovecs were too many */
};

static int rx_setup(struct rx *x, const struct msghdr *msg, struct iovec *one)
{
    memset(x, 0, sizeof(*x));
    for (size_t i = 0; i < msg->msg_iovlen; i++)
        x->cap += msg->msg_iov[i].iov_len;
    if (msg->msg_iovlen <= STACK_IOV) {
        x->iov = msg->msg_iov;
        x->n = msg->msg_iovlen;
        return 0;
    }
    x->flat = malloc(x->cap ? x->cap : 1);
    if (!x->flat)
        return ENOBUFS;
    one->iov_base = x->flat;
    one->iov_len = x->cap;
    x->iov = one;
    x->n = 1;
    return 0;
}

/* One datagram: 1 delivered (*LEN as recvmsg returns it), 0 dropped, -1 error (errno). */
static int rx_one(struct assoc *a, int fd, struct msghdr *msg, int flags, struct rx *x,
                  ssize_t *len)
{
    uint8_t hdr[HDR_CAP];
    size_t hcap = (size_t)a->n * SOCKS5_UDP_HEADER_MAX;
    struct iovec iov[STACK_IOV + 1];
    struct sockaddr_storage from, view;
    socklen_t vlen = 0;
    struct proto_addr src;
    struct msghdr m = {.msg_name = &from,
                       .msg_namelen = sizeof(from),
                       .msg_iov = iov,
                       .msg_iovlen = x->n + 1,
                       .msg_control = msg->msg_control,
                       .msg_controllen = msg->msg_controllen};
    size_t filled, payload, copy;
    ssize_t r;
    int off = 0;

    iov[0].iov_base = hdr;
    iov[0].iov_len = hcap;
    for (size_t i = 0; i < x->n; i++)
        iov[i + 1] = x->iov[i];
    /* MSG_TRUNC: the real length, to tell the program how long the payload was. */
    r = sys.recvmsg(fd, &m, flags | MSG_TRUNC);
    if (r < 0)
        return -1;
    filled = (size_t)r < hcap + x->cap ? (size_t)r : hcap + x->cap;
    if (m.msg_namelen && same_addr((struct sockaddr *)&from, (struct sockaddr *)&a->relay, true)) {
        off = udp_unwrap(hdr, filled < hcap ? filled : hcap, a->n, &src);
        if (off < 0 || !source_view(a, &src, &view, &vlen))
            return 0;
    } else {
        bool connected;
        pthread_mutex_lock(&a->lock);
        connected = a->connected;
        pthread_mutex_unlock(&a->lock);
        if (connected || !m.msg_namelen || !direct_peer((struct sockaddr *)&from))
            return 0;
        memcpy(&view, &from, sizeof(from));
        vlen = m.msg_namelen;
    }
    payload = (size_t)r - (size_t)off;
    copy = payload < x->cap ? payload : x->cap;
    if (udp_place_payload(hdr, hcap, (size_t)off, x->iov, x->n, copy) < 0) {
        errno = ENOBUFS;
        return -1;
    }
    if (x->flat)
        iov_io(msg->msg_iov, msg->msg_iovlen, 0, x->flat, copy, true);
    if (msg->msg_name) {
        memcpy(msg->msg_name, &view, vlen < msg->msg_namelen ? vlen : msg->msg_namelen);
        msg->msg_namelen = vlen;
    }
    msg->msg_controllen = m.msg_controllen;
    msg->msg_flags = (m.msg_flags & ~MSG_TRUNC) | (payload > x->cap ? MSG_TRUNC : 0);
    *len = (flags & MSG_TRUNC) ? (ssize_t)payload : (ssize_t)copy;
    return 1;
}

ssize_t udp_recv(int fd, struct msghdr *msg, int flags)
{
    struct assoc *a;
    struct iovec one;
    struct rx x;
    int saved = errno, err, got;
    ssize_t len = -1;

    if (reentry_nested())
        return nested_refusal(fd, "a receive through the association", EAGAIN);
    a = get(fd);
    if (!a || (flags & MSG_ERRQUEUE)) {
        if (a)
            put(a);
        return sys.recvmsg(fd, msg, flags);
    }
    if ((err = rx_setup(&x, msg, &one))) {
        put(a);
        errno = err;
        return -1;
    }
    /* A dropped datagram is followed by the next one, in the program's blocking
     * mode: a non-blocking call ends with EAGAIN when none is left. */
    while ((got = rx_one(a, fd, msg, flags, &x, &len)) == 0) {
        count(&a->dropped);
        if (flags & MSG_PEEK)
            discard(fd, flags);
    }
    if (got > 0) {
        if (!(flags & MSG_PEEK))
            count(&a->in);
        errno = saved;
    }
    free(x.flat);
    put(a);
    return got > 0 ? len : -1;
}

void udp_close(int fd)
{
    if (reentry_nested())
        let_go(fd);
    else
        forget(fd);
}

static void forget(int fd)
{
    bool last;
    struct assoc *a = take(fd, &last);

    if (!a)
        return;
    if (last)
        log_info("%s[%d] udp association via %s closed (fd %d): %llu datagrams out, %llu in, "
                 "%llu dropped",
                 state.prog, (int)getpid(), dialer_name(a), fd,
                 __atomic_load_n(&a->out, __ATOMIC_RELAXED),
                 __atomic_load_n(&a->in, __ATOMIC_RELAXED),
                 __atomic_load_n(&a->dropped, __ATOMIC_RELAXED));
    put(a);
}

int udp_reserve(int fd)
{
    int err;

    if (fd < 0)
        return EBADF;
    if (reentry_nested())
        return nested_refusal(fd, "dup2/dup3 of an associated socket", EBUSY), EBUSY;
    pthread_mutex_lock(&table_lock);
    err = grow(fd);
    pthread_mutex_unlock(&table_lock);
    return err;
}

int udp_dup(int oldfd, int newfd)
{
    struct assoc *a = NULL;
    int err = 0;

    if (oldfd < 0 || newfd < 0 || oldfd == newfd)
        return 0;
    if (reentry_nested())
        return nested_refusal(oldfd, "a copy of an associated socket", EMFILE), EMFILE;
    udp_close(newfd); /* whatever the number held before is gone */
    pthread_mutex_lock(&table_lock);
    if ((size_t)oldfd < n_slots && (a = slots[oldfd]) && !(err = grow(newfd))) {
        slots[newfd] = a;
        a->refs++;
        a->fds++;
    }
    pthread_mutex_unlock(&table_lock);
    return err;
}

void udp_explain(const struct conf *c, int dialer, uint16_t port, char *buf, size_t cap)
{
    const struct conf_dialer *cd = &c->dialers[dialer];
    char why[300];
    int hops[16], maker = -1, n;
    size_t off;

    if (udp_chain_check(c, dialer, why, sizeof(why))) {
        snprintf(buf, cap,
                 "udp: refused: sendto/sendmsg/connect fail with EPERM (%s); nothing "
                 "is sent%s",
                 why, port == 53 ? ", no DNS query leaves" : "");
        return;
    }
    if (cd->type == DIALER_DIRECT) {
        snprintf(buf, cap, "udp: datagrams leave directly from the program's socket%s",
                 port == 53 ? "; DNS queries to port 53 go out directly" : "");
        return;
    }
    n = detour_chain(c, dialer, hops, &maker);
    off = (size_t)snprintf(buf, cap, "udp: SOCKS5 UDP ASSOCIATE");
    for (int i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s %s (%s:%u)", i ? " then" : " at",
                                c->dialers[hops[i]].name, c->dialers[hops[i]].server.host,
                                c->dialers[hops[i]].server.port);
    if (off < cap)
        off += (size_t)snprintf(buf + off, cap - off,
                                ": datagrams are wrapped and sent to the relay, never directly to "
                                "the destination; a dropped control connection fails them with "
                                "ECONNRESET");
    if (port == 53 && off < cap)
        snprintf(buf + off, cap - off, "; DNS queries to port 53 leave from the proxy%s",
                 conf_remote_dns(cd) ? " (remote_dns: names are resolved there too)" : "");
}
