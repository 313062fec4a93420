/* dnswire_tcp: DNS over TCP to port 53 (dig +tcp, `options use-vc`, a resolver's
 * retry after a truncated answer) answered in the process, for the sockets
 * dnswire_connect takes. See dnswire.h.
 *
 * The program's own TCP socket is connected to a listener the shim owns on
 * loopback (127.0.0.1, or ::1 for IPv6 sockets; non-blocking, close-on-exec, at a
 * high number, like the connections it accepts): nothing leaves the host and no
 * connection to the server is made. There is no thread: the program's sends on
 * the socket (and its receives and connects) pump the responder, which accepts
 * what waits, reads what has come of each query (RFC 1035 4.2.2: a message after
 * its 2-byte length) and writes the answers of the complete ones before the hook
 * returns, so an answer is in the program's receive queue by the time it polls
 * for it. A connection the program closed is closed at the next pump.
 */
#include "common/dnswire_int.h"

#include "common/addr.h"
#include "common/bigstack.h"
#include "common/log.h"
#include "common/ownfd.h"
#include "common/reentry.h"
#include "common/state.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNS_MAX  32   /* connections served at once; the oldest goes for a new one */
#define QUERY_MAX  1500 /* a query is a few hundred bytes: a longer one ends its connection */
#define ANSWER_MAX 4096 /* fake or refused answers fit */
#define PUMP_MAX   16   /* queries answered per connection per pump, so none runs unbounded */
#define WAIT_MS    100  /* for a query that loopback has not delivered yet */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static int lis4 = -1, lis6 = -1;
static struct sockaddr_in at4;
static struct sockaddr_in6 at6;
static struct conn {
    bool used;
    int fd;                  /* ownfd_adopt'ed: its address never moves */
    size_t have;             /* bytes of the current message read, its length included */
    uint8_t *buf;            /* 2 + QUERY_MAX */
    unsigned long long born; /* accept order: the oldest is let go first */
} conns[CONNS_MAX];
static unsigned long long accepted;

/* A child of fork gets a usable lock; listeners and connections stay shared. */
static void atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
}

static void register_fork(void)
{
    pthread_atfork(NULL, NULL, atfork_child);
}

static void lock_conns(void)
{
    pthread_once(&fork_once, register_fork);
    pthread_mutex_lock(&lock);
}

/* ---------------------------------------------------------------- the listeners */

static void open_listener(int family, int *where, void *addr, socklen_t len)
{
    int fd = sys.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return;
    if (bind(fd, addr, len) < 0 || listen(fd, CONNS_MAX) < 0 ||
        sys.getsockname(fd, addr, &len) < 0) {
        sys.close(fd);
        return;
    }
    *where = fd;
    ownfd_adopt(where);
}

/* The listener for a socket of FAMILY and its address (*SA, *LEN), made on first
 * need; under the lock. IPv6 sockets connect to [::1], or to 127.0.0.1 mapped. */
static int listener(int family, struct sockaddr_storage *sa, socklen_t *len)
{
    if (lis4 < 0 || !ownfd_check(&lis4)) {
        at4 = (struct sockaddr_in){.sin_family = AF_INET};
        at4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        open_listener(AF_INET, &lis4, &at4, sizeof(at4));
    }
    if (family == AF_INET6 && (lis6 < 0 || !ownfd_check(&lis6))) {
        at6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
        open_listener(AF_INET6, &lis6, &at6, sizeof(at6));
    }
    memset(sa, 0, sizeof(*sa));
    if (family == AF_INET6 && lis6 >= 0) {
        memcpy(sa, &at6, sizeof(at6));
        *len = sizeof(at6);
        return lis6;
    }
    if (lis4 < 0)
        return -1;
    if (family == AF_INET6) {
        struct sockaddr_in6 *m = (struct sockaddr_in6 *)sa;
        m->sin6_family = AF_INET6;
        m->sin6_port = at4.sin_port;
        m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&m->sin6_addr.s6_addr[12], &at4.sin_addr, 4);
        *len = sizeof(*m);
    } else {
        memcpy(sa, &at4, sizeof(at4));
        *len = sizeof(at4);
    }
    return lis4;
}

/* ---------------------------------------------------------------- the connections */

static void drop(struct conn *c)
{
    ownfd_close(&c->fd);
    free(c->buf);
    c->buf = NULL;
    c->used = false;
}

/* A free slot, or the oldest connection's (let go: its program waits in vain). */
static struct conn *slot(void)
{
    struct conn *old = &conns[0];

    for (int i = 0; i < CONNS_MAX; i++) {
        if (!conns[i].used)
            return &conns[i];
        if (conns[i].born < old->born)
            old = &conns[i];
    }
    log_warn("%s[%d] dns over tcp: %d connections open; the oldest is closed", state.prog,
             (int)getpid(), CONNS_MAX);
    drop(old);
    return old;
}

