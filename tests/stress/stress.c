/* stress: load and fault clients (and a fast echo server) for tests/integration/t_stress_*.sh.
 * Plain C, no dependency on the shim: run it under LD_PRELOAD like any program.
 *
 *   stress serve [--life S] [--stats FILE] ADDR:PORT...
 *       epoll server: per connection sends "you are IP\n", reads one line, sends it
 *       back, then closes first (so TIME_WAIT lands here, not on the client's ports).
 *       FILE is rewritten (atomically) while connections come: "total N" and
 *       "peer IP N" lines.
 *   stress conns [--threads T] [--per N] [--expect TEXT] HOST PORT
 *       T threads start together and each makes N connections one after the other:
 *       connect, read the greeting (must be "you are TEXT" when given), send a line,
 *       read it back, read EOF, close.
 *   stress nb [--threads T] [--per N] [--expect TEXT] HOST PORT
 *       as conns with non-blocking sockets: of every three connects one is closed
 *       at once, one after a wait of up to 2 ms (racing the dial's end), one waited
 *       for with poll (SO_ERROR must be 0) and used as conns does.
 *   stress names [--threads T] [--per N] [--names K] [--connect-every M] [--expect TEXT]
 *                SUFFIX PORT
 *       T threads call getaddrinfo("hI.SUFFIX") for K names in turn; every answer must be
 *       the same address for the same name (shared table), getnameinfo(NI_NAMEREQD) on
 *       it must give the name back; every M-th lookup also connects to it (as conns).
 *   stress fork [--threads T] [--forks F] [--expect TEXT] [--name SUFFIX] HOST PORT
 *       T threads connect in a loop (as conns; with --name every other connection goes
 *       to the name "lT.SUFFIX", resolved with getaddrinfo) while the main thread forks F
 *       times, 20-50 ms apart; each child (alarm 5 s) makes one connection itself (and
 *       one to "child.SUFFIX" by name), then _exit()s; the parent reaps it (10 s).
 *       STRESS_GDB=1: a child still running after 4 s gets its stacks printed (gdb).
 *       child_sanitizer_hang= counts children stuck in the sanitizer runtime's own
 *       allocator lock (see on_child_alarm): not counted as failures here.
 *   stress fail [--count N] [--hold S] HOST PORT
 *       N connects one after the other that are expected to fail; then holds S seconds
 *       (so the test can count /proc/PID/fd from outside) after printing "holding".
 *
 * Every mode prints key=value lines, including fd_before= and fd_after= (entries of
 * /proc/self/fd before the first and after the last socket), ok=, fail=, errnos=NAME:N,...,
 * elapsed=SECONDS. Exit status 0 when everything went as expected, 1 otherwise, 2 usage.
 * Every socket call has a timeout (SO_RCVTIMEO/SO_SNDTIMEO 5 s; the shim bounds connect).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_S 5

static int opt_threads = 64, opt_per = 500, opt_names = 64, opt_every = 0, opt_forks = 20;
static int opt_count = 50;
static double opt_hold = 0, opt_life = 120;
static const char *opt_expect, *opt_stats, *opt_name;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* ------------------------------------------------------------------ errno tally */

static pthread_mutex_t tally_lock = PTHREAD_MUTEX_INITIALIZER;
static int tally[256];
static char first_err[256];
static atomic_int n_ok, n_fail;
static atomic_llong max_us;

