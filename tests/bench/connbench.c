/* connbench: connections per second to a local TCP server.
 *
 *   connbench server PORT              accept and close, forever (killed by the caller)
 *   connbench client ADDR PORT N [own] N connects after a first one (untimed: the
 *                                      process's first network call, where a
 *                                      preloaded library does its one-time work);
 *                                      "own": set SO_MARK 0x64 and bind to ADDR
 *                                      itself, as a program would without the shim
 *   connbench first ADDR PORT [own]    that first connect alone: its time and the
 *                                      page faults it took
 *
 * Prints "conns_per_sec=X" and "us_per_conn=Y" (the precise figure for a few slow
 * connections), or "first_us=X" and "first_faults=Y". Each client socket closes with
 * SO_LINGER 0 (RST), so no TIME_WAIT piles up and runs stay comparable. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static int server(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4096) < 0) {
        perror("server");
        return 1;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c >= 0)
            close(c);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One connection as the benchmarked program makes it; 0, or -1 with errno. */
static int one_connect(const struct sockaddr_in *a, const struct sockaddr_in *src, int own)
{
    struct linger lg = {1, 0};
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1, mark = 0x64;

    if (s < 0)
        return -1;
    if (own) {
        setsockopt(s, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
        setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        bind(s, (const struct sockaddr *)src, sizeof(*src));
    }
    if (connect(s, (const struct sockaddr *)a, sizeof(*a)) < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(s);
    return 0;
}

static long faults(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt + ru.ru_majflt;
}

/* N connections, timed after a first one: a process's first network call is
 * where a preloaded library does its one-time work (finding the real functions,
 * reading its configuration); "first" mode measures that call alone. */
static int client(const char *addr, int port, long n, int own, int first_only)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)}, src = a;
    double t0;
    long f0;

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    inet_pton(AF_INET, addr, &src.sin_addr);
    src.sin_port = 0;
    f0 = faults();
    t0 = now();
    if (one_connect(&a, &src, own) < 0) {
        fprintf(stderr, "first connect: %s\n", strerror(errno));
        return 1;
    }
    if (first_only) {
        printf("first_us=%.1f\nfirst_faults=%ld\n", (now() - t0) * 1e6, faults() - f0);
        return 0;
    }
    t0 = now();
    for (long i = 0; i < n; i++) {
        if (one_connect(&a, &src, own) < 0) {
            fprintf(stderr, "connect %ld: %s\n", i, strerror(errno));
            return 1;
        }
    }
    t0 = now() - t0;
    printf("conns_per_sec=%.0f\nus_per_conn=%.2f\n", n / t0, t0 / n * 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "server"))
        return server(atoi(argv[2]));
    if (argc >= 5 && !strcmp(argv[1], "client"))
        return client(argv[2], atoi(argv[3]), atol(argv[4]), argc > 5 && !strcmp(argv[5], "own"),
                      0);
    if (argc >= 4 && !strcmp(argv[1], "first"))
        return client(argv[2], atoi(argv[3]), 0, argc > 4 && !strcmp(argv[4], "own"), 1);
    fprintf(stderr,
            "usage: connbench server PORT | client ADDR PORT N [own] | first ADDR PORT [own]\n");
    return 2;
}
