/* The supervisor's notifications, one at a time (sup_serve, called by the
 * workers of supervise_pool.c): the program's socket taken with pidfd_getfd
 * (the pidfd of each thread kept), the destination read from the program's
 * memory, both checked to belong to a call still pending (one
 * SECCOMP_IOCTL_NOTIF_ID_VALID after both: see sup_serve), then
 * supervise_call.c and supervise_send.c; the answer. */
#include "common/log.h"
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
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

int sup_read(pid_t tid, uint64_t addr, void *out, size_t len)
{
    struct iovec local = {out, len}, remote = {(void *)(uintptr_t)addr, len};
    ssize_t n;

    if (len == 0)
        return 0;
    n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len)
        return 0;
    return n < 0 ? errno : EFAULT;
}

int sup_write(pid_t tid, uint64_t addr, const void *in, size_t len)
{
    struct iovec local = {(void *)in, len}, remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);

    return n == (ssize_t)len ? 0 : n < 0 ? errno : EFAULT;
}

bool sup_valid(uint64_t id)
{
    return ioctl(sup.listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* The thread group of TID, from /proc (a pidfd of a thread that is not the
 * leader needs PIDFD_THREAD, Linux 6.9). */
static pid_t tgid_of(pid_t tid)
{
    char path[64], buf[512];
    int fd, n;
    char *p;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = (int)read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strstr(buf, "\nTgid:");
    return p ? (pid_t)atoi(p + 6) : -1;
}

/* ---- the program's descriptors ---- */

/* A pidfd per trapped thread, kept: most calls come from threads seen before.
 * A kept pidfd names one thread (its number at the time): once that thread is
 * gone, pidfd_getfd says ESRCH and the number's new owner gets a new pidfd.
 * Only a thread's own pidfd is kept, never the one of its thread group taken
 * as a fallback (the number could pass to a thread of another process while
 * the group lives on). The exited ones wait for their slot to be reused. */
#define PIDFDS 64
static struct pidfd_slot {
    pid_t tid;
    int fd;
} pidfds[PIDFDS];
static unsigned pidfds_next;
static pthread_mutex_t pidfds_lock = PTHREAD_MUTEX_INITIALIZER;

/* TID's pidfd, or -1 with errno; *KEEP: it names TID itself. */
static int open_pidfd(pid_t tid, bool *keep)
{
    int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
    pid_t tgid;

    *keep = pidfd >= 0;
    if (pidfd >= 0)
        return pidfd;
    tgid = tgid_of(tid);
    *keep = tgid == tid;
    return tgid > 0 ? (int)syscall(SYS_pidfd_open, tgid, 0) : -1;
}

static void keep_pidfd(pid_t tid, int pidfd)
{
    struct pidfd_slot *s = &pidfds[pidfds_next++ % PIDFDS];

    if (s->tid)
        close(s->fd);
    s->tid = tid;
    s->fd = pidfd;
}

/* The program's descriptor FD as a descriptor of ours (sharing the open file
 * description), or -1 with errno. Under pidfds_lock: a kept pidfd is not
 * closed while in use. */
static int take_fd(pid_t tid, int fd)
{
    int dup = -1, err = 0, pidfd;
    bool keep;

    pthread_mutex_lock(&pidfds_lock);
    for (int i = 0; i < PIDFDS; i++) {
        if (pidfds[i].tid != tid)
            continue;
        dup = (int)syscall(SYS_pidfd_getfd, pidfds[i].fd, fd, 0);
        err = errno;
        if (dup >= 0 || err != ESRCH)
            goto out;
        close(pidfds[i].fd); /* that thread is gone: the number has a new owner */
        pidfds[i].tid = 0;
        break;
    }
    if ((pidfd = open_pidfd(tid, &keep)) < 0) {
        err = errno;
        goto out;
    }
    dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    err = errno;
    if (keep && (dup >= 0 || err != ESRCH))
        keep_pidfd(tid, pidfd);
    else
        close(pidfd);
out:
    pthread_mutex_unlock(&pidfds_lock);
    errno = err;
    return dup;
}

static void answer(uint64_t id, const struct verdict *v)
{
    struct seccomp_notif_resp r = {.id = id};

    if (v->cont)
        r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    else if (v->err)
        r.error = -v->err;
    else
        r.val = v->val;
    /* ENOENT: the thread is gone (killed) or the call was interrupted by a fatal signal. */
    if (ioctl(sup.listener, SECCOMP_IOCTL_NOTIF_SEND, &r) != 0 && errno != ENOENT)
        log_warn("%s[%d] supervised: answering a trapped call: %s", state.prog, (int)sup.child,
                 strerror(errno));
}

static const char *call_name(int nr)
{
    switch (nr) {
    case SYS_connect:
        return "connect";
    case SYS_sendto:
        return "sendto";
    case SYS_sendmsg:
        return "sendmsg";
    case SYS_getpeername:
        return "getpeername";
    default:
        return "sendmmsg";
    }
}

/* A program we may not look into (not dumpable, another user's after exec): its
 * call is refused, never let through. */
static void refuse_opaque(const struct trap *t, int err, struct verdict *v)
{
    log_warn("%s[%d] supervised %s: cannot read the program's memory or socket (%s): refused "
             "with EPERM",
             state.prog, (int)t->tid, call_name(t->nr), strerrorname_np(err));
    v->err = EPERM;
}

/* The call can wait in the kernel, where the receiver cannot watch the
 * listener: a send on an inet stream (a full buffer, a peer that does not
 * read). Another family's call continues in the program; a TCP connect decides
 * in sup_before_dial, once routed; the waits of dialers and resolver watch the
 * listener (wait_or_hand_over). */
static bool may_wait(const struct trap *t)
{
    int nr = t->nr;

    return nr != SYS_connect && nr != SYS_getpeername && is_inet(t) && !is_udp(t);
}

/* The type and protocol of T's socket. Only a TCP socket answers TCP_INFO
 * (UDP, raw, SCTP, ping sockets say EOPNOTSUPP or ENOPROTOOPT), with its state
 * in the first byte: one system call where SO_TYPE, SO_PROTOCOL and tcp_busy
 * take three, on every connect. */
static void sock_kind(struct trap *t)
{
    uint8_t st = TCP_CLOSE;
    socklen_t len = sizeof(st);

    if (is_ip(t) && getsockopt(t->fd, IPPROTO_TCP, TCP_INFO, &st, &len) == 0 && len == 1) {
        t->type = SOCK_STREAM;
        t->proto = IPPROTO_TCP;
        t->busy = st != TCP_CLOSE;
        return;
    }
    len = sizeof(int);
    getsockopt(t->fd, SOL_SOCKET, SO_TYPE, &t->type, &len);
    len = sizeof(int);
    if (getsockopt(t->fd, SOL_SOCKET, SO_PROTOCOL, &t->proto, &len) < 0)
        t->proto = 0;
}

void sup_serve(const struct seccomp_notif *n)
{
    struct trap t = {.n = n, .tid = (pid_t)n->pid, .fd = -1};
    struct verdict v = {0};
    socklen_t len = sizeof(int);

    if ((v.err = sup_decode(n, &t)))
        goto out;
    t.fd = take_fd(t.tid, (int)t.a[0]);
    if (t.fd < 0) {
        if (errno == EPERM || errno == EACCES)
            refuse_opaque(&t, errno, &v);
        else
            v.err = errno == ESRCH ? EPERM : errno; /* EBADF as the kernel says it */
        goto out;
    }
    /* No SECCOMP_IOCTL_NOTIF_ID_VALID here: each call checks it once, after its
     * last read of the program (sup_connect, sup_sendto, send_one,
     * sup_getpeername) and before acting. A notification once invalid never
     * becomes valid again, so a valid answer then proves the thread was still
     * waiting in the call during pidfd_getfd too: the descriptor and the memory
     * were the trapped thread's, not those of a thread that reused its number.
     * Until that check only reads happen here (the socket's options, /proc). */
    if (getsockopt(t.fd, SOL_SOCKET, SO_DOMAIN, &t.domain, &len) < 0) {
        v.err = errno; /* ENOTSOCK */
        goto out;
    }
    sock_kind(&t);
    if (may_wait(&t))
        sup_handoff();
    snprintf(t.prog, sizeof(t.prog), "%s", state.prog);
    if (is_inet(&t))
        t.app = sup_app_of(t.tid, t.prog, sizeof(t.prog));
    else
        t.app = state.app;
    switch (t.nr) {
    case SYS_connect:
        sup_connect(&t, &v);
        break;
    case SYS_sendto:
        sup_sendto(&t, &v);
        break;
    case SYS_sendmsg:
        sup_sendmsg(&t, &v);
        break;
    case SYS_sendmmsg:
        sup_sendmmsg(&t, &v);
        break;
    case SYS_getpeername:
        sup_getpeername(&t, &v);
        break;
    default:
        v.err = ENOSYS;
    }
out:
    if (t.fd >= 0)
        close(t.fd);
    answer(n->id, &v);
}