static const char *ename(int e)
{
    switch (e) {
#define E(x)                                                                                       \
    case x:                                                                                        \
        return #x;
        E(ECONNREFUSED)
        E(ECONNRESET) E(ECONNABORTED) E(ETIMEDOUT) E(EHOSTUNREACH) E(ENETUNREACH) E(EACCES) E(EPERM)
            E(EPIPE) E(EAGAIN) E(EINPROGRESS) E(EADDRNOTAVAIL) E(EMFILE) E(ENFILE) E(EINTR)
                E(EPROTO) E(EBADF) E(EINVAL) E(ENOMEM) E(EIO) E(EAFNOSUPPORT) E(EOPNOTSUPP)
                    E(EALREADY) E(EISCONN) E(ENOTCONN)
#undef E
                        case 0 : return "0";
    case 1000:
        return "BAD_GREETING";
    case 1001:
        return "BAD_ECHO";
    case 1002:
        return "NO_EOF";
    case 1003:
        return "EOF";
    case 1004:
        return "GAI";
    case 1005:
        return "NAME_MOVED";
    case 1006:
        return "REVERSE";
    case 1007:
        return "NOT_FAKE";
    case 1008:
        return "CONNECTED";
    default:
        return "E?";
    }
}

static void record(int err, const char *fmt, ...)
{
    int slot = err >= 1000 ? 200 + (err - 1000) : err;

    if (err == 0) {
        atomic_fetch_add(&n_ok, 1);
        return;
    }
    atomic_fetch_add(&n_fail, 1);
    pthread_mutex_lock(&tally_lock);
    if (slot >= 0 && slot < 256)
        tally[slot]++;
    if (!first_err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(first_err, sizeof first_err, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&tally_lock);
}

static void print_tally(void)
{
    bool any = false;

    printf("errnos=");
    for (int i = 0; i < 256; i++) {
        if (!tally[i])
            continue;
        printf("%s%s:%d", any ? "," : "", ename(i >= 200 ? 1000 + i - 200 : i), tally[i]);
        any = true;
    }
    printf("\n");
    if (first_err[0])
        printf("first_error=%s\n", first_err);
}

/* ------------------------------------------------------------------ one connection */

struct target {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[INET6_ADDRSTRLEN + 8];
};

static int parse_target(const char *host, const char *port, struct target *t)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&t->ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->ss;

    memset(t, 0, sizeof *t);
    snprintf(t->text, sizeof t->text, "%s:%s", host, port);
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)atoi(port));
        t->len = sizeof *s4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)atoi(port));
        t->len = sizeof *s6;
        return 0;
    }
    return -1;
}

/* Read up to and including '\n' (at most cap-1 bytes); returns length, 0 on EOF, -errno. */
static int read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    while (n + 1 < cap) {
        ssize_t r = recv(fd, buf + n, 1, 0);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        n++;
        if (buf[n - 1] == '\n')
            break;
    }
    buf[n] = '\0';
    return (int)n;
}

static void set_timeouts(int fd)
{
    struct timeval tv = {IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* The exchange after the connect: greeting, one line echoed, the server's EOF.
 * Closes FD; 0 or an error code (errno or >= 1000). */
static int talk(int fd, int tag, int i, char *why, size_t whycap)
{
    char line[256], want[128], ping[64];
    int r, e;

    r = read_line(fd, line, sizeof line);
    if (r <= 0) {
        snprintf(why, whycap, "greeting: %s", r == 0 ? "EOF" : strerror(-r));
        close(fd);
        return r == 0 ? 1003 : -r;
    }
    if (opt_expect) {
        snprintf(want, sizeof want, "you are %s\n", opt_expect);
        if (strcmp(line, want) != 0) {
            snprintf(why, whycap, "greeting '%.60s', expected 'you are %s'", line, opt_expect);
            close(fd);
            return 1000;
        }
    }
    snprintf(ping, sizeof ping, "ping %d %d\n", tag, i);
    if (send(fd, ping, strlen(ping), MSG_NOSIGNAL) != (ssize_t)strlen(ping)) {
        e = errno;
        snprintf(why, whycap, "send: %s", strerror(e));
        close(fd);
        return e ? e : EIO;
    }
    r = read_line(fd, line, sizeof line);
    if (r <= 0 || strcmp(line, ping) != 0) {
        snprintf(why, whycap, "echo: '%.60s'%s", r > 0 ? line : "",
                 r < 0 ? strerror(-r) : (r == 0 ? " EOF" : ""));
        close(fd);
        return r < 0 ? -r : 1001;
    }
    r = read_line(fd, line, sizeof line); /* the server closes first */
    close(fd);
    if (r != 0) {
        snprintf(why, whycap, "no EOF after the echo (%d)", r);
        return r < 0 ? -r : 1002;
    }
    return 0;
}

/* One full exchange with the echo server; 0 or an error code (errno or >= 1000). */
static int exchange(const struct sockaddr *sa, socklen_t len, int tag, int i, char *why,
                    size_t whycap)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), e;
    double t0 = now_s();

    if (fd < 0) {
        e = errno;
        snprintf(why, whycap, "socket: %s", strerror(e));
        return e;
    }
    set_timeouts(fd);
    if (connect(fd, sa, len) < 0) {
        e = errno;
        snprintf(why, whycap, "connect: %s", strerror(e));
        close(fd);
        return e;
    }
    long long us = (long long)((now_s() - t0) * 1e6), cur = atomic_load(&max_us);
    while (us > cur && !atomic_compare_exchange_weak(&max_us, &cur, us))
        ;
    return talk(fd, tag, i, why, whycap);
}

