/* The calls the supervisor makes for the program, on its own socket (the
 * pidfd_getfd duplicate shares the open file description: O_NONBLOCK, options
 * and the connection are the program's).
 *
 * Why the supervisor makes the calls itself instead of letting them continue
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE): with CONTINUE the kernel runs the call
 * again from the program's registers and memory, after our check. The registers
 * cannot change, the memory can: another thread of the program may rewrite the
 * sockaddr (or a msghdr's msg_name) between our read and the kernel's, and the
 * call would go where no route said. So every call on an inet socket is made
 * here, from the copy we read and decided on, and answered with its result.
 * CONTINUE is kept for sockets of other families (unix, netlink, ...), whose
 * destination no route concerns: making their calls here would change what the
 * peer sees (SCM_CREDENTIALS, SO_PEERCRED name the supervisor; descriptors
 * passed with SCM_RIGHTS are numbers in the program's table) and resolve
 * relative unix paths in our directory. What remains open there is a program
 * that, while one thread is trapped in such a call, makes another thread put an
 * inet socket at the same descriptor number (dup2): the program attacking its
 * own supervisor, not a leak by accident. */
#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/fakeip.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/route.h"
#include "common/state.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- reading the program ---- */

/* SA (LEN bytes at ADDR) into SS: 0, or an errno to answer. EPERM: we may not
 * read the program; never let the call through then. */
int read_sockaddr(const struct trap *t, uint64_t addr, socklen_t len, struct sockaddr_storage *ss)
{
    int err;

    memset(ss, 0, sizeof(*ss));
    if (len > sizeof(*ss))
        return EINVAL; /* as the kernel: longer than any sockaddr */
    if ((err = sup_read(t->tid, addr, ss, len))) {
        if (err == EPERM || err == ESRCH)
            log_warn("%s[%d] supervised: cannot read the program's memory (%s): refused with "
                     "EPERM",
                     state.prog, (int)t->tid, strerrorname_np(err));
        return err == EFAULT ? EFAULT : EPERM;
    }
    return 0;
}

/* Not CLOSE: a connect can only be answered (EALREADY, EISCONN), nothing new leaves. */
bool tcp_busy(int fd)
{
    uint8_t st = TCP_CLOSE;
    socklen_t len = sizeof(st);

    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &st, &len) == 0 && len == 1 && st != TCP_CLOSE;
}

