/* relayio: the datagrams of an associated socket, wrapped for the relay on the way
 * out and unwrapped on the way in, and the liveness of the control connections
 * they depend on. See relay.h.
 *
 * A datagram to a destination behind a chain of SOCKS5 proxies p0 > p1 > ... > pN
 * leaves the program's socket for p0's relay as
 *     H(relay of p1) H(relay of p2) ... H(destination) payload
 * each proxy strips its header and forwards the rest; replies come back wrapped the
 * same way. The relays' headers never change: the association holds them encoded. */
#include "common/relay.h"

#include "common/addr.h"
#include "common/fakeip.h"
#include "common/log.h"
#include "common/ownfd.h"
#include "common/reentry.h"
#include "common/relay_int.h"
#include "common/state.h"
#include "common/sys.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define STACK_IOV   8 /* iovecs a call may carry on the stack; more go flat (small stacks) */
#define STACK_BYTES 512

static void count(unsigned long long *c)
{
    __atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
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
    for (int i = 0; i < a->c.n && !dead; i++) {
        /* a number the program closed behind our back ends the association */
        dead = ownfd_check(&a->c.ctl[i]) ? ctl_state(a->c.ctl[i]) : EBADF;
        if (!dead)
            continue;
        int expected = 0;
        if (__atomic_compare_exchange_n(&a->dead, &expected, dead, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            log_info("%s[%d] udp association via %s dropped (fd %d): the control connection to "
                     "%s ended (%s); sends fail with ECONNRESET",
                     state.prog, (int)getpid(), a->c.name, fd, a->c.hop[i], strerror(dead));
    }
    return dead;
}

/* ---------------------------------------------------------------- sending */

/* The last header, for T (the relays' prefix goes from the association itself);
 * returns its length or -1. */
static ssize_t last_header(const struct relay_target *t, uint8_t *buf, size_t cap)
{
    ssize_t h = socks5_encode_udp_header(buf, cap, t->host, t->host ? NULL : t->sa, t->port);

    return h < 0 ? -1 : h;
}

/* The relays' prefix (the association's own, unchanged while it is held), the
 * last header, then the payload iovecs: on the stack, or flattened into one buffer
 * when the program passes more than STACK_IOV. */
static ssize_t send_wrapped(struct assoc *a, int fd, const struct msghdr *msg, int flags,
                            const uint8_t *hdr, size_t h)
{
    struct iovec iov[STACK_IOV + 2];
    size_t k = 0;
    struct msghdr m = {.msg_name = &a->c.relay,
                       .msg_namelen = a->c.relay_len,
                       .msg_iov = iov,
                       .msg_control = msg->msg_control,
                       .msg_controllen = msg->msg_controllen};
    uint8_t *flat = NULL;
    ssize_t r;

    if (a->c.prefix_len) {
        iov[k].iov_base = a->c.prefix;
        iov[k++].iov_len = a->c.prefix_len;
    }
    iov[k].iov_base = (void *)hdr;
    iov[k++].iov_len = h;
    h += a->c.prefix_len;
    if (msg->msg_iovlen <= STACK_IOV) {
        for (size_t i = 0; i < msg->msg_iovlen; i++)
            iov[k + i] = msg->msg_iov[i];
        m.msg_iovlen = msg->msg_iovlen + k;
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
        iov[k].iov_base = flat;
        iov[k].iov_len = total;
        m.msg_iovlen = k + 1;
    }
    r = sys.sendmsg(fd, &m, flags);
    free(flat);
    return r < 0 ? -1 : r - (ssize_t)h;
}

ssize_t relay_send(int fd, const struct msghdr *msg, int flags, const struct relay_target *t)
{
    struct assoc *a;
    uint8_t hdr[SOCKS5_UDP_HEADER_MAX];
    struct relay_target pt;
    struct peer peer;
    int saved = errno, err;
    ssize_t h, r;

    if (reentry_nested())
        return relay_nested_refusal(state.prog, fd, "a datagram through the association", EPERM);
    if (!(a = relay_get(fd)))
        return sys.sendmsg(fd, msg, flags);
    if (!relay_is_open(a)) {
        /* the engine opens it before: a datagram here has no relay to go to */
        relay_put(a);
        errno = ENOTCONN;
        return -1;
    }
    if ((err = alive(a, fd))) {
        relay_put(a);
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
            relay_put(a);
            errno = saved;
            return sys.sendmsg(fd, msg, flags);
        }
        pt = (struct relay_target){.host = peer.host[0] ? peer.host : NULL,
                                   .sa = (struct sockaddr *)&peer.ip,
                                   .port = peer.port};
        t = &pt;
    } else {
        relay_remember(a, t);
    }
    h = last_header(t, hdr, sizeof(hdr));
    if (h < 0) {
        relay_put(a);
        errno = EINVAL;
        return -1;
    }
    r = send_wrapped(a, fd, msg, flags, hdr, (size_t)h);
    if (r >= 0) {
        count(&a->out);
        errno = saved;
    }
    relay_put(a);
    return r;
}

/* ---------------------------------------------------------------- receiving */

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

/* The payload spread over several iovecs, moved K bytes up: through a bounce
 * buffer (out of line, so the one-buffer case keeps it off the stack). */
static __attribute__((noinline)) int shift_iovs(const struct iovec *iov, size_t n, size_t k,
                                                size_t rest)
{
    uint8_t stack[STACK_BYTES], *tmp = stack;

    if (rest > sizeof(stack) && !(tmp = malloc(rest)))
        return -1;
    iov_io(iov, n, 0, tmp, rest, false);
    iov_io(iov, n, k, tmp, rest, true);
    if (tmp != stack)
        free(tmp);
    return 0;
}

int relay_place_payload(const uint8_t *hdr, size_t hdr_cap, size_t off, const struct iovec *iov,
                        size_t n, size_t copy)
{
    size_t k = hdr_cap - off; /* payload bytes that landed in HDR */
    size_t head = k < copy ? k : copy, rest = copy - head;

    if (rest && n == 1)
        memmove((uint8_t *)iov[0].iov_base + k, iov[0].iov_base, rest);
    else if (rest && shift_iovs(iov, n, k, rest) < 0)
        return -1;
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
                           addr_same(sa, (struct sockaddr *)&p->ip, false) && src->port == p->port);
        if (ok) {
            memcpy(out, &p->view, sizeof(p->view));
            *len = p->view_len;
        }
        pthread_mutex_unlock(&a->lock);
        return ok;
    }
    if (src->kind != PROTO_ADDR_DOMAIN) {
        const struct peer *named = NULL;
        for (int k = 1; k <= RELAY_RECENT; k++) {
            const struct peer *p = &a->recent[(a->next_recent + RELAY_RECENT - k) % RELAY_RECENT];
            if (!p->port)
                continue;
            if (!p->host[0] && addr_same(sa, (struct sockaddr *)&p->ip, false) &&
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
        int fam = a->c.family == AF_INET6 && fakeip_capacity(AF_INET6) ? AF_INET6 : AF_INET;
        memset(&fake, 0, sizeof(fake));
        fake.ss_family = (sa_family_t)fam;
        if (fakeip_for_relayed_name(src->host, fam,
                                    fam == AF_INET
                                        ? (void *)&((struct sockaddr_in *)&fake)->sin_addr
                                        : (void *)&((struct sockaddr_in6 *)&fake)->sin6_addr))
            return false;
        addr_set_port(&fake, src->port);
        sa = (struct sockaddr *)&fake;
    }
    return addr_in_family(sa, a->c.family, out, len);
}

/* The relays' headers of a datagram (LEN bytes at HDR) taken off: the offset of
 * its payload, and in VIEW where the program is told it came from; -1 to drop it.
 * Out of line: the decoded source stays off the receive path's stack. */
static __attribute__((noinline)) int unwrap_view(struct assoc *a, const uint8_t *hdr, size_t len,
                                                 struct sockaddr_storage *view, socklen_t *vlen)
{
    struct proto_addr src;
    int off = socks5_unwrap_udp(hdr, len, a->c.n, &src);

    return off < 0 || !source_view(a, &src, view, vlen) ? -1 : off;
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

/* One datagram: 1 delivered (*LEN as recvmsg returns it), 0 dropped, -1 error (errno).
 * HDR: room for the headers of every relay (HCAP bytes). */
static int rx_one(struct assoc *a, int fd, struct msghdr *msg, int flags, const struct relay_rx *rx,
                  struct rx *x, ssize_t *len, uint8_t *hdr, size_t hcap)
{
    struct iovec iov[STACK_IOV + 1];
    struct sockaddr_storage from, view;
    socklen_t vlen = 0;
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
    /* an association opened by another thread while this one waited: its relay
     * is read only once it is open */
    if (m.msg_namelen && relay_is_open(a) &&
        addr_same((struct sockaddr *)&from, (struct sockaddr *)&a->c.relay, true)) {
        if ((off = unwrap_view(a, hdr, filled < hcap ? filled : hcap, &view, &vlen)) < 0)
            return 0;
    } else {
        bool connected;
        pthread_mutex_lock(&a->lock);
        connected = a->connected;
        pthread_mutex_unlock(&a->lock);
        if (connected || !m.msg_namelen || !rx->direct || !rx->direct((struct sockaddr *)&from))
            return 0;
        memcpy(&view, &from, sizeof(from));
        vlen = m.msg_namelen;
    }
    payload = (size_t)r - (size_t)off;
    copy = payload < x->cap ? payload : x->cap;
    if (relay_place_payload(hdr, hcap, (size_t)off, x->iov, x->n, copy) < 0) {
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

/* The headers' room sized for the association: every relay's only for chains,
 * one relay's on the common path (rx_next), for small stacks. */
static __attribute__((noinline)) int rx_chain(struct assoc *a, int fd, struct msghdr *msg,
                                              int flags, const struct relay_rx *rx, struct rx *x,
                                              ssize_t *len)
{
    uint8_t hdr[RELAY_HDR_CAP];

    return rx_one(a, fd, msg, flags, rx, x, len, hdr, (size_t)a->c.n * SOCKS5_UDP_HEADER_MAX);
}

static int rx_next(struct assoc *a, int fd, struct msghdr *msg, int flags,
                   const struct relay_rx *rx, struct rx *x, ssize_t *len)
{
    uint8_t hdr[SOCKS5_UDP_HEADER_MAX];

    if (relay_is_open(a) && a->c.n > 1)
        return rx_chain(a, fd, msg, flags, rx, x, len);
    return rx_one(a, fd, msg, flags, rx, x, len, hdr, sizeof(hdr));
}

ssize_t relay_recv(int fd, struct msghdr *msg, int flags, const struct relay_rx *rx)
{
    struct assoc *a;
    struct iovec one;
    struct rx x;
    int saved = errno, err, got;
    ssize_t len = -1;

    if (reentry_nested())
        return relay_nested_refusal(rx->prog, fd, "a receive through the association", EAGAIN);
    a = relay_get(fd);
    if (!a || (flags & MSG_ERRQUEUE)) {
        if (a)
            relay_put(a);
        return sys.recvmsg(fd, msg, flags);
    }
    if ((err = rx_setup(&x, msg, &one))) {
        relay_put(a);
        errno = err;
        return -1;
    }
    /* A dropped datagram is followed by the next one, in the program's blocking
     * mode: a non-blocking call ends with EAGAIN when none is left. */
    while ((got = rx_next(a, fd, msg, flags, rx, &x, &len)) == 0) {
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
    relay_put(a);
    return got > 0 ? len : -1;
}