/* ------------------------------------------------------------------ conns */

static struct target g_target;
static pthread_barrier_t barrier;
static atomic_int stop;

static void *conns_thread(void *arg)
{
    int tag = (int)(intptr_t)arg;
    char why[200];

    pthread_barrier_wait(&barrier);
    for (int i = 0; i < opt_per; i++) {
        int e = exchange((struct sockaddr *)&g_target.ss, g_target.len, tag, i, why, sizeof why);
        record(e, "thread %d conn %d: %s", tag, i, why);
    }
    return NULL;
}

static int run_threads(void *(*fn)(void *), int n)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);
    int started = 0;

    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    free(t);
    return started;
}

static int mode_conns(int argc, char **argv)
{
    if (argc != 2 || parse_target(argv[0], argv[1], &g_target) < 0) {
        fprintf(stderr, "usage: stress conns [options] HOST PORT (a literal address)\n");
        return 2;
    }
    int fd0 = count_fds();
    double t0 = now_s();
    run_threads(conns_thread, opt_threads);
    double dt = now_s() - t0;
    int fd1 = count_fds();
    printf("threads=%d\nper=%d\nok=%d\nfail=%d\n", opt_threads, opt_per, n_ok, n_fail);
    print_tally();
    printf("elapsed=%.2f\nrate=%.0f\nmax_connect_ms=%.1f\nfd_before=%d\nfd_after=%d\n", dt,
           (n_ok + n_fail) / dt, atomic_load(&max_us) / 1e3, fd0, fd1);
    return n_fail == 0 && n_ok == opt_threads * opt_per && fd0 == fd1 ? 0 : 1;
}

/* ------------------------------------------------------------------ nb */

/* Non-blocking connects: one in three closed at once (the dial just started),
 * one in three closed after a wait of up to 2 ms (racing its end), the rest
 * waited for with poll and used. */