static ino_t inode(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* The program's FD carries close-on-exec (from /proc/TID/fdinfo). */
static bool cloexec(pid_t tid, int fd)
{
    char path[64], buf[256], *p;
    int f, n;

    snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)tid, fd);
    if ((f = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return true;
    n = (int)read(f, buf, sizeof(buf) - 1);
    close(f);
    buf[n > 0 ? n : 0] = '\0';
    p = strstr(buf, "flags:");
    return !p || (strtoul(p + 6, NULL, 8) & O_CLOEXEC);
}

/* A dialer replaced our duplicate by a new socket (another family for the
 * proxy, a fresh one for a retry, a Happy Eyeballs winner): it takes the
 * program's descriptor number, as dup3 does in the shim. */
static int install(const struct trap *t)
{
    struct seccomp_notif_addfd a = {.id = t->n->id,
                                    .flags = SECCOMP_ADDFD_FLAG_SETFD,
                                    .srcfd = (uint32_t)t->fd,
                                    .newfd = (uint32_t)t->a[0],
                                    .newfd_flags = cloexec(t->tid, (int)t->a[0]) ? O_CLOEXEC : 0};

    return ioctl(sup.listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 ? errno : 0;
}

/* ---- getpeername of proxied sockets ---- */

/* The destination each socket dialed through a proxy or by a fake name asked
 * for, by the socket's inode (the supervisor never sees a close: a bounded
 * table, the oldest entry of a set reused; sockfs inode numbers are not reused
 * before they wrap). A set is PEER_WAYS slots from the inode's hash: a connect
 * looks at those, not at the whole table. */
#define PEERS     4096
#define PEER_WAYS 8
static struct peer {
    ino_t ino;
    unsigned long seq;
    socklen_t len;
    struct sockaddr_storage sa;
} peers[PEERS];
static unsigned long peers_seq;
static pthread_mutex_t peers_lock = PTHREAD_MUTEX_INITIALIZER;

static struct peer *peer_slot(ino_t ino, unsigned way)
{
    return &peers[(((unsigned long long)ino * 0x9e3779b97f4a7c15ULL >> 52) + way) & (PEERS - 1)];
}

void sup_peer_note(int fd, const struct sockaddr *sa, socklen_t len)
{
    ino_t ino = inode(fd);
    struct peer *p = NULL, *old;

    if (!ino || len > sizeof(p->sa))
        return;
    pthread_mutex_lock(&peers_lock);
    old = peer_slot(ino, 0);
    for (unsigned w = 0; w < PEER_WAYS && !p; w++) {
        struct peer *q = peer_slot(ino, w);
        if (q->ino == ino)
            p = q;
        else if (q->seq < old->seq)
            old = q;
    }
    if (!p)
        p = old;
    p->ino = ino;
    p->seq = ++peers_seq;
    p->len = len;
    memcpy(&p->sa, sa, len);
    pthread_mutex_unlock(&peers_lock);
}

static bool peer_find(ino_t ino, struct sockaddr_storage *sa, socklen_t *len)
{
    bool found = false;

    pthread_mutex_lock(&peers_lock);
    for (unsigned w = 0; w < PEER_WAYS && !found && ino; w++) {
        struct peer *p = peer_slot(ino, w);
        if (p->ino == ino) {
            *sa = p->sa;
            *len = p->len;
            found = true;
        }
    }
    pthread_mutex_unlock(&peers_lock);
    return found;
}

/* getpeername(2) of a socket dialed through a proxy: the destination the program
 * asked for (the fake address for a name), not the proxy. Any other socket's
 * call continues: its output buffer is all the memory it touches, so nothing the
 * program changes after our look can make it send anything. */
void sup_getpeername(const struct trap *t, struct verdict *v)
{
    struct sockaddr_storage sa, real;
    socklen_t len, rl = sizeof(real);
    int have;

    if (!is_inet(t) || !peer_find(inode(t->fd), &sa, &len)) {
        v->cont = true;
        return;
    }
    if (getpeername(t->fd, (struct sockaddr *)&real, &rl) < 0) {
        v->err = errno; /* ENOTCONN: not (or no longer) connected */
        return;
    }
    if ((v->err = sup_read(t->tid, t->a[2], &have, sizeof(have))))
        v->err = v->err == EFAULT ? EFAULT : EPERM;
    else if (have < 0)
        v->err = EINVAL;
    else if (!sup_valid(t->n->id)) /* after the reads, before the writes: see sup_serve */
        v->err = EINTR;
    else if ((v->err = sup_write(t->tid, t->a[1], &sa, (size_t)have < len ? (size_t)have : len)) ||
             (v->err = sup_write(t->tid, t->a[2], &len, sizeof(len))))
        v->err = v->err == EFAULT ? EFAULT : EPERM;
}

/* ---- the decision log ---- */

/* One line per decision, as the shim's, marked "supervised". */
void log_dial(enum log_level l, const struct trap *t, const char *call, const struct dial *d,
              int rule, int err, const struct timespec *t0)
{
    const struct conf *c = state.conf;
    char dst[ADDR_STRLEN], rbuf[160], chain[256];
    const char *why = dial_why(d);

    if (!log_enabled(l))
        return;
    if (rule >= 0)
        snprintf(rbuf, sizeof(rbuf), "#%d %s", rule + 1, c->apps[t->app].rules[rule].text);
    else
        snprintf(rbuf, sizeof(rbuf), "default");
    log_msg(l, "%s[%d] supervised %s %s %s%s%s app=%s rule=%s chain=%s result=%s%s%s %.3fms",
            t->prog, (int)t->tid, call, d->type == SOCK_DGRAM ? "udp" : "tcp",
            addr_format(d->sa, dst, sizeof(dst)), d->host ? " name=" : "", d->host ? d->host : "",
            t->app >= 0 ? c->apps[t->app].name : "(built-in)", rbuf,
            conf_chain_text(state.conf, d->dialer, chain, sizeof(chain)),
            err ? strerrorname_np(err) : "ok", why ? " " : "", why ? why : "",
            monotime_ms_since(t0));
}

/* ---- routing ---- */

/* Route SA for T: R->d ready to dial (by name when SA is a fake address).
 * Returns 0 or EHOSTUNREACH (a fake address that stands for no name). */
int route(const struct trap *t, const struct sockaddr *sa, socklen_t len, int type, struct route *r)
{
    memset(&r->d, 0, offsetof(struct dial, why));
    r->d.why[0] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->d.conf = state.conf;
    r->d.fd = t->fd;
    r->d.sa = sa;
    r->d.len = len;
    r->d.type = type;
    r->dst = (struct dest){
        .sa = sa, .port = addr_port(sa), .net = type == SOCK_DGRAM ? NET_UDP : NET_TCP};
    if (fakeip_is_fake(sa, len)) {
        if (!fakeip_lookup(sa, len, r->name, sizeof(r->name))) {
            r->d.dialer = route_pick(state.conf, t->app, &r->dst, &r->rule);
            dial_refuse(&r->d, "fake address with no name (recycled or never given)");
            return EHOSTUNREACH;
        }
        r->dst.sa = NULL;
        r->dst.name = r->d.host = r->name;
    }
    r->d.dialer = route_pick(state.conf, t->app, &r->dst, &r->rule);
    return 0;
}

/* DNS over TCP (a truncated answer retried, `options use-vc`) under an app
 * whose names are answered here: the program's socket is connected to the
 * responder's listener, so no query and no connection leaves the host;
 * getpeername still names the server it asked for. -1: not such a connect. */
static int dns_stream(const struct trap *t, const struct sockaddr *sa, socklen_t len)
{
    struct sockaddr_storage to;
    socklen_t tolen;
    int err;

    if (addr_port(sa) != 53 || !sup_dns_addr(t->app, true, t->domain, &to, &tolen))
        return -1;
    err = connect(t->fd, (struct sockaddr *)&to, tolen) < 0 ? errno : 0;
    if (!err || err == EINPROGRESS)
        sup_peer_note(t->fd, sa, len);
    log_info("%s[%d] supervised connect tcp %s: DNS over TCP, to the supervisor's responder "
             "result=%s",
             t->prog, (int)t->tid, addr_format(sa, (char[ADDR_STRLEN]){0}, ADDR_STRLEN),
             err ? strerrorname_np(err) : "ok");
    return err;
}

/* A TCP connect routed and dialed on the program's socket. */
static int dial_tcp(const struct trap *t, const struct sockaddr *sa, socklen_t len)
{
    struct route r;
    int err = dns_stream(t, sa, len);

    if (err >= 0)
        return err;
    err = route(t, sa, len, SOCK_STREAM, &r);

    if (!err) {
        sup_before_dial(t, &r.d);
        err = r.d.host ? resolve_dial(&r.d) : dialer_dial(&r.d);
        r.d.sa = sa;
        if ((!err || err == EINPROGRESS) && sup_replaced(t->fd) && (err = install(t)))
            dial_refuse(&r.d, "the new socket could not take the program's descriptor");
        if (!err && (r.d.host || state.conf->dialers[r.d.dialer].type != DIALER_DIRECT))
            sup_peer_note(t->fd, sa, len);
    }
    log_dial(err && err != EINPROGRESS ? (r.d.warn ? LOG_LVL_WARN : LOG_LVL_INFO) : LOG_LVL_INFO, t,
             "connect", &r.d, r.rule, err, &r.t0);
    return err;
}

/* Where a datagram (or a UDP connect) to SA goes: *TO, or an errno (logged). */
int dgram_to(const struct trap *t, const char *call, const struct sockaddr *sa, socklen_t len,
             struct sockaddr_storage *to, socklen_t *tolen, struct route *rr)
{
    const struct conf_dialer *cd;
    struct route *r = rr;
    int err;

    if (addr_port(sa) == 53 && sup_dns_addr(t->app, false, t->domain, to, tolen)) {
        /* The program's resolver: to the responder, no query leaves the host. */
        log_debug("%s[%d] supervised %s udp %s: DNS, to the supervisor's responder", t->prog,
                  (int)t->tid, call, addr_format(sa, (char[ADDR_STRLEN]){0}, ADDR_STRLEN));
        return 0;
    }
    err = route(t, sa, len, SOCK_DGRAM, r);
    cd = &state.conf->dialers[r->d.dialer];
    if (!err && cd->type == DIALER_BLOCK) {
        err = EPERM;
        dial_refuse(&r->d, "blocked");
    } else if (!err && (cd->type != DIALER_DIRECT || r->d.host)) {
        /* Through the proxy's UDP ASSOCIATE (supervise_udp.c), a name too. */
        if ((err = associate_check(state.conf, r->d.dialer, r->d.why, sizeof(r->d.why))))
            r->d.warn = true;
        else if (cd->type != DIALER_DIRECT)
            return SUP_RELAY;
        else {
            err = EPERM;
            dial_refuse(&r->d, "a datagram to a name's fake address on a direct route: not "
                               "built under the supervisor");
        }
    } else if (!err && conf_udp_mode(cd) == UDP_BLOCK) {
        err = EPERM;
        dial_refuse(&r->d, "UDP blocked by the direct dialer (udp = block)");
    } else if (!err) {
        err = default_prepare(&r->d);
    }
    if (err || log_enabled(LOG_LVL_DEBUG))
        log_dial(err ? LOG_LVL_INFO : LOG_LVL_DEBUG, t, call, &r->d, r->rule, err, &r->t0);
    if (!err) {
        memcpy(to, sa, len);
        *tolen = len;
    }
    return err;
}

/* The kernel would have sent SIGPIPE to the program's thread; ours is ignored. */
void sigpipe(const struct trap *t, int err, int flags)
{
    if (err == EPIPE && !(flags & MSG_NOSIGNAL))
        syscall(SYS_tkill, t->tid, SIGPIPE);
}

/* ---- connect ---- */

void sup_connect(const struct trap *t, struct verdict *v)
{
    const struct seccomp_notif *n = t->n;
    socklen_t len = (socklen_t)t->a[2];
    struct sockaddr_storage ss;
    struct sockaddr_in6 buf;
    const struct sockaddr *sa;

    if (!is_inet(t)) {
        v->cont = true; /* not ours to route: see the top of this file */
        return;
    }
    /* The one check of this call, after its last read (the socket taken in
     * sup_serve, the sockaddr here): valid now, valid then (sup_serve). */
    if ((v->err = read_sockaddr(t, t->a[1], len, &ss)) || !sup_valid(n->id))
        return;
    if (ss.ss_family == AF_UNSPEC && len >= sizeof(sa_family_t) && !is_udp(t)) {
        /* A disconnect sends nothing. */
        v->err = connect(t->fd, (struct sockaddr *)&ss, len) < 0 ? errno : 0;
        return;
    }
    /* an AF_SMC socket reads its destination by the address's own family */
    if (!(sa = addr_read((struct sockaddr *)&ss, len,
                         t->domain == AF_SMC ? ss.ss_family : t->domain, &buf, &len))) {
        v->err = EINVAL;
        return;
    }
    if (is_tcp(t)) {
        /* A program polling its connect: the kernel's answer, nothing leaves. */
        if (t->busy)
            v->err = connect(t->fd, sa, len) < 0 ? errno : 0;
        else
            v->err = dial_tcp(t, sa, len);
        return;
    }
    {
        struct sockaddr_storage to;
        socklen_t tolen;
        struct route r;
        if (is_udp(t))
            v->err = dgram_to(t, "connect", sa, len, &to, &tolen, &r);
        else
            v->err = send_to(t, "connect", sa, len, 0, &to, &tolen, &r);
        if (v->err == SUP_RELAY) {
            v->err = sup_udp_connect(t, &r, sa, len);
            log_dial(v->err ? LOG_LVL_WARN : LOG_LVL_INFO, t, "connect", &r.d, r.rule, v->err,
                     &r.t0);
        } else if (!v->err)
            v->err = connect(t->fd, (struct sockaddr *)&to, tolen) < 0 ? errno : 0;
    }
}
