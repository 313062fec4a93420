/* The sends the supervisor makes for the program (sendto with an address,
 * sendmsg, sendmmsg): what the program would send, read from its memory, sent
 * here on its socket to where the route says; the reason to make them here and
 * not let them continue is at the top of supervise_call.c. */
#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/log.h"
#include "common/route.h"
#include "common/state.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define DATA_MAX    (256 * 1024) /* bytes of one send copied; a stream send may be short */
#define CONTROL_MAX 4096
#define IOV_MAX_    1024
#define MMSG_MAX    64 /* sendmmsg: messages per call (fewer is a legal answer) */

/* A TCP MSG_FASTOPEN send on a closed socket is a connect: routed like one.
 * Direct: the dialer's options, then the send here. Elsewhere refused, as the
 * shim does. 0 (send it) or an errno. */
static int fastopen_ok(const struct trap *t, const struct sockaddr *sa, socklen_t len)
{
    const struct conf_dialer *cd;
    struct route r;
    int err = route(t, sa, len, SOCK_STREAM, &r);

    cd = &state.conf->dialers[r.d.dialer];
    if (!err && (r.d.host || cd->type != DIALER_DIRECT)) {
        err = cd->type == DIALER_BLOCK ? ECONNREFUSED : EACCES;
        dial_refuse(&r.d, cd->type == DIALER_BLOCK
                              ? "blocked"
                              : "MSG_FASTOPEN through a proxy or to a name is not "
                                "built under the supervisor");
    } else if (!err) {
        err = default_prepare(&r.d);
    }
    log_dial(err ? LOG_LVL_WARN : LOG_LVL_INFO, t, "sendto", &r.d, r.rule, err, &r.t0);
    return err;
}

/* The destination SA of a send with FLAGS on T: *TO to send to (*TOLEN 0:
 * none, the socket's peer), or an errno to answer. */
int send_to(const struct trap *t, const char *call, const struct sockaddr *sa, socklen_t len,
            int flags, struct sockaddr_storage *to, socklen_t *tolen, struct route *r)
{
    *tolen = 0;
    if (!sa)
        return 0;
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
        memcpy(to, sa, len); /* the kernel answers it (EAFNOSUPPORT, EINVAL...) */
        *tolen = len;
        return 0;
    }
    if (is_udp(t))
        return dgram_to(t, call, sa, len, to, tolen, r);
    if (is_tcp(t) && (flags & MSG_FASTOPEN) && !tcp_busy(t->fd)) {
        int err = fastopen_ok(t, sa, len);
        if (err)
            return err;
    }
    /* TCP otherwise ignores the address of a send; anything else sends only
     * where a route lets it go. */
    if (!is_tcp(t)) {
        /* network: rules see datagram kinds as udp, connection kinds (SCTP,
         * DCCP, SMC) as tcp, as the shim's other_route does */
        int as = t->type == SOCK_DGRAM || t->type == SOCK_RAW ? SOCK_DGRAM : SOCK_STREAM;
        if (route(t, sa, len, as, r) || r->d.host ||
            state.conf->dialers[r->d.dialer].type != DIALER_DIRECT) {
            log_info("%s[%d] supervised %s on a socket of type %d, protocol %d: only direct "
                     "routes: EACCES",
                     state.prog, (int)t->tid, call, t->type, t->proto);
            return EACCES;
        }
    }
    memcpy(to, sa, len);
    *tolen = len;
    return 0;
}

/* Read COUNT iovecs at IOVS and the bytes they point to into DATA (at most
 * DATA_MAX; a datagram longer than that: EMSGSIZE). *LEN gets the length. */
static int read_iovs(const struct trap *t, uint64_t iovs, size_t count, char *data, size_t *len)
{
    struct iovec iov[64];
    size_t off = 0;
    int err;

    if (count > IOV_MAX_)
        return EMSGSIZE;
    for (size_t i = 0; i < count; i += 64) {
        size_t k = count - i < 64 ? count - i : 64;
        if ((err = sup_read_iov(t, iovs + i * (t->compat ? 8 : sizeof(struct iovec)), iov, k)))
            return err;
        for (size_t j = 0; j < k; j++) {
            size_t take = iov[j].iov_len;
            if (take > DATA_MAX - off) {
                if (!is_tcp(t))
                    return EMSGSIZE;
                take = DATA_MAX - off; /* a short send */
            }
            if ((err = sup_read(t->tid, (uint64_t)(uintptr_t)iov[j].iov_base, data + off, take)))
                return err;
            off += take;
        }
    }
    *len = off;
    return 0;
}

/* A datagram M through the proxy's UDP ASSOCIATE (R routed it there): the bytes
 * sent or -errno; the association's opening and every failure logged. */
static ssize_t relayed(const struct trap *t, const char *call, struct route *r,
                       const struct msghdr *m, int flags)
{
    ssize_t n = sup_udp_send(t, r, m, flags);
    enum log_level l = n < 0 ? LOG_LVL_WARN : r->d.why[0] ? LOG_LVL_INFO : LOG_LVL_DEBUG;

    log_dial(l, t, call, &r->d, r->rule, n < 0 ? (int)-n : 0, &r->t0);
    return n;
}