static int nb_one(int tag, int i, char *why, size_t whycap)
{
    const struct sockaddr *sa = (struct sockaddr *)&g_target.ss;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    socklen_t l = sizeof(e);

    if (fd < 0) {
        snprintf(why, whycap, "socket: %s", strerror(errno));
        return errno;
    }
    if (connect(fd, sa, g_target.len) < 0 && errno != EINPROGRESS) {
        e = errno;
        snprintf(why, whycap, "connect: %s", strerror(e));
        close(fd);
        return e;
    }
    if (i % 3 < 2) {
        if (i % 3 == 1)
            poll(&p, 1, (tag + i) % 3);
        close(fd);
        return 0;
    }
    if (poll(&p, 1, IO_TIMEOUT_S * 1000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 ||
        e) {
        snprintf(why, whycap, "wait: %s", e ? strerror(e) : "timeout");
        close(fd);
        return e ? e : ETIMEDOUT;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    set_timeouts(fd);
    return talk(fd, tag, i, why, whycap);
}

static void *nb_thread(void *arg)
{
    int tag = (int)(intptr_t)arg;
    char why[200];

    pthread_barrier_wait(&barrier);
    for (int i = 0; i < opt_per; i++) {
        int e = nb_one(tag, i, why, sizeof why);
        record(e, "thread %d conn %d: %s", tag, i, why);
    }
    return NULL;
}

static int mode_nb(int argc, char **argv)
{
    if (argc != 2 || parse_target(argv[0], argv[1], &g_target) < 0) {
        fprintf(stderr, "usage: stress nb [options] HOST PORT (a literal address)\n");
        return 2;
    }
    int fd0 = count_fds();
    double t0 = now_s();
    run_threads(nb_thread, opt_threads);
    double dt = now_s() - t0;
    /* abandoned dials end in the background: their copies close soon after */
    for (int k = 0; k < 100 && count_fds() != fd0; k++)
        usleep(50000);
    int fd1 = count_fds();
    printf("threads=%d\nper=%d\nok=%d\nfail=%d\n", opt_threads, opt_per, n_ok, n_fail);
    print_tally();
    printf("elapsed=%.2f\nfd_before=%d\nfd_after=%d\n", dt, fd0, fd1);
    return n_fail == 0 && n_ok == opt_threads * opt_per && fd0 == fd1 ? 0 : 1;
}

/* ------------------------------------------------------------------ names */

struct name_slot {
    bool set;
    struct sockaddr_storage ss;
    socklen_t len;
};

static struct name_slot *slots;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *g_suffix, *g_port;
static atomic_int n_lookups, n_connects;

static bool same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static void *names_thread(void *arg)
{
    int tag = (int)(intptr_t)arg;
    char name[300], host[NI_MAXHOST], why[200], abuf[INET6_ADDRSTRLEN];

    pthread_barrier_wait(&barrier);
    for (int i = 0; i < opt_per; i++) {
        int k = (tag * 7 + i) % opt_names, r;
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;

        snprintf(name, sizeof name, "h%d.%s", k, g_suffix);
        r = getaddrinfo(name, g_port, &hints, &res);
        atomic_fetch_add(&n_lookups, 1);
        if (r != 0 || !res) {
            record(1004, "getaddrinfo(%s): %s", name, gai_strerror(r));
            continue;
        }
        const struct sockaddr_in *sin = (const struct sockaddr_in *)res->ai_addr;
        inet_ntop(AF_INET, &sin->sin_addr, abuf, sizeof abuf);
        /* the default fake range 198.18.0.0/15 */
        if ((ntohl(sin->sin_addr.s_addr) & 0xfffe0000u) != 0xc6120000u) {
            record(1007, "getaddrinfo(%s) = %s, not a fake address", name, abuf);
            freeaddrinfo(res);
            continue;
        }
        pthread_mutex_lock(&slots_lock);
        if (!slots[k].set) {
            slots[k].set = true;
            memcpy(&slots[k].ss, res->ai_addr, res->ai_addrlen);
            slots[k].len = res->ai_addrlen;
            r = 0;
        } else {
            r = same_addr((struct sockaddr *)&slots[k].ss, res->ai_addr) ? 0 : 1005;
        }
        pthread_mutex_unlock(&slots_lock);
        if (r) {
            record(r, "%s moved to %s", name, abuf);
            freeaddrinfo(res);
            continue;
        }
        r = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, NULL, 0, NI_NAMEREQD);
        if (r != 0 || strcmp(host, name) != 0) {
            record(1006, "getnameinfo(%s) = %s (%s), expected %s", abuf, r ? "-" : host,
                   r ? gai_strerror(r) : "ok", name);
            freeaddrinfo(res);
            continue;
        }
        if (opt_every > 0 && i % opt_every == 0) {
            atomic_fetch_add(&n_connects, 1);
            r = exchange(res->ai_addr, res->ai_addrlen, tag, i, why, sizeof why);
            if (r) {
                record(r, "connect to %s (%s): %s", name, abuf, why);
                freeaddrinfo(res);
                continue;
            }
        }
        freeaddrinfo(res);
        record(0, "");
    }
    return NULL;
}

static int mode_names(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stress names [options] SUFFIX PORT\n");
        return 2;
    }
    g_suffix = argv[0];
    g_port = argv[1];
    slots = calloc((size_t)opt_names, sizeof *slots);
    int fd0 = count_fds();
    double t0 = now_s();
    run_threads(names_thread, opt_threads);
    double dt = now_s() - t0;
    int fd1 = count_fds();
    int distinct = 0;
    for (int i = 0; i < opt_names; i++)
        for (int j = i + 1; j < opt_names; j++)
            if (slots[i].set && slots[j].set &&
                same_addr((struct sockaddr *)&slots[i].ss, (struct sockaddr *)&slots[j].ss))
                distinct++;
    printf("threads=%d\nper=%d\nnames=%d\nlookups=%d\nconnects=%d\nok=%d\nfail=%d\n", opt_threads,
           opt_per, opt_names, n_lookups, n_connects, n_ok, n_fail);
    printf("shared_addresses=%d\n", distinct);
    print_tally();
    printf("elapsed=%.2f\nrate=%.0f\nfd_before=%d\nfd_after=%d\n", dt, n_lookups / dt, fd0, fd1);
    free(slots);
    return n_fail == 0 && distinct == 0 && fd0 == fd1 ? 0 : 1;
}

