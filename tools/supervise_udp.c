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
 * Fail closed: when the association cannot be made the call gets the errno and
 * nothing is sent, directly or otherwise; when it dies (the proxy closed its
 * control connection, the relay refuses) the pump ends and closes R, so the
 * program's later sends on P get ECONNREFUSED. The pump also ends when R's
 * sends to P are refused (the program closed P). */
#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/dns.h"
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
#include <sys/stat.h>
#include <unistd.h>

struct assoc {
    ino_t ino;  /* the program's socket */
    int dialer; /* the route's dialer it relays through */
    int u;      /* ours, associated: wrapped datagrams to and from the relay */
    int r;      /* ours, on loopback: the program's socket is connected to it */
    bool peer;  /* U has a connected peer (the program's connect) */
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

/* ---- the pump: R <-> U ---- */

/* The program wrote on P (connected to R): wrapped to its peer. False: the end. */
static bool outbound(struct assoc *a, uint8_t *buf, size_t cap)
{
    ssize_t n = recv(a->r, buf, cap, MSG_DONTWAIT);
    struct iovec iov = {buf, n > 0 ? (size_t)n : 0};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

    if (n < 0)
        return errno == EAGAIN || errno == EINTR; /* ECONNREFUSED: P is gone */
    if (a->peer && relay_send(a->u, &m, MSG_DONTWAIT, NULL) < 0 && errno == ECONNRESET)
        return false; /* the association died */
    return true;
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

static void *pump(void *arg)
{
    struct assoc *a = arg;
    struct pollfd p[2] = {{.fd = a->r, .events = POLLIN}, {.fd = a->u, .events = POLLIN}};
    uint8_t *buf = malloc(65536);
    sigset_t all;
    bool on = buf != NULL;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    while (on) {
        if (poll(p, 2, -1) < 0) {
            on = errno == EINTR;
            continue;
        }
        if (p[0].revents)
            on = outbound(a, buf, 65536);
        if (on && p[1].revents)
            on = inbound(a, buf, 65536);
    }
    unlink_assoc(a);
    log_info("supervised: a UDP association through %s ended", state.conf->dialers[a->dialer].name);
    relay_close(a->u);
    close(a->u);
    close(a->r);
    free(buf);
    free(a);
    return NULL;
}

/* ---- opening ---- */

/* R: a UDP socket on loopback of the program socket's family, P (T->fd)
 * connected to it and it to P. 0 or an errno. */
static int loop_back(const struct trap *t, int *r)
{
    struct sockaddr_storage at = {0}, local;
    socklen_t len =
                  t->domain == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
              llen = sizeof(local);
    int err;

    if (t->domain == AF_INET6)
        ((struct sockaddr_in6 *)&at)->sin6_addr = in6addr_loopback;
    else
        ((struct sockaddr_in *)&at)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    at.ss_family = (sa_family_t)t->domain;
    *r = socket(t->domain, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (*r < 0 || bind(*r, (struct sockaddr *)&at, len) < 0 ||
        getsockname(*r, (struct sockaddr *)&at, &len) < 0 ||
        connect(t->fd, (struct sockaddr *)&at, len) < 0 ||
        getsockname(t->fd, (struct sockaddr *)&local, &llen) < 0 ||
        connect(*r, (struct sockaddr *)&local, llen) < 0) {
        err = errno;
        if (*r >= 0)
            close(*r);
        return err;
    }
    return 0;
}

/* A new association for T's socket through R->d.dialer. Called with the lock
 * held (a second thread of the program waits for the first one's). NULL with
 * *ERR and the reason in R->d. */
static struct assoc *open_assoc(const struct trap *t, struct route *r, int *err)
{
    struct assoc *a = calloc(1, sizeof(*a));
    bool created;
    pthread_attr_t at;
    pthread_t th;

    if (!a) {
        *err = ENOMEM;
        return NULL;
    }
    a->dialer = r->d.dialer;
    a->ino = inode_of(t->fd);
    a->u = socket(t->domain, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    a->r = -1;
    r->d.fd = a->u;
    if (a->u < 0)
        *err = errno;
    else if ((*err = associate_open(&r->d, &created)) == 0 && (*err = loop_back(t, &a->r)))
        snprintf(r->d.why, sizeof(r->d.why), "the supervisor's loopback relay: %s", strerror(*err));
    r->d.fd = t->fd;
    if (!*err) {
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        *err = pthread_create(&th, &at, pump, a);
        pthread_attr_destroy(&at);
    }
    if (*err) {
        if (a->u >= 0) {
            relay_close(a->u);
            close(a->u);
        }
        if (a->r >= 0)
            close(a->r);
        free(a);
        return NULL;
    }
    a->next = assocs;
    assocs = a;
    snprintf(r->d.why, sizeof(r->d.why), "via UDP ASSOCIATE (held by the supervisor)");
    return a;
}

/* T's socket's association through R's dialer, opened when it has none. Called
 * with the lock held. NULL with *ERR. */
static struct assoc *assoc_for(const struct trap *t, struct route *r, int *err)
{
    struct assoc *a = find(inode_of(t->fd));

    if (a && a->dialer != r->d.dialer) {
        snprintf(r->d.why, sizeof(r->d.why), "the socket already relays through %s",
                 state.conf->dialers[a->dialer].name);
        *err = EPERM;
        return NULL;
    }
    return a ? a : open_assoc(t, r, err);
}

/* Where the relay sends a datagram for R's destination SA: a name goes to a
 * remote_dns proxy as it is, else resolved here. 0 or an errno. */
static int target_of(struct route *r, const struct sockaddr *sa, socklen_t len,
                     struct relay_target *tg, struct sockaddr_storage *real)
{
    const struct conf_dialer *cd = &state.conf->dialers[r->d.dialer];
    struct dns_addr addrs[4];
    char why[300];
    int n;

    *tg = (struct relay_target){.sa = sa, .port = addr_port(sa), .view = sa, .view_len = len};
    if (!r->d.host)
        return 0;
    if (conf_remote_dns(cd)) {
        tg->host = r->d.host; /* the proxy resolves it: no query leaves here */
        return 0;
    }
    n = resolve_name(state.conf, r->d.dialer, r->d.host, addrs, 4, false, why, sizeof(why));
    if (n <= 0) {
        snprintf(r->d.why, sizeof(r->d.why), "%s", why);
        return n < 0 ? -n : EHOSTUNREACH;
    }
    dns_addr_to_sockaddr(&addrs[0], tg->port, real);
    tg->sa = (const struct sockaddr *)real;
    return 0;
}

int sup_udp_connect(const struct trap *t, struct route *r, const struct sockaddr *sa, socklen_t len)
{
    struct sockaddr_storage real;
    struct relay_target tg;
    struct assoc *a;
    int err = target_of(r, sa, len, &tg, &real);

    if (err)
        return err;
    pthread_mutex_lock(&assocs_lock);
    if ((a = assoc_for(t, r, &err)) && !(err = relay_connect(a->u, &tg)))
        a->peer = true;
    pthread_mutex_unlock(&assocs_lock);
    if (!err)
        sup_peer_note(t->fd, sa, len);
    return err;
}

ssize_t sup_udp_send(const struct trap *t, struct route *r, const struct msghdr *msg, int flags)
{
    struct sockaddr_storage real;
    struct relay_target tg;
    struct assoc *a;
    ssize_t n = -1;
    int err = target_of(r, msg->msg_name, msg->msg_namelen, &tg, &real);

    if (err)
        return -err;
    pthread_mutex_lock(&assocs_lock);
    a = assoc_for(t, r, &err);
    if (a && (n = relay_send(a->u, msg, flags & ~MSG_DONTWAIT, &tg)) < 0)
        err = errno;
    pthread_mutex_unlock(&assocs_lock);
    return err ? -err : n;
}
