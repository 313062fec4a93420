/* Datagrams through a SOCKS5 proxy (UDP ASSOCIATE) under the supervisor.
 *
 * The preloaded shim wraps and unwraps datagrams inside the program's own send
 * and receive calls (common/relay.h). A static or Go program reads its socket
 * with calls the filter does not trap (read, recvfrom), so the wrapped replies
 * must never reach its socket. The supervisor therefore keeps the association
 * on sockets of its own and puts itself between them and the program:
 *
 *   program socket P --connect--> R (supervisor, UDP on loopback) ... pump ...
 *   U (supervisor, in the relay table, associated) <--wrapped--> proxy relay
 *
 * P is connected to R (the only peer whose datagrams the kernel then gives P),
 * R to P's local address. What the program writes on P without an address
 * (write, send: not trapped) arrives at R and is sent wrapped from U to the
 * peer the program connected to; a trapped send with an address is sent
 * wrapped from U at once, from the copy the supervisor read (the reasoning of
 * supervise_call.c: nothing the program changes after the check is used). The
 * relay's replies arrive at U, are unwrapped (relay_recv) and sent from R to P,
 * so the program's reads get the exact payload. What the kernel reports as the
 * source of a reply is R's loopback address, not the far peer: exact for a
 * connected socket (getpeername answers the peer, peer_note), a limit for a
 * program that reads the source of each datagram of an unconnected socket.
 *
 * The association opens with the first datagram, not at the connect: Go's
 * resolver connects a UDP socket to each address it sorts (RFC 6724 source
 * selection) and never sends on it, and a proxy handshake for each would cost
 * every lookup two connections to the proxy. A connect makes R and the pump
 * only; the pump opens the association when the program's first datagram
 * arrives at R (a trapped send with an address opens it at once, and answers
 * with its errno).
 *
 * Fail closed: when the association cannot be made the trapped call gets the
 * errno and nothing is sent, directly or otherwise; a datagram the program
 * wrote (untrapped) is dropped, logged, and R closed, so its later sends on P
 * get ECONNREFUSED. When the association dies (the proxy closed its control
 * connection, the relay refuses) the pump ends the same way. The supervisor
 * sees no close of P: the pump ends when R's sends to P are refused, and every
 * IDLE_S seconds without traffic it checks that P still holds its local
 * address (a bind to it fails with EADDRINUSE), so the R and the thread of a
 * socket the program closed do not outlive it by more than that. */
#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/dns.h"
#include "common/fakeip.h"
#include "common/log.h"
#include "common/relay.h"
#include "common/state.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDLE_S 10 /* seconds without traffic between checks that P is still there */

struct assoc {
    ino_t ino;  /* the program's socket P */
    int family; /* P's */
    int dialer; /* the route's dialer it relays through */
    int u;      /* ours, associated (-1: not opened yet): wrapped datagrams to and from the relay */
    int r;      /* ours, on loopback: P is connected to it */
    int wake;   /* an eventfd: U was opened outside the pump, poll it too */
    struct sockaddr_storage local; /* P's address (R's peer) */
    socklen_t local_len;
    bool peer;                   /* P was connected to a destination: */
    struct sockaddr_storage dst; /* its address (a fake one for a name) */
    socklen_t dst_len;
    char host[FAKEIP_NAME_MAX]; /* the name it stands for, or "" */
    struct assoc *next;
};

static struct assoc *assocs;
static pthread_mutex_t assocs_lock = PTHREAD_MUTEX_INITIALIZER;