/* ------------------------------------------------------------------ fork */

/* One exchange with "PREFIX.SUFFIX" (getaddrinfo, then connect to what it gave). */
static int exchange_name(const char *prefix, const char *suffix, int tag, int i, char *why,
                         size_t whycap)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char name[300], port[8];
    int r;

    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    snprintf(port, sizeof port, "%u", ntohs(((struct sockaddr_in *)&g_target.ss)->sin_port));
    r = getaddrinfo(name, port, &hints, &res);
    if (r != 0) {
        snprintf(why, whycap, "getaddrinfo(%.100s): %s", name, gai_strerror(r));
        return 1004;
    }
    r = exchange(res->ai_addr, res->ai_addrlen, tag, i, why, whycap);
    freeaddrinfo(res);
    return r;
}

/* Connects in a loop until told to stop; with --name, every other one by name. */
static void *loop_thread(void *arg)
{
    int tag = (int)(intptr_t)arg, i = 0, e;
    char why[200], prefix[32];

    pthread_barrier_wait(&barrier);
    snprintf(prefix, sizeof prefix, "l%d", tag);
    while (!atomic_load(&stop)) {
        if (opt_name && i % 2)
            e = exchange_name(prefix, opt_name, tag, i, why, sizeof why);
        else
            e = exchange((struct sockaddr *)&g_target.ss, g_target.len, tag, i, why, sizeof why);
        record(e, "thread %d conn %d: %s", tag, i, why);
        i++;
    }
    return NULL;
}

/* Exit status of a child that hung inside the sanitizer runtime's allocator. */
#define CHILD_SAN_HANG 77

/* The sanitizer runtimes of gcc 12 (libasan.so.8, libtsan.so.2) do not lock their
 * allocator around fork(): a child forked while another thread held one of its
 * size-class locks waits forever in its first malloc of that size. That is the
 * runtime's limitation, not the shim's (glibc's malloc is fork-safe). On the alarm,
 * the child looks at where it is stuck: when the outermost frame of the sanitizer
 * library is one of its allocation entry points, it exits CHILD_SAN_HANG; otherwise
 * it dies of SIGALRM (a real hang). backtrace() is warmed up in main() so that this
 * handler allocates nothing. */
static bool in_sanitizer(void *pc, const char **sym)
{
    Dl_info info;

    if (!dladdr(pc, &info) || !info.dli_fname)
        return false;
    *sym = info.dli_sname ? info.dli_sname : "";
    return strstr(info.dli_fname, "libasan") || strstr(info.dli_fname, "libtsan") ||
           strstr(info.dli_fname, "libubsan");
}

