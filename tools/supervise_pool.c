/* The supervisor's workers. One worker at a time, the receiver, waits on the
 * listener (two waiting would both be woken by every notification). It serves
 * each call itself and goes back to receive: no other thread wakes, and with
 * the listener's synchronous wake-up the program and the receiver take turns
 * on one CPU. When a call comes while the receiver waits on the network (a
 * proxy's answer, a name server's: the dialers' and resolver's poll and ppoll
 * watch the listener too), or before a call that can wait in the kernel (a
 * blocking connect to another host, a send on a stream), it hands the
 * receiving over (sup_handoff): an idle worker takes it, or a new one starts
 * (up to MAX_WORKERS), so that calls of many threads are served at once. */
#include "common/log.h"
#include "common/state.h"
#include "common/sys.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS  256
#define WORKER_STACK (512 * 1024)

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static bool receiving;          /* a worker holds the receiver's role (pool_lock) */
static int idle, workers;       /* waiting for the role; all (pool_lock) */
static _Thread_local bool mine; /* this worker holds it */
static atomic_int away;         /* workers serving a call after handing the role over */

static void spawn(void);
static void *worker(void *arg);

void sup_handoff(void)
{
    if (!mine)
        return;
    mine = false;
    atomic_fetch_add(&away, 1);
    pthread_mutex_lock(&pool_lock);
    receiving = false;
    if (idle > 0)
        pthread_cond_signal(&pool_wake);
    /* One to receive and one spare: the next hand-over of a burst wakes a
     * thread instead of waiting for one to start. When none can start, the
     * next to finish receives. */
    for (int i = idle; i < 2 && workers < MAX_WORKERS; i++)
        spawn();
    pthread_mutex_unlock(&pool_lock);
}

static bool loopback(const struct sockaddr *sa)
{
    const struct in6_addr *a6;

    if (sa->sa_family == AF_INET)
        return ((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr)[0] == 127;
    if (sa->sa_family != AF_INET6)
        return false;
    a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
}

static int (*real_dup3)(int old, int fd, int flags);
static _Thread_local int replaced = -1; /* the descriptor a dial of this thread replaced */

/* The dialers put a new socket in the place of the program's with dup3 only
 * (dial_swap): seen here, no fstat before and after each dial. */
static int hooked_dup3(int old, int fd, int flags)
{
    int r = real_dup3(old, fd, flags);

    if (r >= 0)
        replaced = fd;
    return r;
}

bool sup_replaced(int fd)
{
    return replaced == fd;
}

void sup_before_dial(const struct trap *t, const struct dial *d)
{
    const struct conf_dialer *cd = &d->conf->dialers[d->dialer];
    int flags;

    replaced = -1;

    /* A proxy's handshake, a name, parallel attempts wait in poll or ppoll:
     * handed over there, only if a call comes meanwhile; at once when other
     * dials are under way (the program dials many at a time: the next call is
     * received as soon as it comes). A direct connect on loopback is answered
     * by the kernel within the call. */
    if (d->host || cd->type != DIALER_DIRECT || parallel_wanted(cd)) {
        if (atomic_load(&away) > 0)
            sup_handoff();
        return;
    }
    if (loopback(d->sa))
        return;
    flags = fcntl(t->fd, F_GETFL);
    if (flags < 0 || !(flags & O_NONBLOCK))
        sup_handoff(); /* a blocking connect to another host waits in the kernel */
}

#define WAIT_FDS 32
static int (*real_poll)(struct pollfd *fds, nfds_t n, int timeout);
static int (*real_ppoll)(struct pollfd *fds, nfds_t n, const struct timespec *t,
                         const sigset_t *mask);

/* The time left of T (NULL: none) after T0, into LEFT; returns LEFT or NULL. */
static const struct timespec *left_of(const struct timespec *t, const struct timespec *t0,
                                      struct timespec *left)
{
    struct timespec now;
    long long ns;

    if (!t)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = (t->tv_sec - (now.tv_sec - t0->tv_sec)) * 1000000000LL + t->tv_nsec -
         (now.tv_nsec - t0->tv_nsec);
    ns = ns > 0 ? ns : 0;
    *left = (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
    return left;
}

/* The dialers' and the resolver's waits (sys.poll, sys.ppoll) in the
 * supervisor. The receiver waiting for a proxy's or a server's answer also
 * watches the listener: when a call comes meanwhile, the receiving is handed
 * over, and not before (a lone program's proxied connect wakes no other
 * thread). */
static int wait_or_hand_over(struct pollfd *fds, nfds_t n, const struct timespec *t,
                             const sigset_t *mask)
{
    struct pollfd all[WAIT_FDS + 1];
    struct timespec t0, left;
    int r;

    if (mine && n > WAIT_FDS)
        sup_handoff();
    if (!mine || (t && !t->tv_sec && !t->tv_nsec))
        return real_ppoll(fds, n, t, mask);
    memcpy(all, fds, n * sizeof(*fds));
    all[n] = (struct pollfd){.fd = sup.listener, .events = POLLIN};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((r = real_ppoll(all, n + 1, t, mask)) <= 0)
        return r;
    for (nfds_t i = 0; i < n; i++)
        fds[i].revents = all[i].revents;
    if (!all[n].revents)
        return r;
    sup_handoff();
    return --r > 0 ? r : real_ppoll(fds, n, left_of(t, &t0, &left), mask);
}

static int hooked_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    struct timespec t = {timeout / 1000, timeout % 1000 * 1000000L};

    if (!mine)
        return real_poll(fds, n, timeout);
    return wait_or_hand_over(fds, n, timeout < 0 ? NULL : &t, NULL);
}

static int hooked_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t,
                        const sigset_t *mask)
{
    return wait_or_hand_over(fds, n, t, mask);
}