static ino_t inode_of(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static struct assoc *find(ino_t ino)
{
    for (struct assoc *a = assocs; a; a = a->next)
        if (a->ino == ino)
            return a;
    return NULL;
}

static void unlink_assoc(struct assoc *gone)
{
    pthread_mutex_lock(&assocs_lock);
    for (struct assoc **p = &assocs; *p; p = &(*p)->next)
        if (*p == gone) {
            *p = gone->next;
            break;
        }
    pthread_mutex_unlock(&assocs_lock);
}

/* Where the relay sends a datagram for SA (HOST: the name a fake SA stands
 * for, or NULL) through DIALER: a name goes to a remote_dns proxy as it is,
 * else resolved here. 0 or an errno, the reason in WHY. */
static int target_of(int dialer, const char *host, const struct sockaddr *sa, socklen_t len,
                     struct relay_target *tg, struct sockaddr_storage *real, char *why,
                     size_t whycap)
{
    struct dns_addr addrs[4];
    int n;

    *tg = (struct relay_target){.sa = sa, .port = addr_port(sa), .view = sa, .view_len = len};
    if (!host)
        return 0;
    if (conf_remote_dns(&state.conf->dialers[dialer])) {
        tg->host = host; /* the proxy resolves it: no query leaves here */
        return 0;
    }
    n = resolve_name(state.conf, dialer, host, addrs, 4, false, why, whycap);
    if (n <= 0)
        return n < 0 ? -n : EHOSTUNREACH;
    dns_addr_to_sockaddr(&addrs[0], tg->port, real);
    tg->sa = (const struct sockaddr *)real;
    return 0;
}

/* Open A's association as D says (D->dialer, its reason in D->why), connected
 * to A's peer when it has one. Called with the lock held. 0 or an errno. */
static int open_u(struct assoc *a, struct dial *d)
{
    struct sockaddr_storage real;
    struct relay_target tg;
    bool created;
    int u = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err;

    if (u < 0)
        return errno;
    d->fd = u;
    err = associate_open(d, &created);
    if (!err && a->peer &&
        !(err = target_of(a->dialer, a->host[0] ? a->host : NULL, (struct sockaddr *)&a->dst,
                          a->dst_len, &tg, &real, d->why, sizeof(d->why))))
        err = relay_connect(u, &tg);
    if (err) {
        relay_close(u);
        close(u);
        return err;
    }
    __atomic_store_n(&a->u, u, __ATOMIC_RELEASE);
    eventfd_write(a->wake, 1);
    snprintf(d->why, sizeof(d->why), "via UDP ASSOCIATE (held by the supervisor)");
    return 0;
}

/* ---- the pump: R <-> U ---- */

/* The first datagram of a connected P: its association, opened here. */
static bool open_late(struct assoc *a)
{
    struct dial d = {.conf = state.conf,
                     .dialer = a->dialer,
                     .type = SOCK_DGRAM,
                     .sa = (struct sockaddr *)&a->dst,
                     .len = a->dst_len,
                     .host = a->host[0] ? a->host : NULL};
    char dst[ADDR_STRLEN];
    int err;

    d.why[0] = '\0';
    pthread_mutex_lock(&assocs_lock);
    err = a->u >= 0 ? 0 : open_u(a, &d);
    pthread_mutex_unlock(&assocs_lock);
    if (err)
        log_warn("supervised: udp %s%s%s through %s: %s (%s): the datagram is dropped and the "
                 "socket's later sends refused",
                 addr_format((struct sockaddr *)&a->dst, dst, sizeof(dst)),
                 a->host[0] ? " name=" : "", a->host, state.conf->dialers[a->dialer].name,
                 strerrorname_np(err), d.why[0] ? d.why : "no association");
    return !err;
}

/* The program wrote on P (connected to R): wrapped to its peer. False: the end. */
static bool outbound(struct assoc *a, uint8_t *buf, size_t cap)
{
    ssize_t n = recv(a->r, buf, cap, MSG_DONTWAIT);
    struct iovec iov = {buf, n > 0 ? (size_t)n : 0};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

    if (n < 0)
        return errno == EAGAIN || errno == EINTR; /* ECONNREFUSED: P is gone */
    if (!a->peer)
        return true; /* P had no destination: the kernel would have said EDESTADDRREQ */
    if (a->u < 0 && !open_late(a))
        return false;
    return relay_send(a->u, &m, MSG_DONTWAIT, NULL) >= 0 || errno != ECONNRESET;
}

/* A reply from the relay: unwrapped, to the program. False: the end. */
static bool inbound(struct assoc *a, uint8_t *buf, size_t cap)
{
    static const struct relay_rx rx = {"supervised", NULL};
    struct sockaddr_storage from;
    struct iovec iov = {buf, cap};
    struct msghdr m = {
        .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = relay_recv(a->u, &m, MSG_DONTWAIT, &rx);

    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    return send(a->r, buf, (size_t)n, MSG_DONTWAIT) >= 0 || errno != ECONNREFUSED;
}

/* P still holds its local address: a bind to it fails with EADDRINUSE. */
static bool still_there(const struct assoc *a)
{
    int fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool there = fd < 0 || bind(fd, (const struct sockaddr *)&a->local, a->local_len) < 0;

    if (fd >= 0)
        close(fd);
    return there;
}

static void *pump(void *arg)
{
    struct assoc *a = arg;
    struct pollfd p[3] = {{.fd = a->r, .events = POLLIN},
                          {.fd = -1, .events = POLLIN},
                          {.fd = a->wake, .events = POLLIN}};
    eventfd_t ticks;
    uint8_t *buf = malloc(65536);
    sigset_t all;
    bool on = buf != NULL;
    int n;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    while (on) {
        p[1].fd = __atomic_load_n(&a->u, __ATOMIC_ACQUIRE);
        if ((n = poll(p, 3, IDLE_S * 1000)) <= 0) {
            on = n < 0 ? errno == EINTR : still_there(a);
            continue;
        }
        if (p[0].revents)
            on = outbound(a, buf, 65536);
        if (on && p[1].revents)
            on = inbound(a, buf, 65536);
        if (p[2].revents)
            eventfd_read(a->wake, &ticks);
    }
    unlink_assoc(a);
    log_debug("supervised: the loopback relay of a UDP socket through %s ended%s",
              state.conf->dialers[a->dialer].name, a->u >= 0 ? "" : " (never used)");
    if (a->u >= 0) {
        relay_close(a->u);
        close(a->u);
    }
    close(a->r);
    close(a->wake);
    free(buf);
    free(a);
    return NULL;
}

/* ---- the program's socket ---- */

/* R: a UDP socket on loopback of P's family, P (T->fd) connected to it and it
 * to P. 0 or an errno. */
static int loop_back(const struct trap *t, struct assoc *a)
{
    struct sockaddr_storage at = {0};
    socklen_t len =
        t->domain == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int err;

    if (t->domain == AF_INET6)
        ((struct sockaddr_in6 *)&at)->sin6_addr = in6addr_loopback;
    else
        ((struct sockaddr_in *)&at)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    at.ss_family = (sa_family_t)t->domain;
    a->local_len = sizeof(a->local);
    a->r = socket(t->domain, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (a->r < 0 || bind(a->r, (struct sockaddr *)&at, len) < 0 ||
        getsockname(a->r, (struct sockaddr *)&at, &len) < 0 ||
        connect(t->fd, (struct sockaddr *)&at, len) < 0 ||
        getsockname(t->fd, (struct sockaddr *)&a->local, &a->local_len) < 0 ||
        connect(a->r, (struct sockaddr *)&a->local, a->local_len) < 0) {
        err = errno;
        if (a->r >= 0)
            close(a->r);
        return err;
    }
    return 0;
}

/* T's socket's relay through R->d.dialer, made (R and its pump; the
 * association not opened) when it has none. Called with the lock held. NULL
 * with *ERR and the reason in R->d. */
static struct assoc *assoc_for(const struct trap *t, struct route *r, int *err)
{
    ino_t ino = inode_of(t->fd);
    struct assoc *a = find(ino);
    pthread_attr_t at;
    pthread_t th;

    if (a && a->dialer != r->d.dialer) {
        snprintf(r->d.why, sizeof(r->d.why), "the socket already relays through %s",
                 state.conf->dialers[a->dialer].name);
        *err = EPERM;
        return NULL;
    }
    if (a)
        return a;
    if (!(a = calloc(1, sizeof(*a)))) {
        *err = ENOMEM;
        return NULL;
    }
    *a = (struct assoc){.ino = ino, .family = t->domain, .dialer = r->d.dialer, .u = -1, .r = -1};
    if ((a->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        *err = errno;
        free(a);
        return NULL;
    }
    if ((*err = loop_back(t, a))) {
        close(a->wake);
        snprintf(r->d.why, sizeof(r->d.why), "the supervisor's loopback relay: %s", strerror(*err));
        free(a);
        return NULL;
    }
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    if ((*err = pthread_create(&th, &at, pump, a))) {
        close(a->r);
        close(a->wake);
        free(a);
        a = NULL;
    } else {
        a->next = assocs;
        assocs = a;
    }
    pthread_attr_destroy(&at);
    return a;
}

int sup_udp_connect(const struct trap *t, struct route *r, const struct sockaddr *sa, socklen_t len)
{
    struct sockaddr_storage real;
    struct relay_target tg;
    struct assoc *a;
    int err = 0;

    pthread_mutex_lock(&assocs_lock);
    if ((a = assoc_for(t, r, &err))) {
        memcpy(&a->dst, sa, len);
        a->dst_len = len;
        snprintf(a->host, sizeof(a->host), "%s", r->d.host ? r->d.host : "");
        a->peer = true;
        /* Opened already (an earlier send): its peer changes now. */
        if (a->u >= 0 && !(err = target_of(a->dialer, r->d.host, sa, len, &tg, &real, r->d.why,
                                           sizeof(r->d.why))))
            err = relay_connect(a->u, &tg);
    }
    pthread_mutex_unlock(&assocs_lock);
    if (!err) {
        sup_peer_note(t->fd, sa, len);
        snprintf(r->d.why, sizeof(r->d.why),
                 "via UDP ASSOCIATE (held by the supervisor), "
                 "opened by the first datagram");
    }
    return err;
}

ssize_t sup_udp_send(const struct trap *t, struct route *r, const struct msghdr *msg, int flags)
{
    struct sockaddr_storage real;
    struct relay_target tg;
    struct assoc *a;
    ssize_t n = -1;
    int err = target_of(r->d.dialer, r->d.host, msg->msg_name, msg->msg_namelen, &tg, &real,
                        r->d.why, sizeof(r->d.why));

    if (err)
        return -err;
    r->d.why[0] = '\0';
    pthread_mutex_lock(&assocs_lock);
    if ((a = assoc_for(t, r, &err)) && a->u < 0)
        err = open_u(a, &r->d);
    if (!err && (n = relay_send(a->u, msg, flags & ~MSG_DONTWAIT, &tg)) < 0)
        err = errno;
    pthread_mutex_unlock(&assocs_lock);
    return err ? -err : n;
}
