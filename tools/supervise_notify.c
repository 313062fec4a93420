/* The supervisor's notifications: a pool of workers, each waiting on the
 * listener for one trapped call and serving it to the end (a proxy handshake
 * included), so that calls of many threads are served at once; more workers
 * start while none is idle, up to MAX_WORKERS. Per call: the destination read
 * from the program's memory, the program's socket taken with pidfd_getfd, both
 * checked to belong to a call still pending, then supervise_call.c. */
#include "common/log.h"
#include "common/state.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_WORKERS  256
#define WORKER_STACK (512 * 1024)

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static atomic_int idle, workers;

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

/* The program's descriptor FD as a descriptor of ours (sharing the open file
 * description), or -1 with errno. */
static int take_fd(pid_t tid, int fd)
{
    int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD), dup, err;

    if (pidfd < 0) {
        pid_t tgid = tgid_of(tid);
        pidfd = tgid > 0 ? (int)syscall(SYS_pidfd_open, tgid, 0) : -1;
        if (pidfd < 0)
            return -1;
    }
    dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    err = errno;
    close(pidfd);
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
static void refuse_opaque(const struct seccomp_notif *n, int err, struct verdict *v)
{
    log_warn("%s[%d] supervised %s: cannot read the program's memory or socket (%s): refused "
             "with EPERM",
             state.prog, (int)n->pid, call_name(n->data.nr), strerrorname_np(err));
    v->err = EPERM;
}

static void serve(const struct seccomp_notif *n)
{
    struct trap t = {.n = n, .tid = (pid_t)n->pid, .fd = -1};
    struct verdict v = {0};
    socklen_t len = sizeof(int);

    if ((v.err = sup_decode(n, &t)))
        goto out;
    t.fd = take_fd(t.tid, (int)t.a[0]);
    if (t.fd < 0) {
        if (errno == EPERM || errno == EACCES)
            refuse_opaque(n, errno, &v);
        else
            v.err = errno == ESRCH ? EPERM : errno; /* EBADF as the kernel says it */
        goto out;
    }
    if (!sup_valid(n->id))
        goto out;
    if (getsockopt(t.fd, SOL_SOCKET, SO_DOMAIN, &t.domain, &len) < 0) {
        v.err = errno; /* ENOTSOCK */
        goto out;
    }
    len = sizeof(int);
    getsockopt(t.fd, SOL_SOCKET, SO_TYPE, &t.type, &len);
    len = sizeof(int);
    if (getsockopt(t.fd, SOL_SOCKET, SO_PROTOCOL, &t.proto, &len) < 0)
        t.proto = 0;
    snprintf(t.prog, sizeof(t.prog), "%s", state.prog);
    if (t.domain == AF_INET || t.domain == AF_INET6)
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

static void *worker(void *arg);

static void spawn(void)
{
    pthread_attr_t a;
    pthread_t th;

    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, WORKER_STACK);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&workers, 1);
    atomic_fetch_add(&idle, 1);
    if (pthread_create(&th, &a, worker, NULL) != 0) {
        atomic_fetch_sub(&workers, 1);
        atomic_fetch_sub(&idle, 1);
    }
    pthread_attr_destroy(&a);
}

static void *worker(void *arg)
{
    struct seccomp_notif n;
    sigset_t all;

    (void)arg;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* the main thread forwards signals */
    for (;;) {
        memset(&n, 0, sizeof(n));
        if (ioctl(sup.listener, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0) {
            if (errno == EINTR || errno == ENOENT)
                continue;
            /* No more answers can come: the program must not wait forever half-served. */
            log_error("%s[%d] supervised: the seccomp listener failed (%s): killing the program",
                      state.prog, (int)sup.child, strerror(errno));
            kill(sup.child, SIGKILL);
            return NULL;
        }
        /* The last idle worker took a call: another waits for the next one. */
        if (atomic_fetch_sub(&idle, 1) == 1 && atomic_load(&workers) < MAX_WORKERS)
            spawn();
        serve(&n);
        atomic_fetch_add(&idle, 1);
    }
}

int sup_workers_start(void)
{
    spawn();
    spawn();
    return atomic_load(&workers) > 0 ? 0 : EAGAIN;
}