static void on_child_alarm(int sig)
{
    void *frames[48];
    int n = backtrace(frames, 48), last = -1;
    const char *sym = "", *outer = "";

    (void)sig;
    for (int i = 2; i < n; i++) { /* past this handler and the signal trampoline */
        if (in_sanitizer(frames[i], &sym)) {
            last = i;
            outer = sym;
        } else if (last >= 0) {
            break;
        }
    }
    if (last >= 0 && (strstr(outer, "alloc") || strstr(outer, "free") || strstr(outer, "strdup")))
        _exit(CHILD_SAN_HANG);
    signal(SIGALRM, SIG_DFL);
    raise(SIGALRM);
}

static int child_work(void)
{
    char why[200];
    int e;

    signal(SIGALRM, on_child_alarm);
    alarm(5); /* a deadlock in the child shows as SIGALRM */
    e = exchange((struct sockaddr *)&g_target.ss, g_target.len, -1, 0, why, sizeof why);
    if (e) {
        dprintf(2, "child %d: %s\n", (int)getpid(), why);
        return 1;
    }
    if (opt_name) {
        e = exchange_name("child", opt_name, -2, 0, why, sizeof why);
        if (e) {
            dprintf(2, "child %d: by name: %s\n", (int)getpid(), why);
            return 1;
        }
    }
    return 0;
}

static int mode_fork(int argc, char **argv)
{
    if (argc != 2 || parse_target(argv[0], argv[1], &g_target) < 0) {
        fprintf(stderr, "usage: stress fork [options] HOST PORT\n");
        return 2;
    }
    int nthreads = opt_threads, child_ok = 0, child_fail = 0, child_sig = 0, child_san = 0;
    void *warm[4];

    backtrace(warm, 4); /* loads the unwinder now, not in a child's signal handler */
    pthread_t *t = calloc((size_t)nthreads, sizeof *t);
    int fd0 = count_fds();
    double t0 = now_s();

    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads + 1);
    for (int i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, loop_thread, (void *)(intptr_t)i);
    pthread_barrier_wait(&barrier);
    for (int f = 0; f < opt_forks; f++) {
        usleep(20000 + (f % 5) * 7000); /* land inside connects in flight */
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_work());
        if (pid < 0) {
            child_fail++;
            continue;
        }
        int st;
        double start = now_s(), until = start + 10;
        bool dumped = false;
        pid_t w;
        while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now_s() < until) {
            /* STRESS_GDB=1: show where a child hangs before its alarm (5 s) kills it */
            if (!dumped && now_s() > start + 4 && getenv("STRESS_GDB")) {
                char cmd[200];
                snprintf(cmd, sizeof cmd,
                         "env -u LD_PRELOAD gdb -p %d -batch -ex 'thread apply all bt' "
                         "</dev/null 1>&2 2>/dev/null",
                         (int)pid);
                fprintf(stderr, "child %d still running after 4 s; its stacks:\n", (int)pid);
                if (system(cmd) != 0)
                    fprintf(stderr, "(gdb failed)\n");
                dumped = true;
            }
            usleep(5000);
        }
        if (w == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            child_ok++;
        } else if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_SAN_HANG) {
            child_san++;
            fprintf(stderr, "child %d hung in the sanitizer runtime's allocator\n", (int)pid);
        } else if (WIFSIGNALED(st)) {
            child_sig++;
            fprintf(stderr, "child %d killed by signal %d\n", (int)pid, WTERMSIG(st));
        } else
            child_fail++;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    free(t);
    double dt = now_s() - t0;
    int fd1 = count_fds();
    printf("threads=%d\nforks=%d\nchild_ok=%d\nchild_fail=%d\nchild_signaled=%d\n"
           "child_sanitizer_hang=%d\n",
           nthreads, opt_forks, child_ok, child_fail, child_sig, child_san);
    printf("ok=%d\nfail=%d\n", n_ok, n_fail);
    print_tally();
    printf("elapsed=%.2f\nfd_before=%d\nfd_after=%d\n", dt, fd0, fd1);
    return child_ok + child_san == opt_forks && n_fail == 0 && fd0 == fd1 ? 0 : 1;
}