void sup_hook_waits(void)
{
    real_poll = sys.poll;
    real_ppoll = sys.ppoll;
    real_dup3 = sys.dup3;
    sys.poll = hooked_poll;
    sys.ppoll = hooked_ppoll;
    sys.dup3 = hooked_dup3;
}

/* Under pool_lock. A new worker waits for the receiver's role. */
static void spawn(void)
{
    pthread_attr_t a;
    pthread_t th;

    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, WORKER_STACK);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &a, worker, NULL) == 0)
        workers++;
    pthread_attr_destroy(&a);
}

/* Receive and serve while the role is this worker's. false: the listener
 * failed, no more answers can come. */
static bool receive(void)
{
    struct seccomp_notif n;

    while (mine) {
        memset(&n, 0, sizeof(n));
        if (ioctl(sup.listener, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0) {
            if (errno == EINTR || errno == ENOENT)
                continue;
            /* The program must not wait forever half-served. */
            log_error("%s[%d] supervised: the seccomp listener failed (%s): killing the program",
                      state.prog, (int)sup.child, strerror(errno));
            kill(sup.child, SIGKILL);
            return false;
        }
        sup_serve(&n);
    }
    return true;
}

static void *worker(void *arg)
{
    sigset_t all;

    (void)arg;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* the main thread forwards signals */
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        while (receiving) {
            idle++;
            pthread_cond_wait(&pool_wake, &pool_lock);
            idle--;
        }
        receiving = mine = true;
        pthread_mutex_unlock(&pool_lock);
        if (!receive())
            return NULL; /* keeping the role: nobody receives any more */
        atomic_fetch_sub(&away, 1);
        pthread_mutex_lock(&pool_lock);
    }
}

int sup_workers_start(void)
{
    int n;

    /* The program's thread wakes the receiver on its own CPU and sleeps, and
     * the answer wakes it back on the receiver's (Linux 6.6; else as before). */
    ioctl(sup.listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    pthread_mutex_lock(&pool_lock);
    spawn();
    spawn(); /* a spare for the first hand-over */
    n = workers;
    pthread_mutex_unlock(&pool_lock);
    return n > 0 ? 0 : EAGAIN;
}