void sup_sendto(const struct trap *t, struct verdict *v)
{
    const struct seccomp_notif *n = t->n;
    int flags = (int)t->a[3];
    size_t len = (size_t)t->a[2];
    socklen_t alen = (socklen_t)t->a[5], tolen;
    struct sockaddr_storage ss, to;
    struct route r;
    char *data;

    if (!is_inet(t)) {
        v->cont = true; /* see the top of this file */
        return;
    }
    /* An i386 program's sendto is trapped with or without an address. */
    if (t->a[4] && (v->err = read_sockaddr(t, t->a[4], alen, &ss)))
        return;
    if (len > DATA_MAX) {
        if (!is_tcp(t)) {
            v->err = EMSGSIZE;
            return;
        }
        len = DATA_MAX;
    }
    if (!(data = malloc(len ? len : 1))) {
        v->err = ENOMEM;
        return;
    }
    /* The one check of this call, after its last read: see sup_serve. */
    if ((v->err = sup_read(t->tid, t->a[1], data, len)) == 0)
        v->err = !sup_valid(n->id) ? EINTR
                                   : send_to(t, "sendto", t->a[4] ? (struct sockaddr *)&ss : NULL,
                                             alen, flags, &to, &tolen, &r);
    if (v->err == SUP_RELAY) {
        struct iovec iov = {data, len};
        struct msghdr m = {.msg_name = &ss, .msg_namelen = alen, .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t sent = relayed(t, "sendto", &r, &m, flags);
        v->err = sent < 0 ? (int)-sent : 0;
        v->val = sent;
    } else if (!v->err) {
        ssize_t sent =
            sendto(t->fd, data, len, flags, tolen ? (struct sockaddr *)&to : NULL, tolen);
        v->err = sent < 0 ? errno : 0;
        v->val = sent;
        sigpipe(t, v->err, flags);
    }
    free(data);
}

/* One message at MSGADDR: read it, route its destination, send it here.
 * Returns the bytes sent, or -errno. */
static ssize_t send_one(const struct trap *t, const char *call, uint64_t msgaddr, int flags)
{
    struct msghdr m;
    struct sockaddr_storage ss, to;
    socklen_t tolen = 0;
    struct route rt;
    char control[CONTROL_MAX], raw[CONTROL_MAX];
    struct iovec iov;
    size_t len = 0;
    ssize_t r = -ENOMEM;
    char *data;
    int err;

    if ((err = sup_read_msghdr(t, msgaddr, &m)))
        return -(err == EFAULT ? EFAULT : EPERM);
    if (m.msg_controllen > CONTROL_MAX)
        return -ENOBUFS;
    if ((err = sup_read(t->tid, (uint64_t)(uintptr_t)m.msg_control, raw, m.msg_controllen)) ||
        (err = sup_control_native(t, raw, m.msg_controllen, control, sizeof(control), &len)))
        return -err;
    m.msg_controllen = len;
    len = 0;
    if (m.msg_name && (err = read_sockaddr(t, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen, &ss)))
        return -err;
    if (!(data = malloc(DATA_MAX)))
        return -ENOMEM;
    if ((err = read_iovs(t, (uint64_t)(uintptr_t)m.msg_iov, m.msg_iovlen, data, &len)))
        r = -err;
    else if (!sup_valid(t->n->id)) /* after the last read: see sup_serve */
        r = -EINTR;
    else if ((err = send_to(t, call, m.msg_name ? (struct sockaddr *)&ss : NULL, m.msg_namelen,
                            flags, &to, &tolen, &rt)) == SUP_RELAY) {
        iov = (struct iovec){data, len};
        m.msg_name = &ss;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = m.msg_controllen ? control : NULL;
        r = relayed(t, call, &rt, &m, flags);
    } else if (err)
        r = -err;
    else {
        iov = (struct iovec){data, len};
        m.msg_name = tolen ? &to : NULL;
        m.msg_namelen = tolen;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = m.msg_controllen ? control : NULL;
        r = sendmsg(t->fd, &m, flags);
        if (r < 0) {
            r = -errno;
            sigpipe(t, errno, flags);
        }
    }
    free(data);
    return r;
}

void sup_sendmsg(const struct trap *t, struct verdict *v)
{
    ssize_t r;

    if (!is_inet(t)) {
        v->cont = true; /* see the top of this file */
        return;
    }
    r = send_one(t, "sendmsg", t->a[1], (int)t->a[2]);
    v->err = r < 0 ? (int)-r : 0;
    v->val = r;
}

void sup_sendmmsg(const struct trap *t, struct verdict *v)
{
    uint64_t vec = t->a[1];
    unsigned int vlen = (unsigned int)t->a[2], i;
    int flags = (int)t->a[3];

    if (!is_inet(t)) {
        v->cont = true; /* see the top of this file */
        return;
    }
    if (vlen > MMSG_MAX)
        vlen = MMSG_MAX;
    for (i = 0; i < vlen; i++) {
        uint64_t at = vec + i * sup_mmsg_size(t);
        ssize_t r = send_one(t, "sendmmsg", at, flags);
        unsigned int sent = r < 0 ? 0 : (unsigned int)r;
        if (r < 0) {
            if (i == 0)
                v->err = (int)-r;
            break;
        }
        if (sup_write(t->tid, at + sup_mmsg_len_at(t), &sent, sizeof(sent)))
            break;
    }
    if (!v->err)
        v->val = i;
}
