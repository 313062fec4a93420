/* nested MAINHOST MAINPORT TARGETHOST TARGETPORT [tcp|udp|gai|res|udpclose]: a
 * signal handler's connect (or sendto, or getaddrinfo or res_query of the name
 * TARGETHOST) made while the main
 * thread is inside a hook.
 *
 * The main thread connects (blocking) to MAIN, which the test routes to a proxy
 * that accepts and never answers: the thread stays inside the shim's connect,
 * waiting for the proxy's reply (in poll, or in a blocking read that the
 * shim's watchdog ends). A helper thread sees it there (/proc/self/task/TID/syscall
 * names poll, ppoll or recvfrom) and sends SIGUSR1 to it; the main connect ends with the
 * dialer's connect_timeout. The handler makes a
 * TCP connect (or sends one UDP datagram) to TARGET and records the outcome.
 * Prints:
 *     inside=1              the handler ran while the main thread was in connect
 *     target=ok|errno=NAME  what the handler's connect/sendto returned
 *   udpclose: before, a UDP socket exchanges a datagram with TARGET (the test
 *   routes it through a SOCKS5 association); the handler closes that socket;
 *   after, a new UDP socket does the same and is closed:
 *     first=ok|NAME second=ok|NAME  the two exchanges
 *     fd_delta=N            descriptors open at the end beyond those before the first
 *                           socket (0: the association's control connection is gone)
 *     target=ok|EAI_NAME    what the handler's getaddrinfo returned (gai); for
 *                           res_query, EAI_AGAIN stands for any failure
 * Exit status: 0 when the handler ran inside the hook, 1 usage, 2 it never did.
 * Every wait is bounded (at most ~5 s of polling /proc). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static struct sockaddr_in target;
static int udp, gai, res, udpclose, assoc_fd = -1;
static const char *target_name, *target_port;
static volatile sig_atomic_t in_connect, handled, inside, result_err = -1;
static pid_t main_tid;

/* EAI_* by name, for the gai mode (no stdio in a handler: kept for main). */
static volatile sig_atomic_t gai_rc;

static void on_signal(int sig)
{
    int saved = errno, s, r;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;

    (void)sig;
    inside = in_connect;
    if (udpclose) {
        result_err = close(assoc_fd) == 0 ? 0 : errno;
        handled = 1;
        errno = saved;
        return;
    }
    if (res) {
        unsigned char answer[512];
        gai_rc = res_query(target_name, C_IN, T_A, answer, sizeof(answer)) < 0 ? EAI_AGAIN : 0;
        handled = 1;
        errno = saved;
        return;
    }
    if (gai) {
        gai_rc = getaddrinfo(target_name, target_port, &hints, &ai);
        if (gai_rc == 0)
            freeaddrinfo(ai);
        handled = 1;
        errno = saved;
        return;
    }
    s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (udp)
        r = sendto(s, "nested\n", 7, 0, (struct sockaddr *)&target, sizeof(target)) < 0 ? -1 : 0;
    else
        r = connect(s, (struct sockaddr *)&target, sizeof(target));
    result_err = r == 0 ? 0 : errno;
    close(s);
    handled = 1;
    errno = saved;
}

/* True while TID waits in poll/ppoll or recvfrom (the shim's proxy handshake:
 * the program itself calls neither while in_connect is set). */
static int waiting_in_shim(pid_t tid)
{
    char path[64], buf[64] = "";
    FILE *f;
    long nr = -1;

    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
    if (!(f = fopen(path, "r")))
        return 0;
    if (fgets(buf, sizeof(buf), f))
        nr = strtol(buf, NULL, 10);
    fclose(f);
    return nr == SYS_poll || nr == SYS_ppoll || nr == SYS_recvfrom;
}

static void *helper(void *arg)
{
    pthread_t main_thread = *(pthread_t *)arg;
    int i;

    for (i = 0; i < 5000 && !(in_connect && waiting_in_shim(main_tid)); i++)
        usleep(1000);
    if (i == 5000)
        return NULL;
    pthread_kill(main_thread, SIGUSR1);
    return NULL;
}

/* Open descriptors of this process (a bounded scan of /proc/self/fd). */
static int open_fds(void)
{
    int n = 0;

    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

/* A UDP socket's datagram to TARGET and its reply: 0, or an errno. */
static int udp_exchange(int s)
{
    struct timeval tv = {3, 0};
    char buf[128];

    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (sendto(s, "x\n", 2, 0, (struct sockaddr *)&target, sizeof(target)) < 0 ||
        recv(s, buf, sizeof(buf), 0) < 0)
        return errno;
    return 0;
}

static int addr(const char *host, const char *port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)atoi(port));
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct sockaddr_in mainsa;
    struct sigaction sa;
    pthread_t self = pthread_self(), h;

    res = argc > 5 && !strcmp(argv[5], "res");
    gai = res || (argc > 5 && !strcmp(argv[5], "gai"));
    udp = argc > 5 && !strcmp(argv[5], "udp");
    udpclose = argc > 5 && !strcmp(argv[5], "udpclose");
    if (argc < 5 || addr(argv[1], argv[2], &mainsa) || (!gai && addr(argv[3], argv[4], &target))) {
        fprintf(
            stderr,
            "usage: nested MAINHOST MAINPORT TARGETHOST TARGETPORT [tcp|udp|gai|res|udpclose]\n");
        return 1;
    }
    target_name = argv[3];
    target_port = argv[4];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    main_tid = (pid_t)syscall(SYS_gettid);
    int before = 0;
    if (udpclose) { /* an associated socket for the handler to close */
        assoc_fd = socket(AF_INET, SOCK_DGRAM, 0);
        before = open_fds();
        int err = udp_exchange(assoc_fd);
        printf("first=%s\n", err ? strerrorname_np(err) : "ok");
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    pthread_create(&h, NULL, helper, &self);
    in_connect = 1;
    connect(fd, (struct sockaddr *)&mainsa, sizeof(mainsa));
    in_connect = 0;
    pthread_join(h, NULL);
    close(fd);
    printf("inside=%d\n", (int)inside);
    if (udpclose) { /* a new association after the nested close; then nothing left open */
        int s = socket(AF_INET, SOCK_DGRAM, 0), err = udp_exchange(s);
        printf("second=%s\n", err ? strerrorname_np(err) : "ok");
        close(s);
        printf("fd_delta=%d\n", open_fds() - (before - 1));
    }
    if (gai)
        printf("target=%s\n", gai_rc == 0            ? "ok"
                              : gai_rc == EAI_AGAIN  ? "EAI_AGAIN"
                              : gai_rc == EAI_NONAME ? "EAI_NONAME"
                              : gai_rc == EAI_FAIL   ? "EAI_FAIL"
                                                     : "EAI_OTHER");
    else if (result_err == 0)
        printf("target=ok\n");
    else if (result_err > 0)
        printf("target=errno=%s\n", strerrorname_np(result_err));
    else
        printf("target=none\n");
    return handled && inside ? 0 : 2;
}
