#include "common/pending.h"

#include "common/dialer/io.h"
#include "common/driver.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/owner.h"
#include "common/ownfd.h"
#include "common/pending_int.h"
#include "common/state.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t pending_cv = PTHREAD_COND_INITIALIZER;
static struct rec **byfd;
static int cap_fds;
static int n_pending;

static bool forked;

bool pending_forked(void)
{
    return __atomic_load_n(&forked, __ATOMIC_RELAXED);
}

int pending_count(void)
{
    return __atomic_load_n(&n_pending, __ATOMIC_RELAXED);
}

struct rec *rec_of(int fd)
{
    return fd >= 0 && fd < cap_fds ? byfd[fd] : NULL;
}

static bool grow(int fd)
{
    int cap = cap_fds ? cap_fds : 64;
    struct rec **p;

    while (cap <= fd)
        cap *= 2;
    if (cap == cap_fds)
        return true;
    if (!(p = realloc(byfd, (size_t)cap * sizeof(*p))))
        return false;
    memset(p + cap_fds, 0, (size_t)(cap - cap_fds) * sizeof(*p));
    byfd = p;
    cap_fds = cap;
    return true;
}

/* FD's number now holds R. Locked. False without memory. */
static bool attach(int fd, struct rec *r)
{
    if (fd < 0 || r->nfds == REC_FDS || !grow(fd))
        return false;
    byfd[fd] = r;
    r->fds[r->nfds++] = fd;
    r->refs++;
    fdtab_or(fd, FD_DIALED | (r->pending ? FD_PENDING : 0));
    return true;
}

void rec_unref(struct rec *r)
{
    if (--r->refs > 0)
        return;
    if (r->listed)
        rec_unlist(r);
    if (r->efd >= 0)
        sys.close(r->efd);
    free(r->pd);
    free(r);
}

/* FD's number no longer holds its record. Locked. Waits while the engine's
 * bookkeeping of its dial runs (it writes the number's fdtab word). */
static struct rec *detach(int fd)
{
    struct rec *r;

    while ((r = rec_of(fd)) && r->finishing)
        pthread_cond_wait(&pending_cv, &pending_mu);
    if (!r)
        return NULL;
    byfd[fd] = NULL;
    fdtab_and(fd, ~(uint32_t)(FD_PENDING | FD_DIALED));
    for (int i = 0; i < r->nfds; i++) {
        if (r->fds[i] == fd) {
            r->fds[i] = r->fds[--r->nfds];
            break;
        }
    }
    return r;
}

/* FD was copied before its record existed (fdtab FD_COPIED): every other number
 * of the same socket holds R too, so reads and epoll are held back on each.
 * Locked; a scan of the table, made only after a copy. */
static void attach_copies(struct rec *r, int fd)
{
    int high = fdtab_high();
    struct stat st;

    for (int n = 0; n <= high; n++) {
        uint32_t v = fdtab_get(n);
        struct rec *old = rec_of(n);
        if (n == fd || !(v & FD_COPIED) || (v & FD_KIND_MASK) != FD_TCP || old == r ||
            (old && old->pending))
            continue;
        if (fstat(n, &st) < 0 || st.st_dev != r->dev || st.st_ino != r->ino)
            continue;
        if ((old = detach(n)))
            rec_unref(old);
        attach(n, r); /* past REC_FDS: the kernel's plain copy */
    }
}

static void register_fork(void)
{
    pthread_atfork(pending_atfork_prepare, pending_atfork_parent, pending_atfork_child);
}

static struct rec *rec_new(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct rec *r = calloc(1, sizeof(*r));

    pthread_once(&once, register_fork); /* as relay and fakepin do: with the first use */

    if (!r)
        return NULL;
    r->dupfd = r->efd = -1;
    return r;
}