/* ------------------------------------------------------------------ fail */

static int mode_fail(int argc, char **argv)
{
    if (argc != 2 || parse_target(argv[0], argv[1], &g_target) < 0) {
        fprintf(stderr, "usage: stress fail [options] HOST PORT\n");
        return 2;
    }
    int fd0 = count_fds(), connected = 0;
    double t0 = now_s(), max_s = 0;

    for (int i = 0; i < opt_count; i++) {
        int fd = socket(g_target.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        double c0 = now_s();
        set_timeouts(fd);
        int r = connect(fd, (struct sockaddr *)&g_target.ss, g_target.len), e = errno;
        double dt = now_s() - c0;
        if (dt > max_s)
            max_s = dt;
        if (r == 0) {
            connected++;
            record(1008, "connect %d succeeded", i);
        } else {
            record(e, "connect %d: %s", i, strerror(e));
        }
        close(fd);
    }
    int fd1 = count_fds();
    printf("count=%d\nconnected=%d\n", opt_count, connected);
    print_tally();
    printf("max_connect_s=%.3f\nelapsed=%.2f\nfd_before=%d\nfd_after=%d\npid=%d\n", max_s,
           now_s() - t0, fd0, fd1, (int)getpid());
    if (opt_hold > 0) {
        printf("holding\n");
        fflush(stdout);
        usleep((useconds_t)(opt_hold * 1e6));
    }
    return connected == 0 && fd0 == fd1 ? 0 : 1;
}

/* ------------------------------------------------------------------ serve */

struct conn {
    char peer[INET6_ADDRSTRLEN];
    char in[512];
    size_t n;
};

struct peer_count {
    char ip[INET6_ADDRSTRLEN];
    long n;
};

static struct peer_count peers[64];
static int n_peers;
static long total_conns;

static void count_peer(const char *ip)
{
    total_conns++;
    for (int i = 0; i < n_peers; i++)
        if (strcmp(peers[i].ip, ip) == 0) {
            peers[i].n++;
            return;
        }
    if (n_peers < 64) {
        snprintf(peers[n_peers].ip, sizeof peers[n_peers].ip, "%s", ip);
        peers[n_peers++].n = 1;
    }
}

static void write_stats(void)
{
    char tmp[4200];
    FILE *f;

    if (!opt_stats)
        return;
    snprintf(tmp, sizeof tmp, "%s.tmp", opt_stats);
    f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "total %ld\n", total_conns);
    for (int i = 0; i < n_peers; i++)
        fprintf(f, "peer %s %ld\n", peers[i].ip, peers[i].n);
    fclose(f);
    rename(tmp, opt_stats);
}

static void unmap(char *ip)
{
    if (strncmp(ip, "::ffff:", 7) == 0 && strchr(ip, '.'))
        memmove(ip, ip + 7, strlen(ip + 7) + 1);
}

