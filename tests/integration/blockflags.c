/* blockflags: what a program sees of its TCP socket's file status flags while a
 * proxied dial runs, and whether the shim notices each way a program makes a
 * socket non-blocking. For t_proxy_blocking.sh.
 *
 *   blockflags MODE HOST PORT [DIRECTHOST DIRECTPORT]
 *
 * MODE:
 *   watch     a blocking socket; while connect(HOST:PORT) runs, a second thread
 *             reads the socket's flags (fcntl F_GETFL) every 200 us:
 *             samples=N saw_nonblock=K (how many samples had O_NONBLOCK)
 *   fcntl | ioctl | sysfcntl | sysioctl | dupfcntl | socknb
 *             the socket is made non-blocking, then connected: fcntl(F_SETFL),
 *             ioctl(FIONBIO), syscall(SYS_fcntl), syscall(SYS_ioctl, FIONBIO),
 *             fcntl(F_SETFL) on a dup() of it (closed again), socket(SOCK_NONBLOCK)
 *   reuse     a thread's blocking connect(HOST:PORT) is under way when the main
 *             thread closes the socket (after 200 ms), makes a new one (the number
 *             comes back: reused=1), connects it to DIRECTHOST:DIRECTPORT, waits
 *             2 s (past the dial's deadline), then sends "hello\n" and reads one
 *             line: after=ok|ERRNO reply=LINE; thread_errno=, thread_ms= (the
 *             thread's connect, joined at most 6 s after it started: joined=1|0)
 *   reusedup  the same, the new socket connected first and dup2'd onto the number
 *   reuserange  the same, closed by close_range(fd, fd) (the raw system call)
 * Then, except for reuse: connect=ok|ERRNO ms=N (the connect's duration)
 * flags_after=blocking|nonblocking.
 * Exit status 0; every wait is bounded; the checks are the caller's. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int dialing, fd_watched = -1;
static int samples, saw_nonblock;
static struct sockaddr_in dest, direct;
static int thread_errno = -1;
static long thread_ms = -1;

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static const char *ename(int e)
{
    return e ? strerrorname_np(e) : "ok";
}

static int addr(const char *host, const char *port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)atoi(port));
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void *sampler(void *unused)
{
    (void)unused;
    for (int i = 0; i < 50000 && dialing; i++) {
        int fl = fcntl(fd_watched, F_GETFL);
        samples++;
        saw_nonblock += fl >= 0 && (fl & O_NONBLOCK);
        usleep(200);
    }
    return NULL;
}

static void *dialer(void *arg)
{
    int fd = *(int *)arg;
    long t0 = now_ms();

    thread_errno = connect(fd, (struct sockaddr *)&dest, sizeof(dest)) ? errno : 0;
    thread_ms = now_ms() - t0;
    return NULL;
}

/* The number of the dialing thread's socket, taken over by a new socket connected
 * to DIRECT: closed and made again (the lowest free number comes back), or the
 * new socket dup2'd onto it. The new socket's number, or -1 (printed: after=). */
static int take_number(int fd, bool by_dup2, bool by_range)
{
    int s, err;

    if (!by_dup2) {
        if (by_range)
            syscall(SYS_close_range, fd, fd, 0);
        else
            close(fd);
        s = socket(AF_INET, SOCK_STREAM, 0);
        printf("reused=%d\n", s == fd);
        err = connect(s, (struct sockaddr *)&direct, sizeof(direct)) ? errno : 0;
    } else {
        s = socket(AF_INET, SOCK_STREAM, 0);
        err = connect(s, (struct sockaddr *)&direct, sizeof(direct)) ? errno : 0;
        printf("reused=%d\n", dup2(s, fd) == fd);
        close(s);
        s = fd;
    }
    if (err) {
        printf("after=%s\n", ename(err));
        return -1;
    }
    return s;
}

static int reuse(bool by_dup2, bool by_range)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), fd2, joined;
    char line[128] = "";
    struct timespec until;
    pthread_t t;
    ssize_t n = -1;

    pthread_create(&t, NULL, dialer, &fd);
    usleep(200000);
    if ((fd2 = take_number(fd, by_dup2, by_range)) >= 0) {
        sleep(2);
        if (send(fd2, "hello\n", 6, MSG_NOSIGNAL) != 6 ||
            (n = recv(fd2, line, sizeof(line) - 1, 0)) <= 0) {
            printf("after=%s\n", n == 0 ? "EOF" : ename(errno));
        } else {
            line[strcspn(line, "\r\n")] = '\0';
            printf("after=ok\nreply=%s\n", line);
        }
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 4;
    joined = pthread_timedjoin_np(t, NULL, &until) == 0;
    printf("joined=%d\nthread_errno=%s\nthread_ms=%ld\n", joined,
           joined ? ename(thread_errno) : "-", thread_ms);
    fflush(stdout);
    _exit(0); /* a thread that did not end must not hold the exit */
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    int fd, one = 1, err, fl;
    pthread_t t;
    long t0;

    if (argc < 4 || addr(argv[2], argv[3], &dest) ||
        (!strncmp(mode, "reuse", 5) && (argc < 6 || addr(argv[4], argv[5], &direct)))) {
        fprintf(stderr, "usage: blockflags MODE HOST PORT [DIRECTHOST DIRECTPORT]\n");
        return 1;
    }
    if (!strncmp(mode, "reuse", 5))
        return reuse(!strcmp(mode, "reusedup"), !strcmp(mode, "reuserange"));
    fd = socket(AF_INET, SOCK_STREAM | (!strcmp(mode, "socknb") ? SOCK_NONBLOCK : 0), 0);
    if (!strcmp(mode, "fcntl"))
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    else if (!strcmp(mode, "ioctl"))
        ioctl(fd, FIONBIO, &one);
    else if (!strcmp(mode, "sysfcntl"))
        syscall(SYS_fcntl, fd, F_SETFL, O_RDWR | O_NONBLOCK);
    else if (!strcmp(mode, "sysioctl"))
        syscall(SYS_ioctl, fd, FIONBIO, &one);
    else if (!strcmp(mode, "dupfcntl")) {
        int d = dup(fd);
        fcntl(d, F_SETFL, O_RDWR | O_NONBLOCK);
        close(d);
    }
    fd_watched = fd;
    dialing = 1;
    if (!strcmp(mode, "watch"))
        pthread_create(&t, NULL, sampler, NULL);
    t0 = now_ms();
    err = connect(fd, (struct sockaddr *)&dest, sizeof(dest)) ? errno : 0;
    printf("connect=%s\nms=%ld\n", ename(err), now_ms() - t0);
    dialing = 0;
    if (!strcmp(mode, "watch")) {
        pthread_join(t, NULL);
        printf("samples=%d\nsaw_nonblock=%d\n", samples, saw_nonblock);
    }
    fl = fcntl(fd, F_GETFL);
    printf("flags_after=%s\n", fl >= 0 && (fl & O_NONBLOCK) ? "nonblocking" : "blocking");
    close(fd);
    return 0;
}