static int accept_from(int lfd)
{
    int got = 0;

    for (int k = 0; lfd >= 0 && k < CONNS_MAX; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;
        if (fd < 0)
            break;
        c = slot();
        if (!(c->buf = malloc(2 + QUERY_MAX))) {
            sys.close(fd); /* the program reads the end of its connection */
            continue;
        }
        *c = (struct conn){.used = true, .fd = fd, .buf = c->buf, .born = ++accepted};
        ownfd_adopt(&c->fd);
        got++;
    }
    return got;
}

/* Answer the complete message in C (its length is LEN) into A. False: the
 * connection is to be dropped. */
static bool answer(struct conn *c, size_t len, uint8_t *a)
{
    int n = dnswire_answer(c->buf + 2, len, a + 2, ANSWER_MAX);

    c->have = 0;
    if (n <= 0)
        return false;
    a[0] = (uint8_t)(n >> 8);
    a[1] = (uint8_t)n;
    return sys.send(c->fd, a, (size_t)n + 2, MSG_DONTWAIT | MSG_NOSIGNAL) == n + 2;
}

/* What has come on C read and the complete queries answered. Returns whether
 * anything came; C is dropped at its end or on an error. */
static bool serve(struct conn *c, uint8_t *a)
{
    bool came = false;

    for (int done = 0; done < PUMP_MAX;) {
        size_t len = c->have >= 2 ? (size_t)c->buf[0] << 8 | c->buf[1] : 0;
        size_t want = c->have < 2 ? 2 : 2 + len;
        ssize_t r;

        if (c->have >= 2 && (len == 0 || len > QUERY_MAX)) {
            log_warn("%s[%d] dns over tcp: a message of %zu bytes: connection closed", state.prog,
                     (int)getpid(), len);
            drop(c);
            return true;
        }
        if (c->have == want && c->have > 2) {
            done++;
            if (!answer(c, len, a)) {
                drop(c);
                return true;
            }
            continue;
        }
        r = sys.recv(c->fd, c->buf + c->have, want - c->have, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (r <= 0) { /* the program closed its end, or it broke */
            drop(c);
            return true;
        }
        c->have += (size_t)r;
        came = true;
    }
    return came;
}

/* Under the lock: what waits, served. Returns how many connections had something. */
static int pump_locked(uint8_t *a)
{
    int got = 0;

    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < CONNS_MAX; i++)
            if (conns[i].used && ownfd_check(&conns[i].fd) && serve(&conns[i], a))
                got++;
        if (pass == 0)
            got += accept_from(lis4) + accept_from(lis6);
    }
    return got;
}

static int wait_fds(struct pollfd *p)
{
    int n = 0;

    if (lis4 >= 0)
        p[n++] = (struct pollfd){.fd = lis4, .events = POLLIN};
    if (lis6 >= 0)
        p[n++] = (struct pollfd){.fd = lis6, .events = POLLIN};
    for (int i = 0; i < CONNS_MAX; i++)
        if (conns[i].used)
            p[n++] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
    return n;
}

static int pump_deep(void *arg)
{
    bool wait = *(bool *)arg;
    uint8_t *a = malloc(2 + ANSWER_MAX);
    struct pollfd p[2 + CONNS_MAX];
    int got, n;

    if (!a)
        return 0;
    lock_conns();
    got = pump_locked(a);
    n = wait_fds(p);
    pthread_mutex_unlock(&lock);
    /* loopback delivers within the send almost always; a softirq left to
     * ksoftirqd may take a moment */
    if (!got && wait && n && sys.poll(p, (nfds_t)n, WAIT_MS) > 0) {
        lock_conns();
        pump_locked(a);
        pthread_mutex_unlock(&lock);
    }
    free(a);
    return 0;
}

void dnswire_tcp_pump(bool wait)
{
    if (!reentry_nested() && (__atomic_load_n(&lis4, __ATOMIC_RELAXED) >= 0 ||
                              __atomic_load_n(&lis6, __ATOMIC_RELAXED) >= 0))
        bigstack_call(pump_deep, &wait);
}

bool dnswire_tcp_connect(int fd, const struct sockaddr *sa, socklen_t len, int *err)
{
    struct sockaddr_storage to;
    socklen_t tl = 0;
    char ns[ADDR_STRLEN];
    int l;

    lock_conns();
    l = listener(sa->sa_family, &to, &tl);
    pthread_mutex_unlock(&lock);
    if (l < 0) {
        *err = EPERM; /* the query would leave the host: fail closed */
        log_warn("%s[%d] connect fd %d to %s (DNS over TCP): no DNS responder could be made: "
                 "EPERM",
                 state.prog, (int)getpid(), fd, addr_format(sa, ns, sizeof(ns)));
        return true;
    }
    *err = sys.connect(fd, (struct sockaddr *)&to, tl) < 0 ? errno : 0;
    if (!*err || *err == EINPROGRESS) {
        dnswire_remember(fd, sa, len);
        dnswire_tcp_pump(false); /* taken off the backlog at once */
    }
    log_info("%s[%d] connect fd %d to %s (DNS over TCP): answered by the shim (fake_ip), no "
             "connection leaves%s",
             state.prog, (int)getpid(), fd, addr_format(sa, ns, sizeof(ns)),
             *err && *err != EINPROGRESS ? ": failed" : "");
    return true;
}