static int mode_serve(int argc, char **argv)
{
    struct rlimit rl = {65536, 65536};
    int ep = epoll_create1(EPOLL_CLOEXEC), nlisten = 0;
    struct conn **conns;
    int lfds[16];

    setrlimit(RLIMIT_NOFILE, &rl);
    conns = calloc(65536, sizeof *conns);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < argc && nlisten < 16; i++) {
        char host[128], *colon;
        struct target t;
        snprintf(host, sizeof host, "%s", argv[i][0] == '[' ? argv[i] + 1 : argv[i]);
        colon = strrchr(host, ':');
        if (!colon)
            return 2;
        *colon = '\0';
        if (colon > host && colon[-1] == ']')
            colon[-1] = '\0';
        if (parse_target(host, colon + 1, &t) < 0) {
            fprintf(stderr, "serve: bad address %s\n", argv[i]);
            return 2;
        }
        int fd = socket(t.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (t.ss.ss_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&t.ss, t.len) < 0 || listen(fd, 4096) < 0) {
            fprintf(stderr, "serve: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        lfds[nlisten++] = fd;
    }
    if (!nlisten)
        return 2;
    write_stats();
    printf("listening\n");
    fflush(stdout);

    double end = now_s() + opt_life, last_stats = 0;
    long written = 0;
    while (now_s() < end) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            bool is_listener = false;
            for (int j = 0; j < nlisten; j++)
                is_listener |= lfds[j] == fd;
            if (is_listener) {
                for (int k = 0; k < 64; k++) {
                    struct sockaddr_storage ss;
                    socklen_t sl = sizeof ss;
                    int c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0)
                        break;
                    if (c >= 65536) {
                        close(c);
                        continue;
                    }
                    struct conn *cn = calloc(1, sizeof *cn);
                    if (ss.ss_family == AF_INET)
                        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, cn->peer,
                                  sizeof cn->peer);
                    else
                        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, cn->peer,
                                  sizeof cn->peer);
                    unmap(cn->peer);
                    count_peer(cn->peer);
                    char greet[80];
                    int gl = snprintf(greet, sizeof greet, "you are %s\n", cn->peer);
                    if (send(c, greet, (size_t)gl, MSG_NOSIGNAL) != gl) {
                        close(c);
                        free(cn);
                        continue;
                    }
                    conns[c] = cn;
                    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                }
                continue;
            }
            struct conn *cn = conns[fd];
            if (!cn)
                continue;
            ssize_t r = recv(fd, cn->in + cn->n, sizeof cn->in - 1 - cn->n, 0);
            bool done = r <= 0;
            if (r > 0) {
                cn->n += (size_t)r;
                char *nl = memchr(cn->in, '\n', cn->n);
                if (nl) {
                    send(fd, cn->in, (size_t)(nl - cn->in + 1), MSG_NOSIGNAL);
                    done = true;
                } else if (cn->n >= sizeof cn->in - 1) {
                    done = true;
                }
            } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                done = false;
            }
            if (done) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                free(cn);
                conns[fd] = NULL;
            }
        }
        if (total_conns != written && now_s() - last_stats > 0.1) {
            write_stats();
            written = total_conns;
            last_stats = now_s();
        }
    }
    write_stats();
    return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    const char *mode;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: stress serve|conns|names|fork|fail [options] ARGS\n");
        return 2;
    }
    mode = argv[1];
    for (i = 2; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return 2;
        if (!strcmp(o, "--threads"))
            opt_threads = atoi(v);
        else if (!strcmp(o, "--per"))
            opt_per = atoi(v);
        else if (!strcmp(o, "--names"))
            opt_names = atoi(v);
        else if (!strcmp(o, "--connect-every"))
            opt_every = atoi(v);
        else if (!strcmp(o, "--forks"))
            opt_forks = atoi(v);
        else if (!strcmp(o, "--count"))
            opt_count = atoi(v);
        else if (!strcmp(o, "--hold"))
            opt_hold = atof(v);
        else if (!strcmp(o, "--life"))
            opt_life = atof(v);
        else if (!strcmp(o, "--expect"))
            opt_expect = v;
        else if (!strcmp(o, "--stats"))
            opt_stats = v;
        else if (!strcmp(o, "--name"))
            opt_name = v;
        else {
            fprintf(stderr, "unknown option %s\n", o);
            return 2;
        }
    }
    if (opt_threads < 1 || opt_threads > 1024 || opt_per < 0 || opt_names < 1)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "serve"))
        return mode_serve(argc - i, argv + i);
    if (!strcmp(mode, "conns"))
        return mode_conns(argc - i, argv + i);
    if (!strcmp(mode, "nb"))
        return mode_nb(argc - i, argv + i);
    if (!strcmp(mode, "names"))
        return mode_names(argc - i, argv + i);
    if (!strcmp(mode, "fork"))
        return mode_fork(argc - i, argv + i);
    if (!strcmp(mode, "fail"))
        return mode_fail(argc - i, argv + i);
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