/* The dial goes on without the program. First a socket that can reach nothing
 * and answers every wait at once (an AF_UNIX one, shut down) takes the
 * duplicate's number, so the driver's next call (a retry, a wait) cannot touch
 * the program's socket again; then the program's socket is shut down, which
 * wakes a wait already under way on it (and a proxy sees the close). Locked. */
static void abandon(struct rec *r)
{
    int x, real;

    if (r->abandoned || r->dupfd < 0)
        return;
    __atomic_store_n(&r->abandoned, true, __ATOMIC_RELAXED); /* the driver reads it unlocked */
    real = sys.fcntl(r->dupfd, F_DUPFD_CLOEXEC, 0);
    if ((x = sys.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0) {
        sys.shutdown(x, SHUT_RDWR);
        sys.dup3(x, r->dupfd, O_CLOEXEC);
        sys.close(x);
    }
    if (real >= 0) {
        sys.shutdown(real, SHUT_RDWR);
        sys.close(real);
    } else {
        sys.shutdown(r->dupfd, SHUT_RDWR);
    }
}

/* A high-numbered, close-on-exec copy of FD (the program's low numbers stay
 * its own); -1 when none. */
static int high(int fd)
{
    int h = ownfd_high_copy(fd);

    return h >= 0 ? h : sys.fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

static int prepare(struct rec *r, int fd, const struct pend_dial *pd)
{
    struct stat st;
    int e;

    if (!(r->pd = malloc(sizeof(*r->pd))))
        return ENOMEM;
    *r->pd = *pd;
    r->pd->d.sa = (const struct sockaddr *)&r->pd->sa;
    r->pd->d.host = pd->d.host ? r->pd->host : NULL;
    memcpy(&r->peer, &pd->sa, pd->d.len);
    r->peerlen = pd->d.len;
    if (fstat(fd, &st) < 0)
        return errno;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    if ((r->dupfd = high(fd)) < 0)
        return errno;
    /* by number: libc's eventfd() may be a sanitizer's, which would track a
     * descriptor whose close (sys.close) it never sees */
    if ((e = (int)sys.syscall(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return errno;
    r->efd = ownfd_high_copy(e);
    if (r->efd < 0)
        r->efd = e;
    else
        sys.close(e);
    r->pd->d.fd = r->dupfd;
    r->pd->d.abandoned = &r->abandoned; /* the record outlives the run */
    return 0;
}

static void run(void *arg);

/* Undo a start that cannot go on: R is no one's. */
static void drop_new(struct rec *r)
{
    if (r->dupfd >= 0)
        sys.close(r->dupfd);
    r->dupfd = -1;
    r->refs = 1;
    rec_unref(r);
}

int pending_start(int fd, const struct pend_dial *pd, const struct pend_ops *ops)
{
    struct rec *r = rec_new(), *old;
    int err;

    if (!r)
        return ENOMEM;
    r->ops = ops;
    err = prepare(r, fd, pd);
    pthread_mutex_lock(&pending_mu);
    if (r->dupfd >= 0 || r->efd >= 0)
        rec_list(r); /* before the first unlock: a close_range keeps them */
    if (!err && (old = detach(fd)))
        rec_unref(old); /* an earlier dial's record: this connect starts afresh */
    __atomic_store_n(&r->pending, !err, __ATOMIC_RELAXED);
    if (!err && !attach(fd, r))
        err = ENOMEM;
    if (!err && (fdtab_get(fd) & FD_COPIED))
        attach_copies(r, fd);
    if (err) {
        drop_new(r);
        pthread_mutex_unlock(&pending_mu);
        return err;
    }
    r->refs++; /* the driver's */
    __atomic_fetch_add(&n_pending, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < r->nfds; i++)
        pending_epoll_hide(r, r->fds[i]);
    pthread_mutex_unlock(&pending_mu);
    if ((err = driver_submit(run, r, r->pd->d.dialer))) {
        pthread_mutex_lock(&pending_mu);
        __atomic_store_n(&r->pending, false, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&n_pending, 1, __ATOMIC_RELAXED);
        pending_epoll_show(r);
        while (r->nfds)
            detach(r->fds[0]);
        drop_new(r);
        pthread_mutex_unlock(&pending_mu);
    }
    return err;
}

/* The dial put another socket under the duplicate (a race won by a scratch
 * socket, a proxy of the other family): the program's numbers get it too, each
 * only while it still holds the program's socket (its number may have been
 * closed and reused). Locked. */
static void install_swap(struct rec *r)
{
    struct stat st;

    if (fstat(r->dupfd, &st) < 0 || (st.st_dev == r->dev && st.st_ino == r->ino))
        return;
    for (int i = 0; i < r->nfds; i++) {
        int fd = r->fds[i], fl = sys.fcntl(fd, F_GETFD);
        struct stat now;
        if (fl < 0 || fstat(fd, &now) < 0 || now.st_dev != r->dev || now.st_ino != r->ino)
            continue;
        if (sys.dup3(r->dupfd, fd, (fl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
            log_warn("%s[%d] tcp fd %d: the dialed socket could not take the number (%s)",
                     state.prog, (int)getpid(), fd, strerror(errno));
    }
    r->dev = st.st_dev;
    r->ino = st.st_ino;
}

/* A failed dial's connection to a proxy is dissolved, so the program sees the
 * hang-up; the kernel's ECONNRESET of that disconnect is not the program's to
 * read (it gets the dial's errno). */
static void hang_up(int fd)
{
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    int e;
    socklen_t l = sizeof(e);

    sys.connect(fd, &unspec, sizeof(unspec));
    sys.getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
}

/* The end of a dial: the program's numbers learn it. Locked; the engine's
 * bookkeeping runs unlocked (it takes the fake address and log locks, which a
 * fork handler may hold while it waits for this one), the numbers kept meanwhile. */
static void finish(struct rec *r, int err)
{
    if (r->abandoned || !r->nfds) {
        log_info("%s[%d] tcp: a dial the program abandoned (closed or shut down) ended: %s",
                 state.prog, (int)getpid(), err ? strerrorname_np(err) : "ok");
        err = 0;
    } else {
        if (!err)
            install_swap(r);
        else
            hang_up(r->dupfd);
        r->finishing = true;
        int fd = r->fds[0];
        pthread_mutex_unlock(&pending_mu);
        r->ops->done(fd, r->pd, err);
        pthread_mutex_lock(&pending_mu);
        r->finishing = false;
        pthread_cond_broadcast(&pending_cv);
    }
    __atomic_store_n(&r->err, err, __ATOMIC_RELAXED);
    r->ok = !err && !r->abandoned;
    __atomic_store_n(&r->pending, false, __ATOMIC_RELAXED);
    for (int i = 0; i < r->nfds; i++)
        fdtab_and(r->fds[i], ~(uint32_t)FD_PENDING);
    pending_epoll_show(r);
}

static void run(void *arg)
{
    struct rec *r = arg;
    uint64_t one = 1;
    int err;

    err = __atomic_load_n(&r->abandoned, __ATOMIC_RELAXED) ? ECANCELED : r->ops->run(r->pd);
    if (err == EINPROGRESS) /* a dialer that left the connect to the kernel */
        err = io_wait_connected(r->pd->d.fd, monotime_ms() + 75000);
    pthread_mutex_lock(&pending_mu);
    finish(r, err);
    __atomic_fetch_sub(&n_pending, 1, __ATOMIC_RELAXED);
    if (sys.write(r->efd, &one, sizeof(one)) < 0)
        log_debug("%s: a dial's wake-up could not be written (%s)", state.prog, strerror(errno));
    sys.close(r->dupfd);
    r->dupfd = -1;
    free(r->pd);
    r->pd = NULL;
    rec_unref(r);
    pthread_mutex_unlock(&pending_mu);
}

int pending_connect_again(int fd)
{
    struct rec *r;
    int e = 0;

    pthread_mutex_lock(&pending_mu);
    if (!(r = rec_of(fd))) {
        e = 0;
    } else if (r->pending) {
        e = EALREADY;
    } else if (r->err) {
        e = r->err;
        __atomic_store_n(&r->err, 0, __ATOMIC_RELAXED);
        pending_forked_log(r);
    } else if (r->ok) {
        e = EISCONN;
    } else {
        detach(fd);
        rec_unref(r);
    }
    pthread_mutex_unlock(&pending_mu);
    return e;
}

void pending_record_peer(int fd, const struct sockaddr *sa, socklen_t len)
{
    struct rec *r;

    if (len > sizeof(r->peer))
        return;
    pthread_mutex_lock(&pending_mu);
    if ((r = detach(fd)))
        rec_unref(r);
    if ((r = rec_new())) {
        memcpy(&r->peer, sa, len);
        r->peerlen = len;
        r->ok = true;
        if (!attach(fd, r)) {
            r->refs = 1;
            rec_unref(r);
        }
    }
    pthread_mutex_unlock(&pending_mu);
}

void pending_close(int fd, bool abandon_now)
{
    if (!owner_foreign()) /* a vfork child's: the dials are its parent's */
        pending_release(fd, abandon_now);
}

void pending_release(int fd, bool abandon_now)
{
    struct rec *r;

    pthread_mutex_lock(&pending_mu);
    if ((r = rec_of(fd)) && abandon_now && r->pending)
        abandon(r);
    if (r && !abandon_now) {
        detach(fd);
        if (r->pending && !r->nfds)
            abandon(r);
        rec_unref(r);
    }
    pthread_mutex_unlock(&pending_mu);
}

void pending_dup(int oldfd, int newfd)
{
    struct rec *r, *old;

    pthread_mutex_lock(&pending_mu);
    if ((old = detach(newfd))) {
        if (old->pending && !old->nfds)
            abandon(old);
        rec_unref(old);
    }
    if ((r = rec_of(oldfd)))
        attach(newfd, r); /* a ninth copy is the kernel's plain socket */
    pthread_mutex_unlock(&pending_mu);
}

void pending_forked_log(struct rec *r)
{
    if (!r->forked_abort)
        return;
    r->forked_abort = false;
    log_warn("%s[%d] tcp: a dial pending when the process forked fails in the child "
             "(ECONNABORTED); the parent's continues",
             state.prog, (int)getpid());
}

void pending_atfork_prepare(void)
{
    driver_atfork_prepare();
    pthread_mutex_lock(&pending_mu);
}

void pending_atfork_parent(void)
{
    pthread_mutex_unlock(&pending_mu);
    driver_atfork_parent();
}

/* The child has no driver: the dials pending in the parent are the parent's
 * (its threads finish them). The child's copies fail with ECONNABORTED, its
 * inherited duplicates and eventfds are closed, and its records of completed
 * dials stay (the same socket, the same peer). */
void pending_atfork_child(void)
{
    pthread_mutex_init(&pending_mu, NULL);
    pthread_cond_init(&pending_cv, NULL);
    driver_atfork_child();
    __atomic_store_n(&forked, true, __ATOMIC_RELAXED);
    for (int fd = 0; fd < cap_fds; fd++) {
        struct rec *r = byfd[fd];
        if (!r || !r->pending)
            continue;
        if (r->dupfd >= 0) {
            sys.close(r->dupfd);
            r->dupfd = -1;
            r->forked_abort = true;
        }
        r->finishing = false;
        __atomic_store_n(&r->pending, false, __ATOMIC_RELAXED);
        __atomic_store_n(&r->err, ECONNABORTED, __ATOMIC_RELAXED);
        r->abandoned = true;
        r->refs--; /* the parent's driver held it; the child's never will */
        __atomic_fetch_sub(&n_pending, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < r->nfds; i++)
            fdtab_and(r->fds[i], ~(uint32_t)FD_PENDING);
    }
}
